/* Loops specialised on the range of a block's values (FA_HAND hand loops,
 * hand_loops.h). A kernel whose per-element form selects, lane by lane,
 * among forms for different ranges (and so computes them all) runs, on a
 * block whose every value is inside its core range, the core form alone,
 * and the per-element kernel on other blocks:
 *
 *   gelu, gelu backward   float64, |x| < FA_GELU_CORE (activation_defs.h):
 *                         m's first piece, no clamp, no exp tiers
 *
 * The core forms give the per-element kernel's bits on their range, so a
 * result does not depend on its neighbours, the block or the thread. A
 * block is FA_RANGE_BLOCK values: the range test reads them while they
 * are in L1. Portable C: the vector loops are GCC's at every SIMD level.
 * Included by loops.c after activations.h. */
#ifndef FASTACT_RANGE_LOOPS_H
#define FASTACT_RANGE_LOOPS_H

#include "hand_loops.h"

#define FA_RANGE_BLOCK 128

/* NAME over ND data operands (x the last, g the first): per block, CORE
 * where every x[i] satisfies INSIDE (false for NaN), else FULL. Each form
 * is a loop of its own, out of line: inlined into one function, GCC hoists
 * both forms' constants out of the block loop and spills them. */
#define FA_RANGE_LOOP(NAME, T, ND, INSIDE, CORE, FULL)                                   \
    static __attribute__((noinline)) void NAME##_core(T *y, const T *g, const T *x, fa_intp n) \
    {                                                                                    \
        (void)g;                                                                         \
        FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = (CORE);                          \
    }                                                                                    \
    static __attribute__((noinline)) void NAME##_full(T *y, const T *g, const T *x, fa_intp n) \
    {                                                                                    \
        (void)g;                                                                         \
        FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = (FULL);                          \
    }                                                                                    \
    static inline fa_intp NAME(void *dst, char **a, const double *p, fa_intp m)         \
    {                                                                                    \
        T *y = (T *)dst;                                                                 \
        const T *x = (const T *)a[(ND) - 1], *g = (const T *)a[0];                       \
        (void)p;                                                                         \
        for (fa_intp lo = 0; lo < m; lo += FA_RANGE_BLOCK) {                             \
            fa_intp n = m - lo < FA_RANGE_BLOCK ? m - lo : FA_RANGE_BLOCK;               \
            fa_intp out = 0; /* as wide as a double: no lane shuffles */           \
            for (fa_intp i = lo; i < lo + n; i++) out |= !(INSIDE);                      \
            (out ? NAME##_full : NAME##_core)(y + lo, g + lo, x + lo, n);                \
        }                                                                                \
        return m;                                                                        \
    }

#define FA_GELU_INSIDE (fa_abs_f64(x[i]) < FA_GELU_CORE)
FA_RANGE_LOOP(fa_hand_gelu_f64, double, 1, FA_GELU_INSIDE,
              fa_gelu_form_f64(x[i], 1), fa_gelu_f64(x[i]))
FA_RANGE_LOOP(fa_hand_gelu_grad_f64, double, 2, FA_GELU_INSIDE,
              fa_gelu_grad_form_f64(g[i], x[i], 1), fa_gelu_grad_f64(g[i], x[i]))
#undef FA_GELU_INSIDE

#define FA_HAND_gelu_f64 ~, fa_hand_gelu_f64
#define FA_HAND_gelu_grad_f64 ~, fa_hand_gelu_grad_f64

#endif
