/* Row-wise kernels (softmax, log_softmax, softmax_cross_entropy and their
 * backwards), written once for both precisions: included by gufunc_loops.h
 * with FA_T / FA_S set, like activation_defs.h (no include guard).
 *
 * A row is processed in chunks of FA_ROW_BLOCK elements. A chunk of a
 * contiguous row of the compute type is used in place; any other row (a
 * strided axis, or float16 storage, computed in float32) is copied chunk by
 * chunk into a buffer on the stack, so no row needs memory of its own and
 * every inner loop runs over contiguous data and vectorises.
 *
 * Accuracy: every row reduction is compensated -- float rows accumulate in
 * double, double rows with Kahan-Babuska (and exact products for dots) --
 * and the argument of every exp is (x - max) / T with its rounding error
 * carried along (exp turns an absolute error of its argument into a
 * relative error |argument| times larger). */

/* Elements [k, k + len) of a row at p (byte step s), as FA_T. */
FA_INLINE const FA_T *FA_FN(row_in)(const char *p, fa_intp s, fa_intp k, fa_intp len, int half,
                                    FA_T *buf)
{
    if (!half && s == (fa_intp)sizeof(FA_T)) return (const FA_T *)p + k;
    p += k * s;
    if (half) {
        for (fa_intp i = 0; i < len; i++) buf[i] = (FA_T)fa_half_to_float(*(const uint16_t *)(p + i * s));
    } else {
        for (fa_intp i = 0; i < len; i++) buf[i] = *(const FA_T *)(p + i * s);
    }
    return buf;
}

/* Where to compute elements [k, ...) of an output row: in place when it is
 * contiguous FA_T, else in buf (then row_flush writes them out). */
FA_INLINE FA_T *FA_FN(row_dst)(char *p, fa_intp s, fa_intp k, int half, FA_T *buf)
{
    return (!half && s == (fa_intp)sizeof(FA_T)) ? (FA_T *)p + k : buf;
}

FA_INLINE void FA_FN(row_flush)(char *p, fa_intp s, fa_intp k, fa_intp len, int half, const FA_T *dst,
                                const FA_T *buf)
{
    if (dst != buf) return;
    p += k * s;
    if (half) {
        for (fa_intp i = 0; i < len; i++) *(uint16_t *)(p + i * s) = fa_float_to_half((float)buf[i]);
    } else {
        for (fa_intp i = 0; i < len; i++) *(FA_T *)(p + i * s) = buf[i];
    }
}

/* Largest element of a row (NaN skipped; -inf for an empty row). */
static FA_T FA_FN(row_max)(const char *p, fa_intp s, fa_intp n, int half)
{
    FA_T buf[FA_ROW_BLOCK], lane[FA_LANES];
    for (int j = 0; j < FA_LANES; j++) lane[j] = (FA_T)-INFINITY;
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK, i = 0;
        const FA_T *x = FA_FN(row_in)(p, s, k, len, half, buf);
        for (; i + FA_LANES <= len; i += FA_LANES)
            for (int j = 0; j < FA_LANES; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
        for (; i < len; i++) lane[0] = x[i] > lane[0] ? x[i] : lane[0];
    }
    FA_T m = lane[0];
    for (int j = 1; j < FA_LANES; j++) m = lane[j] > m ? lane[j] : m;
    return m;
}

/* d - q * t exactly (q ~ d / t): one FMA, or Dekker's product. Written
 * without a separate product that GCC could contract into a neighbour. */
FA_INLINE FA_T FA_FN(div_rem)(FA_T d, FA_T t, FA_T q)
{
#ifdef __FMA__
    return FA_TFMA(-q, t, d);
#else
    FA_T p = q * t;
    return (d - p) - FA_FN(mul_err)(q, t, p);
#endif
}

/* u = (x - m) / t as hi + *lo (|lo| <= ulp(hi)); inv = 1 / t. In double for
 * float rows, with TwoSum and an exact remainder for double rows. */
FA_INLINE FA_T FA_FN(row_arg)(FA_T x, FA_T m, FA_T t, double inv, FA_T *lo)
{
    FA_T hi, l;
    if (sizeof(FA_T) == 4) {
        double u = ((double)x - (double)m) * inv;
        hi = (FA_T)u;
        l = (FA_T)(u - (double)hi);
    } else {
        FA_T d = x - m, de = FA_FN(add_err)(x, -m, d);
        FA_T ti = (FA_T)inv;
        hi = d * ti;
        l = (FA_FN(div_rem)(d, t, hi) + de) * ti;
    }
    /* inf - inf, 0 * inf...: the correction is meaningless there, and the
     * value is carried by hi alone (0, NaN, +-inf). */
    *lo = (l > -1 && l < 1) ? l : FA_C(0);
    return hi;
}

/* exp(hi + lo) = exp(hi) (1 + lo) to within lo^2. */
FA_INLINE FA_T FA_FN(exp2w)(FA_T hi, FA_T lo)
{
    FA_T e = FA_M(exp)(hi);
    return e + e * lo;
}

/* exp(hi + lo) as a double. Float rows: the float exp shifted by 37 below
 * -80, where exp alone would lose bits as a subnormal, and scaled back in
 * double (the sums and quotients of float rows are in double). */
FA_INLINE double FA_FN(exp2w_d)(FA_T hi, FA_T lo)
{
    if (sizeof(FA_T) == 4) {
        int shifted = hi < (FA_T)-80;
        double e = (double)FA_M(exp)(shifted ? hi + (FA_T)37 : hi) * (1.0 + (double)lo);
        return shifted ? e * 8.533047625744066e-17 : e; /* exp(-37) */
    }
    return (double)FA_FN(exp2w)(hi, lo);
}

/* Compensated lane accumulators, in double for both precisions: a
 * Kahan-Babuska correction per lane (float rows: products are exact in
 * double; double rows: the exact low part of each product is added too).
 * Sums such as g - sum(g y) cancel when one y is 1 and the others tiny:
 * the compensation keeps them exact to the last bit of the result. */
typedef struct {
    double s[FA_LANES], c[FA_LANES];
} FA_FN(acc);

FA_INLINE void FA_FN(acc_init)(FA_FN(acc) *a)
{
    for (int j = 0; j < FA_LANES; j++) a->s[j] = a->c[j] = 0;
}

/* Add v (and, for double rows, its exact low part vl) to lane j. */
FA_INLINE void FA_FN(acc_add)(FA_FN(acc) *a, int j, double v, double vl)
{
    double t = a->s[j] + v;
    a->c[j] += fa_add_err_f64(a->s[j], v, t) + vl;
    a->s[j] = t;
}

/* The total, as hi + *lo. */
FA_INLINE double FA_FN(acc_total)(const FA_FN(acc) *a, double *lo)
{
    double s = 0, c = 0;
    for (int j = 0; j < FA_LANES; j++) {
        double t = s + a->s[j];
        c += fa_add_err_f64(s, a->s[j], t) + a->c[j];
        s = t;
    }
    double hi = s + c;
    *lo = (c - (hi - s));
    *lo = (*lo > -1 && *lo < 1) ? *lo : 0.0;
    return hi;
}

/* The statistics of a row for softmax-like functions: its max m, the count
 * of elements equal to m (each contributes exp(0) = 1 exactly) and the sum
 * S' of exp((x - m) / t) over the others, so that the normaliser is
 * cnt + S' and its log is log1p((cnt - 1) + S') -- accurate when the row
 * is dominated by one element (S' tiny), where log(S) would round to 0.
 * A max of +-inf (x - m = NaN) or a NaN anywhere makes S' NaN: the row's
 * result is NaN, as in PyTorch (a row of all -inf included). */
typedef struct {
    FA_T m;
    double inv;      /* 1 / t */
    double cnt;      /* elements equal to the max */
    double sum;      /* S' (hi part) */
    double sum_lo;   /* S' (lo part) */
} FA_FN(row_stats);

/* The statistics pass; with do_store (a constant after inlining) it also
 * writes each exp((x - m) / t) to store[] (a contiguous output row), so that
 * softmax then only scales them instead of computing every exp twice. */
FA_INLINE FA_FN(row_stats) FA_FN(softmax_stats_core)(const char *p, fa_intp s, fa_intp n, int half, FA_T t,
                                                     FA_T *store, const int do_store)
{
    FA_FN(row_stats) st;
    FA_T buf[FA_ROW_BLOCK];
    FA_FN(acc) acc;
    double cnt[FA_LANES];
    st.m = FA_FN(row_max)(p, s, n, half);
    st.inv = 1.0 / (double)t;
    FA_FN(acc_init)(&acc);
    for (int j = 0; j < FA_LANES; j++) cnt[j] = 0;
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK, i = 0;
        const FA_T *x = FA_FN(row_in)(p, s, k, len, half, buf);
        FA_T *y = do_store ? store + k : NULL;
#define FA_STATS_STEP(j, ii)                                            \
    do {                                                                \
        FA_T xi_ = x[ii];                                               \
        FA_T lo_, hi_ = FA_FN(row_arg)(xi_, st.m, t, st.inv, &lo_);     \
        double e_ = FA_FN(exp2w_d)(hi_, lo_);                           \
        int top_ = xi_ == st.m;                                         \
        cnt[j] += top_ ? 1.0 : 0.0;                                     \
        FA_FN(acc_add)(&acc, j, top_ ? (double)hi_ : e_, 0.0);          \
        if (do_store) y[ii] = (FA_T)e_;                                 \
    } while (0)
        for (; i + FA_LANES <= len; i += FA_LANES)
            for (int j = 0; j < FA_LANES; j++) FA_STATS_STEP(j, i + j);
        for (; i < len; i++) FA_STATS_STEP(0, i);
#undef FA_STATS_STEP
    }
    st.cnt = 0;
    for (int j = 0; j < FA_LANES; j++) st.cnt += cnt[j];
    st.sum = FA_FN(acc_total)(&acc, &st.sum_lo);
    return st;
}

static FA_FN(row_stats) FA_FN(softmax_stats)(const char *p, fa_intp s, fa_intp n, int half, FA_T t)
{
    return FA_FN(softmax_stats_core)(p, s, n, half, t, NULL, 0);
}

static FA_FN(row_stats) FA_FN(softmax_stats_store)(const char *p, fa_intp s, fa_intp n, FA_T t, FA_T *store)
{
    return FA_FN(softmax_stats_core)(p, s, n, 0, t, store, 1);
}

/* log(cnt + S') = log1p((cnt - 1) + S'), in double. */
FA_INLINE double FA_FN(stats_log)(const FA_FN(row_stats) *st)
{
    double a = (st->cnt - 1.0) + st->sum;
    double lo = fa_add_err_f64(st->cnt - 1.0, st->sum, a) + st->sum_lo;
    double l = fa_vm_log1p_f64(a);
    return l + lo / (1.0 + a); /* log1p(a + lo) */
}

/* softmax / log_softmax of one row ---------------------------------------- */
static void FA_FN(softmax_row)(const char *xp, fa_intp sx, char *yp, fa_intp sy, fa_intp n, FA_T t,
                               int half, int take_log)
{
    FA_T buf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    if (!take_log && !half && sy == (fa_intp)sizeof(FA_T)) {
        /* a contiguous output row: keep the exps there (in place too: each
         * element is read before it is written), then scale them */
        FA_T *y = (FA_T *)yp;
        FA_FN(row_stats) st = FA_FN(softmax_stats_store)(xp, sx, n, t, y);
        double total = st.cnt + st.sum;
        double inv_total = 1.0 / total;
        FA_T ftotal = (FA_T)total;
        if (sizeof(FA_T) == 4) {
            FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = (FA_T)((double)y[i] * inv_total);
        } else {
            FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = y[i] / ftotal;
        }
        return;
    }
    FA_FN(row_stats) st = FA_FN(softmax_stats)(xp, sx, n, half, t);
    double total = st.cnt + st.sum;
    double inv_total = 1.0 / total;
    FA_T ftotal = (FA_T)total;
    double L = FA_FN(stats_log)(&st);
    FA_T Lh = (FA_T)L, Ll = (FA_T)(L - (double)Lh);
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK;
        const FA_T *x = FA_FN(row_in)(xp, sx, k, len, half, buf);
        FA_T *y = FA_FN(row_dst)(yp, sy, k, half, obuf);
        if (take_log) {
            if (sizeof(FA_T) == 4) {
                FA_IVDEP for (fa_intp i = 0; i < len; i++)
                    y[i] = (FA_T)(((double)x[i] - (double)st.m) * st.inv - L);
            } else {
                FA_IVDEP for (fa_intp i = 0; i < len; i++) {
                    FA_T lo, hi = FA_FN(row_arg)(x[i], st.m, t, st.inv, &lo);
                    y[i] = (hi - Lh) + (lo - Ll);
                }
            }
        } else {
            FA_IVDEP for (fa_intp i = 0; i < len; i++) {
                FA_T lo, hi = FA_FN(row_arg)(x[i], st.m, t, st.inv, &lo);
                y[i] = sizeof(FA_T) == 4 ? (FA_T)(FA_FN(exp2w_d)(hi, lo) * inv_total)
                                         : FA_FN(exp2w)(hi, lo) / ftotal;
            }
        }
        FA_FN(row_flush)(yp, sy, k, len, half, y, obuf);
    }
}

/* Backward of softmax from its output y: (g - sum(g y)) y / t. ----------- */
static void FA_FN(softmax_backward_row)(const char *gp, fa_intp sg, const char *yp, fa_intp sy,
                                        char *op, fa_intp so, fa_intp n, FA_T t, int half)
{
    FA_T gbuf[FA_ROW_BLOCK], ybuf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    FA_FN(acc) acc;
    FA_FN(acc_init)(&acc);
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK, i = 0;
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, half, gbuf);
        const FA_T *y = FA_FN(row_in)(yp, sy, k, len, half, ybuf);
        /* float: the product is exact in double; double: exact low part. */
#define FA_DOT_STEP(j, gi, yi)                                             \
    do {                                                                   \
        FA_T p_ = (gi) * (yi);                                             \
        if (sizeof(FA_T) == 4)                                             \
            FA_FN(acc_add)(&acc, j, (double)(gi) * (double)(yi), 0.0);     \
        else                                                               \
            FA_FN(acc_add)(&acc, j, p_, FA_FN(mul_err)(gi, yi, p_));       \
    } while (0)
        for (; i + FA_LANES <= len; i += FA_LANES)
            for (int j = 0; j < FA_LANES; j++) FA_DOT_STEP(j, g[i + j], y[i + j]);
        for (; i < len; i++) FA_DOT_STEP(0, g[i], y[i]);
#undef FA_DOT_STEP
    }
    double dlo, dot = FA_FN(acc_total)(&acc, &dlo);
    double inv = 1.0 / (double)t;
    FA_T fdot = (FA_T)dot, fdlo = (FA_T)dlo;
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK;
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, half, gbuf);
        const FA_T *y = FA_FN(row_in)(yp, sy, k, len, half, ybuf);
        FA_T *o = FA_FN(row_dst)(op, so, k, half, obuf);
        if (sizeof(FA_T) == 4) {
            FA_IVDEP for (fa_intp i = 0; i < len; i++)
                o[i] = (FA_T)(((((double)g[i] - dot) - dlo) * (double)y[i]) * inv);
        } else {
            FA_IVDEP for (fa_intp i = 0; i < len; i++)
                o[i] = (((g[i] - fdot) - fdlo) * y[i]) / t;
        }
        FA_FN(row_flush)(op, so, k, len, half, o, obuf);
    }
}

/* Backward of log_softmax from its output y: (g - exp(y) sum(g)) / t. The
 * two terms may cancel: float rows evaluate exp(y) and the rest in double,
 * so the result is within an ULP; double rows within a few ULP of
 * (|g| + exp(y) |sum(g)|) / t. ------------------------------------------- */
static void FA_FN(log_softmax_backward_row)(const char *gp, fa_intp sg, const char *yp, fa_intp sy,
                                            char *op, fa_intp so, fa_intp n, FA_T t, int half)
{
    FA_T gbuf[FA_ROW_BLOCK], ybuf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    FA_FN(acc) acc;
    FA_FN(acc_init)(&acc);
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK, i = 0;
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, half, gbuf);
        for (; i + FA_LANES <= len; i += FA_LANES)
            for (int j = 0; j < FA_LANES; j++) FA_FN(acc_add)(&acc, j, (double)g[i + j], 0.0);
        for (; i < len; i++) FA_FN(acc_add)(&acc, 0, (double)g[i], 0.0);
    }
    double glo, gsum = FA_FN(acc_total)(&acc, &glo);
    double inv = 1.0 / (double)t;
    FA_T fsum = (FA_T)gsum, fslo = (FA_T)glo;
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK;
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, half, gbuf);
        const FA_T *y = FA_FN(row_in)(yp, sy, k, len, half, ybuf);
        FA_T *o = FA_FN(row_dst)(op, so, k, half, obuf);
        if (sizeof(FA_T) == 4) {
            FA_IVDEP for (fa_intp i = 0; i < len; i++) {
                double e = fa_vm_exp_f64((double)y[i]);
                o[i] = (FA_T)((((double)g[i] - e * gsum) - e * glo) * inv);
            }
        } else {
            FA_IVDEP for (fa_intp i = 0; i < len; i++) {
                FA_T e = FA_M(exp)(y[i]);
                o[i] = ((g[i] - e * fsum) - e * fslo) / t;
            }
        }
        FA_FN(row_flush)(op, so, k, len, half, o, obuf);
    }
}

/* softmax_cross_entropy of one row: log(sum(exp(z))) - z[label], as
 * L - u[label] with u = z - max, L = log1p((cnt - 1) + S'): two terms >= 0,
 * so the loss keeps its relative accuracy down to 0. A label outside
 * [0, n) gives NaN (the Python wrapper rejects such labels first). */
static FA_T FA_FN(cross_entropy_row)(const char *zp, fa_intp sz, fa_intp n, fa_intp label, int half)
{
    if (label < 0 || label >= n) return (FA_T)NAN;
    FA_FN(row_stats) st = FA_FN(softmax_stats)(zp, sz, n, half, FA_C(1));
    double L = FA_FN(stats_log)(&st);
    FA_T zl = half ? (FA_T)fa_half_to_float(*(const uint16_t *)(zp + label * sz))
                   : *(const FA_T *)(zp + label * sz);
    FA_T lo, hi = FA_FN(row_arg)(zl, st.m, FA_C(1), 1.0, &lo);
    if (sizeof(FA_T) == 4) return (FA_T)(L - ((double)hi + (double)lo));
    FA_T Lh = (FA_T)L, Ll = (FA_T)(L - (double)Lh);
    return (Lh - hi) + (Ll - lo);
}

/* Its backward: g (softmax(z) - onehot(label)). At the label the value
 * p - 1 is evaluated as -(sum of the other terms) / S when the label holds
 * the max (where p -> 1 and p - 1 would cancel). */
static void FA_FN(cross_entropy_backward_row)(FA_T g, const char *zp, fa_intp sz, fa_intp label,
                                              char *op, fa_intp so, fa_intp n, int half)
{
    FA_T buf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    int bad = label < 0 || label >= n;
    FA_FN(row_stats) st = FA_FN(softmax_stats)(zp, sz, n, half, FA_C(1));
    double total = st.cnt + st.sum;
    double inv_total = 1.0 / total;
    FA_T ftotal = (FA_T)total;
    double gd = (double)g;
    for (fa_intp k = 0; k < n; k += FA_ROW_BLOCK) {
        fa_intp len = n - k < FA_ROW_BLOCK ? n - k : FA_ROW_BLOCK;
        const FA_T *x = FA_FN(row_in)(zp, sz, k, len, half, buf);
        FA_T *o = FA_FN(row_dst)(op, so, k, half, obuf);
        FA_IVDEP for (fa_intp i = 0; i < len; i++) {
            FA_T lo, hi = FA_FN(row_arg)(x[i], st.m, FA_C(1), 1.0, &lo);
            o[i] = sizeof(FA_T) == 4 ? (FA_T)(gd * (FA_FN(exp2w_d)(hi, lo) * inv_total))
                                     : g * (FA_FN(exp2w)(hi, lo) / ftotal);
        }
        if (!bad && label >= k && label < k + len) {
            FA_T zl = x[label - k];
            double v;
            if (zl == st.m) {
                v = -((st.cnt - 1.0) + st.sum) / total;
            } else {
                FA_T lo, hi = FA_FN(row_arg)(zl, st.m, FA_C(1), 1.0, &lo);
                v = FA_FN(exp2w_d)(hi, lo) / total - 1.0;
            }
            /* NaN in the row (S' NaN) stays NaN. */
            o[label - k] = (FA_T)(gd * (st.sum == st.sum ? v : (double)NAN));
        }
        if (bad)
            for (fa_intp i = 0; i < len; i++) o[i] = (FA_T)NAN;
        FA_FN(row_flush)(op, so, k, len, half, o, obuf);
    }
}
