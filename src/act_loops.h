/* Hand-written AVX-512 loops for the float32 kernels with a table
 * (act_table.h): per vector of 16, the table (fa_tab_v16: coefficients by
 * vpermt2ps), the limit in lanes past its saturation bounds (act_table.h),
 * and the closed form in the lanes in neither (or NaN), packed 16 at a
 * time (FA_TAB_STEP); a NaN x gives x, as FA_TABLED says. The scalar kernels
 * (FA_TABLED in activations.h) give the same bits, lane by lane, so a
 * result does not depend on its neighbours, the block or the thread.
 *
 * Included by loops.c, through the FA_HAND hook of hand_loops.h, and by
 * param_loops.h, whose softplus loops call two of them (FA_FAST). */
#ifndef FASTACT_ACT_LOOPS_H
#define FASTACT_ACT_LOOPS_H

#include "hand_loops.h"
#include "activations.h"

#if defined(__AVX512F__)
#include <immintrin.h>

/* Kernel K's closed form at element k: forward (x) or backward (grad, x). */
#define FA_TAB_CLOSED_1(K, k) fa_##K##_closed_f32(x[k])
#define FA_TAB_CLOSED_2(K, k) fa_##K##_closed_f32(g[k], x[k])

/* How a row's value comes from its table T (FA_TABLED, FA_TABLED_AT):
 * T(x) (backward: grad T(x)), x T(x), -T(-x) for f(x) = -F(-x), T = F
 * (backward: grad T(-x), T = F', as f'(x) = F'(-x)), or x T(|x|) for an
 * odd f, T = f(x) / x tabulated on x >= 0 (tanh). */
#define FA_TAB_PLAIN 0
#define FA_TAB_TIMES_X 1
#define FA_TAB_REFLECT 2
#define FA_TAB_ABS_TIMES_X 3
#define FA_TAB_MIRROR 4 /* a forward T(-x), T = F' for f(x) = F'(-x) (sigmoid from log_sigmoid'); its limit m is 1 */

/* fa_sat_value (act_table.h) on 16 lanes: the limit `is` for x and the
 * grad g (the factor m of every backward row with a saturation bound). */
static inline __m512 fa_sat_v16(const int is, __m512 x, __m512 g)
{
    __m512 one = _mm512_set1_ps(1.0f), neg0 = _mm512_set1_ps(-0.0f);
    return is == FA_SAT_X    ? x
           : is == FA_SAT_M  ? g
           : is == FA_SAT_SIGN ? _mm512_or_ps(one, _mm512_and_ps(x, neg0))
                               : neg0;
}

/* One vector of 16 at i of kernel K with ND data operands (x last), table
 * TAB and FORM; CUT > 0: x (backward: grad) where x > cut = p[CUT], last,
 * as softplus's threshold, in every vector if cut_in (the cut reaches into
 * the table's range), else only in those that run the closed form. The
 * lanes in neither the table nor a saturation bound take the closed form:
 * at once (DEFER 0), or later (DEFER 1): their x and grad are packed into
 * bx, bg and their index into bi, and fa_tab_loop_<K>_rest runs the closed
 * form on 16 of them at a time, so that a lane past the table costs about
 * a sixteenth of a vector of closed forms rather than a whole one (float32
 * at 1M, same run: gelu on [-6, 6] 2.24 -> 1.00 ns, its backward 1.93 ->
 * 0.90; on [-20, 20] 7.56 -> 3.01 and 13.7 -> 7.2). Either way each lane
 * gets the same bits.
 * The packing compresses in registers and stores whole vectors: the same
 * speed as compress to memory on an Intel Xeon (+-3%, gelu, tanh, mish',
 * silu' on N(0, 3..10) data), which Zen 4 runs as microcode (not measured
 * here). (Also dropping the test of the rest mask: gelu 5-10% faster on
 * N(0, 3) data, tanh 7-15% slower, left out.) */
/* Vector i's lines FA_PF_DIST bytes ahead in x, g and the output
 * (hand_loops.h says why), in every call: in cache they cost -3 to +3%. */
#define FA_TAB_PREFETCH(i, ND)                                                         \
    {                                                                                \
        _mm_prefetch((const char *)(x + (i)) + FA_PF_DIST, _MM_HINT_T0);             \
        if ((ND) == 2) _mm_prefetch((const char *)(g + (i)) + FA_PF_DIST, _MM_HINT_T0); \
        _mm_prefetch((const char *)(o + (i)) + FA_PF_DIST, _MM_HINT_T0);             \
    }
#define FA_TAB_STEP(i, K, ND, TAB, FORM, CUT, DEFER)                                 \
    {                                                                                \
        __mmask16 in;                                                                \
        FA_TAB_PREFETCH(i, ND)                                                       \
        __m512 vx = _mm512_loadu_ps(x + (i));                                        \
        __m512 vg = (ND) == 2 ? _mm512_loadu_ps(g + (i))                              \
                    : (FORM) == FA_TAB_MIRROR ? _mm512_set1_ps(1.0f) : vx;           \
        const int reflect = (FORM) == FA_TAB_REFLECT || (FORM) == FA_TAB_MIRROR;    \
        __m512 vt = (FORM) == FA_TAB_ABS_TIMES_X ? _mm512_abs_ps(vx) : vx;           \
        __m512 r = fa_tab_v16(FA_TAB(TAB), vt, &in, reflect ? -1 : 1, (FORM) == FA_TAB_REFLECT && (ND) == 1 ? -1 : 1); \
        if ((ND) == 2)                                                               \
            r = _mm512_mul_ps(vg, r);                                                \
        else if ((FORM) == FA_TAB_TIMES_X || (FORM) == FA_TAB_ABS_TIMES_X)           \
            r = _mm512_mul_ps(vx, r);                                                \
        __mmask16 done = in;                                                         \
        if (in != 0xffff) {                                                          \
            /* t past the saturation bounds: the limit (t = -x reflected) */         \
            __m512 vs = reflect ? _mm512_sub_ps(_mm512_setzero_ps(), vx) : vt;       \
            if (FA_SAT_HI_IS(TAB)) {                                                 \
                __mmask16 hi = _mm512_cmp_ps_mask(vs, _mm512_set1_ps(FA_SAT_HI(TAB)), _CMP_GE_OQ); \
                r = _mm512_mask_mov_ps(r, hi, fa_sat_v16(FA_SAT_HI_IS(TAB), vx, vg)); \
                done |= hi;                                                          \
            }                                                                        \
            if (FA_SAT_LO_IS(TAB)) {                                                 \
                __mmask16 lo = _mm512_cmp_ps_mask(vs, _mm512_set1_ps(FA_SAT_LO(TAB)), _CMP_LE_OQ); \
                r = _mm512_mask_mov_ps(r, lo, fa_sat_v16(FA_SAT_LO_IS(TAB), vx, vg)); \
                done |= lo;                                                          \
            }                                                                        \
        }                                                                            \
        if ((DEFER) && done != 0xffff) {                                             \
            __mmask16 rest = (__mmask16)~done;                                       \
            __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int)((i) - base)),     \
                                           _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)); \
            /* packed in registers, stored whole (cnt + 16 <= the vectors so far  \
             * times 16): compress to memory is microcoded on Zen 4; merge-masked, \
             * as the zero-masked form waits on its destination there */            \
            _mm512_storeu_ps(bx + cnt, _mm512_mask_compress_ps(vx, rest, vx));       \
            if ((ND) == 2) _mm512_storeu_ps(bg + cnt, _mm512_mask_compress_ps(vg, rest, vg)); \
            _mm512_storeu_si512(bi + cnt, _mm512_mask_compress_epi32(idx, rest, idx)); \
            cnt += __builtin_popcount(rest);                                         \
        } else if (done != 0xffff) {                                                 \
            _Alignas(64) float c[16];                                                \
            cnt += __builtin_popcount((__mmask16)~done);                             \
            FA_IVDEP for (int j = 0; j < 16; j++) c[j] = FA_TAB_CLOSED_##ND(K, (i) + j); \
            r = _mm512_mask_blend_ps(done, _mm512_load_ps(c), r);                    \
            r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(vx, vx, _CMP_UNORD_Q), vx); /* NaN: x */ \
        }                                                                            \
        if ((CUT) && (cut_in || in != 0xffff))                                       \
            r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(vx, cut, _CMP_GT_OQ), vg);  \
        _mm512_storeu_ps(o + (i), r);                                                \
    }

/* Vectors per block of deferred lanes (their buffers are on the stack). A
 * block after one where more than half the lanes ran the closed form runs
 * it at once, vector by vector (DEFER 0): there packing and scattering
 * them costs more than it saves (log_sigmoid's backward on [-30, 30], 3
 * lanes in 4 past the table: 9% slower deferred). Chosen per block, as a
 * choice per vector mispredicted (40% slower). */
#define FA_TAB_BLOCK 64

/* The deferring names FA_TAB_STEP reads, for its DEFER 0 uses. */
#define FA_TAB_NO_DEFER                                                              \
    float *bx = 0, *bg = 0;                                                          \
    int32_t *bi = 0;                                                                 \
    int cnt = 0;                                                                     \
    const fa_intp base = 0;                                                          \
    (void)bx, (void)bg, (void)bi, (void)cnt, (void)base;

/* fa_tab_loop_<K>_f32. Its caller (FA_BLOCK_LOOPS, loops.c) starts it where
 * the output reaches a 64-byte boundary: stores and loads that split lines
 * made gelu's backward 13% slower at 16M (0.38 -> 0.43 ns). */
#define FA_TAB_LOOP(K, ND, TAB, FORM, CUT)                                           \
    /* the closed form of the n deferred lanes bx, bg into o[bi[k]], 16 at a   \
     * time (the last group padded with 0): NaN gives x, and x > cut the cut's \
     * value, as in FA_TAB_STEP */                                                \
    static __attribute__((noinline)) void fa_tab_loop_##K##_rest(const float *bx, const float *bg, \
                                                                 const int32_t *bi, int n, float *o, float thr) \
    {                                                                                \
        for (int b = 0; b < n; b += 16) {                                            \
            int w = n - b < 16 ? n - b : 16;                                         \
            __mmask16 lanes = (__mmask16)((1u << w) - 1);                            \
            _Alignas(64) float c[16], x[16], g[16];                                  \
            _mm512_store_ps(x, _mm512_maskz_loadu_ps(lanes, bx + b));                \
            _mm512_store_ps(g, _mm512_maskz_loadu_ps(lanes, bg + b));                \
            (void)g, (void)thr;                                                      \
            FA_IVDEP for (int j = 0; j < 16; j++) c[j] = FA_TAB_CLOSED_##ND(K, j);   \
            __m512 vx = _mm512_loadu_ps(x), r = _mm512_load_ps(c);                   \
            r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(vx, vx, _CMP_UNORD_Q), vx); /* NaN: x */ \
            if (CUT)                                                                 \
                r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(vx, _mm512_set1_ps(thr), _CMP_GT_OQ), \
                                       (ND) == 2 ? _mm512_loadu_ps(g) : vx);          \
            _mm512_store_ps(c, r);                                                   \
            for (int j = 0; j < w; j++) o[bi[b + j]] = c[j];                         \
        }                                                                            \
    }                                                                                \
    /* nv vectors with the closed form at once; returns how many lanes ran it \
     * (out of line: inlined, GCC hoists both copies' tables and spills them) */ \
    static __attribute__((noinline)) int fa_tab_loop_##K##_dense(const float *x, const float *g, float *o, \
                                                                 fa_intp nv, __m512 cut, int cut_in) \
    {                                                                                \
        FA_TAB_NO_DEFER                                                              \
        (void)g, (void)cut, (void)cut_in;                                            \
        for (fa_intp i = 0; i < 16 * nv; i += 16) FA_TAB_STEP(i, K, ND, TAB, FORM, CUT, 0) \
        return cnt;                                                                  \
    }                                                                                \
    static inline fa_intp fa_tab_loop_##K##_f32(void *dst, char **a, const double *p, fa_intp m) \
    {                                                                                \
        const float *x = (const float *)a[(ND) - 1], *g = (const float *)a[0];      \
        float *o = (float *)dst;                                                     \
        fa_intp i = 0;                                                               \
        const float thr = (CUT) ? (float)p[CUT] : 0.0f;                             \
        const __m512 cut = _mm512_set1_ps(thr); /* here: GCC reloads p[CUT] per vector */ \
        /* x in the table: below HI, or at most -LO reflected */                     \
        const int cut_in = !(thr >= ((FORM) == FA_TAB_REFLECT ? -FA_TAB_##TAB##_LO : FA_TAB_##TAB##_HI)); \
        _Alignas(64) float bx[16 * FA_TAB_BLOCK], bg[(ND) == 2 ? 16 * FA_TAB_BLOCK : 1]; \
        int32_t bi[16 * FA_TAB_BLOCK];                                               \
        (void)g, (void)cut, (void)cut_in, (void)bg;                                  \
        int dense = 0;                                                               \
        while (i + 16 <= m) {                                                        \
            fa_intp base = i, nv = (m - i) / 16;                                     \
            int cnt = 0;                                                             \
            nv = nv < FA_TAB_BLOCK ? nv : FA_TAB_BLOCK;                              \
            if (dense) {                                                             \
                cnt = fa_tab_loop_##K##_dense(x + i, g + i, o + i, nv, cut, cut_in); \
                i += 16 * nv;                                                        \
            } else {                                                                 \
                for (; i < base + 16 * nv; i += 16) FA_TAB_STEP(i, K, ND, TAB, FORM, CUT, 1) \
                if (cnt) fa_tab_loop_##K##_rest(bx, (ND) == 2 ? bg : bx, bi, cnt, o + base, thr); \
            }                                                                        \
            dense = cnt > 8 * nv;                                                    \
        }                                                                            \
        return i;                                                                    \
    }

/* The rows of activation_defs.h that use FA_TABLED, with the same table
 * and form; softplus's with beta = 1 (FA_TABLED_AT), its threshold the
 * parameter after beta. */
FA_TAB_LOOP(gelu, 1, gelu_phi, FA_TAB_TIMES_X, 0)
FA_TAB_LOOP(gelu_grad, 2, gelu_der, FA_TAB_PLAIN, 0)
FA_TAB_LOOP(silu_grad, 2, silu_der, FA_TAB_PLAIN, 0)
FA_TAB_LOOP(mish, 1, mish_ts, FA_TAB_TIMES_X, 0)
FA_TAB_LOOP(mish_grad, 2, mish_der, FA_TAB_PLAIN, 0)
FA_TAB_LOOP(log_sigmoid, 1, log_sigmoid, FA_TAB_PLAIN, 0)
FA_TAB_LOOP(log_sigmoid_grad, 2, log_sigmoid_der, FA_TAB_PLAIN, 0)
FA_TAB_LOOP(softplus, 1, log_sigmoid, FA_TAB_REFLECT, 2)
FA_TAB_LOOP(softplus_grad, 2, log_sigmoid_der, FA_TAB_REFLECT, 3)
FA_TAB_LOOP(tanh, 1, tanh_ts, FA_TAB_ABS_TIMES_X, 0)
FA_TAB_LOOP(sigmoid, 1, log_sigmoid_der, FA_TAB_MIRROR, 0)
#undef FA_TAB_LOOP
#undef FA_TAB_STEP
#undef FA_TAB_NO_DEFER

/* bce_with_logits forward: lin + l, l = -log_sigmoid(|z|) from its table
 * (fa_bce_with_logits_f32's FA_TABLED_AT: the same bits), the closed log
 * term in the lanes of a vector outside it, |z| where NaN; a NaN z gives z. */
static inline fa_intp fa_tab_loop_bce_with_logits_f32(void *dst, char **a, const double *p, fa_intp m)
{
    const float *z = (const float *)a[0], *t = (const float *)a[1];
    float *o = (float *)dst;
    fa_intp i = 0;
    (void)p;
    for (; i + 16 <= m; i += 16) {
        __m512 vz = _mm512_loadu_ps(z + i), vt = _mm512_loadu_ps(t + i);
        __m512 az = _mm512_abs_ps(vz);
        __mmask16 in;
        __m512 l = fa_tab_v16(FA_TAB(log_sigmoid), az, &in, 1, -1);
        if (in != 0xffff) {
            _Alignas(64) float c[16];
            FA_IVDEP for (int j = 0; j < 16; j++) {
                float v = fa_abs_f32(z[i + j]);
                c[j] = v != v ? v : fa_bce_log_closed_f32(v);
            }
            l = _mm512_mask_blend_ps(in, _mm512_load_ps(c), l);
        }
        __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
        __mmask16 pos = _mm512_cmp_ps_mask(vz, zero, _CMP_GT_OQ);
        __m512 c = _mm512_mask_blend_ps(pos, _mm512_xor_ps(vt, _mm512_set1_ps(-0.0f)), _mm512_sub_ps(one, vt));
        __m512 lin = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(c, zero, _CMP_NEQ_UQ), vz, c);
        __m512 r = _mm512_add_ps(lin, l);
        r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(vz, vz, _CMP_UNORD_Q), vz);
        _mm512_storeu_ps(o + i, r);
    }
    return i;
}
#define FA_HAND_bce_with_logits_f32 ~, fa_tab_loop_bce_with_logits_f32

#define FA_HAND_gelu_f32 ~, fa_tab_loop_gelu_f32
#define FA_HAND_gelu_grad_f32 ~, fa_tab_loop_gelu_grad_f32
#define FA_HAND_silu_grad_f32 ~, fa_tab_loop_silu_grad_f32
#define FA_HAND_mish_f32 ~, fa_tab_loop_mish_f32
#define FA_HAND_mish_grad_f32 ~, fa_tab_loop_mish_grad_f32
#define FA_HAND_log_sigmoid_f32 ~, fa_tab_loop_log_sigmoid_f32
#define FA_HAND_log_sigmoid_grad_f32 ~, fa_tab_loop_log_sigmoid_grad_f32
#define FA_HAND_tanh_f32 ~, fa_tab_loop_tanh_f32
#define FA_HAND_sigmoid_f32 ~, fa_tab_loop_sigmoid_f32
/* softplus's run where the hoisted beta is 1, from its param loop */
#define FA_FAST_softplus_f32 ~, fa_tab_loop_softplus_f32
#define FA_FAST_softplus_grad_f32 ~, fa_tab_loop_softplus_grad_f32
#endif

#endif
