/* Loops of the one-pass statistics gufuncs of stats.def (included by
 * loops.c, so compiled once per SIMD level with activations.h in scope and
 * the dtype macros FA_ST / FA_CT / FA_LD_ / FA_KS_ defined).
 *
 * _stats_<name>: (n),params...,threshold -> dead, saturated, sum_y, sum_d.
 * Operands: args[0] z (storage dtype), args[1..NP] the activation's
 * parameters and args[NP+1] the threshold (float64), args[NP+2..NP+5] the
 * four float64 outputs; steps[0..NP+5] the outer steps, steps[NP+6] the
 * step along the row of z; dims[0] the rows, dims[1] the row length.
 *
 * Every sample is read once, and nothing the size of z is allocated. The
 * work is done on blocks of up to B = FA_STATS_BLOCK contiguous values by
 * fa_stats_block_<name>: one loop evaluates f and f' into two small local
 * buffers (the shape of the element-wise loops, which GCC vectorises; a
 * kernel with a hand loop, FA_HAND, runs it first, so that a table
 * kernel's lookups are not gathers and the bits are the same), a
 * second adds the four statistics into B accumulator lanes. Two paths:
 *   units  z's rows interleaved element by element (statistics over axis 0
 *          of a C-ordered (batch, units) array: the outer step is one
 *          element) with scalar parameters: B consecutive rows are reduced
 *          together, one contiguous run of B values per sample, so memory
 *          is read in order; lane j is row j;
 *   rows   otherwise, row by row: the row is cut into runs of B samples
 *          (gathered into a buffer when the row is strided) and lane j
 *          takes samples j, j + B, j + 2B, ...; the lanes are added up in
 *          order at the end.
 * Each row is summed in an order fixed by its length alone, so the results
 * do not depend on the thread count. Counts are exact (float64 counts up to
 * 2^53); sums are float64 whatever z's dtype. */

#define FA_STATS_BLOCK 64
/* The grad of f'(z) = f_grad(1, z), for the backward hand loops. */
static const float fa_stats_ones_f32[FA_STATS_BLOCK] __attribute__((aligned(64))) = {[0 ... FA_STATS_BLOCK - 1] = 1.0f};
static const double fa_stats_ones_f64[FA_STATS_BLOCK] __attribute__((aligned(64))) = {[0 ... FA_STATS_BLOCK - 1] = 1.0};
static const float fa_stats_ones_f16[1] = {1.0f}; /* float16 has no hand loops */

/* The activation's parameters as arguments: p[0..NP-1]. */
#define FA_SP_0
#define FA_SP_1 , p[0]
#define FA_SP_2 , p[0], p[1]
#define FA_SP_3 , p[0], p[1], p[2]
#define FA_SP(NP) FA_CAT(FA_SP_, NP)

#define FA_STATS_LOOPS_S(NAME, S, NP, SAVED)                                                      \
    /* Add the statistics of the w <= B contiguous values at v to lanes 0..w-1 of acc            \
     * (four arrays of B lanes: dead, saturated, sum f, sum f'). */                               \
    static inline __attribute__((always_inline)) void FA_CAT(fa_stats_block_##NAME##_, S)(       \
        const FA_ST(S) *v, int w, const FA_CT(S) *p, FA_CT(S) t, double *acc)                     \
    {                                                                                             \
        enum { B = FA_STATS_BLOCK };                                                              \
        _Alignas(64) FA_CT(S) yb[FA_STATS_BLOCK], db[FA_STATS_BLOCK];                             \
        /* the element-wise loops' hand loops first, where there are, the parameters after       \
         * the data operands as there */                                                          \
        double pf[(NP) + 1], pb[(NP) + 2];                                                        \
        for (int k = 0; k < (NP); k++) pf[1 + k] = pb[2 + k] = (double)p[k];                     \
        char *a[2] = {(char *)v, NULL};                                                           \
        int j0 = (int)FA_HAND(NAME, S)(yb, a, pf, w);                                             \
        for (int j = j0; j < w; j++)                                                              \
            yb[j] = FA_CAT(fa_##NAME##_, FA_CAT(FA_KS_, S))(FA_CAT(FA_LD_, S)(v[j]) FA_SP(NP));   \
        a[0] = (char *)FA_CAT(fa_stats_ones_, S);                                                 \
        a[1] = (SAVED) == FA_SAVED_OUTPUT ? (char *)yb : (char *)v; /* all of yb is written */    \
        j0 = (int)FA_HAND(NAME##_grad, S)(db, a, pb, w);                                          \
        for (int j = j0; j < w; j++)                                                              \
            db[j] = FA_CAT(fa_##NAME##_grad_, FA_CAT(FA_KS_, S))(                                 \
                (FA_CT(S))1, (SAVED) == FA_SAVED_OUTPUT ? yb[j] : FA_CAT(FA_LD_, S)(v[j]) FA_SP(NP)); \
        for (int j = 0; j < w; j++) {                                                             \
            FA_CT(S) x = FA_CAT(FA_LD_, S)(v[j]), d = db[j];                                      \
            FA_CT(S) ad = d < 0 ? -d : d;                                                         \
            acc[j] += (double)((d == 0) & (x <= 0));                                              \
            acc[B + j] += (double)(ad < t);                                                       \
            acc[2 * B + j] += (double)yb[j];                                                      \
            acc[3 * B + j] += (double)d;                                                          \
        }                                                                                         \
    }                                                                                             \
    static void FA_CAT(fa_range__stats_##NAME##_, S)(char **args, fa_intp n, const fa_intp *dims, \
                                                    const fa_intp *steps)                        \
    {                                                                                             \
        enum { B = FA_STATS_BLOCK, NA = (NP) + 6 };                                               \
        const fa_intp m = dims[1], cs = steps[NA];                                                \
        const fa_intp item = (fa_intp)sizeof(FA_ST(S));                                           \
        double acc[4 * FA_STATS_BLOCK];                                                           \
        FA_ST(S) buf[FA_STATS_BLOCK];                                                             \
        FA_CT(S) p[(NP) + 1];                                                                     \
        int scalar_params = 1;                                                                    \
        for (int k = 1; k <= (NP) + 1; k++) scalar_params &= steps[k] == 0;                       \
        if (n > 1 && steps[0] == item && scalar_params) { /* units */                            \
            for (int k = 0; k < (NP); k++) p[k] = (FA_CT(S)) * (const double *)args[1 + k];       \
            const FA_CT(S) t = (FA_CT(S)) * (const double *)args[(NP) + 1];                       \
            for (fa_intp u0 = 0; u0 < n; u0 += B) {                                               \
                const int w = (int)(n - u0 < B ? n - u0 : B);                                     \
                const char *base = args[0] + u0 * item;                                           \
                for (int j = 0; j < 4 * B; j++) acc[j] = 0.0;                                     \
                for (fa_intp b = 0; b < m; b++)                                                   \
                    FA_CAT(fa_stats_block_##NAME##_, S)((const FA_ST(S) *)(base + b * cs), w, p,  \
                                                        t, acc);                                  \
                for (int k = 0; k < 4; k++)                                                       \
                    for (int j = 0; j < w; j++)                                                   \
                        *(double *)(args[(NP) + 2 + k] + (u0 + j) * steps[(NP) + 2 + k]) =        \
                            acc[k * B + j];                                                       \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        const int lanes = (int)(m < B ? m : B);                                                   \
        for (fa_intp i = 0; i < n; i++) { /* rows */                                              \
            for (int k = 0; k < (NP); k++)                                                        \
                p[k] = (FA_CT(S)) * (const double *)(args[1 + k] + i * steps[1 + k]);             \
            const FA_CT(S) t =                                                                    \
                (FA_CT(S)) * (const double *)(args[(NP) + 1] + i * steps[(NP) + 1]);              \
            const char *z = args[0] + i * steps[0];                                               \
            for (int k = 0; k < 4; k++)                                                           \
                for (int j = 0; j < lanes; j++) acc[k * B + j] = 0.0;                             \
            for (fa_intp r0 = 0; r0 < m; r0 += B) {                                               \
                const int w = (int)(m - r0 < B ? m - r0 : B);                                     \
                const FA_ST(S) *run = (const FA_ST(S) *)(z + r0 * cs);                            \
                if (cs != item) {                                                                 \
                    for (int j = 0; j < w; j++)                                                   \
                        buf[j] = *(const FA_ST(S) *)(z + (r0 + j) * cs);                          \
                    run = buf;                                                                    \
                }                                                                                 \
                FA_CAT(fa_stats_block_##NAME##_, S)(run, w, p, t, acc);                           \
            }                                                                                     \
            for (int k = 0; k < 4; k++) {                                                         \
                double tot = 0.0;                                                                 \
                for (int j = 0; j < lanes; j++) tot += acc[k * B + j];                            \
                *(double *)(args[(NP) + 2 + k] + i * steps[(NP) + 2 + k]) = tot;                  \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    static void FA_CAT(fa_loop__stats_##NAME##_, S)(char **args, const fa_intp *dims,             \
                                                   const fa_intp *steps, void *data)             \
    {                                                                                             \
        (void)data;                                                                               \
        fa_run(FA_CAT(fa_range__stats_##NAME##_, S), args, dims, steps, (NP) + 2, (NP) + 6,       \
               dims[1] > 0 ? dims[1] : 1);                                                        \
    }

#define FA_STATS_LOOPS(NAME, NP, SAVED)                                                  \
    FA_STATS_LOOPS_S(NAME, f16, NP, SAVED)                                               \
    FA_STATS_LOOPS_S(NAME, f32, NP, SAVED) FA_STATS_LOOPS_S(NAME, f64, NP, SAVED)
