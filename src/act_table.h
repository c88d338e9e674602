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
 * where those are used. The baseline's choice is keyed to the missing FMA,
 * which is what makes the closed forms dear there (double-word products by
 * Dekker's split); other architectures with FMA (aarch64) take the closed
 * forms, as AVX2 does, rather than scalar lookups, a choice made without a
 * measurement on such a machine (tools/cross_run.py checks their bits). */
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
