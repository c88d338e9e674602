/* Hand-written AVX-512 loops for the backward kernels that only keep or
 * zero grad (relu, relu6, hardtanh: grad strictly inside (lo, hi), 0
 * outside, NaN where x is NaN). From the scalar definitions GCC's AVX-512
 * code loads grad under the "inside" mask (vmovups (mem){k}{z}), and on
 * the AMD EPYC test machine masked loads stream ~1.3-1.6x slower than full
 * ones; the bitwise-AND formulation is turned back into the same masked
 * load. Here grad is loaded in full and an empty asm keeps the compiler
 * from folding the load into the masked move. Results are those of the
 * scalar kernels in activation_defs.h, bit for bit.
 *
 * Included by loops.c, through the FA_HAND hook of hand_loops.h. relu6's
 * edges are those of relu6_grad (hardtanh_grad with 0, 6). */
#ifndef FASTACT_MASK_GRADS_H
#define FASTACT_MASK_GRADS_H

#include "hand_loops.h"

#if defined(__AVX512F__)
#include <immintrin.h>

/* dst = lo < x < hi ? g : 0, x where x is NaN; without_hi: lo < x only.
 * V vector type, W lanes, T element type, X intrinsic suffix (ps/pd), M
 * mask type. */
#define FA_MASK_GRAD_LOOP(NAME, V, W, T, X, M)                                           \
    static inline fa_intp NAME(void *dst, char **a, T lo, T hi, int without_hi, fa_intp m) \
    {                                                                                    \
        const T *g = (const T *)a[0], *x = (const T *)a[1];                              \
        T *d = (T *)dst;                                                                 \
        const V vlo = _mm512_set1_##X(lo), vhi = _mm512_set1_##X(hi);                    \
        fa_intp i = 0;                                                                   \
        for (; i + (W) <= m; i += (W)) {                                                 \
            V vx = _mm512_loadu_##X(x + i), vg = _mm512_loadu_##X(g + i);                \
            __asm__("" : "+v"(vg)); /* a full load, not a masked one */                  \
            M in = _mm512_cmp_##X##_mask(vx, vlo, _CMP_GT_OQ);                           \
            if (!without_hi) in &= _mm512_cmp_##X##_mask(vx, vhi, _CMP_LT_OQ);           \
            V r = _mm512_maskz_mov_##X(in, vg);                                          \
            r = _mm512_mask_mov_##X(r, _mm512_cmp_##X##_mask(vx, vx, _CMP_UNORD_Q), vx);  \
            _mm512_storeu_##X(d + i, r);                                                 \
        }                                                                                \
        return i;                                                                        \
    }
FA_MASK_GRAD_LOOP(fa_mask_grad_f32, __m512, 16, float, ps, __mmask16)
FA_MASK_GRAD_LOOP(fa_mask_grad_f64, __m512d, 8, double, pd, __mmask8)
#undef FA_MASK_GRAD_LOOP

#define FA_HAND_relu_grad_f32 ~, fa_hand_relu_grad_f32
#define FA_HAND_relu_grad_f64 ~, fa_hand_relu_grad_f64
#define FA_HAND_relu6_grad_f32 ~, fa_hand_relu6_grad_f32
#define FA_HAND_relu6_grad_f64 ~, fa_hand_relu6_grad_f64
#define FA_HAND_hardtanh_grad_f32 ~, fa_hand_hardtanh_grad_f32
#define FA_HAND_hardtanh_grad_f64 ~, fa_hand_hardtanh_grad_f64
/* Parameters are converted as the scalar loop converts them (FA_PH). */
#define FA_HAND_FNS(S, T)                                                                       \
    static inline fa_intp fa_hand_relu_grad_##S(void *d, char **a, const double *p, fa_intp m)  \
    {                                                                                           \
        (void)p;                                                                                \
        return fa_mask_grad_##S(d, a, 0, 0, 1, m);                                              \
    }                                                                                           \
    static inline fa_intp fa_hand_relu6_grad_##S(void *d, char **a, const double *p, fa_intp m) \
    {                                                                                           \
        (void)p;                                                                                \
        return fa_mask_grad_##S(d, a, 0, 6, 0, m);                                              \
    }                                                                                           \
    static inline fa_intp fa_hand_hardtanh_grad_##S(void *d, char **a, const double *p,        \
                                                    fa_intp m)                                  \
    {                                                                                           \
        return fa_mask_grad_##S(d, a, (T)p[2], (T)p[3], 0, m);                                  \
    }
FA_HAND_FNS(f32, float)
FA_HAND_FNS(f64, double)
#undef FA_HAND_FNS
#endif

#endif
