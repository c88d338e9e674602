/* tanh, float32 and float64, with one exp.
 *
 * y = |x|. For y < atanh(1/2) = 0.5493: tanh(y) = y + y^3 Q(y^2), Q of
 * degree 4 (float32) / 10 (float64), minimax for the relative error
 * (tools/vmath_remez.py tanh_f32 4 / tanh_f64 10: 0.037 / 0.004 eps): no
 * cancellation near 0, and tanh(x) = x to the last bit for tiny x.
 * Otherwise tanh(y) = 1 - 2e/(1 + e), e = exp(-2y) <= 1/3: the correction
 * 2e/(1+e) <= 1/2 is smaller than the result, so its rounding errors are
 * damped; exp(-2y) underflows gracefully to 0 for large y, giving 1.
 * The sign is copied from x, so tanh(-0) = -0; NaN propagates (it fails
 * the y < 0.5493 test and goes through exp). */
#ifndef FASTACT_VMATH_TANH_H
#define FASTACT_VMATH_TANH_H

#include "vmath_common.h"
#include "vmath_exp.h"

/* tanh(y) for 0 <= y < atanh(1/2): the polynomial alone (bce_with_logits'
 * backward needs no more). */
FA_INLINE float fa_vm_tanh_poly_f32(float y)
{
    float s = y * y, q;
    q = -6.275426596e-03f;
    q = FA_FMA_F32(q, s, 2.107246779e-02f);
    q = FA_FMA_F32(q, s, -5.385248736e-02f);
    q = FA_FMA_F32(q, s, 1.333258748e-01f);
    q = FA_FMA_F32(q, s, -3.333331645e-01f);
    return FA_FMA_F32(y * s, q, y);
}

FA_INLINE float fa_vm_tanh_f32(float x)
{
    float y = fa_abs_f32(x);
    float small = fa_vm_tanh_poly_f32(y);
    float e = fa_exp_neg_core_f32(-2.0f * y, 0.0f, 1.0f);
    float big = 1.0f - (e + e) / (1.0f + e);
    return fa_signed_f32(y < 0x1.193ea8p-1f ? small : big, x);
}

FA_INLINE double fa_vm_tanh_poly_f64(double y)
{
    double s = y * y, q;
    q = -1.95021707577128747e-05;
    q = FA_FMA_F64(q, s, 8.33282769513112622e-05);
    q = FA_FMA_F64(q, s, -2.33389613881270224e-04);
    q = FA_FMA_F64(q, s, 5.88447568720175201e-04);
    q = FA_FMA_F64(q, s, -1.45554357530929836e-03);
    q = FA_FMA_F64(q, s, 3.59209214068394915e-03);
    q = FA_FMA_F64(q, s, -8.86323261205371714e-03);
    q = FA_FMA_F64(q, s, 2.18694883864851558e-02);
    q = FA_FMA_F64(q, s, -5.39682539637819578e-02);
    q = FA_FMA_F64(q, s, 1.33333333333266552e-01);
    q = FA_FMA_F64(q, s, -3.33333333333332982e-01);
    return FA_FMA_F64(y * s, q, y);
}

FA_INLINE double fa_vm_tanh_f64(double x)
{
    double y = fa_abs_f64(x);
    double small = fa_vm_tanh_poly_f64(y);
    double e = fa_exp_neg_core_f64(-2.0 * y, 0.0, 1.0);
    double big = 1.0 - (e + e) / (1.0 + e);
    return fa_signed_f64(y < 0x1.193ea7aad030ap-1 ? small : big, x);
}

#endif
