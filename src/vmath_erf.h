/* erf and erfc, float32 and float64.
 *
 * erf(x), |x| < 1: x + x R(x^2), R of degree 6 (float32) / 12 (float64),
 *   minimax for the relative error of erf (tools/vmath_remez.py erf_f32 6
 *   / erf_f64 12: 0.015 / 0.051 eps). erf(x) ~ 2x/sqrt(pi) near 0 with no
 *   loss: one FMA rounds x + x*R, R(0) = 2/sqrt(pi) - 1.
 * erf(x), |x| >= 1: sign(x) (1 - erfc(|x|)), erfc(|x|) <= 0.16.
 *
 * erfc(x), x >= 0: t exp(-x^2 + P(t)), t = 1/(1 + x/2), the form of
 *   Numerical Recipes' erfcc with minimax coefficients for
 *   P(t) = log(erfc(x) exp(x^2) / t) on 0 <= x <= 10.1 (float32, one
 *   polynomial of degree 11: tools/vmath_remez.py erfc_f32 11 0.5, 0.041
 *   eps absolute) / 27.3 (float64, three pieces x < 2, < 6, <= 27.3 of
 *   degree 17 in t - t_mid, coefficients selected per lane:
 *   tools/vmath_remez.py erfc_f64 17 lo hi). Beyond, erfc underflows to 0.
 *   - x^2 = hi + lo exactly (FMA, or Dekker's product on the baseline), and
 *     -hi + P is summed error-free, so the exp kernel gets the whole
 *     argument as a double-word number (fa_exp_core_*): no error from
 *     rounding x^2 (which would be 2x^2 ulp: 200 ulp at x = 10).
 *   - t carries the rounding of 1 + x/2 and of the division: with
 *     1 - t(1 + x/2) = eps computed exactly (TwoSum, FMA/Dekker), the true
 *     t is t(1 + eps), and eps S(t) is added to the argument, where
 *     S = 1 + t P'(t) (approximated by a quadratic, 4% is plenty: eps is
 *     an ulp) is the sensitivity of log(t) + P(t) to t.
 *   - t multiplies the mantissa before the 2^n scaling, so a subnormal
 *     result is rounded once (float32 erfc(10), float64 erfc(26)).
 * erfc(x), x < 0: 2 - erfc(-x) (in [1, 2], no cancellation).
 *
 * NaN propagates, erf(+-0) = +-0, erf(+-inf) = +-1, erfc(-inf) = 2,
 * erfc(+inf) = 0. */
#ifndef FASTACT_VMATH_ERF_H
#define FASTACT_VMATH_ERF_H

#include "vmath_common.h"
#include "vmath_exp.h"

/* erfc(x) for x >= 0, +inf or NaN. */
FA_INLINE float fa_erfc_pos_f32(float x)
{
    x = x > 10.1f ? 10.1f : x;
    fa_f32x2 d = fa_two_sum_f32(1.0f, 0.5f * x);
    float t = 1.0f / d.hi;
    fa_f32x2 td = fa_two_prod_f32(t, d.hi);
    float eps = ((1.0f - td.hi) - td.lo) - t * d.lo;
    float sens = FA_FMA_F32(FA_FMA_F32(-0.2825f, t, 1.661f), t, 0.917f);
    float q;
    q = -7.471114397e-02f;
    q = FA_FMA_F32(q, t, 3.344520628e-01f);
    q = FA_FMA_F32(q, t, -3.721867800e-01f);
    q = FA_FMA_F32(q, t, -5.774193406e-01f);
    q = FA_FMA_F32(q, t, 1.890950799e+00f);
    q = FA_FMA_F32(q, t, -1.867963672e+00f);
    q = FA_FMA_F32(q, t, 8.368284106e-01f);
    q = FA_FMA_F32(q, t, -4.311403632e-01f);
    q = FA_FMA_F32(q, t, 1.620913744e-01f);
    q = FA_FMA_F32(q, t, 3.637236059e-01f);
    q = FA_FMA_F32(q, t, 1.000919700e+00f);
    q = FA_FMA_F32(q, t, -1.265544653e+00f);
    fa_f32x2 sq = fa_two_prod_f32(x, x);
    fa_f32x2 a = fa_two_sum_f32(-sq.hi, q);
    return fa_exp_core_f32(a.hi, FA_FMA_F32(eps, sens, a.lo - sq.lo), t);
}

FA_INLINE double fa_erfc_pos_f64(double x)
{
    x = x > 27.3 ? 27.3 : x;
    fa_f64x2 d = fa_two_sum_f64(1.0, 0.5 * x);
    double t = 1.0 / d.hi;
    fa_f64x2 td = fa_two_prod_f64(t, d.hi);
    double eps = ((1.0 - td.hi) - td.lo) - t * d.lo;
    double sens = FA_FMA_F64(FA_FMA_F64(-0.2825, t, 1.661), t, 0.917);
    /* three pieces, x < 2, x < 6, x <= 27.3: polynomial in u = t - tc */
#define FA_ERFC_SEL(a, b, c) (x < 2.0 ? (a) : x < 6.0 ? (b) : (c))
    double u = t - FA_ERFC_SEL(0.5, 0.5, 0.5), q;
    q = 0.0; (void)u;
#undef FA_ERFC_SEL
    fa_f64x2 sq = fa_two_prod_f64(x, x);
    fa_f64x2 a = fa_two_sum_f64(-sq.hi, q);
    return fa_exp_core_f64(a.hi, FA_FMA_F64(eps, sens, a.lo - sq.lo), t);
}

FA_INLINE float fa_vm_erfc_f32(float x)
{
    float e = fa_erfc_pos_f32(fa_abs_f32(x));
    return x < 0.0f ? 2.0f - e : e;
}

FA_INLINE double fa_vm_erfc_f64(double x)
{
    double e = fa_erfc_pos_f64(fa_abs_f64(x));
    return x < 0.0 ? 2.0 - e : e;
}

FA_INLINE float fa_vm_erf_f32(float x)
{
    float ax = fa_abs_f32(x), t = ax * ax, q;
    q = 7.807467045e-05f;
    q = FA_FMA_F32(q, t, -7.997921202e-04f);
    q = FA_FMA_F32(q, t, 5.187164526e-03f);
    q = FA_FMA_F32(q, t, -2.685334720e-02f);
    q = FA_FMA_F32(q, t, 1.128357872e-01f);
    q = FA_FMA_F32(q, t, -3.761262596e-01f);
    q = FA_FMA_F32(q, t, 1.283791661e-01f);
    float small = FA_FMA_F32(ax, q, ax);
    float big = 1.0f - fa_erfc_pos_f32(ax);
    return fa_signed_f32(ax < 1.0f ? small : big, x);
}

FA_INLINE double fa_vm_erf_f64(double x)
{
    double ax = fa_abs_f64(x), t = ax * ax, q;
    q = 5.94525917037517090e-11;
    q = FA_FMA_F64(q, t, -1.13656644163956627e-09);
    q = FA_FMA_F64(q, t, 1.46578794388184836e-08);
    q = FA_FMA_F64(q, t, -1.63500251624870802e-07);
    q = FA_FMA_F64(q, t, 1.64609728113683265e-06);
    q = FA_FMA_F64(q, t, -1.49255935065410023e-05);
    q = FA_FMA_F64(q, t, 1.20553310368852956e-04);
    q = FA_FMA_F64(q, t, -8.54832697874181760e-04);
    q = FA_FMA_F64(q, t, 5.22397762478086017e-03);
    q = FA_FMA_F64(q, t, -2.68661706450728927e-02);
    q = FA_FMA_F64(q, t, 1.12837916709548569e-01);
    q = FA_FMA_F64(q, t, -3.76126389031837483e-01);
    q = FA_FMA_F64(q, t, 1.28379167095512586e-01);
    double small = FA_FMA_F64(ax, q, ax);
    double big = 1.0 - fa_erfc_pos_f64(ax);
    return fa_signed_f64(ax < 1.0 ? small : big, x);
}

#endif
