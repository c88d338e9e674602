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

/* One vector of 16 at i, lanes LANES (masked loads and store when MASKED):
 * ND data operands (x last), table TAB, the closed form CLOSED(j) for lane
 * j. Lanes masked off load 0, which is inside the table. */
#define FA_GELU_TAB_STEP(i, MASKED, LANES, ND, TAB, CLOSED)                           \
    {                                                                                \
        __mmask16 in;                                                                \
        __m512 vx = (MASKED) ? _mm512_maskz_loadu_ps(LANES, x + (i)) : _mm512_loadu_ps(x + (i)); \
        __m512 r = fa_gelu_tab_v16(TAB, vx, &in);                                    \
        if ((ND) == 2)                                                               \
            vx = (MASKED) ? _mm512_maskz_loadu_ps(LANES, g + (i)) : _mm512_loadu_ps(g + (i)); \
        r = _mm512_mul_ps(vx, r);                                                    \
        if (in != 0xffff) {                                                          \
            _Alignas(64) float c[16];                                                \
            FA_IVDEP for (int j = 0; j < 16; j++) c[j] = CLOSED((i) + j);            \
            r = _mm512_mask_blend_ps(in, _mm512_load_ps(c), r);                      \
        }                                                                            \
        if (MASKED)                                                                  \
            _mm512_mask_storeu_ps(o + (i), LANES, r);                                \
        else                                                                         \
            _mm512_storeu_ps(o + (i), r);                                            \
    }

/* NumPy's large arrays start 16 bytes into a cache line, and loads that
 * split lines made the backward 13% slower at 16M (0.38 -> 0.43 ns): a
 * masked first vector brings the output (and, as usual, the inputs) to a
 * 64-byte boundary. */
#define FA_GELU_TAB_LOOP(NAME, ND, TAB, CLOSED)                                      \
    /* out of line: inlined, GCC hoists both copies' tables and spills them */       \
    static __attribute__((noinline)) void NAME##_head(const float *x, const float *g, float *o, \
                                                       __mmask16 lanes)              \
    {                                                                                \
        FA_GELU_TAB_STEP(0, 1, lanes, ND, TAB, CLOSED)                               \
    }                                                                                \
    static inline fa_intp NAME(void *dst, char **a, const double *p, fa_intp m)      \
    {                                                                                \
        const float *x = (const float *)a[(ND) - 1], *g = (const float *)a[0];      \
        float *o = (float *)dst;                                                     \
        unsigned head = (unsigned)(-(uintptr_t)o & 63) / sizeof(float);              \
        fa_intp i = 0;                                                               \
        (void)p, (void)g;                                                            \
        if (head && m >= 16 + (fa_intp)head) {                                       \
            NAME##_head(x, g, o, (__mmask16)((1u << head) - 1));                     \
            i = head;                                                                \
        }                                                                            \
        for (; i + 16 <= m; i += 16) FA_GELU_TAB_STEP(i, 0, 0xffff, ND, TAB, CLOSED) \
        return i;                                                                    \
    }
#define FA_GELU_CLOSED(k) fa_gelu_closed_f32(x[k])
#define FA_GELU_GRAD_CLOSED(k) fa_gelu_grad_closed_f32(g[k], x[k])
FA_GELU_TAB_LOOP(fa_hand_gelu_f32, 1, fa_gelu_phi_tab, FA_GELU_CLOSED)
FA_GELU_TAB_LOOP(fa_hand_gelu_grad_f32, 2, fa_gelu_der_tab, FA_GELU_GRAD_CLOSED)
#undef FA_GELU_CLOSED
#undef FA_GELU_GRAD_CLOSED
#undef FA_GELU_TAB_LOOP
#undef FA_GELU_TAB_STEP

#define FA_HAND_gelu_f32 ~, fa_hand_gelu_f32
#define FA_HAND_gelu_grad_f32 ~, fa_hand_gelu_grad_f32
#endif

#endif
