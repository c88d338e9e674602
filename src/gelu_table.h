/* float32 gelu and gelu' on [FA_GELU_TAB_LO, FA_GELU_TAB_HI) = [-5, 5) from
 * the piecewise polynomials of gelu_tables.h (tools/gelu_tables.py): an
 * index, a centre, nine coefficients, eight FMAs; no exp, no division.
 * Outside, the closed forms of activation_defs.h.
 *
 * fa_gelu_tab_f32 is the scalar form, used by every loop; on AVX-512 the
 * hand loops of gelu and gelu_grad (loops.c, FA_HAND) use
 * fa_gelu_tab_v16, which looks the coefficients up with vpermt2ps (the
 * scalar form vectorises into gathers). The two compute the same bits: the
 * same index, the same FMAs in the same order. */
#ifndef FASTACT_GELU_TABLE_H
#define FASTACT_GELU_TABLE_H

#include "fastact.h"
#include "gelu_tables.h"
#include "vmath_common.h"

/* Where the table is cheap: AVX-512 (vpermt2ps) and the SSE2 baseline
 * (scalar loads). AVX2 would gather (vgatherdps: 2.4 ns per element
 * against the closed form's 1.2 on the test machine) and keeps the closed
 * form, so its results may differ from the other levels' in the last bits. */
#if defined(__AVX512F__) || !defined(__AVX2__)
#define FA_GELU_TABLE 1
#else
#define FA_GELU_TABLE 0
#endif

FA_INLINE int fa_gelu_tab_in(float x)
{
    return x >= FA_GELU_TAB_LO && x < FA_GELU_TAB_HI;
}

/* Row j's value for x's interval, in table t; FA_GELU_TAB_ROWS rows:
 * centre hi, lo; c0 hi, lo; c1 ... */
FA_INLINE float fa_gelu_tab_f32(const float (*t)[32], float x)
{
    float xc = fa_gelu_tab_in(x) ? x : 0.0f; /* (int)NaN is undefined */
    int k = (int)FA_FMA_F32(xc, FA_GELU_TAB_INV, FA_GELU_TAB_BIAS);
    k = k < 31 ? k : 31; /* x just below 5 can round up to 32 */
    float d = (xc - t[0][k]) - t[1][k];
    float q = t[FA_GELU_TAB_ROWS - 1][k];
    for (int j = FA_GELU_TAB_ROWS - 2; j >= 4; j--) q = FA_FMA_F32(q, d, t[j][k]);
    return t[2][k] + FA_FMA_F32(q, d, t[3][k]);
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* fa_gelu_tab_f32 on 16 lanes; lanes outside [LO, HI) are garbage (their
 * index only selects some entry: vpermt2ps reads 5 bits). */
static inline __m512 fa_gelu_tab_v16(const float (*t)[32], __m512 x, __mmask16 *in)
{
    *in = _mm512_cmp_ps_mask(x, _mm512_set1_ps(FA_GELU_TAB_LO), _CMP_GE_OQ) &
          _mm512_cmp_ps_mask(x, _mm512_set1_ps(FA_GELU_TAB_HI), _CMP_LT_OQ);
    __m512i k = _mm512_cvttps_epi32(
        _mm512_fmadd_ps(x, _mm512_set1_ps(FA_GELU_TAB_INV), _mm512_set1_ps(FA_GELU_TAB_BIAS)));
    k = _mm512_min_epi32(k, _mm512_set1_epi32(31));
#define FA_GELU_ROW(j) _mm512_permutex2var_ps(_mm512_load_ps(t[j]), k, _mm512_load_ps(t[j] + 16))
    __m512 d = _mm512_sub_ps(_mm512_sub_ps(x, FA_GELU_ROW(0)), FA_GELU_ROW(1));
    __m512 q = FA_GELU_ROW(FA_GELU_TAB_ROWS - 1);
    for (int j = FA_GELU_TAB_ROWS - 2; j >= 4; j--) q = _mm512_fmadd_ps(q, d, FA_GELU_ROW(j));
    return _mm512_add_ps(FA_GELU_ROW(2), _mm512_fmadd_ps(q, d, FA_GELU_ROW(3)));
#undef FA_GELU_ROW
}
#endif

#endif
