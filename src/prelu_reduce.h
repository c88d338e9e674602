/* prelu with one weight per channel, and its backward with the weight's
 * gradient reduced in the same pass: the loops of the rows of prelu.def
 * (compiled once per SIMD level: loops.c includes this after gufunc_loops.h,
 * whose fa_sum_add it uses; the Cython fast paths of fastact.prelu / prelu_backward call
 * the same loops directly).
 *
 * x is seen as (m, c, k): m rows (the axes before the channel axis), c
 * channels (axis 1), k elements per channel (the axes after it), so that a
 * weight per channel is one scalar per (row, channel) -- a contiguous inner
 * loop over k with the weight hoisted -- or, when k == 1 (the (batch, c)
 * layout of a linear layer), a contiguous loop over c with the weight read
 * alongside. Either way the loop is plain unit-stride code that vectorises;
 * the generic broadcasting ufunc instead saw c-element inner loops with a
 * strided float64 weight.
 *
 * grad_weight[c] = sum over rows and k of (x > 0 ? 0 : grad * x):
 * - float and float16 data: the products are exact in double, summed in
 *   double, rounded once by the caller;
 * - double data: compensated (TwoSum on the partial sums, the product's
 *   rounding error from an FMA or Dekker's product) -- within an ULP or so
 *   of the exact sum unless the sum cancels.
 * The order of every operation depends on the shape only: the rows are cut
 * into blocks of ~FA_PRELU_BLOCK elements (one weight for all, c == 1:
 * the m k elements as one flat sequence, cut every FA_PRELU_BLOCK); a
 * block's partial sums (lanes of FA_PRELU_LANES over k, in a fixed order)
 * are independent, so threads may
 * run blocks in any order; the partials are then added in block order. The
 * result is bit-identical for any thread count, and for any strides (the
 * strided paths do the same operations). A NaN (or inf * 0) in a product
 * makes its channel's gradient NaN, as a plain sum would. */
#ifndef FASTACT_PRELU_REDUCE_H
#define FASTACT_PRELU_REDUCE_H

#include <math.h>
#include "hand_loops.h" /* FA_IVDEP */
#include <stdlib.h>

#define FA_PRELU_BLOCK ((fa_intp)1 << 15) /* elements per block (~one chunk of a thread) */
#define FA_PRELU_LANES 16                 /* partial sums of a (row, channel) run over k */
/* Rows of channels (k == 1), or groups of lanes (c == 1), per pass over the
 * partial sums: they stay in registers over the group (float32 in cache:
 * k == 1 0.33 -> 0.27 ns/element). float64's compensated sums ran 2x
 * slower grouped (1.18 -> 2.2 ns/element), so one row at a time there. */
#define FA_PR_ROWS_f16 1 /* 4 kept c == 1's float16 loop scalar at baseline and avx2 */
#define FA_PR_ROWS_f32 4
#define FA_PR_ROWS_f64 1
#define FA_PRELU_FALLBACK_CHANNELS 64     /* channels per pass when the partials' malloc fails */

/* Storage access per dtype: loops.c's FA_ST / FA_LD_ / FA_STO_ / FA_CT /
 * FA_KS_ (float16 computed in float). */
#define FA_PR_LD(S, p) FA_CAT(FA_LD_, S)(*(const FA_ST(S) *)(p))
#define FA_PR_ST(S, p, v) (*(FA_ST(S) *)(p) = FA_CAT(FA_STO_, S)(v))
#define FA_PR_SZ(S) ((fa_intp)sizeof(FA_ST(S)))
/* The product's rounding error: 0 where the product is exact (float data in
 * double), fa_mul_err_f64 (activation_defs.h) for double data. */
#define FA_PR_ERR_f16(g, x, p) 0.0
#define FA_PR_ERR_f32(g, x, p) 0.0
#define FA_PR_ERR_f64(g, x, p) fa_mul_err_f64(g, x, p)
/* Per-element accumulation: plain double sums of float data (exact terms;
 * the compensation stays 0), compensated ones of double data. */
#define FA_PR_ACC_f16(s, e, t, pe) ((void)(e), (void)(pe), *(s) += (t))
#define FA_PR_ACC_f32(s, e, t, pe) ((void)(e), (void)(pe), *(s) += (t))
#define FA_PR_ACC_f64(s, e, t, pe) fa_sum_add(s, e, t, pe, 1)

/* Everything for storage dtype S. Inline helpers take strides in bytes;
 * their callers pass constants on the contiguous paths, so the compiler
 * sees unit-stride loops there (and the same arithmetic as the strided
 * ones, hence the same bits). */
#define FA_PRELU_DEFINE(S)                                                                            \
    typedef FA_CT(S) fa_pr_ct_##S;                                                        \
                                                                                                      \
    /* y = x > 0 ? x : w x over n elements, w one value per element (sw != 0)                         \
     * or one for all (sw == 0). */                                                                   \
    static inline void fa_prelu_run_##S(const char *x, fa_intp sx, const char *w, fa_intp sw,       \
                                        char *y, fa_intp sy, fa_intp n)                               \
    {                                                                                                 \
        if (sw) {                                                                                     \
            FA_IVDEP for (fa_intp i = 0; i < n; i++) FA_PR_ST(S, y + i * sy,                         \
                FA_CAT(fa_prelu_, FA_CAT(FA_KS_, S))(FA_PR_LD(S, x + i * sx),                             \
                                                (fa_pr_ct_##S) * (const double *)(w + i * sw)));      \
            return;                                                                                   \
        }                                                                                             \
        if (n <= 0) return;                                                                           \
        fa_pr_ct_##S w0 = (fa_pr_ct_##S) * (const double *)w;                                        \
        FA_IVDEP for (fa_intp i = 0; i < n; i++)                                                      \
            FA_PR_ST(S, y + i * sy, FA_CAT(fa_prelu_, FA_CAT(FA_KS_, S))(FA_PR_LD(S, x + i * sx), w0));  \
    }                                                                                                 \
                                                                                                      \
    /* Rows [0, n) of (c, k): dims[1] = c, dims[2] = k; steps: x, w, y per row,                      \
     * then x (c, k), w (c), y (c, k). */                                                             \
    static void fa_range__prelu_channels_##S(char **args, fa_intp n, const fa_intp *dims,            \
                                             const fa_intp *steps)                                    \
    {                                                                                                 \
        const fa_intp c = dims[1], k = dims[2], sz = FA_PR_SZ(S);                                    \
        /* a large call's contiguous rows prefetch (loops.c, FA_LINES): rows of 64,             \
         * 1 thread, Intel Xeon, same process: 16M float32 0.49 -> 0.34 ns per element,             \
         * 1M float64 0.75 -> 0.62 */                                                               \
        const int pf = FA_PF_LINES && k == 1 && steps[0] == c * sz && steps[2] == c * sz &&           \
                       dims[0] * c * sz >= FA_PF_MIN_BYTES;                                           \
        for (fa_intp r = 0; r < n; r++) {                                                             \
            const char *x = args[0] + r * steps[0], *w = args[1] + r * steps[1];                      \
            char *y = args[2] + r * steps[2];                                                         \
            if (pf)                                                                                   \
                for (fa_intp b = 0; b < c * sz; b += 64) {                                            \
                    __builtin_prefetch(x + b + FA_PF_DIST);                                           \
                    __builtin_prefetch(y + b + FA_PF_DIST);                                           \
                }                                                                                     \
            if (k == 1) { /* along the channels, the weight alongside */                              \
                if (steps[3] == sz && steps[5] == 8 && steps[6] == sz)                                \
                    fa_prelu_run_##S(x, sz, w, 8, y, sz, c);                                          \
                else                                                                                  \
                    fa_prelu_run_##S(x, steps[3], w, steps[5], y, steps[6], c);                       \
                continue;                                                                             \
            }                                                                                         \
            for (fa_intp j = 0; j < c; j++) {                                                         \
                const char *xj = x + j * steps[3], *wj = w + j * steps[5];                            \
                char *yj = y + j * steps[6];                                                          \
                if (steps[4] == sz && steps[7] == sz)                                                 \
                    fa_prelu_run_##S(xj, sz, wj, 0, yj, sz, k);                                       \
                else                                                                                  \
                    fa_prelu_run_##S(xj, steps[4], wj, 0, yj, steps[7], k);                           \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
                                                                                                      \
    /* The weight gradient's term of one element, x <= 0 ? g x : 0, and the                           \
     * product's rounding error (*pe). Selecting the operands (0 * 0 where                            \
     * x > 0) rather than the double product keeps the select in x's lane                             \
     * count: on the product, GCC's AVX-512 code shuffles the float mask                               \
     * into two double ones through general registers every vector. */                                \
    static inline double fa_prelu_term_##S(fa_pr_ct_##S gv, fa_pr_ct_##S xv, double *pe)            \
    {                                                                                                 \
        fa_pr_ct_##S gk = xv > 0 ? 0 : gv, xk = xv > 0 ? 0 : xv;                                      \
        double p = (double)gk * (double)xk;                                                           \
        *pe = FA_PR_ERR_##S(gk, xk, p);                                                               \
        return p;                                                                                     \
    }                                                                                                 \
                                                                                                      \
    /* q rows of c channels (row steps rg, rx, rgx; element steps sg, sx, sgx;                        \
     * weight j at w + j sw, in bytes): grad_x, and each channel's terms                              \
     * added to (s[j], e[j]) in row order, as one row at a time would, with                           \
     * s[j] and e[j] in registers over the q rows. Also the lanes of                                  \
     * fa_prelu_grad_seg: L lanes as L channels of one weight. */                                     \
    static inline __attribute__((always_inline)) void fa_prelu_grad_rows_##S(                         \
        const char *g, fa_intp rg, fa_intp sg, const char *x, fa_intp rx, fa_intp sx,                 \
        const char *w, fa_intp sw, char *gx, fa_intp rgx, fa_intp sgx, fa_intp c, const int q,        \
        double *restrict s, double *restrict e)                                                       \
    {                                                                                                 \
        FA_IVDEP for (fa_intp j = 0; j < c; j++) {                                                    \
            fa_pr_ct_##S wv = (fa_pr_ct_##S) * (const double *)(w + j * sw);                          \
            double sj = s[j], ej = e[j];                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < q; r++) {                                     \
                fa_pr_ct_##S gv = FA_PR_LD(S, g + r * rg + j * sg), xv = FA_PR_LD(S, x + r * rx + j * sx); \
                FA_PR_ST(S, gx + r * rgx + j * sgx, FA_CAT(fa_prelu_grad_, FA_CAT(FA_KS_, S))(gv, xv, wv)); \
                double pe, t = fa_prelu_term_##S(gv, xv, &pe);                                        \
                FA_PR_ACC_##S(&sj, &ej, t, pe);                                                      \
            }                                                                                         \
            s[j] = sj, e[j] = ej;                                                                     \
        }                                                                                             \
    }                                                                                                 \
                                                                                                      \
    /* One weight for all (c == 1): x is one flat sequence of m k elements,                           \
     * element i (row i / k) in lane i % L, cut into blocks of FA_PRELU_BLOCK                         \
     * elements whatever k is (per (row, channel) runs would fold the lanes                           \
     * every k elements: 3x np.add's time at k = 64; a 1-d x would be one                             \
     * block, on one thread). Elements [0, n) of a row from lane l0, into the                         \
     * lanes (ls, le); aligned groups of L vectorise, the ends are scalar.                            \
     * Also a (row, channel) run from lane 0 (fa_prelu_grad_run). */                                  \
    static inline void fa_prelu_grad_seg_##S(const char *g, fa_intp sg, const char *x, fa_intp sx,  \
                                             const double *w, char *gx, fa_intp sgx, fa_intp n,      \
                                             fa_intp l0, double *restrict ls, double *restrict le)    \
    {                                                                                                 \
        const fa_intp L = FA_PRELU_LANES, head = (L - l0) % L < n ? (L - l0) % L : n;                 \
        const char *wc = (const char *)w;                                                             \
        fa_intp i = 0;                                                                                \
        for (; i < head; i++) /* up to the next lane 0 */                                             \
            fa_prelu_grad_rows_##S(g + i * sg, 0, sg, x + i * sx, 0, sx, wc, 0, gx + i * sgx, 0, sgx, \
                                   1, 1, &ls[l0 + i], &le[l0 + i]);                                   \
        /* groups of L as rows of L channels of one weight */                                         \
        for (; i + FA_PR_ROWS_##S * L <= n; i += FA_PR_ROWS_##S * L)                                   \
            fa_prelu_grad_rows_##S(g + i * sg, L * sg, sg, x + i * sx, L * sx, sx, wc, 0,             \
                                   gx + i * sgx, L * sgx, sgx, L, FA_PR_ROWS_##S, ls, le);            \
        for (; i + L <= n; i += L)                                                                    \
            fa_prelu_grad_rows_##S(g + i * sg, L * sg, sg, x + i * sx, L * sx, sx, wc, 0,             \
                                   gx + i * sgx, L * sgx, sgx, L, 1, ls, le);                         \
        if (i < n) /* the rest, lanes 0 .. n - i - 1 */                                               \
            fa_prelu_grad_rows_##S(g + i * sg, 0, sg, x + i * sx, 0, sx, wc, 0, gx + i * sgx, 0, sgx, \
                                   n - i, 1, ls, le);                                                 \
    }                                                                                                 \
                                                                                                      \
    /* The lanes folded in lane order into (*s, *e). */                                               \
    static inline void fa_prelu_fold_##S(const double *ls, const double *le, double *s, double *e)   \
    {                                                                                                 \
        for (int l = 0; l < FA_PRELU_LANES; l++) fa_sum_add(s, e, ls[l], le[l], 1);                   \
    }                                                                                                 \
                                                                                                      \
    /* grad_x over n elements of one channel (weight w), and the channel's sum                        \
     * of x <= 0 ? g x : 0 in FA_PRELU_LANES lanes (element i in lane i % L),                          \
     * folded in lane order into (*s, *e). */                                                         \
    static inline void fa_prelu_grad_run_##S(const char *g, fa_intp sg, const char *x, fa_intp sx,  \
                                             const double *w, char *gx, fa_intp sgx, fa_intp n,      \
                                             double *s, double *e)                                    \
    {                                                                                                 \
        double ls[FA_PRELU_LANES] = {0}, le[FA_PRELU_LANES] = {0};                                    \
        fa_prelu_grad_seg_##S(g, sg, x, sx, w, gx, sgx, n, 0, ls, le);                                \
        fa_prelu_fold_##S(ls, le, s, e);                                                              \
    }                                                                                                 \
                                                                                                      \
    /* One block: rows [0, rows) of (c, k), channels [c0, c1); partial sums                           \
     * (s, e) of those channels (indexed from c0), zeroed first. a: g, x, w, gx;                      \
     * st: their row steps; cs: core steps g (c, k), x (c, k), w (c), gx (c, k). */                   \
    static void fa_prelu_block_##S(char *const *a, const fa_intp *st, const fa_intp *cs,             \
                                   fa_intp rows, fa_intp c0, fa_intp c1, fa_intp k, double *s,        \
                                   double *e)                                                         \
    {                                                                                                 \
        const fa_intp sz = FA_PR_SZ(S);                                                              \
        const int contig = k == 1 ? cs[0] == sz && cs[2] == sz && cs[5] == sz && cs[4] == 8           \
                                  : cs[1] == sz && cs[3] == sz && cs[6] == sz;                        \
        for (fa_intp j = 0; j < c1 - c0; j++) s[j] = e[j] = 0.0;                                      \
        for (fa_intp r = 0; r < rows; r++) {                                                          \
            const char *g = a[0] + r * st[0] + c0 * cs[0], *x = a[1] + r * st[1] + c0 * cs[2];        \
            const char *w = a[2] + c0 * cs[4];                                                        \
            char *gx = a[3] + r * st[3] + c0 * cs[5];                                                 \
            if (k == 1) {                                                                             \
                if (contig && rows - r >= FA_PR_ROWS_##S) {                                            \
                    fa_prelu_grad_rows_##S(g, st[0], sz, x, st[1], sz, w, 8, gx, st[3], sz, c1 - c0,   \
                                           FA_PR_ROWS_##S, s, e);                                     \
                    r += FA_PR_ROWS_##S - 1;                                                           \
                } else if (contig)                                                                    \
                    fa_prelu_grad_rows_##S(g, 0, sz, x, 0, sz, w, 8, gx, 0, sz, c1 - c0, 1, s, e);   \
                else                                                                                  \
                    fa_prelu_grad_rows_##S(g, 0, cs[0], x, 0, cs[2], w, cs[4], gx, 0, cs[5],          \
                                           c1 - c0, 1, s, e);                                         \
                continue;                                                                             \
            }                                                                                         \
            for (fa_intp j = 0; j < c1 - c0; j++) {                                                   \
                const double *wj = (const double *)(w + j * cs[4]);                                   \
                if (contig)                                                                           \
                    fa_prelu_grad_run_##S(g + j * cs[0], sz, x + j * cs[2], sz, wj, gx + j * cs[5],  \
                                          sz, k, &s[j], &e[j]);                                       \
                else                                                                                  \
                    fa_prelu_grad_run_##S(g + j * cs[0], cs[1], x + j * cs[2], cs[3], wj,             \
                                          gx + j * cs[5], cs[6], k, &s[j], &e[j]);                    \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
                                                                                                      \
    /* fa_run's range over flat blocks: args g, x, w, gx (unadvanced: step 0),                         \
     * the block's partials (s, e), the partials' start (step 0); dims[1] = m,                        \
     * dims[2] = k, dims[3] = m k, dims[4] the first block's index; steps                            \
     * 6-11: g, x, gx per row, then per element. Rows that follow each other                          \
     * in all three (a C-contiguous x) make a block one segment: the same                             \
     * lanes, the same bits. */                                                                       \
    static void fa_range__prelu_flat_##S(char **args, fa_intp n, const fa_intp *dims,                \
                                         const fa_intp *steps)                                        \
    {                                                                                                 \
        const fa_intp k = dims[2], total = dims[3];                                                  \
        const fa_intp *rs = steps + 6, *es = steps + 9;                                               \
        const fa_intp sz = FA_PR_SZ(S);                                                              \
        const int unit = es[0] == sz && es[1] == sz && es[2] == sz;                                   \
        const int flat = rs[0] == k * es[0] && rs[1] == k * es[1] && rs[2] == k * es[2];              \
        const double *w = (const double *)args[2];                                                    \
        double *part = (double *)args[4];                                                             \
        fa_intp b0 = dims[4] + (part - (double *)args[5]) / 2;                                        \
        for (fa_intp b = b0; b < b0 + n; b++, part += 2) {                                            \
            double ls[FA_PRELU_LANES] = {0}, le[FA_PRELU_LANES] = {0};                                \
            fa_intp i0 = b * FA_PRELU_BLOCK, i1 = total - i0 < FA_PRELU_BLOCK ? total : i0 + FA_PRELU_BLOCK; \
            for (fa_intp i = i0; i < i1;) {                                                           \
                fa_intp r = i / k, o = i - r * k, len = flat ? i1 - i : (k - o < i1 - i ? k - o : i1 - i); \
                const char *gi = args[0] + r * rs[0] + o * es[0], *xi = args[1] + r * rs[1] + o * es[1]; \
                char *gxi = args[3] + r * rs[2] + o * es[2];                                          \
                if (unit) /* constant steps: unit-stride vector code */                               \
                    fa_prelu_grad_seg_##S(gi, sz, xi, sz, w, gxi, sz, len, i % FA_PRELU_LANES, ls, le); \
                else                                                                                  \
                    fa_prelu_grad_seg_##S(gi, es[0], xi, es[1], w, gxi, es[2], len, i % FA_PRELU_LANES, ls, le); \
                i += len;                                                                             \
            }                                                                                         \
            part[0] = part[1] = 0.0;                                                                  \
            fa_prelu_fold_##S(ls, le, &part[0], &part[1]);                                            \
        }                                                                                             \
    }                                                                                                 \
                                                                                                      \
    /* fa_run's range over blocks [0, n) of dims[1] rows each: args g, x, w, gx,                      \
     * partials (2 c doubles per block); dims[2] = c, dims[3] = k; steps: the                         \
     * five block steps, then the row steps of g, x, gx, then the core steps. */                      \
    static void fa_range__prelu_blocks_##S(char **args, fa_intp n, const fa_intp *dims,              \
                                           const fa_intp *steps)                                      \
    {                                                                                                 \
        const fa_intp c = dims[2];                                                                    \
        const fa_intp st[4] = {steps[5], steps[6], 0, steps[7]};                                      \
        for (fa_intp b = 0; b < n; b++) {                                                             \
            char *a[4] = {args[0] + b * steps[0], args[1] + b * steps[1], args[2],                    \
                          args[3] + b * steps[3]};                                                    \
            double *part = (double *)(args[4] + b * steps[4]);                                        \
            fa_prelu_block_##S(a, st, steps + 8, dims[1], 0, c, dims[3], part, part + c);             \
        }                                                                                             \
    }                                                                                                 \
                                                                                                      \
    /* c == 1: the flat blocks, over threads; the partials summed in block                             \
     * order (on this thread, block by block, where their malloc fails). */                           \
    static void fa_prelu_flat_##S(char *g, char *x, char *w, char *gx, char *gw, fa_intp m,          \
                                  fa_intp k, const fa_intp *steps)                                    \
    {                                                                                                 \
        const fa_intp total = m * k, nblocks = (total + FA_PRELU_BLOCK - 1) / FA_PRELU_BLOCK;          \
        double one[2], *part = malloc(sizeof(double) * 2 * (size_t)nblocks);                          \
        fa_intp fdims[5] = {nblocks, m, k, total, 0};                                                 \
        fa_intp fsteps[12] = {0, 0, 0, 0, 2 * (fa_intp)sizeof(double), 0,                             \
                              steps[5], steps[8], steps[12], steps[7], steps[10], steps[14]};         \
        char *fargs[6] = {g, x, w, gx, (char *)(part ? part : one), (char *)(part ? part : one)};     \
        double s = 0.0, e = 0.0;                                                                      \
        if (part) {                                                                                   \
            fa_run(fa_range__prelu_flat_##S, fargs, fdims, fsteps, 3, 6, total / nblocks);            \
            for (fa_intp b = 0; b < nblocks; b++) fa_sum_add(&s, &e, part[2 * b], part[2 * b + 1], 1); \
            free(part);                                                                               \
        } else {                                                                                      \
            for (fa_intp b = 0; b < nblocks; b++) {                                                   \
                fdims[4] = b;                                                                         \
                fa_range__prelu_flat_##S(fargs, 1, fdims, fsteps);                                    \
                fa_sum_add(&s, &e, one[0], one[1], 1);                                                \
            }                                                                                         \
        }                                                                                             \
        *(double *)gw = fa_sum_total(s, e);                                                           \
    }                                                                                                 \
                                                                                                      \
    /* (m, c, k) grad and x, weight (c) -> grad_x (m, c, k), grad_weight (c) in                      \
     * double, for dims[0] independent problems (normally 1). */                                     \
    static void fa_loop__prelu_channels_backward_##S(char **args, const fa_intp *dims,                \
                                                     const fa_intp *steps, void *data)                \
    {                                                                                                 \
        (void)data;                                                                                   \
        const fa_intp m = dims[1], c = dims[2], k = dims[3];                                          \
        const fa_intp per_row = c * k > 0 ? c * k : 1;                                                \
        const fa_intp brows = FA_PRELU_BLOCK / per_row > 0 ? FA_PRELU_BLOCK / per_row : 1;            \
        const fa_intp full = m / brows, rest = m - full * brows, nblocks = full + (rest > 0);          \
        /* core steps in fa_prelu_block's order: g (m,c,k) 5-7, x 8-10, w 11,                         \
         * gx 12-14, gw 15 */                                                                         \
        const fa_intp cs[8] = {steps[6], steps[7], steps[9], steps[10], steps[11], steps[13],          \
                               steps[14], 0};                                                         \
        for (fa_intp q = 0; q < dims[0]; q++) {                                                       \
            char *g = args[0] + q * steps[0], *x = args[1] + q * steps[1], *w = args[2] + q * steps[2]; \
            char *gx = args[3] + q * steps[3], *gw = args[4] + q * steps[4];                          \
            if (c == 1 && m * k > 0) {                                                                \
                fa_prelu_flat_##S(g, x, w, gx, gw, m, k, steps);                                      \
                continue;                                                                             \
            }                                                                                         \
            double *part = nblocks && c ? malloc(sizeof(double) * 2 * (size_t)c * (size_t)nblocks)    \
                                        : NULL;                                                       \
            if (part != NULL) {                                                                       \
                if (full) {                                                                           \
                    char *bargs[5] = {g, x, w, gx, (char *)part};                                     \
                    fa_intp bdims[4] = {full, brows, c, k};                                           \
                    fa_intp bsteps[16] = {brows * steps[5], brows * steps[8], 0, brows * steps[12],   \
                                          (fa_intp)sizeof(double) * 2 * c, steps[5], steps[8],        \
                                          steps[12]};                                                 \
                    for (int t = 0; t < 8; t++) bsteps[8 + t] = cs[t];                                \
                    fa_run(fa_range__prelu_blocks_##S, bargs, bdims, bsteps, 3, 5, brows * per_row);  \
                }                                                                                     \
                if (rest) {                                                                           \
                    char *a[4] = {g + full * brows * steps[5], x + full * brows * steps[8], w,        \
                                  gx + full * brows * steps[12]};                                     \
                    const fa_intp st[4] = {steps[5], steps[8], 0, steps[12]};                         \
                    double *p = part + 2 * c * full;                                                  \
                    fa_prelu_block_##S(a, st, cs, rest, 0, c, k, p, p + c);                           \
                }                                                                                     \
                /* the blocks' partials summed into block 0's, channels inner (a                      \
                 * vector loop; each channel's terms in block order, as from 0) */                    \
                for (fa_intp j = 0; j < 2 * c; j++) part[j] += 0.0; /* 0 + p: -0 -> +0 */             \
                for (fa_intp b = 1; b < nblocks; b++)                                                 \
                    for (fa_intp j = 0; j < c; j++)                                                   \
                        fa_sum_add(&part[j], &part[c + j], part[2 * c * b + j],                       \
                                   part[2 * c * b + c + j], 1);                                       \
                for (fa_intp j = 0; j < c; j++)                                                       \
                    *(double *)(gw + j * steps[15]) = fa_sum_total(part[j], part[c + j]);             \
                free(part);                                                                           \
                continue;                                                                             \
            }                                                                                         \
            /* No memory for the partials (or nothing to do): the same blocks in                      \
             * the same order, a few channels at a time, on this thread. */                           \
            for (fa_intp j0 = 0; j0 < c; j0 += FA_PRELU_FALLBACK_CHANNELS) {                          \
                fa_intp j1 = c - j0 < FA_PRELU_FALLBACK_CHANNELS ? c : j0 + FA_PRELU_FALLBACK_CHANNELS; \
                double ps[2 * FA_PRELU_FALLBACK_CHANNELS], tot[2 * FA_PRELU_FALLBACK_CHANNELS];       \
                for (fa_intp j = 0; j < 2 * FA_PRELU_FALLBACK_CHANNELS; j++) tot[j] = 0.0;           \
                for (fa_intp b = 0; b < nblocks; b++) {                                               \
                    fa_intp r0 = b * brows, nr = m - r0 < brows ? m - r0 : brows;                     \
                    char *a[4] = {g + r0 * steps[5], x + r0 * steps[8], w, gx + r0 * steps[12]};      \
                    const fa_intp st[4] = {steps[5], steps[8], 0, steps[12]};                         \
                    fa_prelu_block_##S(a, st, cs, nr, j0, j1, k, ps, ps + (j1 - j0));                 \
                    for (fa_intp j = 0; j < j1 - j0; j++)                                             \
                        fa_sum_add(&tot[j], &tot[FA_PRELU_FALLBACK_CHANNELS + j], ps[j],           \
                                      ps[(j1 - j0) + j], 1);                                             \
                }                                                                                     \
                for (fa_intp j = j0; j < j1; j++)                                                     \
                    *(double *)(gw + j * steps[15]) =                                                 \
                        fa_sum_total(tot[j - j0], tot[FA_PRELU_FALLBACK_CHANNELS + j - j0]);          \
            }                                                                                         \
        }                                                                                             \
        fa_clear_fp_flags(); /* the serial parts ran outside fa_run */                              \
    }                                                                                                 \
                                                                                                      \
    static void fa_loop__prelu_channels_##S(char **args, const fa_intp *dims, const fa_intp *steps,  \
                                            void *data)                                               \
    {                                                                                                 \
        (void)data;                                                                                   \
        fa_run(fa_range__prelu_channels_##S, args, dims, steps, 2, 3,                                 \
               dims[1] * dims[2] > 1 ? dims[1] * dims[2] : 1);                                        \
    }

FA_PRELU_DEFINE(f16)
FA_PRELU_DEFINE(f32)
FA_PRELU_DEFINE(f64)

#endif
