/* log and log1p, float32 and float64.
 *
 * log(u) = k ln2 + log1p(f): u = 2^k m with m in [sqrt(2)/2, sqrt(2))
 * taken from the bits (subtract the bits of sqrt(2)/2, the exponent field
 * is k), f = m - 1 exact (Sterbenz), log1p(f) = f + f^2 P(f) with P of
 * degree 9 (float32) / 20 (float64), minimax for the relative error on
 * f in [sqrt(2)/2 - 1, sqrt(2) - 1] (tools/vmath_remez.py log1p_f32 11 /
 * log1p_f64 22: 0.028 / 0.049 eps). k ln2_hi + f is summed error-free
 * (Fast2Sum: |k ln2_hi| >= |f| unless k = 0), and the small terms are added
 * to its error, so the result is rounded about once.
 *
 * log1p(x): u + c = 1 + x exactly (TwoSum); the correction c enters f as
 * c 2^-k, so the argument of the polynomial is f = (1+x) 2^-k - 1 to
 * working precision, with no division. No table, no libm. */
#ifndef FASTACT_VMATH_LOG_H
#define FASTACT_VMATH_LOG_H

#include "vmath_common.h"

/* log(u + c) (c used only if with_c, a constant) for u positive, normal
 * and finite, |c| <= ulp(u)/2; kadj is
 * added to the exponent (for inputs pre-scaled out of the subnormal
 * range). The caller maps 0, negative, inf and NaN. */
FA_INLINE float fa_log_core_f32(float u, float c, float kadj, const int with_c)
{
    uint32_t iu = fa_u32(u);
    uint32_t ix = iu - 0x3f3504f3u; /* bits of sqrt(2)/2 */
    int32_t k = (int32_t)ix >> 23;
    float m = fa_f32(iu - (ix & 0xff800000u));
    float f = m - 1.0f;
    /* c 2^-k; only log1p has c, and k <= 100 there matters (beyond, the
     * term is far below the rounding of the result) */
    if (with_c) {
        int32_t kc = k > 100 ? 100 : k;
        f = f + c * fa_f32((uint32_t)(127 - kc) << 23);
    }
    float kf = (float)k - (0.0f - kadj); /* folds away for kadj = 0 */
    float f2 = f * f, p;
    p = 6.725049019e-02f;
    p = FA_FMA_F32(p, f, -1.167702451e-01f);
    p = FA_FMA_F32(p, f, 1.190148741e-01f);
    p = FA_FMA_F32(p, f, -1.240722910e-01f);
    p = FA_FMA_F32(p, f, 1.421759874e-01f);
    p = FA_FMA_F32(p, f, -1.666769087e-01f);
    p = FA_FMA_F32(p, f, 2.000222355e-01f);
    p = FA_FMA_F32(p, f, -2.500002682e-01f);
    p = FA_FMA_F32(p, f, 3.333331048e-01f);
    p = FA_FMA_F32(p, f, -5.000000000e-01f);
    float hi = kf * 0x1.62e400p-1f; /* exact: |k| < 2^8, 16-bit ln2_hi */
    float s = hi + f;
    float e = (hi - s) + f;
    float lo = FA_FMA_F32(f2, p, FA_FMA_F32(kf, 0x1.7f7d1cp-20f, e));
    return s + lo;
}

FA_INLINE double fa_log_core_f64(double u, double c, double kadj, const int with_c)
{
    uint64_t iu = fa_u64(u);
    uint64_t ix = iu - 0x3fe6a09e667f3bcdull; /* bits of sqrt(2)/2 */
    /* k = ix >> 52 (arithmetic), via the biased exponent field
     * kb = k + 2048 in [0, 4096) and the 2^52 magic constant */
    uint64_t kb = (ix + (2048ull << 52)) >> 52;
    double m = fa_f64(iu - (ix & 0xfff0000000000000ull));
    double f = m - 1.0;
    double kf = (fa_f64(0x4330000000000000ull | kb) - 0x1p52) - 2048.0;
    /* c 2^-k for k <= 1000 (log1p only: 1 + x >= 2^-53 there) */
    if (with_c) {
        /* min(kb, 3048) without a 64-bit compare (none on SSE2) */
        uint64_t dk = kb - 3048u;
        uint64_t kcb = 3048u + (dk & (0u - (dk >> 63)));
        f = f + c * fa_f64((3071u - kcb) << 52);
    }
    kf = kf - (0.0 - kadj);
    double f2 = f * f, p;
    p = -2.42319680313625267e-02;
    p = FA_FMA_F64(p, f, 5.69990205637786670e-02);
    p = FA_FMA_F64(p, f, -6.28583926797717102e-02);
    p = FA_FMA_F64(p, f, 5.41944442603197532e-02);
    p = FA_FMA_F64(p, f, -5.32358829945767387e-02);
    p = FA_FMA_F64(p, f, 5.81610141859399271e-02);
    p = FA_FMA_F64(p, f, -6.27015061218337000e-02);
    p = FA_FMA_F64(p, f, 6.67544774752253794e-02);
    p = FA_FMA_F64(p, f, -7.14199006158464100e-02);
    p = FA_FMA_F64(p, f, 7.69168610687294835e-02);
    p = FA_FMA_F64(p, f, -8.33334462153768885e-02);
    p = FA_FMA_F64(p, f, 9.09093508143931500e-02);
    p = FA_FMA_F64(p, f, -1.00000005026503982e-01);
    p = FA_FMA_F64(p, f, 1.11111104637409558e-01);
    p = FA_FMA_F64(p, f, -1.24999999772352433e-01);
    p = FA_FMA_F64(p, f, 1.42857142948415394e-01);
    p = FA_FMA_F64(p, f, -1.66666666670084396e-01);
    p = FA_FMA_F64(p, f, 1.99999999999362882e-01);
    p = FA_FMA_F64(p, f, -2.49999999999980654e-01);
    p = FA_FMA_F64(p, f, 3.33333333333334869e-01);
    p = FA_FMA_F64(p, f, -5.00000000000000000e-01);
    double hi = kf * 0x1.62e42fee00000p-1; /* exact: |k| < 2^11, 33-bit ln2_hi */
    double s = hi + f;
    double e = (hi - s) + f;
    double lo = FA_FMA_F64(f2, p, FA_FMA_F64(kf, 0x1.a39ef35793c76p-33, e));
    return s + lo;
}

/* log(x): subnormal x is scaled by 2^23 / 2^52 first; log(+-0) = -inf,
 * log(x < 0) = NaN, log(inf) = inf, NaN propagates. */
FA_INLINE float fa_vm_log_f32(float x)
{
    float y = fa_log_core_f32(x < 0x1p-126f ? x * 0x1p23f : x, 0.0f, x < 0x1p-126f ? -23.0f : 0.0f, 0);
    y = x < __builtin_inff() ? y : x;
    y = x == 0.0f ? -__builtin_inff() : y;
    return x < 0.0f ? __builtin_nanf("") : y;
}

FA_INLINE double fa_vm_log_f64(double x)
{
    double y = fa_log_core_f64(x < 0x1p-1022 ? x * 0x1p52 : x, 0.0, x < 0x1p-1022 ? -52.0 : 0.0, 0);
    y = x < __builtin_inf() ? y : x;
    y = x == 0.0 ? -__builtin_inf() : y;
    return x < 0.0 ? __builtin_nan("") : y;
}

/* log1p(x): log1p(-1) = -inf, x < -1 gives NaN, inf -> inf, NaN
 * propagates; |x| < 2^-25 / 2^-54 returns x (correctly rounded there;
 * keeps -0 and subnormals exact). */
FA_INLINE float fa_vm_log1p_f32(float x)
{
    fa_f32x2 u = fa_two_sum_f32(1.0f, x);
    float y = fa_log_core_f32(u.hi, u.lo, 0.0f, 1);
    y = fa_abs_f32(x) < 0x1p-25f ? x : y;
    y = x < __builtin_inff() ? y : x;
    y = x == -1.0f ? -__builtin_inff() : y;
    return x < -1.0f ? __builtin_nanf("") : y;
}

FA_INLINE double fa_vm_log1p_f64(double x)
{
    fa_f64x2 u = fa_two_sum_f64(1.0, x);
    double y = fa_log_core_f64(u.hi, u.lo, 0.0, 1);
    y = fa_abs_f64(x) < 0x1p-54 ? x : y;
    y = x < __builtin_inf() ? y : x;
    y = x == -1.0 ? -__builtin_inf() : y;
    return x < -1.0 ? __builtin_nan("") : y;
}

/* log1p(e) for 0 <= e <= 1 only (e = exp(-|x|) in log_sigmoid, softplus
 * and bce): e + e^2 P(e - 1/2), P of degree 8 / 19 (tools/vmath_remez.py
 * log1p_unit_f32 8 / log1p_unit_f64 19: 0.13 / 0.14 eps relative to
 * log1p(e)); the last FMA rounds the sum once. No range reduction and no
 * special cases -- half the work of fa_vm_log1p -- so the caller guarantees
 * the domain (a NaN e gives NaN). */
FA_INLINE float fa_vm_log1p_unit_f32(float e)
{
    float u = e - 0.5f, p;
    p = -3.318474861e-03f;
    p = FA_FMA_F32(p, u, 6.930695847e-03f);
    p = FA_FMA_F32(p, u, -1.017770451e-02f);
    p = FA_FMA_F32(p, u, 1.665698551e-02f);
    p = FA_FMA_F32(p, u, -2.890499867e-02f);
    p = FA_FMA_F32(p, u, 5.108905956e-02f);
    p = FA_FMA_F32(p, u, -9.323185682e-02f);
    p = FA_FMA_F32(p, u, 1.792248935e-01f);
    p = FA_FMA_F32(p, u, -3.781395555e-01f);
    return FA_FMA_F32(e * e, p, e);
}

FA_INLINE double fa_vm_log1p_unit_f64(double e)
{
    double u = e - 0.5, p;
    p = 2.53298899157187399e-05;
    p = FA_FMA_F64(p, u, -5.11267500469733942e-05);
    p = FA_FMA_F64(p, u, 5.27451226296418645e-05);
    p = FA_FMA_F64(p, u, -7.10872160796820256e-05);
    p = FA_FMA_F64(p, u, 1.25449087592634315e-04);
    p = FA_FMA_F64(p, u, -2.04879303353298279e-04);
    p = FA_FMA_F64(p, u, 3.23465970761780959e-04);
    p = FA_FMA_F64(p, u, -5.16539100367937589e-04);
    p = FA_FMA_F64(p, u, 8.31343017069301605e-04);
    p = FA_FMA_F64(p, u, -1.34453117476519054e-03);
    p = FA_FMA_F64(p, u, 2.18764757837487623e-03);
    p = FA_FMA_F64(p, u, -3.58566477378328844e-03);
    p = FA_FMA_F64(p, u, 5.92901156083301597e-03);
    p = FA_FMA_F64(p, u, -9.90990076696883840e-03);
    p = FA_FMA_F64(p, u, 1.67887424912805359e-02);
    p = FA_FMA_F64(p, u, -2.89431831644171890e-02);
    p = FA_FMA_F64(p, u, 5.10834461054002209e-02);
    p = FA_FMA_F64(p, u, -9.32303663636690344e-02);
    p = FA_FMA_F64(p, u, 1.79224936936037194e-01);
    p = FA_FMA_F64(p, u, -3.78139567567342461e-01);
    return FA_FMA_F64(e * e, p, e);
}

#endif
