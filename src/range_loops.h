/* Loops specialised on the range of a block's values (FA_HAND hand loops,
 * hand_loops.h). A kernel whose per-element form selects, lane by lane,
 * among forms for different ranges (and so computes them all) runs, on a
 * block whose every value is inside its core range, the core form alone,
 * and the per-element kernel on other blocks:
 *
 *   gelu, gelu backward   float64, |x| < FA_GELU_CORE (activation_defs.h):
 *                         m's first piece, no clamp, no exp tiers
 *   elu, selu, celu (alpha = 1), relu_sigmoid, leaky_relu_sigmoid, silu,
 *   mish, log_sigmoid, bce_with_logits (float64) backwards, and
 *   leaky_relu_sigmoid's forward
 *                         tier variable >= FA_TAIL: no exp tiers (the _nt
 *                         instantiation below); silu, mish and log_sigmoid
 *                         float32 only where no table serves
 *
 * The core forms give the per-element kernel's bits on their range, so a
 * result does not depend on its neighbours, the block or the thread. A
 * block is FA_RANGE_BLOCK values, tested in the core form's own pass and
 * redone by the full form if a value is outside (and the next blocks run
 * the full form directly, FA_RANGE_SKIP). Portable C: the vector
 * loops are GCC's at every SIMD level. Included by loops.c after
 * activations.h, and by param_loops.h (celu at alpha = 1). */
#ifndef FASTACT_RANGE_LOOPS_H
#define FASTACT_RANGE_LOOPS_H

#include "hand_loops.h"
#include "activations.h"

#define FA_RANGE_BLOCK 512
/* After a block is redone, the next FA_RANGE_SKIP blocks run the full form
 * without trying the core one: where values outside are dense (or one in
 * every block), every try would fail and cost a second pass. elu's float32
 * backward at 1M against the loop without range loops: 2x -> 1.11x with x
 * all in [-200, 0), 1.97x -> 1.06x with one x < -80 in every block; 0.96x
 * with one in 64K, 0.92x with none. */
#define FA_RANGE_SKIP 32
#define FA_RANGE_INT(T) __typeof__(__builtin_choose_expr(sizeof(T) == 4, (uint32_t)0, (uint64_t)0))

/* The kernels once more as fa_<name>_<S>_nt: FA_TAILS 0 drops exp_shifted's
 * FA_TAIL tiers (activation_defs.h), which are ~8 vector operations of
 * ~30 in a backward such as elu's, and give the same bits wherever the
 * tier variable t >= FA_TAIL. The vmath pieces the template names through
 * FA_FN are shared. */
#define fa_exp_neg_core_f32_nt fa_exp_neg_core_f32
#define fa_exp_neg_core_f64_nt fa_exp_neg_core_f64
#define fa_exp_neg_normal_f32_nt fa_exp_neg_normal_f32
#define fa_exp_neg_normal_f64_nt fa_exp_neg_normal_f64
#define fa_exp_core_f32_nt fa_exp_core_f32
#define fa_exp_core_f64_nt fa_exp_core_f64
#define fa_signed_f32_nt fa_signed_f32
#define fa_signed_f64_nt fa_signed_f64
#undef FA_V
#undef FA_TAILS
#define FA_V _nt
#define FA_TAILS 0
#define FA_TEMPLATE "activation_defs.h"
#include "precisions.h"
#undef FA_V
#undef FA_TAILS
#define FA_V
#define FA_TAILS 1

/* NAME over data operands d0, d1, d2 (ND of them; the ufunc's order, the
 * grad first) and hoisted parameters P(k), block by block: CORE, and the
 * test whether INSIDE held for every element, in the same pass; where it
 * failed, FULL redoes the block (and the next FA_RANGE_SKIP). Where the
 * output overlaps an input (in place), CORE writes to a buffer, so the
 * inputs are intact for FULL. Each form is a loop of its own, out of line:
 * inlined into one function, GCC hoists both forms' constants out of the
 * block loop and spills them. p is restrict for the reason param_loops.h
 * gives. */
#define FA_RANGE_LOOP(NAME, T, ND, INSIDE, CORE, FULL)                                   \
    static __attribute__((noinline)) int NAME##_core(T *restrict y, const T *d0, const T *d1, \
                                                     const T *d2, const double *restrict p, fa_intp n) \
    {                                                                                    \
        FA_RANGE_INT(T) out = 0, bad;                                                    \
        (void)d1, (void)d2, (void)p;                                                     \
        FA_IVDEP for (fa_intp i = 0; i < n; i++) {                                       \
            y[i] = (CORE);                                                               \
            /* the flag as the bits of a T 0 or 1, as wide as T (no lane                 \
             * shuffles): GCC 12 vectorises this OR at SSE2 too, where an int of         \
             * a float64 compare kept the loop scalar */                                  \
            T flag = (INSIDE) ? (T)0 : (T)1;                                             \
            __builtin_memcpy(&bad, &flag, sizeof bad);                                   \
            out |= bad;                                                                  \
        }                                                                                \
        return out != 0;                                                                 \
    }                                                                                    \
    static __attribute__((noinline)) void NAME##_full(T *y, const T *d0, const T *d1, const T *d2, \
                                                      const double *restrict p, fa_intp n) \
    {                                                                                    \
        (void)d1, (void)d2, (void)p;                                                     \
        FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = (FULL);                          \
    }                                                                                    \
    static inline fa_intp NAME(void *dst, char **a, const double *restrict p, fa_intp m) \
    {                                                                                    \
        _Alignas(64) T buf[FA_RANGE_BLOCK];                                              \
        T *y = (T *)dst;                                                                 \
        const T *d[3] = {(const T *)a[0], (const T *)a[(ND) > 1], (const T *)a[2 * ((ND) > 2)]}; \
        int inplace = 0, skip = 0;                                                       \
        for (int k = 0; k < (ND); k++) inplace |= y < d[k] + m && d[k] < y + m;           \
        for (fa_intp lo = 0; lo < m; lo += FA_RANGE_BLOCK) {                             \
            fa_intp n = m - lo < FA_RANGE_BLOCK ? m - lo : FA_RANGE_BLOCK;               \
            T *to = inplace ? buf : y + lo;                                              \
            if (skip > 0) { /* after a redo: values outside come in runs */              \
                skip--;                                                                  \
                NAME##_full(y + lo, d[0] + lo, d[1] + lo, d[2] + lo, p, n);              \
            } else if (NAME##_core(to, d[0] + lo, d[1] + lo, d[2] + lo, p, n)) {         \
                NAME##_full(y + lo, d[0] + lo, d[1] + lo, d[2] + lo, p, n);              \
                skip = FA_RANGE_SKIP;                                                    \
            } else if (inplace) {                                                        \
                for (fa_intp i = 0; i < n; i++) y[lo + i] = buf[i];                      \
            }                                                                            \
        }                                                                                \
        return m;                                                                        \
    }

#define FA_GELU_INSIDE (fa_abs_f64(d0[i]) < FA_GELU_CORE)
FA_RANGE_LOOP(fa_hand_gelu_f64, double, 1, FA_GELU_INSIDE,
              fa_gelu_form_f64(d0[i], 1), fa_gelu_f64(d0[i]))
#undef FA_GELU_INSIDE
#define FA_GELU_INSIDE (fa_abs_f64(d1[i]) < FA_GELU_CORE)
FA_RANGE_LOOP(fa_hand_gelu_grad_f64, double, 2, FA_GELU_INSIDE,
              fa_gelu_grad_form_f64(d0[i], d1[i], 1), fa_gelu_grad_f64(d0[i], d1[i]))
#undef FA_GELU_INSIDE
#define FA_HAND_gelu_f64 ~, fa_hand_gelu_f64
#define FA_HAND_gelu_grad_f64 ~, fa_hand_gelu_grad_f64

/* Backwards whose only tiers are exp_shifted's, on blocks where every tier
 * variable t >= FA_TAIL: their _nt form (float32 at 1M: elu backward 10%,
 * relu_sigmoid's 17% faster; float64 log_sigmoid's 15%). TV: t at element
 * i, the kernel's own expression, so the test is exact. A NaN t fails it:
 * the sign of a NaN result follows GCC's arrangement of each form. */
#define FA_TAIL_OK(SIZE, t) ((t) >= ((SIZE) == 4 ? (float)FA_TAIL_F32 : FA_TAIL_F64))
#define FA_NT_LOOP(K, S, T, ND, TV, ...)                                                 \
    FA_RANGE_LOOP(fa_hand_##K##_##S, T, ND, FA_TAIL_OK(sizeof(T), TV),                   \
                  fa_##K##_##S##_nt(__VA_ARGS__), fa_##K##_##S(__VA_ARGS__))
#define FA_NT_LOOPS(S, T)                                                                \
    FA_NT_LOOP(elu_grad, S, T, 2, d1[i], d0[i], d1[i], FA_P_##S(2))                      \
    FA_NT_LOOP(selu_grad, S, T, 2, d1[i], d0[i], d1[i])                                  \
    FA_NT_LOOP(relu_sigmoid_grad, S, T, 2, -fa_abs_##S(d1[i]), d0[i], d1[i])             \
    FA_NT_LOOP(leaky_relu_sigmoid_grad, S, T, 2,                                         \
               d1[i] * fa_leaky_relu_sigmoid_s_##S(d1[i], FA_P_##S(2)), d0[i], d1[i], FA_P_##S(2)) \
    FA_NT_LOOP(leaky_relu_sigmoid, S, T, 1,                                              \
               d0[i] * fa_leaky_relu_sigmoid_s_##S(d0[i], FA_P_##S(1)), d0[i], FA_P_##S(1))
FA_NT_LOOPS(f32, float)
FA_NT_LOOPS(f64, double)
FA_NT_LOOP(silu_grad, f64, double, 2, d1[i], d0[i], d1[i])
FA_NT_LOOP(mish_grad, f64, double, 2, d1[i], d0[i], d1[i])
FA_NT_LOOP(log_sigmoid_grad, f64, double, 2, -d1[i], d0[i], d1[i])
/* float32 evaluates in double, without tiers */
FA_NT_LOOP(bce_with_logits_grad, f64, double, 3, -fa_abs_f64(d1[i]), d0[i], d1[i], d2[i])
#define FA_HAND_bce_with_logits_grad_f64 ~, fa_hand_bce_with_logits_grad_f64
#define FA_HAND_silu_grad_f64 ~, fa_hand_silu_grad_f64
#define FA_HAND_mish_grad_f64 ~, fa_hand_mish_grad_f64
#define FA_HAND_log_sigmoid_grad_f64 ~, fa_hand_log_sigmoid_grad_f64
/* float32 where no table serves (with one: act_loops.h's hand loops) */
#if !FA_TAB_USE(silu_der)
FA_NT_LOOP(silu_grad, f32, float, 2, d1[i], d0[i], d1[i])
#define FA_HAND_silu_grad_f32 ~, fa_hand_silu_grad_f32
#endif
#if !FA_TAB_USE(mish_der)
FA_NT_LOOP(mish_grad, f32, float, 2, d1[i], d0[i], d1[i])
#define FA_HAND_mish_grad_f32 ~, fa_hand_mish_grad_f32
#endif
#if !FA_TAB_USE(log_sigmoid_der)
FA_NT_LOOP(log_sigmoid_grad, f32, float, 2, -d1[i], d0[i], d1[i])
#define FA_HAND_log_sigmoid_grad_f32 ~, fa_hand_log_sigmoid_grad_f32
#endif
#undef FA_NT_LOOPS
#define FA_HAND_elu_grad_f32 ~, fa_hand_elu_grad_f32
#define FA_HAND_elu_grad_f64 ~, fa_hand_elu_grad_f64
#define FA_HAND_selu_grad_f32 ~, fa_hand_selu_grad_f32
#define FA_HAND_selu_grad_f64 ~, fa_hand_selu_grad_f64
#define FA_HAND_relu_sigmoid_grad_f32 ~, fa_hand_relu_sigmoid_grad_f32
#define FA_HAND_relu_sigmoid_grad_f64 ~, fa_hand_relu_sigmoid_grad_f64
#define FA_HAND_leaky_relu_sigmoid_grad_f32 ~, fa_hand_leaky_relu_sigmoid_grad_f32
#define FA_HAND_leaky_relu_sigmoid_grad_f64 ~, fa_hand_leaky_relu_sigmoid_grad_f64
#define FA_HAND_leaky_relu_sigmoid_f32 ~, fa_hand_leaky_relu_sigmoid_f32
#define FA_HAND_leaky_relu_sigmoid_f64 ~, fa_hand_leaky_relu_sigmoid_f64

#endif
