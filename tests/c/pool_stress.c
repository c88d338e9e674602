/* Stress test of the thread pool (src/threads.c) on its own, meant to be
 * built with ThreadSanitizer (tests/test_threads.py does, when a C compiler
 * with -fsanitize=thread is at hand):
 *
 *   cc -O1 -g -fsanitize=thread -DFA_HAVE_PTHREADS=1 -Isrc \
 *      src/threads.c tests/c/pool_stress.c -lpthread -lm && ./a.out
 *
 * Several caller threads run parallel jobs at once (one owns the pool, the
 * others run serially) while the main thread changes the thread count, and
 * every result is checked. Exit status 0 and "pool_stress ok" on success. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "fastact.h"

#define CALLERS 3
#define ROUNDS 150
#define N 20011

static void affine(char **args, fa_intp n, const fa_intp *dims, const fa_intp *steps)
{
    (void)dims;
    for (fa_intp i = 0; i < n; i++)
        *(float *)(args[1] + i * steps[1]) = 2.0f * *(const float *)(args[0] + i * steps[0]) + 1.0f;
}

static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

static void *caller(void *arg)
{
    int id = (int)(intptr_t)arg;
    float *in = malloc(N * sizeof(float)), *out = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) in[i] = (float)(i % 1000) + (float)id;
    for (int r = 0; r < ROUNDS; r++) {
        char *args[2] = {(char *)in, (char *)out};
        fa_intp dims[1] = {N}, steps[2] = {sizeof(float), sizeof(float)};
        for (int i = 0; i < N; i++) out[i] = -1.0f;
        fa_run(affine, args, dims, steps, 1, 2, 1);
        for (int i = 0; i < N; i++) {
            if (out[i] != 2.0f * in[i] + 1.0f) {
                pthread_mutex_lock(&failures_lock);
                failures++;
                pthread_mutex_unlock(&failures_lock);
                break;
            }
        }
    }
    free(in);
    free(out);
    return NULL;
}

int main(void)
{
    fa_set_thread_tuning(1024, 0.0, 1.0); /* parallel on every call, small chunks */
    fa_set_num_threads(3);
    pthread_t tids[CALLERS];
    for (int k = 0; k < CALLERS; k++) pthread_create(&tids[k], NULL, caller, (void *)(intptr_t)k);
    for (int i = 0; i < 2000; i++) fa_set_num_threads(1 + i % 4);
    fa_set_num_threads(3);
    for (int k = 0; k < CALLERS; k++) pthread_join(tids[k], NULL);
    long jobs = fa_thread_stats(1), worker_chunks = fa_thread_stats(2);
    printf("jobs %ld, chunks on workers %ld, failures %d\n", jobs, worker_chunks, failures);
    if (failures || jobs == 0) return 1;
    printf("pool_stress ok\n");
    return 0;
}
