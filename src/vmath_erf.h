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
 *   P(t) = log(erfc(x) exp(x^2) / t) on 0 <= x <= 10.1 (float32) / 27.3
 *   (float64); beyond, erfc underflows to 0. P vanishes at t = 1, so
 *   P = (t - 1) Q(u), u = t - tc: a well-conditioned Horner sum near x = 0
 *   (in powers of t the terms are ~2 and cancel). Q: one polynomial of
 *   degree 10 in t - 1/2 (float32: tools/vmath_remez.py erfc_f32 10, 0.03
 *   eps absolute) / three pieces x < 2, < 6, <= 27.3 of degree 17 in
 *   t - t_mid, coefficients selected per lane (float64: erfc_f64 17 lo hi).
 *   The argument -x^2 + (t - 1) Q is summed as a double-word number: x^2
 *   and (t - 1) c0 are exact products (c0 ~ 1.3 itself kept as hi + lo),
 *   so only the small remainder (t - 1)(Q - c0) is rounded.
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

/* erfc(x) for x >= 0, +inf or NaN. See the top of the file. */
FA_INLINE float fa_erfc_pos_f32(float x)
{
    x = x > 10.1f ? 10.1f : x;
    fa_f32x2 d = fa_two_sum_f32(1.0f, 0.5f * x);
    float t = 1.0f / d.hi;
    fa_f32x2 td = fa_two_prod_f32(t, d.hi);
    float eps = ((1.0f - td.hi) - td.lo) - t * d.lo; /* true t = t (1 + eps) */
    float sens = FA_FMA_F32(FA_FMA_F32(-0.2825f, t, 1.661f), t, 0.917f);
    float w = t - 1.0f, wl = t - (w + 1.0f); /* t - 1 = w + wl (Fast2Sum) */
    float u = t - 0.5f, q;                   /* exact for t >= 1/4 */
    q = -7.098375261e-02f;
    q = FA_FMA_F32(q, u, -1.145609021e-01f);
    q = FA_FMA_F32(q, u, 2.146483213e-01f);
    q = FA_FMA_F32(q, u, 7.752754539e-02f);
    q = FA_FMA_F32(q, u, -2.537193000e-01f);
    q = FA_FMA_F32(q, u, -1.543711685e-02f);
    q = FA_FMA_F32(q, u, 2.742919922e-01f);
    q = FA_FMA_F32(q, u, -2.076240070e-02f);
    q = FA_FMA_F32(q, u, -3.855376840e-01f);
    q = FA_FMA_F32(q, u, -3.396458225e-03f);
    float uq = u * q; /* Q - c0 */
    fa_f32x2 pc = fa_two_prod_f32(w, 1.343588114e+00f);
    fa_f32x2 sq = fa_two_prod_f32(x, x);
    fa_f32x2 a = fa_two_sum_f32(-sq.hi, pc.hi);
    float b = ((a.lo - sq.lo) + pc.lo) + w * (5.046408091e-08f + uq) + eps * sens + wl * (1.343588114e+00f + uq);
    float s = a.hi + b; /* renormalise: |b| < |a.hi| */
    return fa_exp_neg_core_f32(s, b - (s - a.hi), t);
}

FA_INLINE double fa_erfc_pos_f64(double x)
{
    x = x > 27.3 ? 27.3 : x;
    fa_f64x2 d = fa_two_sum_f64(1.0, 0.5 * x);
    double t = 1.0 / d.hi;
    fa_f64x2 td = fa_two_prod_f64(t, d.hi);
    double eps = ((1.0 - td.hi) - td.lo) - t * d.lo;
    double sens = FA_FMA_F64(FA_FMA_F64(-0.2825, t, 1.661), t, 0.917);
    double w = t - 1.0, wl = t - (w + 1.0);
    /* three pieces, x < 2, x < 6, x <= 27.3: Q a polynomial in u = t - tc */
#define FA_ERFC_SEL(a, b, c) (x < 2.0 ? (a) : x < 6.0 ? (b) : (c))
    double u = t - FA_ERFC_SEL(0.75, 0.375, 0.1591296928327645), q;
    q = FA_ERFC_SEL(-2.08283158527200786e-02,
                    -4.51743959600537526e+00,
                    -2.19415806716815753e+00);
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(8.10800479405149738e-02,
                    7.95459617879741954e-01,
                    -8.92981771938997415e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-3.67850972422684511e-02,
                    4.01617507250368155e-01,
                    1.16129178176941106e+00));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-6.70576047074151055e-02,
                    -7.45284166858256603e-01,
                    6.28333899289499453e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(1.03507113726231254e-01,
                    1.19973888471593071e-01,
                    -5.54259675578027244e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-2.64757966750404118e-02,
                    5.26164265122425645e-01,
                    -4.71489403902641491e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-8.85975027340615423e-02,
                    -2.25294133497277477e-01,
                    2.19351947418748139e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(1.14123367603604434e-01,
                    -3.51466885814980423e-01,
                    3.61782733971681369e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-8.22248237927944089e-03,
                    2.29632052294510863e-01,
                    -1.92603443077963357e-02));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-1.21653004686578178e-01,
                    2.48242449048827196e-01,
                    -2.61133584447415634e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(1.19482017677330049e-01,
                    -2.02845159472430148e-01,
                    -1.07633647711400729e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(3.90833280494159510e-02,
                    -2.06455441492152197e-01,
                    1.53272841965526707e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-1.82085050665818510e-01,
                    1.74145319078299943e-01,
                    1.90103177246306237e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(1.00664084442669360e-01,
                    2.23016892042780468e-01,
                    -1.85334116118746825e-02));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(1.84116073733463698e-01,
                    -1.50146438215372602e-01,
                    -2.39362062960538136e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-3.12771610384815935e-01,
                    -3.52687164099447115e-01,
                    -2.14874195131045193e-01));
    q = FA_FMA_F64(q, u, FA_ERFC_SEL(-1.84484619207700540e-01,
                    8.99006236986967383e-02,
                    2.14502696827286149e-01));
    double c0 = FA_ERFC_SEL(1.31932046514328927e+00, 1.33809568800311318e+00, 1.30415107420183585e+00);
    double c0lo = FA_ERFC_SEL(1.15236705534016057e-17, 1.29678198373106278e-17, -3.15433157038868773e-17);
#undef FA_ERFC_SEL
    double uq = u * q;
    fa_f64x2 pc = fa_two_prod_f64(w, c0);
    fa_f64x2 sq = fa_two_prod_f64(x, x);
    fa_f64x2 a = fa_two_sum_f64(-sq.hi, pc.hi);
    double b = ((a.lo - sq.lo) + pc.lo) + w * (c0lo + uq) + eps * sens + wl * (c0 + uq);
    double s = a.hi + b;
    return fa_exp_neg_core_f64(s, b - (s - a.hi), t);
}

/* Phi(-a) / exp(-a^2/2) = erfc(z) exp(z^2) / 2, z = a / sqrt2, a >= 0: the
 * factor m of fa_exp_core_f32 that makes Phi(-a) = m exp(-a^2/2), for
 * gelu, whose exponent -a^2/2 is then an exact product (no sqrt2
 * rounding amplified by z^2) and whose derivative needs exp(-a^2/2)
 * anyway. m = t R(t) / 2 with t = 1 / (1 + z/2) = 1 / (1 + a / (2 sqrt2))
 * and R(t) = erfc(z) exp(z^2) / t, a polynomial of degree 11 in u = t - tc
 * (c0 as hi + lo; tools/vmath_remez.py mills_f32 11 14: 0.013 eps
 * relative) for 0 <= a <= 19.8 (z <= 14; beyond, even grad * gelu'(x)
 * underflows). The rounding of 1 + a/(2 sqrt2) and of the division is
 * corrected as in erfc: the true t is t (1 + eps), and t R(t) moves by
 * eps S(t), S = 1 + t R'/R in [1.14, 2.26] (a quadratic, 4%). Result in
 * (0, 1/2]. */
FA_INLINE float fa_phi_ratio_f32(float a)
{
    fa_f32x2 p = fa_two_prod_f32(a, 0x1.6a09e6p-2f); /* a / (2 sqrt2), + a c_lo */
    fa_f32x2 d = fa_two_sum_f32(1.0f, p.hi);
    float dlo = d.lo + FA_FMA_F32(a, 6.050808743e-09f, p.lo);
    float t = 1.0f / d.hi;
    fa_f32x2 td = fa_two_prod_f32(t, d.hi);
    float eps = ((1.0f - td.hi) - td.lo) - t * dlo;
    float sens = FA_FMA_F32(FA_FMA_F32(-0.3762f, t, 1.7813f), t, 0.8833f);
    float u = t - 0.5625f, q; /* exact for t >= 9/32 */
    q = -2.490987070e-02f;
    q = FA_FMA_F32(q, u, 3.866821527e-02f);
    q = FA_FMA_F32(q, u, 2.214887924e-02f);
    q = FA_FMA_F32(q, u, -7.744727284e-02f);
    q = FA_FMA_F32(q, u, 1.257962361e-02f);
    q = FA_FMA_F32(q, u, 1.129997671e-01f);
    q = FA_FMA_F32(q, u, -6.338296086e-02f);
    q = FA_FMA_F32(q, u, -1.983150095e-01f);
    q = FA_FMA_F32(q, u, 9.920601547e-02f);
    q = FA_FMA_F32(q, u, 5.820130110e-01f);
    q = FA_FMA_F32(q, u, 7.585615516e-01f);
    float r = FA_FMA_F32(q, u, 2.878233119e-08f) + 5.559551120e-01f;
    float tr = 0.5f * (t * r);
    return FA_FMA_F32(tr, eps * sens, tr);
}

/* float64: the same m(a), as a double-word number mh + *ml, with t =
 * 1 / (1 + a/4) (a/4 exact: no sqrt2 to carry) and R of degree 21 in two
 * pieces, a < FA_PHI_CORE_F64 (tools/vmath_remez.py mills_f64 21 0 5.66:
 * 0.10 eps) and a <= 54.1 (mills_f64 21 5.65 54.1 0.1875: 0.06 eps; beyond,
 * even the largest grad times gelu'(x) underflows); u = t - tc is exact in
 * both. R's last sum (Fast2Sum: |R - c0| is below c0's binade) and t R are
 * kept as double-word numbers and the eps correction (S = 1 + t R'/R in
 * [1.07, 3.2], a quadratic to 2%) goes into the low part: mh + ml carries
 * the fit's error and the Horner sum's, not the three roundings of R, t R
 * and the correction (~1.5 ULP). core (a constant): a < FA_PHI_CORE_F64
 * for sure (NaN excluded), the first piece alone: the same bits without
 * the selects (gelu's range loops). Result in (0, 1/2]. */
#define FA_PHI_CORE_F64 5.65

FA_INLINE double fa_phi_ratio_f64(double a, double *ml, const int core)
{
    fa_f64x2 d = fa_two_sum_f64(1.0, 0.25 * a);
    double t = 1.0 / d.hi;
    fa_f64x2 td = fa_two_prod_f64(t, d.hi);
    double eps = ((1.0 - td.hi) - td.lo) - t * d.lo; /* true t = t (1 + eps) */
    double sens = FA_FMA_F64(FA_FMA_F64(1.1697, t, 1.1037), t, 0.9717);
#define FA_PHI_SEL(p, q) (core || a < FA_PHI_CORE_F64 ? (p) : (q))
    double u = t - FA_PHI_SEL(0.7070393374741201, 0.1875), q;
    q = FA_PHI_SEL(2.81014706126630376e-01, -1.47625957862286775e-02);
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.84405730902632431e-02, 3.33725252901822672e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-1.16806198855072665e-01, -1.07328494048899176e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-4.45594425479593943e-03, -1.93625654737291757e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.66659784034822872e-02, 2.20313455390902264e-03));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-4.40425427805301261e-04, 1.73566455284602066e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(6.47329710834439621e-03, 5.41030776167333947e-03));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-4.86007345815642807e-03, -1.44560892924466503e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-1.08769861045890613e-02, -1.37862202540777884e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.70849991903908940e-02, 7.28101416023927035e-03));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(9.10778868914862566e-03, 2.20468015257356299e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-3.86483771794944100e-02, 9.55670900827211220e-03));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-1.39770748996629148e-03, -2.17970092325244190e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(8.34399124323656205e-02, -4.07202282407448102e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-4.51481835950835481e-03, -1.86031183777311399e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-2.04040673124394611e-01, 4.98602024718012293e-02));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(-9.07458619588659005e-02, 1.44860620724415023e-01));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(5.08880542415023673e-01, 2.35079481924289374e-01));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.17220212768059362e+00, 2.94385973050362182e-01));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.36882607963932901e+00, 3.11586035321813948e-01));
    q = FA_FMA_F64(q, u, FA_PHI_SEL(1.04240395017551468e+00, 2.90643204541887523e-01));
    double c0 = FA_PHI_SEL(5.44235290215947964e-01, 2.44693835737030185e-01);
    double s = FA_FMA_F64(q, u, FA_PHI_SEL(-4.81793716313051847e-17, -1.17215257700598420e-17));
#undef FA_PHI_SEL
    double rh = c0 + s, rl = s - (rh - c0); /* R = rh + rl */
    fa_f64x2 p = fa_two_prod_f64(t, rh);
    *ml = 0.5 * FA_FMA_F64(p.hi, eps * sens, FA_FMA_F64(t, rl, p.lo));
    return 0.5 * p.hi;
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
