/* The kernels without Python, for tools/cross_build.py --run: runs loops of
 * one level's table (fa_loops_baseline) over operands read from a file, so
 * that a cross-compiled build can be run under an emulator (qemu-user) and
 * its results compared, on this machine, with references.
 *
 *   cross_harness --list            index, name, types, signature per ufunc
 *   cross_harness JOBS OUT [THREADS]   (with THREADS: prints the pool's counters)
 *
 * JOBS (little-endian, written by cross_build.py): int32 job count; per
 * job: int32 loop (3 * ufunc index + 0/1/2 for float16/32/64), int32
 * operand count, int32 dims count, int64 dims[], int32 steps count, int64
 * steps[] (NumPy's: the operands' outer strides, then their core strides),
 * and per operand int64 byte count and the bytes (outputs too: their
 * initial contents). OUT receives every operand's bytes after the call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fastact.h"

extern const fa_loop_fn fa_loops_baseline[];

#define FA_MAX_ARGS 16

static void read_or_die(void *p, size_t size, FILE *f)
{
    if (size && fread(p, 1, size, f) != size) {
        fprintf(stderr, "cross_harness: short read\n");
        exit(2);
    }
}

static int32_t read_i32(FILE *f)
{
    int32_t v;
    read_or_die(&v, sizeof v, f);
    return v;
}

static int64_t read_i64(FILE *f)
{
    int64_t v;
    read_or_die(&v, sizeof v, f);
    return v;
}

/* A count from the file, checked against its room (a bad file is an error,
 * not an overflow). */
static int32_t read_count(FILE *f, int32_t max)
{
    int32_t n = read_i32(f);
    if (n < 0 || n > max) {
        fprintf(stderr, "cross_harness: count %d out of range\n", (int)n);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc == 2 && argv[1][0] == '-') {
        for (int k = 0; k < fa_nkernels; k++)
            printf("%d\t%s\t%s\t%s\n", k, fa_kernels[k].name, fa_kernels[k].types,
                   fa_kernels[k].signature ? fa_kernels[k].signature : "");
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: cross_harness --list | JOBS OUT [THREADS]\n");
        return 2;
    }
    if (argc > 3) { /* threads even on these short arrays, as tests/test_threads.py does */
        fa_set_num_threads(atoi(argv[3]));
        fa_set_thread_tuning(1024, 0.0, 1.0);
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        perror("cross_harness");
        return 2;
    }
    int32_t jobs = read_count(in, 1 << 20);
    for (int32_t j = 0; j < jobs; j++) {
        int32_t loop = read_count(in, 3 * fa_nkernels - 1);
        int32_t nargs = read_count(in, FA_MAX_ARGS);
        int32_t ndims = read_count(in, FA_MAX_ARGS);
        fa_intp dims[FA_MAX_ARGS], steps[FA_MAX_ARGS * FA_MAX_ARGS];
        for (int32_t d = 0; d < ndims; d++) dims[d] = (fa_intp)read_i64(in);
        int32_t nsteps = read_count(in, FA_MAX_ARGS * FA_MAX_ARGS);
        for (int32_t s = 0; s < nsteps; s++) steps[s] = (fa_intp)read_i64(in);
        char *args[FA_MAX_ARGS];
        int64_t sizes[FA_MAX_ARGS];
        for (int32_t a = 0; a < nargs; a++) {
            sizes[a] = read_i64(in);
            if (sizes[a] < 0 || sizes[a] > ((int64_t)1 << 32)) {
                fprintf(stderr, "cross_harness: operand size out of range\n");
                return 2;
            }
            args[a] = malloc((size_t)sizes[a] + 64); /* + 64: never a NULL for 0 bytes */
            if (!args[a]) {
                perror("cross_harness");
                return 2;
            }
            read_or_die(args[a], (size_t)sizes[a], in);
        }
        fa_loops_baseline[loop](args, dims, steps, NULL);
        for (int32_t a = 0; a < nargs; a++) {
            fwrite(args[a], 1, (size_t)sizes[a], out);
            free(args[a]);
        }
    }
    fclose(in);
    if (argc > 3) printf("%ld parallel jobs, %ld chunks run by workers\n", fa_thread_stats(1), fa_thread_stats(2));
    return fclose(out) != 0;
}
