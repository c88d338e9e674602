/* Splitting a NumPy loop across threads: a small pool of our own.
 *
 * Why not OpenMP: with `parallel for` the calling thread waits at the
 * team's barrier for every thread of the team. On a loaded machine (another
 * process busy on one of two cores) a worker that the scheduler has not run
 * yet made every 2-thread call at 1e6 elements take ~8 ms (relu: 8 ns per
 * element instead of 0.1). libgomp is also not fork-safe, and threadpoolctl
 * cannot limit an explicit num_threads() clause.
 *
 * The design:
 * - A call first runs a small probe chunk itself and times it. If the rest
 *   would take less than FA_PARALLEL_MIN_NS on one thread it stays serial:
 *   the threshold is in time, so it adapts to the function (relu needs ~10x
 *   more elements than an exp-based function before a second thread pays),
 *   to the dtype, the strides and the machine.
 * - Otherwise the rest is cut into chunks that the caller AND the workers
 *   claim through one atomic counter (an offset). The caller never waits for
 *   a worker that has not started: if none shows up, the caller simply does
 *   every chunk. It waits only for chunks that a running worker has claimed
 *   and is finishing. Chunks are guided: each claim takes a share of what
 *   is left (at most ~FA_CHUNK_NS of work, at least ~FA_MIN_CHUNK_NS, a
 *   multiple of 64 elements), so a worker that wakes up late takes a small
 *   piece near the end and the caller's wait for it stays short.
 * - Workers spin briefly after a job (back-to-back calls find them awake),
 *   then sleep on a futex (a condition variable where there is no futex).
 * - One job at a time: a call that finds the pool busy (another Python
 *   thread's call; the GIL is released in NumPy loops) runs serially in its
 *   own thread. No call ever waits for another call, so there is no deadlock.
 * - Results are bit-identical whatever the thread count: kernels are
 *   element-wise (row-wise gufuncs are split by rows), and chunk borders are
 *   multiples of 64 elements from the start, so every element goes through
 *   the same vector or scalar code as in a serial run. Workers also take
 *   the caller's MXCSR (rounding mode, flush-to-zero) for the job.
 * - Fork: pthread_atfork resets the pool in the child (the parent's workers
 *   do not exist there); the child's first parallel call starts a new one.
 * - The pool is created on the first parallel call and grows to
 *   get_num_threads() - 1 workers; the calling thread is the last one.
 * Without pthreads and C11 atomics (e.g. an MSVC build) everything runs on
 * the calling thread.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include <fenv.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "fastact.h"

#if defined(FA_HAVE_PTHREADS) && !defined(__STDC_NO_ATOMICS__)
#define FA_POOL 1
#else
#define FA_POOL 0
#endif

#if defined(_WIN32)
#define FA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define FA_EXPORT __attribute__((visibility("default")))
#else
#define FA_EXPORT
#endif

#define FA_MAX_ARGS 8
/* Chunk borders are multiples of this many elements (element-wise loops),
 * so no vector of the serial loop straddles two chunks. */
#define FA_CHUNK_ALIGN ((fa_intp)64)

/* Below this many elements (iterations x elements per iteration) a call is
 * serial without even timing a probe (two clock reads, ~60 ns here: 5% of a
 * relu call at 8k elements). Only a slow kernel (a scalar libm fallback at
 * ~10 ns/element) would have gained from threads below it. */
#define FA_PARALLEL_MIN_WORK ((fa_intp)1 << 13)
/* The probe: the first ~2048 elements (a multiple of 64), timed: ~0.15 us
 * for relu, ~1 us for an exp-based kernel, against ~60 ns for the two clock
 * reads (clock_gettime through the vDSO, ~30 ns each here). */
#define FA_PROBE_WORK ((fa_intp)2048)
/* Go parallel only when the rest of the call would take longer than this
 * on one thread. Measured with bench/threads_threshold.py (AMD EPYC Zen 4,
 * 2 cores under KVM, avx512, float32; the machine loaded by other jobs):
 * 2 threads forced on vs 1 thread, median of 15 interleaved rounds --
 *   relu      65k elements  3.4 us serial: 0.87x;  131k  9.4 us: 1.49x;
 *             262k 22 us: 1.58x
 *   sigmoid   8k elements   18 us serial:  1.20x;  16k   47 us: 1.61x
 *             (libm expf kernel, ~2-8 ns/element)
 * so a second thread pays from ~5-10 us of serial work, whatever the
 * function; in elements that is ~100k for relu (0.07 ns/element in cache)
 * but ~10-30k for an exp-based kernel at 0.3-1 ns/element -- PyTorch's
 * fixed 32k grain suits the latter, not the former. Waking a sleeping
 * worker costs the caller ~2-4 us (futex syscall under KVM), and the worker
 * starts 10-40 us later, which guided chunks absorb. */
#define FA_PARALLEL_MIN_NS 10000.0
/* Upper bound on the work of one chunk: bounds what the caller can wait for
 * (a worker preempted in the middle of its chunk) while keeping the cost of
 * claiming a chunk (~50-100 ns) below 0.5%. */
#define FA_CHUNK_NS 25000.0
/* Lower bound (the pieces near the end of a job), at least 64 elements. */
#define FA_MIN_CHUNK_NS 2000.0
/* A claim takes 1/(FA_GUIDED_SHARE x threads) of what is left. */
#define FA_GUIDED_SHARE 2
/* A worker spins this long after a job before it sleeps, so that calls in
 * quick succession (a model's layers) find it awake. */
#define FA_WORKER_SPIN_NS 50000.0
/* The caller spins this long for in-flight chunks before it sleeps (and
 * frees its core for a worker that may have been preempted). */
#define FA_CALLER_SPIN_NS 20000.0
#define FA_MAX_WORKERS 255

#if FA_POOL
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__linux__) && !defined(FA_NO_FUTEX) /* FA_NO_FUTEX: test the fallback */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define FA_FUTEX 1
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE__)
#include <xmmintrin.h>
#define FA_CPU_RELAX() _mm_pause()
#define FA_HAVE_MXCSR 1
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define FA_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define FA_CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define FA_CPU_RELAX() ((void)0)
#endif
#endif

/* ------------------------------------------------------------------ */
/* The thread count (threadpoolctl calls the exported pair directly).  */

#if FA_POOL
static atomic_int fa_nthreads = 1;
#define FA_LOAD_NT() atomic_load_explicit(&fa_nthreads, memory_order_relaxed)
#define FA_STORE_NT(n) atomic_store_explicit(&fa_nthreads, (n), memory_order_relaxed)
#else
static volatile int fa_nthreads = 1;
#define FA_LOAD_NT() (fa_nthreads)
#define FA_STORE_NT(n) (fa_nthreads = (n))
#endif

int fa_have_threads(void) { return FA_POOL; }

int fa_get_num_threads(void) { return FA_LOAD_NT(); }

int fa_set_num_threads(int n)
{
    if (n < 1) return -1;
    FA_STORE_NT(n);
    return 0;
}

/* Default visibility: threadpoolctl's controller finds them by name with
 * ctypes (see fastact/_threadpoolctl.py). */
FA_EXPORT int fastact_get_num_threads(void) { return fa_get_num_threads(); }
FA_EXPORT int fastact_set_num_threads(int n) { return fa_set_num_threads(n); }

/* ------------------------------------------------------------------ */
/* Overlap: kept from the serial contract of NumPy loops.              */

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

static void fa_run_range(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps,
                         int nargs, fa_intp start, fa_intp len)
{
    char *local[FA_MAX_ARGS];
    for (int k = 0; k < nargs; k++) local[k] = args[k] + start * steps[k];
    fn(local, len, dims, steps);
}

/* Tuning knobs (tests force threads on small arrays through
 * fa_set_thread_tuning; the defaults are the constants above). Set them
 * while no call runs: they are plain variables, read without a lock. */
static fa_intp fa_min_work = FA_PARALLEL_MIN_WORK;
static double fa_min_ns = FA_PARALLEL_MIN_NS;
static double fa_chunk_ns = FA_CHUNK_NS;

void fa_get_thread_tuning(fa_intp *min_work, double *min_ns, double *chunk_ns)
{
    *min_work = fa_min_work;
    *min_ns = fa_min_ns;
    *chunk_ns = fa_chunk_ns;
}

void fa_set_thread_tuning(fa_intp min_work, double min_ns, double chunk_ns)
{
    fa_min_work = min_work < 2 ? 2 : min_work;
    fa_min_ns = min_ns < 0 ? 0 : min_ns;
    fa_chunk_ns = chunk_ns < 1 ? 1 : chunk_ns;
}

#if FA_POOL
/* ------------------------------------------------------------------ */
/* The pool.                                                           */

static double fa_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* state: [generation:20][WAITING:1][OPEN:1][inside:10]
 *   inside   workers that joined the open (or closing) job
 *   OPEN     the job accepts workers
 *   WAITING  the caller sleeps until inside drops to 0
 * A worker joins with a CAS that requires OPEN and a generation it has not
 * joined yet, so it can never join a stale job; the caller reuses the job
 * slot only once the job is closed and nobody is inside. */
#define FA_INSIDE_MASK 0x3FFu
#define FA_OPEN 0x400u
#define FA_WAITING 0x800u
#define FA_GEN_SHIFT 12
#define FA_GEN(s) ((s) >> FA_GEN_SHIFT)
#define FA_NO_GEN UINT_MAX

typedef struct {
    /* Written by the caller before it opens the job; read-only while open. */
    fa_range_fn fn;
    char *args[FA_MAX_ARGS];
    const fa_intp *dims, *steps;
    int nargs;
    fa_intp n;         /* all iterations */
    fa_intp min_chunk; /* iterations per claim: at least (a multiple of 64 */
    fa_intp max_chunk; /* when element-wise), at most; the last may be less */
    fa_intp align;     /* 64 element-wise, 1 row-wise */
    int threads;       /* helpers + the caller */
#ifdef FA_HAVE_MXCSR
    unsigned int csr;
#else
    int round;
#endif
    _Alignas(64) atomic_intptr_t next; /* first iteration not claimed yet */
} fa_job;

static fa_job fa_the_job;
static _Alignas(64) atomic_uint fa_state;
static _Alignas(64) atomic_uint fa_seq;     /* bumped on each job: workers sleep on it */
static atomic_int fa_sleepers;              /* workers in (or entering) futex wait */
static atomic_int fa_helpers;               /* workers 0..helpers-1 may join the job */
static atomic_int fa_busy;                  /* a call owns the job slot */
static atomic_int fa_nworkers;              /* workers started in this process */
static pthread_mutex_t fa_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fa_atfork_once = PTHREAD_ONCE_INIT;
/* Statistics for the tests (which must see that workers really ran). */
static atomic_long fa_stat_jobs, fa_stat_worker_chunks, fa_stat_wait_ns, fa_stat_long_waits;

/* Sleep while *addr == expected (spurious wake-ups allowed); wake. */
#ifdef FA_FUTEX
static void fa_wait(atomic_uint *addr, unsigned expected)
{
    syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void fa_wake(atomic_uint *addr, int count)
{
    syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}
#else
static pthread_mutex_t fa_wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fa_wait_cond = PTHREAD_COND_INITIALIZER;
static void fa_wait(atomic_uint *addr, unsigned expected)
{
    pthread_mutex_lock(&fa_wait_lock);
    while (atomic_load(addr) == expected) pthread_cond_wait(&fa_wait_cond, &fa_wait_lock);
    pthread_mutex_unlock(&fa_wait_lock);
}
static void fa_wake(atomic_uint *addr, int count)
{
    (void)addr;
    (void)count;
    pthread_mutex_lock(&fa_wait_lock); /* the store to *addr came first */
    pthread_cond_broadcast(&fa_wait_cond);
    pthread_mutex_unlock(&fa_wait_lock);
}
#endif

/* Claim and run chunks until none is left; returns how many. */
static long fa_work(fa_job *job)
{
    long done = 0;
    for (;;) {
        fa_intp start = atomic_load_explicit(&job->next, memory_order_relaxed), len;
        do { /* a failed CAS reloads start */
            fa_intp left = job->n - start;
            if (left <= 0) return done;
            len = left / ((fa_intp)job->threads * FA_GUIDED_SHARE);
            len = len < job->min_chunk ? job->min_chunk : len > job->max_chunk ? job->max_chunk : len;
            len = (len + job->align - 1) / job->align * job->align;
            if (len > left) len = left;
        } while (!atomic_compare_exchange_weak_explicit(&job->next, &start, start + len,
                                                        memory_order_relaxed, memory_order_relaxed));
        fa_run_range(job->fn, job->args, job->dims, job->steps, job->nargs, start, len);
        done++;
    }
}

/* Join the open job if this worker may; returns 1 if it did. */
static int fa_try_join(int index, unsigned *last_gen)
{
    unsigned s = atomic_load_explicit(&fa_state, memory_order_acquire);
    for (;;) {
        if (!(s & FA_OPEN) || FA_GEN(s) == *last_gen ||
            index >= atomic_load_explicit(&fa_helpers, memory_order_relaxed))
            return 0;
        if (atomic_compare_exchange_weak_explicit(&fa_state, &s, s + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    *last_gen = FA_GEN(s);
    fa_job *job = &fa_the_job;
#ifdef FA_HAVE_MXCSR
    unsigned int mine = _mm_getcsr();
    if ((mine & ~0x3Fu) != job->csr) _mm_setcsr(job->csr | (mine & 0x3Fu));
#else
    if (fegetround() != job->round) fesetround(job->round);
#endif
    long done = fa_work(job);
    if (done) atomic_fetch_add_explicit(&fa_stat_worker_chunks, done, memory_order_relaxed);
    /* Leave; release: the caller's acquire of inside == 0 sees our stores. */
    unsigned left = atomic_fetch_sub_explicit(&fa_state, 1, memory_order_acq_rel) - 1;
    if ((left & FA_INSIDE_MASK) == 0 && (left & FA_WAITING)) fa_wake(&fa_state, 1);
    return 1;
}

static void *fa_worker_main(void *arg)
{
    int index = (int)(intptr_t)arg;
    unsigned last_gen = FA_NO_GEN;
    for (;;) {
        unsigned seq = atomic_load_explicit(&fa_seq, memory_order_acquire);
        if (fa_try_join(index, &last_gen)) continue;
        if (index < atomic_load_explicit(&fa_helpers, memory_order_relaxed)) {
            /* Spin a little: the next call is often close behind. */
            double deadline = fa_now_ns() + FA_WORKER_SPIN_NS;
            int changed = 0;
            do {
                for (int i = 0; i < 32; i++) FA_CPU_RELAX();
                changed = atomic_load_explicit(&fa_seq, memory_order_acquire) != seq;
            } while (!changed && fa_now_ns() < deadline);
            if (changed) continue;
        }
        /* seq_cst on both sides (sleepers here, seq in the caller) so that
         * the caller either sees us sleeping or we see its new seq. */
        atomic_fetch_add(&fa_sleepers, 1);
        if (atomic_load(&fa_seq) == seq) fa_wait(&fa_seq, seq);
        atomic_fetch_sub(&fa_sleepers, 1);
    }
    return NULL;
}

static void fa_atfork_prepare(void) { pthread_mutex_lock(&fa_pool_lock); }
static void fa_atfork_parent(void) { pthread_mutex_unlock(&fa_pool_lock); }
/* The child has only the thread that forked: forget the parent's workers
 * and whatever job another thread of the parent was running. */
static void fa_atfork_child(void)
{
    pthread_mutex_init(&fa_pool_lock, NULL);
#ifndef FA_FUTEX
    pthread_mutex_init(&fa_wait_lock, NULL);
    pthread_cond_init(&fa_wait_cond, NULL);
#endif
    atomic_store(&fa_state, 0);
    atomic_store(&fa_seq, 0);
    atomic_store(&fa_sleepers, 0);
    atomic_store(&fa_helpers, 0);
    atomic_store(&fa_nworkers, 0);
    atomic_store(&fa_busy, 0);
}
static void fa_register_atfork(void)
{
    pthread_atfork(fa_atfork_prepare, fa_atfork_parent, fa_atfork_child);
}

/* Start workers until there are `want`; returns how many there are. */
static int fa_pool_ensure(int want)
{
    int have = atomic_load_explicit(&fa_nworkers, memory_order_acquire);
    if (have >= want) return have;
    pthread_once(&fa_atfork_once, fa_register_atfork);
    pthread_mutex_lock(&fa_pool_lock);
    have = atomic_load(&fa_nworkers);
    if (have < want) {
        /* Workers block every signal: signals go to the application's threads. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        while (have < want) {
            pthread_t tid;
            if (pthread_create(&tid, &attr, fa_worker_main, (void *)(intptr_t)have) != 0) break;
#if defined(__linux__) && defined(__GLIBC__)
            pthread_setname_np(tid, "fastact-worker");
#endif
            have++;
            atomic_store(&fa_nworkers, have);
        }
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&fa_pool_lock);
    return have;
}

/* Iterations [first, n) as a job for the pool; returns 0 (and does nothing)
 * if the pool is busy or has no worker. */
static int fa_run_parallel(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps,
                           int nargs, fa_intp first, fa_intp n, fa_intp min_chunk,
                           fa_intp max_chunk, fa_intp align, int helpers)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&fa_busy, &expected, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return 0;
    int have = fa_pool_ensure(helpers);
    if (have <= 0) {
        atomic_store_explicit(&fa_busy, 0, memory_order_release);
        return 0;
    }
    if (helpers > have) helpers = have;

    fa_job *job = &fa_the_job; /* nobody is inside: the last job closed empty */
    job->fn = fn;
    for (int k = 0; k < nargs; k++) job->args[k] = args[k];
    job->dims = dims;
    job->steps = steps;
    job->nargs = nargs;
    job->n = n;
    job->min_chunk = min_chunk;
    job->max_chunk = max_chunk;
    job->align = align;
    job->threads = helpers + 1;
#ifdef FA_HAVE_MXCSR
    job->csr = _mm_getcsr() & ~0x3Fu; /* controls only, not the flags */
#else
    job->round = fegetround();
#endif
    atomic_store_explicit(&job->next, first, memory_order_relaxed);
    atomic_store_explicit(&fa_helpers, helpers, memory_order_relaxed);
    unsigned s = atomic_load_explicit(&fa_state, memory_order_relaxed);
    unsigned gen = (FA_GEN(s) + 1) & (FA_NO_GEN >> FA_GEN_SHIFT);
    atomic_store_explicit(&fa_state, (gen << FA_GEN_SHIFT) | FA_OPEN, memory_order_release);
    atomic_fetch_add(&fa_seq, 1); /* seq_cst: pairs with the sleepers count */
    if (atomic_load(&fa_sleepers) > 0) fa_wake(&fa_seq, INT_MAX);
    atomic_fetch_add_explicit(&fa_stat_jobs, 1, memory_order_relaxed);

    fa_work(job);

    /* Close, then wait only for chunks that running workers claimed. */
    s = atomic_fetch_and_explicit(&fa_state, ~FA_OPEN, memory_order_acq_rel) & ~FA_OPEN;
    if (s & FA_INSIDE_MASK) {
        double start = fa_now_ns(), deadline = start + FA_CALLER_SPIN_NS;
        do {
            for (int i = 0; i < 16; i++) FA_CPU_RELAX();
            s = atomic_load_explicit(&fa_state, memory_order_acquire);
        } while ((s & FA_INSIDE_MASK) && fa_now_ns() < deadline);
        while (s & FA_INSIDE_MASK) {
            if (!(s & FA_WAITING)) {
                if (!atomic_compare_exchange_weak_explicit(&fa_state, &s, s | FA_WAITING,
                                                           memory_order_acquire, memory_order_acquire))
                    continue;
                s |= FA_WAITING;
            }
            fa_wait(&fa_state, s);
            s = atomic_load_explicit(&fa_state, memory_order_acquire);
        }
        long waited = (long)(fa_now_ns() - start);
        atomic_fetch_add_explicit(&fa_stat_wait_ns, waited, memory_order_relaxed);
        if (waited > 100000) atomic_fetch_add_explicit(&fa_stat_long_waits, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&fa_busy, 0, memory_order_release);
    return 1;
}

long fa_thread_stats(int which)
{
    switch (which) {
    case 0: return atomic_load(&fa_nworkers);
    case 1: return atomic_load(&fa_stat_jobs);
    case 2: return atomic_load(&fa_stat_worker_chunks);
    case 3: return atomic_load(&fa_stat_wait_ns);
    case 4: return atomic_load(&fa_stat_long_waits);
    default: return -1;
    }
}
#else
long fa_thread_stats(int which) { return which <= 4 ? 0 : -1; }
#endif /* FA_POOL */

static void fa_run_split(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps,
                         int nin, int nargs, fa_intp work)
{
    fa_intp n = dims[0];
    int nt = FA_LOAD_NT();
    /* work <= 0 never happens; a row of 0 elements is no work at all. */
    if (nt <= 1 || n < 2 || work < 1 || n < (fa_min_work + work - 1) / work) {
        fn(args, n, dims, steps);
        return;
    }
#if FA_POOL
    if (nargs > FA_MAX_ARGS || fa_partial_overlap(args, steps, n, nin, nargs)) {
        fn(args, n, dims, steps);
        return;
    }
    /* The probe: ~FA_PROBE_WORK elements, a multiple of 64 when element-wise. */
    fa_intp probe = work == 1 ? FA_PROBE_WORK : (FA_PROBE_WORK + work - 1) / work;
    if (probe >= n) {
        fn(args, n, dims, steps);
        return;
    }
    double t0 = fa_now_ns();
    fa_run_range(fn, args, dims, steps, nargs, 0, probe);
    double per_iter = (fa_now_ns() - t0) / (double)probe;
    fa_intp rest = n - probe;
    double rest_ns = per_iter * (double)rest;
    if (rest_ns >= fa_min_ns) {
        int helpers = nt - 1 < FA_MAX_WORKERS ? nt - 1 : FA_MAX_WORKERS;
        double min_ns = fa_chunk_ns < FA_MIN_CHUNK_NS ? fa_chunk_ns : FA_MIN_CHUNK_NS;
        double lo = per_iter > 0 ? min_ns / per_iter : (double)rest;
        double hi = per_iter > 0 ? fa_chunk_ns / per_iter : (double)rest;
        fa_intp min_chunk = lo < 1 ? 1 : lo > (double)rest ? rest : (fa_intp)lo;
        fa_intp max_chunk = hi < (double)min_chunk ? min_chunk : hi > (double)rest ? rest : (fa_intp)hi;
        fa_intp align = work == 1 ? FA_CHUNK_ALIGN : 1;
        if (rest >= 2 * min_chunk && /* else there is nothing to share */
            fa_run_parallel(fn, args, dims, steps, nargs, probe, n, min_chunk, max_chunk, align,
                            helpers))
            return;
    }
    fa_run_range(fn, args, dims, steps, nargs, probe, rest);
#else
    (void)nin;
    (void)nargs;
    fn(args, n, dims, steps);
#endif
}

/* Every fastact function is defined on the whole extended real line, so a
 * floating-point flag raised inside a kernel is never news for the caller:
 * NaN compared in a select raises "invalid", and vector code evaluates both
 * sides of a select, so a discarded lane may raise "overflow". NumPy turns
 * flags left set by a loop into RuntimeWarnings; clear them (in the calling
 * thread, the one NumPy inspects; workers' flags are never looked at).
 * Only the four NumPy reports, and only when set: feclearexcept costs ~80 ns
 * (x87 environment reload) against ~11 ns for fetestexcept, a quarter of a
 * NumPy ufunc call at n = 100; "inexact", set by nearly every kernel, is
 * not one NumPy looks at. */
#define FA_NUMPY_FLAGS (FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW | FE_INVALID)
void fa_run(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps, int nin,
            int nargs, fa_intp work)
{
    fa_run_split(fn, args, dims, steps, nin, nargs, work);
    fa_clear_fp_flags();
}

void fa_clear_fp_flags(void)
{
    if (fetestexcept(FA_NUMPY_FLAGS)) feclearexcept(FA_NUMPY_FLAGS);
}
