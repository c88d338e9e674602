/* Loops specialised on a hoisted parameter's value (FA_HAND hand loops,
 * hand_loops.h; the FA_PARAMS_CONST path only). A kernel whose cheap form
 * depends on its parameter runs that form for the whole block when the
 * parameter allows it, and its general form otherwise, instead of both
 * forms per element behind a select:
 *
 *   celu, celu backward   alpha > 0 (the usual case): x / alpha <= 0 where it
 *                         is used, so expm1_neg / exp_neg_core serve
 *                         (float32 forward in cache 0.29 -> 0.21 ns); at
 *                         alpha = 1, elu's form (below)
 *   softplus, backward    beta = 1 (the default): the same kernel with a
 *                         literal 1, which GCC folds (no beta x rounding
 *                         error, no division, no forward tail shift); float32
 *                         on AVX-512 reads log_sigmoid's tables in
 *                         act_loops.h's hand loop
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
#include "range_loops.h"

/* fa_hand_<K>_<S>: y[i] = FAST for the whole block where COND, else SLOW;
 * FAST starts with its own hand loop where FA_FAST_<K>_<S> names one
 * (act_loops.h: softplus's table on AVX-512). p is restrict: a float64
 * store to y may alias it, and out of line (the strided path's buffers
 * call these too) GCC then reloads the parameter per element and keeps
 * the loop scalar (celu float64 at 1M: 0.9 -> 6.9 ns per element). */
#define FA_PARAM_LOOP(K, S, T, ...) FA_PARAM_LOOP_(K, S, T, __VA_ARGS__)
#define FA_PARAM_LOOP_(K, S, T, COND, FAST, SLOW)                                      \
    static inline fa_intp fa_hand_##K##_##S(void *dst, char **a, const double *restrict p, fa_intp m) \
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

/* COND, FAST, SLOW of each kernel, P(k) its parameter operand k; softplus's
 * serve the per-element loops below too. */
#define FA_CELU(S, P) P(1) > 0, fa_celu_form_##S(d0[i], P(1), 1), fa_celu_form_##S(d0[i], P(1), 0)
#define FA_CELU_GRAD(S, P) P(2) > 0, fa_celu_grad_form_##S(d0[i], d1[i], P(2), 1), \
                           fa_celu_grad_form_##S(d0[i], d1[i], P(2), 0)
#define FA_SOFTPLUS(S, P) P(1) == 1, fa_softplus_form_##S(d0[i], 1, P(2), 1), \
                          fa_softplus_form_##S(d0[i], P(1), P(2), 0)
#define FA_SOFTPLUS_GRAD(S, P) P(2) == 1, fa_softplus_grad_form_##S(d0[i], d1[i], 1, P(3), 1), \
                               fa_softplus_grad_form_##S(d0[i], d1[i], P(2), P(3), 0)

/* celu at alpha = 1 (the default) is elu at alpha = 1 to the bit: x / 1
 * and x * 1 are exact, celu_u's low part is +-0, and the same exp_shifted
 * tiers follow. elu's form skips the forward's division and the backward's
 * double-word u (float32 at 16M: backward 1.38x -> 1.1x the memory
 * baseline; elu's backward is a range loop, range_loops.h). celu's fast
 * form starts with it: all m elements where the hoisted alpha is 1, none
 * otherwise. */
#define FA_CELU1_LOOPS(S, T)                                                           \
    static inline fa_intp fa_celu1_celu_##S(void *dst, char **a, const double *restrict p, fa_intp m) \
    {                                                                                  \
        T *y = (T *)dst;                                                               \
        const T *d0 = (const T *)a[0];                                                 \
        if (FA_P_##S(1) != 1) return 0;                                                \
        FA_IVDEP for (fa_intp i = 0; i < m; i++) y[i] = fa_elu_form_##S(d0[i], 1, 1);  \
        return m;                                                                      \
    }                                                                                  \
    static inline fa_intp fa_celu1_celu_grad_##S(void *dst, char **a, const double *restrict p, fa_intp m) \
    {                                                                                  \
        return FA_P_##S(2) == 1 ? fa_hand_elu_grad_##S(dst, a, p, m) : 0;              \
    }
FA_CELU1_LOOPS(f32, float)
FA_CELU1_LOOPS(f64, double)
#undef FA_CELU1_LOOPS
#define FA_FAST_celu_f32 ~, fa_celu1_celu_f32
#define FA_FAST_celu_f64 ~, fa_celu1_celu_f64
#define FA_FAST_celu_grad_f32 ~, fa_celu1_celu_grad_f32
#define FA_FAST_celu_grad_f64 ~, fa_celu1_celu_grad_f64

#define FA_PARAM_LOOPS(S, T)                                                 \
    FA_PARAM_LOOP(celu, S, T, FA_CELU(S, FA_P_##S))                          \
    FA_PARAM_LOOP(celu_grad, S, T, FA_CELU_GRAD(S, FA_P_##S))                \
    FA_PARAM_LOOP(softplus, S, T, FA_SOFTPLUS(S, FA_P_##S))                  \
    FA_PARAM_LOOP(softplus_grad, S, T, FA_SOFTPLUS_GRAD(S, FA_P_##S))
FA_PARAM_LOOPS(f32, float)
FA_PARAM_LOOPS(f64, double)
#undef FA_PARAM_LOOPS

/* Per-element parameters (arrays as long as the data: the FA_EACH hook of
 * loops.c), float32 softplus where it reads log_sigmoid's tables. A vector
 * loop over their lookups would gather, which keeps GCC's loop scalar; so
 * SLOW runs vectorised over a chunk, and FAST redoes the elements where
 * COND holds (if any: else SLOW goes straight to y): the kernel's choice,
 * so its bits. Through a buffer: out= may be an input. FA_Q(k): parameter
 * operand k at element i. */
#if FA_TAB_USE(log_sigmoid)
#define FA_EACH_CHUNK 256
#define FA_Q(k) ((float)((const double *)a[k])[i])
#define FA_EACH_LOOP(K, ...) FA_EACH_LOOP_(K, __VA_ARGS__)
#define FA_EACH_LOOP_(K, COND, FAST, SLOW)                                              \
    static inline fa_intp fa_each_##K##_f32(void *dst, char **a, const double *p, fa_intp m) \
    {                                                                                  \
        const float *d0 = (const float *)a[0], *d1 = (const float *)a[1];              \
        float *y = (float *)dst;                                                       \
        (void)p, (void)d1;                                                             \
        for (fa_intp lo = 0; lo < m; lo += FA_EACH_CHUNK) {                            \
            _Alignas(64) float r[FA_EACH_CHUNK];                                       \
            fa_intp hi = m - lo < FA_EACH_CHUNK ? m : lo + FA_EACH_CHUNK;              \
            int any = 0;                                                               \
            for (fa_intp i = lo; i < hi; i++) any |= (COND);                           \
            if (!any) {                                                                \
                FA_IVDEP for (fa_intp i = lo; i < hi; i++) y[i] = (SLOW);              \
                continue;                                                              \
            }                                                                          \
            FA_IVDEP for (fa_intp i = lo; i < hi; i++) r[i - lo] = (SLOW);             \
            for (fa_intp i = lo; i < hi; i++)                                          \
                if (COND) r[i - lo] = (FAST);                                          \
            for (fa_intp i = lo; i < hi; i++) y[i] = r[i - lo];                        \
        }                                                                              \
        return m;                                                                      \
    }
FA_EACH_LOOP(softplus, FA_SOFTPLUS(f32, FA_Q))
FA_EACH_LOOP(softplus_grad, FA_SOFTPLUS_GRAD(f32, FA_Q))
#undef FA_EACH_LOOP
#undef FA_Q
#define FA_EACH_softplus_f32 ~, fa_each_softplus_f32
#define FA_EACH_softplus_grad_f32 ~, fa_each_softplus_grad_f32
#endif

#define FA_HAND_celu_f32 ~, fa_hand_celu_f32
#define FA_HAND_celu_f64 ~, fa_hand_celu_f64
#define FA_HAND_celu_grad_f32 ~, fa_hand_celu_grad_f32
#define FA_HAND_celu_grad_f64 ~, fa_hand_celu_grad_f64
#define FA_HAND_softplus_f32 ~, fa_hand_softplus_f32
#define FA_HAND_softplus_f64 ~, fa_hand_softplus_f64
#define FA_HAND_softplus_grad_f32 ~, fa_hand_softplus_grad_f32
#define FA_HAND_softplus_grad_f64 ~, fa_hand_softplus_grad_f64

#endif
