/* What the element-wise loops (loops.c) and their hand-written variants
 * share: FA_IVDEP, and the FA_HAND hook.
 *
 * FA_HAND(K, S) names the hand loop of kernel K for dtype S if there is one
 * (a macro FA_HAND_<K>_<S> defined as "~, fn"), else fa_hand_none. A hand
 * loop does elements [0, its return value) of a block (whole vectors), the
 * generic loop the rest; only the hoisted-parameter path (FA_PARAMS_CONST)
 * uses them. mask_grads.h (full-width grad loads), act_loops.h (table
 * lookups), param_loops.h (loops specialised on a parameter's value) and
 * range_loops.h (on the range of a block's values) define them. FA_HAND_IN
 * looks up the same kind of function among other names: a param loop's
 * fast form (FA_FAST_), the per-element-parameter path (FA_EACH_). */
#ifndef FASTACT_HAND_LOOPS_H
#define FASTACT_HAND_LOOPS_H

#include "fastact.h"

/* Vectorise despite possible aliasing of output and inputs (why that is
 * safe: loops.c, "Per dtype"). */
#if defined(__clang__)
#define FA_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define FA_IVDEP _Pragma("GCC ivdep")
#else
#define FA_IVDEP
#endif

/* How far ahead, in bytes, the streaming loops prefetch each operand and
 * the output (act_loops.h's table loops, loops.c's FA_LINES). A loop with
 * tens of vector operations per cache line fills the core's window with
 * them and leaves few loads in flight: at 16M float32 on an Intel Xeon,
 * 1 thread, sigmoid and tanh ran 22-25% faster with the prefetches, gelu's
 * backward 17%, at 1M 5-8% (at 4K-32K, in cache: -3 to +3%); 4 KB ahead
 * beat 2 KB by 1-3% and 1 KB by 7%. */
#define FA_PF_DIST 4096

/* The generic element loop (loops.c, FA_LINES) and prelu's rows prefetch
 * only in calls that write FA_PF_MIN_BYTES or more: below, the data are in
 * L2 or nearer, and the prefetches cost more than they bring (relu float32
 * at 128K elements: +32%; at 1M: -5%, at 16M: -13%; silu -22% and elu -16%
 * at 16M, Intel Xeon). */
#define FA_PF_MIN_BYTES (1 << 20)
/* Not at the baseline: with 4 SSE vectors per line the loop costs the
 * compute-bound kernels more than the prefetches bring (16M float32:
 * relu_sigmoid +14%, silu +12%, though relu -18%). */
#if defined(__AVX2__)
#define FA_PF_LINES 1
#else
#define FA_PF_LINES 0
#endif

/* Hoisted parameter k (p[k], a double) in the kernel's precision S. */
#define FA_P_f32(k) ((float)p[k])
#define FA_P_f64(k) ((double)p[k])

#define FA_HAND(K, S) FA_HAND_IN(FA_HAND_, K, S)
#define FA_HAND_IN(PREFIX, K, S) FA_SECOND(FA_CAT(PREFIX, FA_CAT(K, FA_CAT(_, S))), fa_hand_none, ~)

static inline fa_intp fa_hand_none(void *dst, char **a, const double *p, fa_intp m)
{
    (void)dst, (void)a, (void)p, (void)m;
    return 0;
}

#endif
