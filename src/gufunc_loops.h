/* Hand-written loops of the rows of gufuncs.def (included by loops.c, so
 * compiled once per SIMD level with activations.h in scope).
 *
 * The row kernels are a precision template (rowwise_defs.h); here they are
 * instantiated and wrapped as NumPy gufunc loops fa_loop_<name>_<dtype>:
 * float16 rows are computed in float32 (and rounded once), every loop runs
 * its rows through fa_run, which splits a large batch of rows across
 * threads (each row is independent, so the result does not depend on the
 * split).
 *
 * Operands of a gufunc loop: args[k] / steps[k] are the outer (per row)
 * pointer and stride of operand k, dims[1] the row length n, and the core
 * strides follow the outer ones in steps[], one per core dimension. */
#include <math.h>
#include "hand_loops.h" /* FA_IVDEP */

#define FA_ROW_BLOCK 256 /* elements of a row per chunk (stack buffers) */
enum { FA_STORE_NATIVE = 0, FA_STORE_HALF = 1, FA_STORE_FLOAT = 2 }; /* rowwise_defs.h */
#define FA_LANES 64      /* independent accumulators of a row reduction */

/* for (k, len) over the chunks [k, k + len) of a row of n elements. */
#define FA_CHUNKS(k, len, n)                                                           \
    for (fa_intp k = 0, len = (n) < FA_ROW_BLOCK ? (n) : FA_ROW_BLOCK; k < (n);          \
         k += FA_ROW_BLOCK, len = (n) - k < FA_ROW_BLOCK ? (n) - k : FA_ROW_BLOCK)

/* Sums of a row in double over FA_LANES lanes, each a plain or a
 * compensated (TwoSum, the rounding errors gathered in c) accumulator:
 * value i of a chunk goes to lane i % FA_LANES. The lanes stay in memory
 * (a rare path, stats_tiny, adds to them one by one) and fold the lanes of
 * fa_vacc below. FA_ROW_BLOCK is a multiple of FA_LANES, so a row is summed
 * in the same order whatever its layout. */
typedef struct {
    double s[FA_LANES], c[FA_LANES];
} fa_acc;

FA_INLINE void fa_acc_init(fa_acc *a)
{
    for (int j = 0; j < FA_LANES; j++) a->s[j] = a->c[j] = 0;
}

/* *s + v; with comp, the error of the addition (and vl, the exact low part
 * of v) into *c. */
FA_INLINE void fa_sum_add(double *s, double *c, double v, double vl, const int comp)
{
    double t = *s + v;
    if (comp) *c += fa_add_err_f64(*s, v, t) + vl;
    *s = t;
}

FA_INLINE void fa_acc_add(fa_acc *a, int j, double v, double vl, const int comp)
{
    fa_sum_add(&a->s[j], &a->c[j], v, vl, comp);
}

/* The total of a compensated sum s + c: a non-finite s keeps no
 * compensation (once a term is inf, TwoSum's inf - inf made c NaN). */
FA_INLINE double fa_sum_total(double s, double c)
{
    return isfinite(s) ? s + c : s;
}

/* A compensated sum s + c as hi + *lo; *lo is 0 unless within (-1, 1)
 * (so where the sum is not finite). */
FA_INLINE double fa_sum_hi_lo(double s, double c, double *lo)
{
    double hi = fa_sum_total(s, c);
    *lo = c - (hi - s);
    *lo = (*lo > -1 && *lo < 1) ? *lo : 0.0;
    return hi;
}

/* The total of the first `lanes` lanes, as hi + *lo: folded in halves
 * (each fold an element-wise loop too). */
FA_INLINE double fa_acc_total(fa_acc *a, double *lo, const int lanes)
{
    for (int h = lanes / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; j++) {
            a->c[j] += a->c[j + h];
            fa_acc_add(a, j, a->s[j + h], 0.0, 1);
        }
    return fa_sum_hi_lo(a->s[0], a->c[0], lo);
}

/* The same sums with the lanes in registers: FA_VN vectors of FA_VW
 * doubles, the SIMD level's register width (GNU C vector types; a wider
 * vector than the ISA's, GCC lowered through the stack and general
 * registers: the AVX2 softmax backward ran 2x slower than the SSE2 one), so
 * that a compensated sum costs only its arithmetic -- the loop vectoriser
 * would keep such lanes in memory. Value i of a chunk goes to lane
 * i % FA_VL, as above (FA_ROW_BLOCK is a multiple of FA_VL), and a short
 * tail is padded with zeros, which leave every lane unchanged: the order of
 * the sums does not depend on the row's layout (it does on the level). s
 * and c take 8 registers. */
#if defined(__AVX512F__)
#define FA_VW 8
#elif defined(__AVX__)
#define FA_VW 4
#else
#define FA_VW 2
#endif
#define FA_VN 4
#define FA_VL (FA_VW * FA_VN)
typedef double fa_vd __attribute__((vector_size(8 * FA_VW)));
typedef struct {
    fa_vd s[FA_VN], c[FA_VN];
} fa_vacc;

FA_INLINE void fa_vacc_init(fa_vacc *a)
{
    for (int v = 0; v < FA_VN; v++) a->s[v] = a->c[v] = (fa_vd){0};
}

/* s + t, TwoSum's error into c. (Vectors are passed by pointer: by value,
 * below AVX-512, GCC warns of an ABI change, though all is inlined.) */
FA_INLINE void fa_vsum_add(fa_vd *s, fa_vd *c, const fa_vd *t)
{
    fa_vd u = *s + *t, bb = u - *s;
    *c += (*s - (u - bb)) + (*t - bb);
    *s = u;
}

/* The total as hi + *lo: the FA_VL lanes folded in halves as in
 * fa_acc_total (the same operations in the same order, so the same bits),
 * but in registers: the vectors pairwise, then each half of the last one
 * onto the other by a shuffle. fa_acc_total's zeroed 64-lane copy made
 * this fold a sixth of a 1000-element row's softmax backward. */
typedef long long fa_vi __attribute__((vector_size(8 * FA_VW)));
FA_INLINE double fa_vacc_total(const fa_vacc *a, double *lo)
{
    fa_vd s[FA_VN], c[FA_VN];
    for (int v = 0; v < FA_VN; v++) {
        s[v] = a->s[v];
        c[v] = a->c[v];
    }
    for (int h = FA_VN / 2; h >= 1; h /= 2)
        for (int v = 0; v < h; v++) {
            c[v] += c[v + h];
            fa_vsum_add(&s[v], &c[v], &s[v + h]);
        }
    /* Lanes past the half get zeros (index FA_VW: the zero vector), so the
     * unused lanes never overflow or raise a flag. */
#if FA_VW == 8
    static const fa_vi half[] = {{4, 5, 6, 7, 8, 8, 8, 8}, {2, 3, 8, 8, 8, 8, 8, 8}, {1, 8, 8, 8, 8, 8, 8, 8}};
#elif FA_VW == 4
    static const fa_vi half[] = {{2, 3, 4, 4}, {1, 4, 4, 4}};
#else
    static const fa_vi half[] = {{1, 2}};
#endif
    const fa_vd zero = {0};
    for (int k = 0; k < (int)(sizeof(half) / sizeof(half[0])); k++) {
        fa_vd su = __builtin_shuffle(s[0], zero, half[k]);
        c[0] += __builtin_shuffle(c[0], zero, half[k]);
        fa_vsum_add(&s[0], &c[0], &su);
    }
    return fa_sum_hi_lo(s[0][0], c[0][0], lo);
}

/* An unsigned integer of the compute type's width (counts that vectorise
 * with it), and the exp kernel m * exp(a + b) (vmath_exp.h). */
typedef uint32_t fa_ru_f32;
typedef uint64_t fa_ru_f64;
#define FA_RU FA_PASTE3(fa_ru_, FA_S, )
#define FA_EXP_CORE FA_PASTE3(fa_exp_neg_core_, FA_S, ) /* arguments x - max <= 0 */

#define FA_TEMPLATE "rowwise_defs.h"
#include "precisions.h"

/* The temperature of row r. A float16/float32 row uses it in float32 (the
 * parameters' convention), which holds it and its reciprocal only within
 * FA_T_IN_FLOAT; beyond, the row runs through the float64 kernel (stored
 * as float16 or float32, rounded once), not into a float overflow. */
#define FA_ROW_T(k) (*(const double *)(args[k] + r * steps[k]))
#define FA_T_IN_FLOAT(t) ((t) >= 0x1p-60 && (t) <= 0x1p60)
#define FA_WIDE_STORE(HALF) ((HALF) ? FA_STORE_HALF : FA_STORE_FLOAT)
#define FA_ROW_LABEL(k) (*(const fa_intp *)(args[k] + r * steps[k]))

/* (n),()->(n): softmax, log_softmax ------------------------------------- */
#define FA_SOFTMAX_RANGE(NAME, S, CT, KS, HALF, LOG)                                                  \
    static void fa_range_##NAME##_##S(char **args, fa_intp rows, const fa_intp *dims,                \
                                       const fa_intp *steps)                                          \
    {                                                                                                 \
        for (fa_intp r = 0; r < rows; r++) {                                                          \
            double t = FA_ROW_T(1);                                                                   \
            if (sizeof(CT) == 8 || FA_T_IN_FLOAT(t))                                                  \
                fa_softmax_row_##KS(args[0] + r * steps[0], steps[3], args[2] + r * steps[2],        \
                                    steps[4], dims[1], (CT)t, HALF, LOG);                             \
            else                                                                                      \
                fa_softmax_row_f64(args[0] + r * steps[0], steps[3], args[2] + r * steps[2],         \
                                   steps[4], dims[1], t, FA_WIDE_STORE(HALF), LOG);                   \
        }                                                                                             \
    }

/* (n),(n),()->(n): softmax_backward, log_softmax_backward ----------------- */
#define FA_SOFTMAX_BACKWARD_RANGE(NAME, FN, S, CT, KS, HALF)                                          \
    static void fa_range_##NAME##_##S(char **args, fa_intp rows, const fa_intp *dims,                \
                                       const fa_intp *steps)                                          \
    {                                                                                                 \
        for (fa_intp r = 0; r < rows; r++) {                                                          \
            double t = FA_ROW_T(2);                                                                   \
            if (sizeof(CT) == 8 || FA_T_IN_FLOAT(t))                                                  \
                FN##_##KS(args[0] + r * steps[0], steps[4], args[1] + r * steps[1], steps[5],       \
                          args[3] + r * steps[3], steps[6], dims[1], (CT)t, HALF);                    \
            else                                                                                      \
                FN##_f64(args[0] + r * steps[0], steps[4], args[1] + r * steps[1], steps[5],        \
                         args[3] + r * steps[3], steps[6], dims[1], t, FA_WIDE_STORE(HALF));          \
        }                                                                                             \
    }

/* (n),()->(): softmax_cross_entropy -------------------------------------- */
#define FA_CROSS_ENTROPY_RANGE(S, ST, KS, HALF)                                                       \
    static void fa_range_softmax_cross_entropy_##S(char **args, fa_intp rows, const fa_intp *dims,   \
                                                    const fa_intp *steps)                             \
    {                                                                                                 \
        for (fa_intp r = 0; r < rows; r++) {                                                          \
            *(ST *)(args[2] + r * steps[2]) = FA_STORE_##S(fa_cross_entropy_row_##KS(                 \
                args[0] + r * steps[0], steps[3], dims[1], FA_ROW_LABEL(1), HALF));                   \
        }                                                                                             \
    }

/* (),(n),()->(n): softmax_cross_entropy_backward ------------------------- */
#define FA_CROSS_ENTROPY_BACKWARD_RANGE(S, ST, KS, HALF)                                              \
    static void fa_range_softmax_cross_entropy_backward_##S(char **args, fa_intp rows,               \
                                                             const fa_intp *dims,                     \
                                                             const fa_intp *steps)                    \
    {                                                                                                 \
        for (fa_intp r = 0; r < rows; r++)                                                            \
            fa_cross_entropy_backward_row_##KS(FA_LOAD_##S(*(const ST *)(args[0] + r * steps[0])),   \
                                               args[1] + r * steps[1], steps[4], FA_ROW_LABEL(2),    \
                                               args[3] + r * steps[3], steps[5], dims[1], HALF);      \
    }

#define FA_LOAD_f16(v) fa_half_to_float(v)
#define FA_LOAD_f32(v) (v)
#define FA_LOAD_f64(v) (v)
#define FA_STORE_f16(v) fa_float_to_half(v)
#define FA_STORE_f32(v) (v)
#define FA_STORE_f64(v) (v)

/* The NumPy loop: the rows through fa_run (work per row: its length). */
#define FA_GUFUNC_LOOP(NAME, S, NIN, NARGS)                                                            \
    static void fa_loop_##NAME##_##S(char **args, const fa_intp *dims, const fa_intp *steps,         \
                                     void *data)                                                      \
    {                                                                                                 \
        (void)data;                                                                                   \
        fa_run(fa_range_##NAME##_##S, args, dims, steps, NIN, NARGS, dims[1] > 1 ? dims[1] : 1);     \
    }
#define FA_GUFUNC_LOOPS(NAME, NIN, NARGS) \
    FA_GUFUNC_LOOP(NAME, f16, NIN, NARGS) FA_GUFUNC_LOOP(NAME, f32, NIN, NARGS) FA_GUFUNC_LOOP(NAME, f64, NIN, NARGS)

FA_SOFTMAX_RANGE(softmax, f16, float, f32, 1, 0)
FA_SOFTMAX_RANGE(softmax, f32, float, f32, 0, 0)
FA_SOFTMAX_RANGE(softmax, f64, double, f64, 0, 0)
FA_GUFUNC_LOOPS(softmax, 2, 3)

FA_SOFTMAX_RANGE(log_softmax, f16, float, f32, 1, 1)
FA_SOFTMAX_RANGE(log_softmax, f32, float, f32, 0, 1)
FA_SOFTMAX_RANGE(log_softmax, f64, double, f64, 0, 1)
FA_GUFUNC_LOOPS(log_softmax, 2, 3)

FA_SOFTMAX_BACKWARD_RANGE(softmax_backward, fa_softmax_backward_row, f16, float, f32, 1)
FA_SOFTMAX_BACKWARD_RANGE(softmax_backward, fa_softmax_backward_row, f32, float, f32, 0)
FA_SOFTMAX_BACKWARD_RANGE(softmax_backward, fa_softmax_backward_row, f64, double, f64, 0)
FA_GUFUNC_LOOPS(softmax_backward, 3, 4)

FA_SOFTMAX_BACKWARD_RANGE(log_softmax_backward, fa_log_softmax_backward_row, f16, float, f32, 1)
FA_SOFTMAX_BACKWARD_RANGE(log_softmax_backward, fa_log_softmax_backward_row, f32, float, f32, 0)
FA_SOFTMAX_BACKWARD_RANGE(log_softmax_backward, fa_log_softmax_backward_row, f64, double, f64, 0)
FA_GUFUNC_LOOPS(log_softmax_backward, 3, 4)

FA_CROSS_ENTROPY_RANGE(f16, uint16_t, f32, 1)
FA_CROSS_ENTROPY_RANGE(f32, float, f32, 0)
FA_CROSS_ENTROPY_RANGE(f64, double, f64, 0)
FA_GUFUNC_LOOPS(softmax_cross_entropy, 2, 3)

FA_CROSS_ENTROPY_BACKWARD_RANGE(f16, uint16_t, f32, 1)
FA_CROSS_ENTROPY_BACKWARD_RANGE(f32, float, f32, 0)
FA_CROSS_ENTROPY_BACKWARD_RANGE(f64, double, f64, 0)
FA_GUFUNC_LOOPS(softmax_cross_entropy_backward, 3, 4)
