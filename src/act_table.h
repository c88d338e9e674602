/* float32 activations and derivatives from the piecewise polynomials of
 * act_tables.h (tools/act_tables.py): an index, a centre, nine
 * coefficients, eight FMAs; no exp, log or division. Each table covers
 * [FA_TAB_<NAME>_LO, FA_TAB_<NAME>_HI) in 32 intervals; outside, the
 * kernels of activation_defs.h use their closed forms.
 *
 * fa_tab_f32 is the scalar form, used by every loop; on AVX-512 the hand
 * loops of act_loops.h use fa_tab_v16, which looks the coefficients up
 * with vpermt2ps (GCC keeps a loop over the scalar form's lookups scalar).
 * tanh reads tanh(x) / x at |x| and multiplies by x. The two compute
 * the same bits: the same index, the same FMAs in the same order (up to
 * the sign, where fa_tab_v16 folds in a negation). */
#ifndef FASTACT_ACT_TABLE_H
#define FASTACT_ACT_TABLE_H

#include "fastact.h"
#include "act_tables.h"
#include "vmath_common.h"

/* Where a table is used, FA_TAB_USE(NAME): at AVX-512 every one
 * (vpermt2ps); at the SSE2 baseline those whose scalar lookups beat the
 * vectorised closed form (gelu, gelu', mish': 3.8 ns per element against
 * 4.6, 6.4, 5.2 on the test machine; not mish, silu', log_sigmoid and its
 * derivative, 3.7-3.9 against 1.8-3.0); at AVX2 none (a 32-entry lookup is
 * a gather there: gelu 2.4 ns against 1.2). Where the levels differ, their
 * results may differ in the last bits. softplus reads log_sigmoid's tables
 * where those are used, sigmoid its derivative's (at -x). The baseline's
 * choice is keyed to the missing FMA, which is what makes the closed forms
 * dear there (double-word products by Dekker's split); other
 * architectures with FMA (aarch64) take the closed forms, as AVX2 does,
 * rather than scalar lookups, a choice made without a measurement on such
 * a machine (tools/cross_run.py checks their bits). */
#if defined(__AVX512F__)
#define FA_TAB_USE(NAME) 1
#elif !FA_HAVE_FMA
#define FA_TAB_BASELINE_gelu_phi ~, 1
#define FA_TAB_BASELINE_gelu_der ~, 1
#define FA_TAB_BASELINE_mish_der ~, 1
#define FA_TAB_USE(NAME) FA_SECOND(FA_CAT(FA_TAB_BASELINE_, NAME), 0, ~)
#else
#define FA_TAB_USE(NAME) 0
#endif

/* Table NAME's arguments: the rows and the range constants; clo 0 when
 * every centre is a float (a table without a root: its low row is 0, and
 * x - c - 0 is x - c, so skipping the row keeps the bits). Computing such
 * a centre, lo + (k + 1/2) width (exact), instead of reading its row was
 * 2-4% slower than the vpermt2ps on the Zen 4 test machine. */
#define FA_TAB(NAME) fa_tab_##NAME, FA_TAB_##NAME##_LO, FA_TAB_##NAME##_HI, FA_TAB_##NAME##_INV, \
                     FA_TAB_##NAME##_BIAS, FA_TAB_##NAME##_CENTRE_LO

FA_INLINE int fa_tab_in(float x, float lo, float hi)
{
    return x >= lo && x < hi;
}

/* Saturation beyond a table: where the closed form is exactly its limit
 * (x, the grad, +-1 or -0.0), the kernels return that limit without
 * running it, in the scalar form and the hand loops alike. Outside the
 * tables the closed forms cost 4-6x a lookup (gelu float32 at 1M on
 * [4, 12]: 2.4 ns against 0.4) and worse where their intermediates are
 * subnormal (tanh on [-60, 60]: 20x PyTorch), so a vector with one lane
 * past a table paid that for all sixteen. FA_TAB_<NAME>_SAT is
 * (HI_IS, HI, LO_IS, LO): at t >= HI the result is HI_IS, at t <= LO it is
 * LO_IS (t the table's argument: |x| for tanh, -x for softplus). Each bound
 * lies past the last float32 where the closed form differs from its limit,
 * at every SIMD level (tools/saturation_scan.py checks every float32 beyond
 * each bound; last differing x: gelu 5.3475 and -14.356, gelu' 5.9151,
 * silu' 19.612, mish 15.999999, mish' 10.171, log_sigmoid -14.556,
 * log_sigmoid' -16.636 (sigmoid at -x: 16.636), tanh 9.0109), and past
 * where the exact function (the derivative, for a backward) rounds to its
 * limit: log_sigmoid' is at -17.5, not -16.75, since its exact value
 * rounds to 1 - 2^-24 down to -17.33 (the closed form is 1 ULP off there,
 * inside its budget). The
 * backwards' limits hold for every grad: their closed forms are
 * (grad * f'(x)) * scale with f'(x) and scale exactly 1 there. */
#define FA_SAT_NONE 0
#define FA_SAT_X 1       /* x itself (the input, also for softplus's -x) */
#define FA_SAT_M 2       /* the row's factor m: the grad of a backward, 1 for sigmoid */
#define FA_SAT_SIGN 3    /* +-1 with the sign of x */
#define FA_SAT_NEGZERO 4 /* -0.0 */
#define FA_TAB_gelu_phi_SAT (FA_SAT_X, 5.5f, FA_SAT_NEGZERO, -14.5f)
#define FA_TAB_gelu_der_SAT (FA_SAT_M, 6.0f, FA_SAT_NONE, 0.0f)
#define FA_TAB_silu_der_SAT (FA_SAT_M, 19.75f, FA_SAT_NONE, 0.0f)
#define FA_TAB_mish_ts_SAT (FA_SAT_X, 16.0f, FA_SAT_NONE, 0.0f)
#define FA_TAB_mish_der_SAT (FA_SAT_M, 10.25f, FA_SAT_NONE, 0.0f)
#define FA_TAB_log_sigmoid_SAT (FA_SAT_NONE, 0.0f, FA_SAT_X, -14.75f)
#define FA_TAB_log_sigmoid_der_SAT (FA_SAT_NONE, 0.0f, FA_SAT_M, -17.5f)
#define FA_TAB_tanh_ts_SAT (FA_SAT_SIGN, 9.015625f, FA_SAT_NONE, 0.0f)
#define FA_SAT_CALL(m, args) m args
#define FA_SAT_HI_IS_(hi_is, hi, lo_is, lo) hi_is
#define FA_SAT_HI_(hi_is, hi, lo_is, lo) hi
#define FA_SAT_LO_IS_(hi_is, hi, lo_is, lo) lo_is
#define FA_SAT_LO_(hi_is, hi, lo_is, lo) lo
#define FA_SAT_HI_IS(TAB) FA_SAT_CALL(FA_SAT_HI_IS_, FA_TAB_##TAB##_SAT)
#define FA_SAT_HI(TAB) FA_SAT_CALL(FA_SAT_HI_, FA_TAB_##TAB##_SAT)
#define FA_SAT_LO_IS(TAB) FA_SAT_CALL(FA_SAT_LO_IS_, FA_TAB_##TAB##_SAT)
#define FA_SAT_LO(TAB) FA_SAT_CALL(FA_SAT_LO_, FA_TAB_##TAB##_SAT)

/* The limit `is` (a constant) for input x and factor m. */
FA_INLINE float fa_sat_value(const int is, float x, float m)
{
    return is == FA_SAT_X ? x : is == FA_SAT_M ? m : is == FA_SAT_SIGN ? fa_signed_f32(1.0f, x) : -0.0f;
}

/* Row j's value for x's interval k = trunc(x inv + bias); FA_TAB_ROWS
 * rows: centre hi, lo; c0 hi, lo; c1 ... */
FA_INLINE float fa_tab_f32(const float (*t)[32], float lo, float hi, float inv, float bias, const int clo,
                           float x)
{
    float xc = fa_tab_in(x, lo, hi) ? x : lo; /* (int)NaN is undefined */
    int k = (int)FA_FMA_F32(xc, inv, bias);
    k = k < 31 ? k : 31; /* x just below hi can round up to 32 */
    float d = xc - t[0][k];
    d = clo ? d - t[1][k] : d;
    float q = t[FA_TAB_ROWS - 1][k];
    for (int j = FA_TAB_ROWS - 2; j >= 4; j--) q = FA_FMA_F32(q, d, t[j][k]);
    return t[2][k] + FA_FMA_F32(q, d, t[3][k]);
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* sy fa_tab_f32(sx x) on 16 lanes, sx, sy = +-1 (constants), *in the
 * lanes where sx x is inside [lo, hi); the others are garbage (their index
 * only selects some entry: vpermt2ps reads 5 bits). The negations are
 * folded into the operations, and rounding to nearest is symmetric, so
 * these are the bits of -fa_tab_f32(-x) (a table value is never 0). */
static inline __m512 fa_tab_v16(const float (*t)[32], float lo, float hi, float inv, float bias, const int clo,
                                __m512 x, __mmask16 *in, const int sx, const int sy)
{
    *in = sx > 0 ? _mm512_cmp_ps_mask(x, _mm512_set1_ps(lo), _CMP_GE_OQ) &
                       _mm512_cmp_ps_mask(x, _mm512_set1_ps(hi), _CMP_LT_OQ)
                 : _mm512_cmp_ps_mask(x, _mm512_set1_ps(-lo), _CMP_LE_OQ) &
                       _mm512_cmp_ps_mask(x, _mm512_set1_ps(-hi), _CMP_GT_OQ);
    __m512i k = _mm512_cvttps_epi32(_mm512_fmadd_ps(x, _mm512_set1_ps(sx * inv), _mm512_set1_ps(bias)));
    k = _mm512_min_epi32(k, _mm512_set1_epi32(31));
#define FA_TAB_ROW(j) _mm512_permutex2var_ps(_mm512_load_ps(t[j]), k, _mm512_load_ps(t[j] + 16))
    /* sx x - centre: -x - c as -(x 1) - c */
    __m512 d = sx > 0 ? _mm512_sub_ps(x, FA_TAB_ROW(0)) : _mm512_fnmsub_ps(x, _mm512_set1_ps(1.0f), FA_TAB_ROW(0));
    if (clo) d = _mm512_sub_ps(d, FA_TAB_ROW(1));
    __m512 q = FA_TAB_ROW(FA_TAB_ROWS - 1);
    for (int j = FA_TAB_ROWS - 2; j >= 4; j--) q = _mm512_fmadd_ps(q, d, FA_TAB_ROW(j));
    /* -(c0 + (q d + c1)) as (-(q d) - c1) - c0 */
    return sy > 0 ? _mm512_add_ps(FA_TAB_ROW(2), _mm512_fmadd_ps(q, d, FA_TAB_ROW(3)))
                  : _mm512_sub_ps(_mm512_fnmsub_ps(q, d, FA_TAB_ROW(3)), FA_TAB_ROW(2));
#undef FA_TAB_ROW
}
#endif

#endif
