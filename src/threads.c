/* Splitting a loop across threads. OpenMP when the compiler has it, one
 * thread otherwise. Each thread gets one contiguous range of iterations,
 * rounded to a multiple of 64 so that no vector straddles two threads;
 * the kernels are element-wise, so results do not depend on the split. */
#include <fenv.h>
#include <stdatomic.h>
#include "fastact.h"

#ifdef FA_HAVE_OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define FA_HAVE_ATFORK 1
#endif

#define FA_MAX_ARGS 8
/* Below this many iterations starting a team costs more than it saves. */
#define FA_PARALLEL_MIN ((fa_intp)1 << 15)
#define FA_CHUNK_ALIGN ((fa_intp)64)

static atomic_int fa_nthreads = 1;
/* After fork() the child has no worker threads, and libgomp's pool state
 * would make it wait for them forever: a forked child runs serially. */
static atomic_int fa_in_forked_child = 0;

#ifdef FA_HAVE_ATFORK
static void fa_after_fork_child(void) { atomic_store(&fa_in_forked_child, 1); }
static pthread_once_t fa_atfork_once = PTHREAD_ONCE_INIT;
static void fa_register_atfork(void) { pthread_atfork(NULL, NULL, fa_after_fork_child); }
#endif

int fa_have_openmp(void)
{
#ifdef FA_HAVE_OPENMP
    return 1;
#else
    return 0;
#endif
}

int fa_get_num_threads(void) { return atomic_load(&fa_nthreads); }

int fa_set_num_threads(int n)
{
    if (n < 1) return -1;
#ifdef FA_HAVE_ATFORK
    pthread_once(&fa_atfork_once, fa_register_atfork);
#endif
    atomic_store(&fa_nthreads, n);
    return 0;
}

/* Byte range [lo, hi) touched by operand k over n iterations (an element
 * is at most max(|step|, 8) bytes when the step is its own size or 0). */
static void fa_span(const char *p, fa_intp step, fa_intp n, uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)(p + (n - 1) * step);
    fa_intp ext = step < 0 ? -step : step;
    *lo = a < b ? a : b;
    *hi = (a < b ? b : a) + (uintptr_t)(ext > 8 ? ext : 8);
}

/* NumPy skips the copy of an element-wise operand whose overlap with the
 * output is safe for one front-to-back pass (out=a[:-1], input a[1:]); two
 * threads are not one pass. Exact in-place (same start, same step) is fine. */
static int fa_partial_overlap(char **args, const fa_intp *steps, fa_intp n, int nin, int nargs)
{
    for (int o = nin; o < nargs; o++) {
        uintptr_t olo, ohi, lo, hi;
        fa_span(args[o], steps[o], n, &olo, &ohi);
        for (int k = 0; k < nin; k++) {
            if (args[k] == args[o] && steps[k] == steps[o]) continue;
            fa_span(args[k], steps[k], n, &lo, &hi);
            if (lo < ohi && olo < hi) return 1;
        }
    }
    return 0;
}

static void fa_run_split(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps,
                         int nin, int nargs, fa_intp work)
{
    fa_intp n = dims[0];
    int nt = atomic_load(&fa_nthreads);
    if (n < 2 || n * work < FA_PARALLEL_MIN || nt <= 1 || nargs > FA_MAX_ARGS ||
        atomic_load(&fa_in_forked_child) || fa_partial_overlap(args, steps, n, nin, nargs)) {
        fn(args, n, dims, steps);
        return;
    }
#ifdef FA_HAVE_OPENMP
    fa_intp chunk = (n + nt - 1) / nt;
    if (work == 1) /* element-wise: keep vectors within one thread's range */
        chunk = (chunk + FA_CHUNK_ALIGN - 1) / FA_CHUNK_ALIGN * FA_CHUNK_ALIGN;
    int nchunks = (int)((n + chunk - 1) / chunk);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int c = 0; c < nchunks; c++) {
        fa_intp start = (fa_intp)c * chunk;
        fa_intp len = n - start < chunk ? n - start : chunk;
        char *local[FA_MAX_ARGS];
        for (int k = 0; k < nargs; k++) local[k] = args[k] + start * steps[k];
        fn(local, len, dims, steps);
    }
#else
    fn(args, n, dims, steps);
#endif
}

/* Every fastact function is defined on the whole extended real line, so a
 * floating-point flag raised inside a kernel is never news for the caller:
 * NaN compared in a select raises "invalid", and vector code evaluates both
 * sides of a select, so a discarded lane may raise "overflow". NumPy turns
 * flags left set by a loop into RuntimeWarnings; clear them (in the calling
 * thread, the one NumPy inspects). */
void fa_run(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps, int nin,
            int nargs, fa_intp work)
{
    fa_run_split(fn, args, dims, steps, nin, nargs, work);
    feclearexcept(FE_ALL_EXCEPT);
}
