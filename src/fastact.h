/* Declarations shared by the kernels (loops.c, compiled once per SIMD
 * level), the run-time pieces (dispatch.c, threads.c, table.c) and the
 * Cython module. No NumPy or Python headers: the kernels need neither. */
#ifndef FASTACT_H
#define FASTACT_H

#include <stdint.h>

typedef intptr_t fa_intp;

/* Token pasting after expansion, and n + 1 for the small data-operand counts
 * of the tables (a backward takes grad in front of the forward's operands):
 * shared by table.c and loops.c, which expand the same rows. */
#define FA_CAT_(a, b) a##b
#define FA_CAT(a, b) FA_CAT_(a, b)
/* The second of a comma list: with FA_CAT, a default for a name that may
 * be defined as "~, value" (FA_HAND, FA_TAB_USE). */
#define FA_SECOND_(a, b, ...) b
#define FA_SECOND(...) FA_SECOND_(__VA_ARGS__)
#define FA_INC_1 2
#define FA_INC_2 3
#define FA_INC_3 4
#define FA_INC(n) FA_CAT(FA_INC_, n) /* same width as npy_intp (Py_intptr_t) */

/* A NumPy inner loop (PyUFuncGenericFunction). */
typedef void (*fa_loop_fn)(char **args, const fa_intp *dims, const fa_intp *steps, void *data);
/* The same loop over iterations [0, n) of the outer loop (dims[0] is the
 * whole count, dims[1..] a gufunc's core sizes); threads split the range. */
typedef void (*fa_range_fn)(char **args, fa_intp n, const fa_intp *dims, const fa_intp *steps);

/* Run fn over the dims[0] iterations of a NumPy loop whose nargs operands
 * are nin inputs then the outputs, split across threads when dims[0] * work
 * (elements touched per iteration: 1 element-wise, the row length for a
 * row-wise gufunc) is large enough; then clear the floating-point flags
 * (see threads.c). */
void fa_run(fa_range_fn fn, char **args, const fa_intp *dims, const fa_intp *steps, int nin,
            int nargs, fa_intp work);
/* Clear the floating-point flags NumPy reports (fa_run does it after its
 * range; a loop that also computes outside fa_run calls it last). */
void fa_clear_fp_flags(void);
int fa_get_num_threads(void);
int fa_set_num_threads(int n);   /* returns 0, or -1 if n < 1 */
int fa_have_threads(void);       /* 1 if this build has the thread pool */
/* The pool's counters, for tests: 0 workers started, 1 parallel jobs,
 * 2 chunks run by workers (not by the calling thread), 3 total ns callers
 * waited for chunks in flight on workers, 4 such waits over 100 us. */
long fa_thread_stats(int which);
/* When a call goes parallel (threads.c): at least min_work elements, and an
 * estimated serial time of at least min_ns for the rest after the probe;
 * chunks of about chunk_ns of work. Tests lower them to force threads. */
void fa_get_thread_tuning(fa_intp *min_work, double *min_ns, double *chunk_ns);
void fa_set_thread_tuning(fa_intp min_work, double min_ns, double chunk_ns);

enum { FA_SAVED_INPUT = 0, FA_SAVED_OUTPUT = 1 };

/* One ufunc, from a row of one of the tables listed in tables.h. */
typedef struct {
    const char *name;
    const char *group;     /* "activation" (public) or "internal" (tests only) */
    const char *types;     /* operand types, "TTd->T": T the loop's float type,
                              d float64, p intp (npy_intp) */
    const char *signature; /* gufunc core signature, or NULL if element-wise */
    const char *params;    /* keyword parameters and defaults: "alpha=0.01,beta=1.0" */
    const char *checks;    /* conditions on them: "beta>0,min_val<=max_val" */
    const char *doc;
    int ndata;             /* array inputs (for a backward: grad + the forward's) */
    int saved;             /* FA_SAVED_INPUT / FA_SAVED_OUTPUT */
    int backward;          /* 0 forward, 1 backward */
} fa_kernel_info;

extern const fa_kernel_info fa_kernels[];
extern const int fa_nkernels;
#define FA_NTYPES 3      /* loops per ufunc: float16, float32, float64 */

/* The loop table of the SIMD level chosen from the CPU and FASTACT_SIMD:
 * FA_NTYPES entries per kernel, in table order. On failure returns NULL and
 * sets *error to a message. */
const fa_loop_fn *fa_select_loops(const char **level, const char **error);
const char *fa_compiled_levels(void);  /* "baseline,avx2,avx512" */
const char *fa_supported_levels(void); /* those the CPU runs, best last */

#endif
