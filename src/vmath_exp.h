/* exp and expm1, float32 and float64, and the exp kernel that erfc and
 * tanh share (fa_exp_core_*).
 *
 * exp(a) = 2^n * e^r with n = round(a / ln2) (the 1.5*2^23 / 1.5*2^52
 * magic-constant rounding, whose low mantissa bits are n as an integer),
 * r = a - n*ln2 in two steps (Cody-Waite: ln2_hi has trailing zero bits so
 * that n*ln2_hi is exact; with FMA the first step is exact anyway), so
 * |r| <= ln2/2. e^r = 1 + r + r^2 P(r): P of degree 4 (float32) / 9
 * (float64), minimax for the relative error of e^r on |r| <= ln2/2
 * (tools/vmath_remez.py exp_f32 / exp_f64: 0.031 / 0.040 eps).
 *
 * Scaling by 2^n in two steps, 2^(n>>1) * 2^(n - (n>>1)), each factor a
 * normal number: the first product is exact, the second rounds once, so
 * results in the subnormal range are correctly scaled (exp(-100f) is a
 * subnormal, not 0) and results past the overflow threshold become +inf.
 * Arguments <= 0 (nearly every kernel's) take fa_exp_neg_core: 2^(n+64)
 * then 2^-64 (128 for double), the same single rounding with half the
 * instructions (a sigmoid loop at AVX-512: 0.27 -> 0.19 ns per float32, in
 * cache). The argument is clamped below at -104 (float32) / -746
 * (float64), where the result is 0 anyway (fa_exp_neg_core: lower, see
 * there), and n above at 254 / 2046 (see fa_exp_reduce_f32); comparisons
 * with NaN are false, so NaN goes through the clamps and the arithmetic. */
#ifndef FASTACT_VMATH_EXP_H
#define FASTACT_VMATH_EXP_H

#include "vmath_common.h"

#define FA_LOG2E_F32 0x1.715476p+0f
#define FA_LN2HI_F32 0x1.62e400p-1f /* 16 significant bits */
#define FA_LN2LO_F32 0x1.7f7d1cp-20f
#define FA_LOG2E_F64 0x1.71547652b82fep+0
#define FA_LN2HI_F64 0x1.62e42fee00000p-1 /* 33 significant bits */
#define FA_LN2LO_F64 0x1.a39ef35793c76p-33

/* The shared reduction of m * exp(a + b): a + b = n ln2 + r, returns
 * m e^r = m + m (r + r^2 P(r)), rounded once by the last FMA, and sets *kb
 * to the bits of the rounding constant plus n (n = *kb - 0x4b400000 /
 * 0x4338000000000000, as an integer). The caller clamps a below and scales
 * by 2^n; with clamp_hi (a constant) n is clamped at 254 / 2046 (the
 * largest the two-step scaling takes, so that a factor m < 1 still gets
 * its whole range), where a larger a leaves r > 0 and m e^r > m, so the
 * scaled result overflows to +inf as it should (clamping a itself too
 * would give GCC two clamps of one variable, which it turns into a chain
 * of AVX-512 mask operations). float64 takes the factor as a double-word
 * number m + *ml too (ml NULL: m alone), added before the one rounding:
 * m e^r + ml = m + (m (e^r - 1) + ml). */
FA_INLINE float fa_exp_reduce_f32(float a, float b, float m, uint32_t *kb, const int clamp_hi)
{
    float kf = FA_FMA_F32(a, FA_LOG2E_F32, 0x1.8p23f);
    if (clamp_hi) kf = kf > 0x1.8p23f + 254.0f ? 0x1.8p23f + 254.0f : kf;
    *kb = fa_u32(kf);
    kf -= 0x1.8p23f;
    float r = FA_FMA_F32(kf, -FA_LN2HI_F32, a);
    r = FA_FMA_F32(kf, -FA_LN2LO_F32, r) - (0.0f - b); /* folds away for b = 0 */
    float r2 = r * r, p;
    p = 1.381457783e-03f;
    p = FA_FMA_F32(p, r, 8.368726820e-03f);
    p = FA_FMA_F32(p, r, 4.166838899e-02f);
    p = FA_FMA_F32(p, r, 1.666652113e-01f);
    p = FA_FMA_F32(p, r, 4.999999404e-01f);
    float q = FA_FMA_F32(r2, p, r); /* e^r - 1 */
    return m * q + m;
}

FA_INLINE double fa_exp_reduce_f64(double a, double b, double m, const double *ml, uint64_t *kb,
                                   const int clamp_hi)
{
    double kd = FA_FMA_F64(a, FA_LOG2E_F64, 0x1.8p52);
    if (clamp_hi) kd = kd > 0x1.8p52 + 2046.0 ? 0x1.8p52 + 2046.0 : kd;
    *kb = fa_u64(kd);
    kd -= 0x1.8p52;
    double r = FA_FMA_F64(kd, -FA_LN2HI_F64, a);
    r = FA_FMA_F64(kd, -FA_LN2LO_F64, r) - (0.0 - b);
    double r2 = r * r, p;
    p = 2.49361628190659950e-08;
    p = FA_FMA_F64(p, r, 2.76308333845370068e-07);
    p = FA_FMA_F64(p, r, 2.75577492965603586e-06);
    p = FA_FMA_F64(p, r, 2.48014915108919320e-05);
    p = FA_FMA_F64(p, r, 1.98412693787607385e-04);
    p = FA_FMA_F64(p, r, 1.38888889450514011e-03);
    p = FA_FMA_F64(p, r, 8.33333333352203297e-03);
    p = FA_FMA_F64(p, r, 4.16666666665257354e-02);
    p = FA_FMA_F64(p, r, 1.66666666666664354e-01);
    p = FA_FMA_F64(p, r, 5.00000000000001110e-01);
    double q = FA_FMA_F64(r2, p, r);
    return ml ? FA_FMA_F64(m, q, *ml) + m : m * q + m;
}

/* m * exp(a + b): the exp kernel. b is the low part of a double-word
 * argument (|b| at most a few ulp(a); 0 for a plain exp) and m a factor
 * of either sign (celu with alpha < 0 passes alpha) applied to the
 * mantissa before the final scaling, so that a subnormal result is still
 * rounded only once. Any a: 2^n in two steps (see the top of this file).
 * fa_exp_neg_core (a <= 0) takes factors up to FA_BIG in magnitude: x
 * exp(-|x|) rounded once as a normal number. */
FA_INLINE float fa_exp_core_f32(float a, float b, float m)
{
    a = a < -104.0f ? -104.0f : a;
    uint32_t kb;
    float y = fa_exp_reduce_f32(a, b, m, &kb, 1);
    uint32_t nb = kb - 0x4b400000u + 256u; /* n + 256, in [106, 510] */
    uint32_t n1b = nb >> 1; /* floor(n/2) + 128 */
    float s1 = fa_f32((n1b - 1u) << 23), s2 = fa_f32((nb - n1b - 1u) << 23);
    return y * s1 * s2;
}

FA_INLINE double fa_exp_core_f64(double a, double b, double m)
{
    a = a < -746.0 ? -746.0 : a;
    uint64_t kb;
    double y = fa_exp_reduce_f64(a, b, m, NULL, &kb, 1);
    uint64_t nb = kb - 0x4338000000000000ull + 2048u; /* n + 2048 */
    uint64_t n1b = nb >> 1; /* floor(n/2) + 1024 */
    double s1 = fa_f64((n1b - 1u) << 52), s2 = fa_f64((nb - n1b - 1u) << 52);
    return y * s1 * s2;
}

/* The same for a <= 0, the case of nearly every kernel (exp(-|x|),
 * exp(-x^2/2), a softmax's exp(x - max)): only the lower clamp, and 2^n
 * as 2^(n+64) / 2^(n+128) (exact product, a normal number for every n
 * the clamp leaves) times 2^-64 / 2^-128 (the one rounding of a subnormal
 * result), four instructions instead of nine. The clamp, -112 / -760, is
 * low enough that m exp(a) underflows to 0 for every |m| <= 200 / 2000
 * (activation_defs.h's FA_BIG). Correct for a up to 43 / 620 too, where
 * 2^(n+64) / 2^(n+128) is still finite; beyond, use fa_exp_core. */
FA_INLINE float fa_exp_neg_core_f32(float a, float b, float m)
{
    a = a < -112.0f ? -112.0f : a;
    uint32_t kb;
    float y = fa_exp_reduce_f32(a, b, m, &kb, 0);
    float s = fa_f32((kb - 0x4b400000u + 191u) << 23); /* 2^(n+64) */
    return y * s * 0x1p-64f;
}

/* float64 with a double-word factor m + *ml (fa_exp_reduce_f64; float64
 * gelu's Phi(-a) = m exp(-a^2/2)), or m alone (ml NULL). */
FA_INLINE double fa_exp_neg_core_dw_f64(double a, double b, double m, const double *ml)
{
    a = a < -760.0 ? -760.0 : a;
    uint64_t kb;
    double y = fa_exp_reduce_f64(a, b, m, ml, &kb, 0);
    double s = fa_f64((kb - 0x4338000000000000ull + 1151u) << 52); /* 2^(n+128) */
    return y * s * 0x1p-128;
}

FA_INLINE double fa_exp_neg_core_f64(double a, double b, double m)
{
    return fa_exp_neg_core_dw_f64(a, b, m, NULL);
}

/* fa_exp_neg_core for -80 <= a <= 0 / -700 <= a <= 0 only (activation_defs.h's
 * FA_TAIL, the no-tier forms of range_loops.h): 2^n is then a normal number
 * and so is the result, so no clamp and one exact scaling, the same bits. */
FA_INLINE float fa_exp_neg_normal_f32(float a, float b, float m)
{
    uint32_t kb;
    float y = fa_exp_reduce_f32(a, b, m, &kb, 0);
    return y * fa_f32((kb - 0x4b400000u + 127u) << 23); /* 2^n */
}

FA_INLINE double fa_exp_neg_normal_f64(double a, double b, double m)
{
    uint64_t kb;
    double y = fa_exp_reduce_f64(a, b, m, NULL, &kb, 0);
    return y * fa_f64((kb - 0x4338000000000000ull + 1023u) << 52); /* 2^n */
}

FA_INLINE float fa_vm_exp_f32(float x) { return fa_exp_core_f32(x, 0.0f, 1.0f); }
FA_INLINE double fa_vm_exp_f64(double x) { return fa_exp_core_f64(x, 0.0, 1.0); }
/* exp(x) for x <= 0 (fa_exp_neg_core). */
FA_INLINE float fa_vm_exp_neg_f32(float x) { return fa_exp_neg_core_f32(x, 0.0f, 1.0f); }
FA_INLINE double fa_vm_exp_neg_f64(double x) { return fa_exp_neg_core_f64(x, 0.0, 1.0); }

/* expm1(x) = 2^n (1 + p) - 1 with p = expm1(r) = r + r^2 P(r), P of
 * degree 5 / 10 (tools/vmath_remez.py expm1_f32 / expm1_f64: 0.018 /
 * 0.002 eps of the relative error). Evaluated as
 * 2 * (t*p + (t - 1/2)), t = 2^(n-1): t - 1/2 is exact, the FMA rounds
 * once, and the doubling is exact, so 2^n is never formed (n = 128 / 1024
 * below the overflow threshold). For n = 0 this is p itself. The argument
 * is clamped below at -18 / -40 (expm1 is -1 to the last bit there); above,
 * n is clamped at 128 / 1024 instead of the argument (a second clamp of the
 * same variable becomes a chain of AVX-512 mask operations): a larger
 * argument then leaves an r and a P(r) > 1 whose product with 2^127 / 2^1023
 * overflows to +inf, as it should. |x| < 2^-25 / 2^-54 returns x: exact
 * there, and it keeps the sign of -0 and subnormal inputs.
 *
 * fa_expm1_core_* takes the argument clamped below (and clamps n above if
 * clamp_hi, a constant); fa_vm_expm1_neg_* is expm1 for x <= 0 only (elu,
 * selu: every lane they keep), with neither the upper clamp nor |x|. */
FA_INLINE float fa_expm1_core_f32(float a, const int clamp_hi)
{
    float kf = FA_FMA_F32(a, FA_LOG2E_F32, 0x1.8p23f);
    if (clamp_hi) kf = kf > 0x1.8p23f + 128.0f ? 0x1.8p23f + 128.0f : kf;
    uint32_t e = fa_u32(kf) - 0x4b400000u + 126u; /* biased exponent of 2^(n-1) */
    kf -= 0x1.8p23f;
    float r = FA_FMA_F32(kf, -FA_LN2HI_F32, a);
    r = FA_FMA_F32(kf, -FA_LN2LO_F32, r);
    float r2 = r * r, p;
    p = 1.984587871e-04f;
    p = FA_FMA_F32(p, r, 1.394064166e-03f);
    p = FA_FMA_F32(p, r, 8.333389647e-03f);
    p = FA_FMA_F32(p, r, 4.166636243e-02f);
    p = FA_FMA_F32(p, r, 1.666666567e-01f);
    p = FA_FMA_F32(p, r, 5.000000000e-01f);
    p = FA_FMA_F32(r2, p, r);
    float t = fa_f32(e << 23);
    return 2.0f * FA_FMA_F32(t, p, t - 0.5f);
}

FA_INLINE double fa_expm1_core_f64(double a, const int clamp_hi)
{
    double kd = FA_FMA_F64(a, FA_LOG2E_F64, 0x1.8p52);
    if (clamp_hi) kd = kd > 0x1.8p52 + 1024.0 ? 0x1.8p52 + 1024.0 : kd;
    uint64_t e = fa_u64(kd) - 0x4338000000000000ull + 1022u;
    kd -= 0x1.8p52;
    double r = FA_FMA_F64(kd, -FA_LN2HI_F64, a);
    r = FA_FMA_F64(kd, -FA_LN2LO_F64, r);
    double r2 = r * r, p;
    p = 2.09529081756367273e-09;
    p = FA_FMA_F64(p, r, 2.51097440691765114e-08);
    p = FA_FMA_F64(p, r, 2.75571665716379257e-07);
    p = FA_FMA_F64(p, r, 2.75572422285882462e-06);
    p = FA_FMA_F64(p, r, 2.48015874264963399e-05);
    p = FA_FMA_F64(p, r, 1.98412698879369250e-04);
    p = FA_FMA_F64(p, r, 1.38888888888482015e-03);
    p = FA_FMA_F64(p, r, 8.33333333332108434e-03);
    p = FA_FMA_F64(p, r, 4.16666666666667060e-02);
    p = FA_FMA_F64(p, r, 1.66666666666666768e-01);
    p = FA_FMA_F64(p, r, 5.00000000000000000e-01);
    p = FA_FMA_F64(r2, p, r);
    double t = fa_f64(e << 52);
    return 2.0 * FA_FMA_F64(t, p, t - 0.5);
}

FA_INLINE float fa_vm_expm1_f32(float x)
{
    float y = fa_expm1_core_f32(x < -18.0f ? -18.0f : x, 1);
    return fa_abs_f32(x) < 0x1p-25f ? x : y;
}

FA_INLINE double fa_vm_expm1_f64(double x)
{
    double y = fa_expm1_core_f64(x < -40.0 ? -40.0 : x, 1);
    return fa_abs_f64(x) < 0x1p-54 ? x : y;
}

FA_INLINE float fa_vm_expm1_neg_f32(float x)
{
    float y = fa_expm1_core_f32(x < -18.0f ? -18.0f : x, 0);
    return x > -0x1p-25f ? x : y;
}

FA_INLINE double fa_vm_expm1_neg_f64(double x)
{
    double y = fa_expm1_core_f64(x < -40.0 ? -40.0 : x, 0);
    return x > -0x1p-54 ? x : y;
}

#endif
