/* Hand-written AVX-512 loops for float32 gelu and gelu_grad: per vector of
 * 16, the table (fa_gelu_tab_v16: coefficients by vpermt2ps); only a
 * vector with a lane outside [-5, 5) (or NaN) also runs the closed form,
 * 16 lanes at once, and takes it in those lanes. The scalar kernels
 * (activation_defs.h) give the same bits, lane by lane (gelu_table.h), so
 * a result does not depend on its neighbours, the block or the thread.
 *
 * Included by loops.c, through the FA_HAND hook of hand_loops.h. */
#ifndef FASTACT_GELU_LOOPS_H
#define FASTACT_GELU_LOOPS_H

#include "hand_loops.h"
#include "activations.h"

#if FA_GELU_TABLE && defined(__AVX512F__)
#include <immintrin.h>

/* One loop for both: ND data operands (x last), table t, and the closed
 * form CLOSED(j) for lane j of the vector at i. */
#define FA_GELU_TAB_LOOP(NAME, ND, TAB, CLOSED)                                      \
    static inline fa_intp NAME(void *dst, char **a, const double *p, fa_intp m)      \
    {                                                                                \
        const float *x = (const float *)a[(ND) - 1], *g = (const float *)a[0];      \
        float *o = (float *)dst;                                                     \
        fa_intp i = 0;                                                               \
        (void)p, (void)g;                                                            \
        for (; i + 16 <= m; i += 16) {                                               \
            __mmask16 in;                                                            \
            __m512 vx = _mm512_loadu_ps(x + i);                                      \
            __m512 r = fa_gelu_tab_v16(TAB, vx, &in);                                \
            r = _mm512_mul_ps((ND) == 2 ? _mm512_loadu_ps(g + i) : vx, r);           \
            if (in != 0xffff) {                                                      \
                _Alignas(64) float c[16];                                            \
                FA_IVDEP for (int j = 0; j < 16; j++) c[j] = CLOSED(j);              \
                r = _mm512_mask_blend_ps(in, _mm512_load_ps(c), r);                  \
            }                                                                        \
            _mm512_storeu_ps(o + i, r);                                              \
        }                                                                            \
        return i;                                                                    \
    }
#define FA_GELU_CLOSED(j) fa_gelu_closed_f32(x[i + (j)])
#define FA_GELU_GRAD_CLOSED(j) fa_gelu_grad_closed_f32(g[i + (j)], x[i + (j)])
FA_GELU_TAB_LOOP(fa_hand_gelu_f32, 1, fa_gelu_phi_tab, FA_GELU_CLOSED)
FA_GELU_TAB_LOOP(fa_hand_gelu_grad_f32, 2, fa_gelu_der_tab, FA_GELU_GRAD_CLOSED)
#undef FA_GELU_CLOSED
#undef FA_GELU_GRAD_CLOSED
#undef FA_GELU_TAB_LOOP

#define FA_HAND_gelu_f32 ~, fa_hand_gelu_f32
#define FA_HAND_gelu_grad_f32 ~, fa_hand_gelu_grad_f32
#endif

#endif
