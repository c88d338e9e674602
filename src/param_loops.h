/* Loops specialised on a hoisted parameter's value (FA_HAND hand loops,
 * hand_loops.h; the FA_PARAMS_CONST path only). A kernel whose cheap form
 * depends on its parameter runs that form for the whole block when the
 * parameter allows it, and its general form otherwise, instead of both
 * forms per element behind a select:
 *
 *   celu, celu backward   alpha > 0 (the usual case): x / alpha <= 0 where it
 *                         is used, so expm1_neg / exp_neg_core serve
 *                         (float32 forward in cache 0.29 -> 0.21 ns)
 *   softplus, backward    beta = 1 (the default): the same kernel with a
 *                         literal 1, which GCC folds (no beta x rounding
 *                         error, no division, no forward tail shift)
 *
 * The per-element kernels (activation_defs.h) choose the same forms by the
 * same tests, so every path gives the same bits. Portable C: the vector
 * loops are GCC's at every SIMD level. Included by loops.c after
 * activations.h; d0, d1 are the data operands, p[] the hoisted parameters
 * as the generic loop converts them (FA_PH). */
#ifndef FASTACT_PARAM_LOOPS_H
#define FASTACT_PARAM_LOOPS_H

#include "hand_loops.h"
#include "act_loops.h"

/* fa_hand_<K>_<S>: y[i] = FAST for the whole block where COND, else SLOW;
 * FAST starts with its own hand loop where FA_FAST_<K>_<S> names one. */
#define FA_PARAM_LOOP(K, S, T, COND, FAST, SLOW)                                       \
    static inline fa_intp fa_hand_##K##_##S(void *dst, char **a, const double *p, fa_intp m) \
    {                                                                                  \
        T *y = (T *)dst;                                                               \
        const T *d0 = (const T *)a[0], *d1 = (const T *)a[1];                          \
        (void)d1;                                                                      \
        if (COND) {                                                                    \
            fa_intp i0 = FA_HAND_IN(FA_FAST_, K, S)(dst, a, p, m);                     \
            FA_IVDEP for (fa_intp i = i0; i < m; i++) y[i] = (FAST);                   \
        } else {                                                                       \
            FA_IVDEP for (fa_intp i = 0; i < m; i++) y[i] = (SLOW);                    \
        }                                                                              \
        return m;                                                                      \
    }

#define FA_PARAM_LOOPS(S, T)                                                                  \
    FA_PARAM_LOOP(celu, S, T, (T)p[1] > 0, fa_celu_form_##S(d0[i], (T)p[1], 1),               \
                  fa_celu_form_##S(d0[i], (T)p[1], 0))                                        \
    FA_PARAM_LOOP(celu_grad, S, T, (T)p[2] > 0, fa_celu_grad_form_##S(d0[i], d1[i], (T)p[2], 1), \
                  fa_celu_grad_form_##S(d0[i], d1[i], (T)p[2], 0))                            \
    FA_PARAM_LOOP(softplus, S, T, (T)p[1] == 1, fa_softplus_##S(d0[i], 1, (T)p[2]),           \
                  fa_softplus_##S(d0[i], (T)p[1], (T)p[2]))                                   \
    FA_PARAM_LOOP(softplus_grad, S, T, (T)p[2] == 1, fa_softplus_grad_##S(d0[i], d1[i], 1, (T)p[3]), \
                  fa_softplus_grad_##S(d0[i], d1[i], (T)p[2], (T)p[3]))
FA_PARAM_LOOPS(f32, float)
FA_PARAM_LOOPS(f64, double)
#undef FA_PARAM_LOOPS

#define FA_HAND_celu_f32 ~, fa_hand_celu_f32
#define FA_HAND_celu_f64 ~, fa_hand_celu_f64
#define FA_HAND_celu_grad_f32 ~, fa_hand_celu_grad_f32
#define FA_HAND_celu_grad_f64 ~, fa_hand_celu_grad_f64
#define FA_HAND_softplus_f32 ~, fa_hand_softplus_f32
#define FA_HAND_softplus_f64 ~, fa_hand_softplus_f64
#define FA_HAND_softplus_grad_f32 ~, fa_hand_softplus_grad_f32
#define FA_HAND_softplus_grad_f64 ~, fa_hand_softplus_grad_f64

#endif
