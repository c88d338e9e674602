/* Row-wise kernels (softmax, log_softmax, softmax_cross_entropy and their
 * backwards), written once for both precisions: included by gufunc_loops.h
 * with FA_T / FA_S set, like activation_defs.h (no include guard).
 *
 * Every pass over a row runs in chunks of FA_ROW_BLOCK elements (FA_CHUNKS):
 * a chunk of a contiguous row of the compute type is used in place, any
 * other row (a strided axis, or float16 storage, computed in float32) is
 * copied into a stack buffer first. Each chunk goes through simple loops
 * that GCC vectorises: element-wise maps (the exp and the argument,
 * products), reductions over FA_LANES independent lanes (the max) and sums
 * over the FA_VL lanes of fa_vacc, held in registers. Since a chunk is the
 * same for every layout, so is the order of every sum: a strided row gives
 * bit for bit the result of the contiguous one.
 *
 * Accuracy: the argument of every exp is (x - max) / T with its rounding
 * error carried along (exp turns an absolute error of its argument into a
 * relative error |argument| times larger); sums are in double -- plain for
 * the positive terms of float rows, compensated (TwoSum per lane) for
 * double rows and for the signed sums of the backwards, which cancel. */

/* A row is stored as FA_T (kind FA_STORE_NATIVE), as float16
 * (FA_STORE_HALF: computed in float32) or, for the float64 kernels, as
 * float32 (FA_STORE_FLOAT: a float32 row whose temperature float32 cannot
 * hold, see FA_T_IN_FLOAT in gufunc_loops.h). */

/* Elements [k, k + len) of a row at p (byte step s), as FA_T. */
FA_INLINE const FA_T *FA_FN(row_in)(const char *p, fa_intp s, fa_intp k, fa_intp len, int kind,
                                    FA_T *buf)
{
    if (!kind && s == (fa_intp)sizeof(FA_T)) return (const FA_T *)p + k;
    p += k * s;
    if (kind == FA_STORE_HALF) {
        for (fa_intp i = 0; i < len; i++) buf[i] = (FA_T)fa_half_to_float(*(const uint16_t *)(p + i * s));
    } else if (kind == FA_STORE_FLOAT) {
        for (fa_intp i = 0; i < len; i++) buf[i] = (FA_T) * (const float *)(p + i * s);
    } else {
        for (fa_intp i = 0; i < len; i++) buf[i] = *(const FA_T *)(p + i * s);
    }
    return buf;
}

/* Where to compute elements [k, ...) of an output row: in place when it is
 * contiguous FA_T, else in buf (then row_flush writes them out). */
FA_INLINE FA_T *FA_FN(row_dst)(char *p, fa_intp s, fa_intp k, int kind, FA_T *buf)
{
    return (!kind && s == (fa_intp)sizeof(FA_T)) ? (FA_T *)p + k : buf;
}

FA_INLINE void FA_FN(row_flush)(char *p, fa_intp s, fa_intp k, fa_intp len, int kind, const FA_T *dst,
                                const FA_T *buf)
{
    if (dst != buf) return;
    p += k * s;
    if (kind == FA_STORE_HALF) {
        for (fa_intp i = 0; i < len; i++) *(uint16_t *)(p + i * s) = fa_float_to_half((float)buf[i]);
    } else if (kind == FA_STORE_FLOAT) {
        for (fa_intp i = 0; i < len; i++) *(float *)(p + i * s) = (float)buf[i];
    } else {
        for (fa_intp i = 0; i < len; i++) *(FA_T *)(p + i * s) = buf[i];
    }
}

/* Element i of a row, and storing one. */
FA_INLINE FA_T FA_FN(row_get)(const char *p, fa_intp s, fa_intp i, int kind)
{
    return kind == FA_STORE_HALF    ? (FA_T)fa_half_to_float(*(const uint16_t *)(p + i * s))
           : kind == FA_STORE_FLOAT ? (FA_T) * (const float *)(p + i * s)
                                    : *(const FA_T *)(p + i * s);
}

FA_INLINE void FA_FN(row_set)(char *p, fa_intp s, fa_intp i, int kind, FA_T v)
{
    if (kind == FA_STORE_HALF) *(uint16_t *)(p + i * s) = fa_float_to_half((float)v);
    else if (kind == FA_STORE_FLOAT) *(float *)(p + i * s) = (float)v;
    else *(FA_T *)(p + i * s) = v;
}

/* Largest element of a row (NaN skipped; -inf for an empty row), over
 * lanes as in fa_acc. */
FA_INLINE FA_T FA_FN(row_max)(const char *p, fa_intp s, fa_intp n, int kind)
{
    FA_T buf[FA_ROW_BLOCK], lane[FA_LANES];
    for (int j = 0; j < FA_LANES; j++) lane[j] = (FA_T)-INFINITY;
    FA_CHUNKS(k, len, n) {
        const FA_T *x = FA_FN(row_in)(p, s, k, len, kind, buf);
        for (fa_intp b = 0; b < len; b += FA_LANES) {
            int w = len - b < FA_LANES ? (int)(len - b) : FA_LANES;
            FA_IVDEP for (int j = 0; j < w; j++) lane[j] = x[b + j] > lane[j] ? x[b + j] : lane[j];
        }
    }
    for (int h = FA_LANES / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; j++) lane[j] = lane[j + h] > lane[j] ? lane[j + h] : lane[j];
    return lane[0];
}

/* d - q * t exactly (q ~ d / t): one FMA, or Dekker's product. Written
 * without a separate product that GCC could contract into a neighbour. */
FA_INLINE FA_T FA_FN(div_rem)(FA_T d, FA_T t, FA_T q)
{
#if FA_HAVE_FMA
    return FA_TFMA(-q, t, d);
#else
    FA_T p = q * t;
    return (d - p) - FA_FN(mul_err)(q, t, p);
#endif
}

/* u = (x - m) / t as hi + *lo (|lo| <= ulp(hi)), ti = 1 / t rounded: the
 * difference by TwoSum, the quotient's remainder exactly. unit_t (t = 1, a
 * constant after inlining) skips the division. */
FA_INLINE FA_T FA_FN(row_arg)(FA_T x, FA_T m, FA_T t, FA_T ti, FA_T *lo, const int unit_t)
{
    FA_T d = x - m, de = FA_FN(add_err)(x, -m, d);
    FA_T hi = unit_t ? d : d * ti;
    FA_T l = unit_t ? de : (FA_FN(div_rem)(d, t, hi) + de) * ti;
    /* Far below the max (|lo| up to ulp(hi)), at -inf (an element -inf) or
     * NaN, the value is carried by hi alone: exp_core takes a correction of
     * a few ulp(-104) / ulp(-746) at most (else exp(-1e6) could round up to
     * a subnormal), and beyond 2^17 / 2^52 exp(hi) is 0 either way. */
    *lo = hi > -FA_PICK(131072.0, 4503599627370496.0) ? l : FA_C(0);
    return hi;
}

/* exp(hi + lo) as a double. Float rows: below -80 the float exp would lose
 * bits as a subnormal, so it is taken at hi + 37 (exact there) and scaled
 * back in double. */
FA_INLINE double FA_FN(exp_d)(FA_T hi, FA_T lo)
{
    if (sizeof(FA_T) == 4) {
        int shifted = hi < (FA_T)-80;
        double e = (double)FA_EXP_CORE(shifted ? hi + (FA_T)37 : hi, lo, FA_C(1));
        return shifted ? e * 8.533047625744066e-17 : e; /* exp(-37) */
    }
    return (double)FA_EXP_CORE(hi, lo, FA_C(1));
}

/* FA_VW elements at p, as doubles. Floats at AVX-512 are written element
 * by element (GCC makes that one vcvtps2pd, but splits a
 * __builtin_convertvector in halves); below, converted as one vector. */
typedef float fa_vfw __attribute__((vector_size(4 * FA_VW)));
FA_INLINE void FA_FN(vload)(fa_vd *d, const FA_T *p)
{
    if (sizeof(FA_T) == 8) {
        __builtin_memcpy(d, p, sizeof(*d));
        return;
    }
#if FA_VW == 8
    *d = (fa_vd){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
#else
    fa_vfw f;
    __builtin_memcpy(&f, p, sizeof(f));
    *d = __builtin_convertvector(f, fa_vd);
#endif
}

/* FA_VL terms at v into the lanes s, c: v[i] (times y[i] with y: exact in
 * double for float rows; for double rows the product's rounding error goes
 * into c); compensated with comp, else plain sums. */
FA_INLINE void FA_FN(vacc_step)(fa_vd *s, fa_vd *c, const FA_T *v, const FA_T *y, const int comp)
{
    for (int k = 0; k < FA_VN; k++) {
        fa_vd t, u, te = {0};
        const fa_intp at = FA_VW * k;
        FA_FN(vload)(&t, v + at);
        if (y) {
            FA_FN(vload)(&u, y + at);
            t *= u;
            if (sizeof(FA_T) == 8) /* the product's rounding error, lane by lane (GCC keeps it one vector) */
                for (int j = 0; j < FA_VW; j++) te[j] = (double)FA_FN(mul_err)(v[at + j], y[at + j], (FA_T)t[j]);
        }
        if (!comp) {
            s[k] += t;
            continue;
        }
        fa_vsum_add(&s[k], &c[k], &t);
        if (y && sizeof(FA_T) == 8) c[k] += te;
    }
}

/* The terms of a chunk (see vacc_step) into the lanes of a. NULL or not
 * and comp are constants at every call. */
FA_INLINE void FA_FN(vacc_chunk)(fa_vacc *a, const FA_T *v, const FA_T *y, fa_intp len, const int comp)
{
    fa_vd s[FA_VN], c[FA_VN];
    for (int k = 0; k < FA_VN; k++) {
        s[k] = a->s[k];
        c[k] = a->c[k];
    }
    fa_intp b = 0;
    for (; b + FA_VL <= len; b += FA_VL)
        FA_FN(vacc_step)(s, c, v + b, y ? y + b : NULL, comp);
    if (b < len) {
        FA_T pv[FA_VL], py[FA_VL];
        for (int i = 0; i < FA_VL; i++) {
            int in = i < len - b;
            pv[i] = in ? v[b + i] : FA_C(0);
            if (y) py[i] = in ? y[b + i] : FA_C(0);
        }
        FA_FN(vacc_step)(s, c, pv, y ? py : NULL, comp);
    }
    for (int k = 0; k < FA_VN; k++) {
        a->s[k] = s[k];
        a->c[k] = c[k];
    }
}

/* exp((x - m) / t) over a chunk: into e[] (unless NULL) and, with v (not
 * NULL), the terms of S' (see row_stats) into v[]: the exp, or hi for an
 * element equal to the max (0, or NaN when the max is infinite). Returns
 * how many equal m. NULL or not is a constant at every call. */
FA_INLINE FA_RU FA_FN(exp_chunk)(const FA_T *x, fa_intp len, FA_T m, FA_T t, FA_T ti, FA_T *e, FA_T *v,
                                 const int unit_t)
{
    FA_RU cnt = 0;
    FA_IVDEP for (fa_intp i = 0; i < len; i++) {
        FA_T lo, hi = FA_FN(row_arg)(x[i], m, t, ti, &lo, unit_t);
        FA_T ei = FA_EXP_CORE(hi, lo, FA_C(1));
        if (e) e[i] = ei;
        if (v) {
            int top = x[i] == m;
            cnt += top ? 1 : 0;
            v[i] = top ? hi : ei;
        }
    }
    return cnt;
}

/* The statistics of a row for softmax-like functions: its max m, the count
 * of elements equal to m (each contributes exp(0) = 1 exactly) and the sum
 * S' of exp((x - m) / t) over the others, so that the normaliser is
 * cnt + S' and its log is log1p((cnt - 1) + S') -- accurate when the row
 * is dominated by one element (S' tiny), where log(S) would round to 0.
 * A max of +-inf (x - m = NaN) or a NaN anywhere makes S' NaN: the row's
 * result is NaN, as in PyTorch (a row of all -inf included). softmax needs
 * only cnt + S': there cnt = 0 and sum is the sum of all the exps. */
typedef struct {
    FA_T m, ti;      /* max, 1 / t */
    double cnt;      /* elements equal to the max */
    double sum;      /* S' (hi part) */
    double sum_lo;   /* S' (lo part) */
} FA_FN(row_stats);

/* S' of a float row in double, each term exact (exp_d): when S' is so
 * small that subnormal exps would have cost it bits. Rare (the others are
 * all e^-69 below the max), so kept simple. */
static void FA_FN(stats_tiny)(FA_FN(row_stats) *st, const char *p, fa_intp s, fa_intp n, int kind, FA_T t)
{
    FA_T buf[FA_ROW_BLOCK];
    fa_acc acc;
    fa_acc_init(&acc);
    FA_CHUNKS(k, len, n) {
        const FA_T *x = FA_FN(row_in)(p, s, k, len, kind, buf);
        for (fa_intp i = 0; i < len; i++) {
            FA_T lo, hi = FA_FN(row_arg)(x[i], st->m, t, st->ti, &lo, 0);
            fa_acc_add(&acc, (int)(i % FA_LANES), x[i] == st->m ? (double)hi : FA_FN(exp_d)(hi, lo), 0.0, 1);
        }
    }
    st->sum = fa_acc_total(&acc, &st->sum_lo, FA_LANES);
}

/* The statistics pass over a row whose max is m. top: S' and cnt
 * (log_softmax and the cross entropy), else cnt = 0 and sum = cnt + S'
 * (softmax), each exp kept in store (a contiguous output row, so that
 * softmax then only scales them) unless it is NULL. */
FA_INLINE FA_FN(row_stats) FA_FN(stats_core)(const char *p, fa_intp s, fa_intp n, int kind, FA_T t, FA_T m,
                                             FA_T *store, const int top, const int unit_t)
{
    FA_FN(row_stats) st;
    FA_T buf[FA_ROW_BLOCK], ebuf[FA_ROW_BLOCK], vbuf[FA_ROW_BLOCK];
    fa_vacc acc;
    FA_RU cnt = 0;
    st.m = m;
    st.ti = FA_C(1) / t;
    fa_vacc_init(&acc);
    FA_CHUNKS(k, len, n) {
        const FA_T *x = FA_FN(row_in)(p, s, k, len, kind, buf);
        FA_T *e = top ? NULL : (store ? store + k : ebuf);
        cnt += FA_FN(exp_chunk)(x, len, m, t, st.ti, e, top ? vbuf : NULL, unit_t);
        /* float rows: plain double sums of these positive terms are exact
         * enough; double rows: compensated */
        FA_FN(vacc_chunk)(&acc, top ? vbuf : e, NULL, len, sizeof(FA_T) == 8);
    }
    st.cnt = (double)cnt;
    st.sum = fa_vacc_total(&acc, &st.sum_lo);
    if (sizeof(FA_T) == 4 && top && st.sum < (double)n * 0x1p-100) FA_FN(stats_tiny)(&st, p, s, n, kind, t);
    return st;
}

/* The statistics in top mode (rare: see softmax_stats), out of line. */
static FA_FN(row_stats) FA_FN(stats_top)(const char *p, fa_intp s, fa_intp n, int kind, FA_T t, FA_T m)
{
    if (t != FA_C(1)) return FA_FN(stats_core)(p, s, n, kind, t, m, NULL, 1, 0);
    return FA_FN(stats_core)(p, s, n, kind, t, m, NULL, 1, 1);
}

/* The statistics of a row; with need_top, S' must keep its bits (for a
 * log, or p - 1 at the label): S - 1 (exact in double for S >= 1, up to
 * the sum's rounding) serves as (cnt - 1) + S' unless it is below 2^-20,
 * where the row is summed again without its max (a dominated row, or NaN). */
FA_INLINE FA_FN(row_stats) FA_FN(softmax_stats)(const char *p, fa_intp s, fa_intp n, int kind, FA_T t, FA_T *store,
                                                int need_top)
{
    FA_T m = FA_FN(row_max)(p, s, n, kind);
    FA_FN(row_stats) st = t != FA_C(1) ? FA_FN(stats_core)(p, s, n, kind, t, m, store, 0, 0)
                                       : FA_FN(stats_core)(p, s, n, kind, t, m, store, 0, 1);
    if (need_top && !((st.sum - 1.0) + st.sum_lo >= 0x1p-20)) st = FA_FN(stats_top)(p, s, n, kind, t, m);
    return st;
}

/* log(cnt + S') = log1p((cnt - 1) + S'), in double. */
FA_INLINE double FA_FN(stats_log)(const FA_FN(row_stats) *st)
{
    double a = (st->cnt - 1.0) + st->sum;
    double lo = fa_add_err_f64(st->cnt - 1.0, st->sum, a) + st->sum_lo;
    double l = fa_vm_log1p_f64(a);
    return l + lo / (1.0 + a); /* log1p(a + lo) */
}

/* f / (cnt + S') as h + *l, for scaling the exps (y = e h + e l). */
FA_INLINE FA_T FA_FN(stats_quot)(double f, const FA_FN(row_stats) *st, FA_T *l)
{
    double th = st->cnt + st->sum;
    double tl = fa_add_err_f64(st->cnt, st->sum, th) + st->sum_lo;
    double qh = f / th;
    double ql = (fa_fma_f64_(-qh, th, f) - qh * tl) / th;
    FA_T h = (FA_T)qh;
    double r = sizeof(FA_T) == 4 ? (qh - (double)h) + ql : ql;
    *l = (r > -1 && r < 1) ? (FA_T)r : FA_C(0); /* NaN, inf: h alone */
    return h;
}

FA_INLINE void FA_FN(scale)(FA_T *y, fa_intp n, FA_T h, FA_T l)
{
#if !FA_HAVE_FMA
    /* without FMA e h + e l rounds twice: float rows scale in double */
    if (sizeof(FA_T) == 4) {
        double q = (double)h + (double)l;
        FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = (FA_T)((double)y[i] * q);
        return;
    }
#endif
    FA_IVDEP for (fa_intp i = 0; i < n; i++) y[i] = FA_FMA(y[i], h, y[i] * l);
}

/* f * softmax of one row: softmax (f = 1, top = 0) and the backward of
 * softmax_cross_entropy without its one-hot term (f = g, t = 1, top = 1:
 * it needs S' for the label). */
FA_INLINE void FA_FN(scaled_softmax_row)(const char *xp, fa_intp sx, char *yp, fa_intp sy, fa_intp n, FA_T t,
                                      int kind, FA_T f, int top, FA_FN(row_stats) *out)
{
    FA_T buf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK], l;
    if (!kind && sy == (fa_intp)sizeof(FA_T)) {
        /* a contiguous output row: keep the exps there (in place too: each
         * element is read before it is written), then scale them */
        FA_T *y = (FA_T *)yp;
        *out = FA_FN(softmax_stats)(xp, sx, n, kind, t, y, top);
        FA_T h = FA_FN(stats_quot)((double)f, out, &l);
        FA_FN(scale)(y, n, h, l);
        return;
    }
    *out = FA_FN(softmax_stats)(xp, sx, n, kind, t, NULL, top);
    FA_T h = FA_FN(stats_quot)((double)f, out, &l);
    FA_CHUNKS(k, len, n) {
        const FA_T *x = FA_FN(row_in)(xp, sx, k, len, kind, buf);
        FA_T *y = FA_FN(row_dst)(yp, sy, k, kind, obuf);
        if (t == FA_C(1)) FA_FN(exp_chunk)(x, len, out->m, t, out->ti, y, NULL, 1);
        else FA_FN(exp_chunk)(x, len, out->m, t, out->ti, y, NULL, 0);
        FA_FN(scale)(y, len, h, l);
        FA_FN(row_flush)(yp, sy, k, len, kind, y, obuf);
    }
}

/* log_softmax's output pass over a chunk: u - L. With t = 1, as
 * x - (m + L), m + L = ch + cl exactly (TwoSum): x - ch is exact where it
 * cancels (x near m), so two subtractions round within an ULP. Else float
 * rows in double, double rows from u = hi + lo. */
FA_INLINE void FA_FN(log_out)(const FA_T *x, FA_T *y, fa_intp len, const FA_FN(row_stats) *st, FA_T t, double L,
                              const int unit_t)
{
    double md = (double)st->m, inv = 1.0 / (double)t;
    FA_T Lh = (FA_T)L, Ll = (FA_T)(L - (double)Lh);
    if (unit_t) {
        FA_T ch = st->m + Lh, cl = FA_FN(add_err)(st->m, Lh, ch) + Ll;
        FA_IVDEP for (fa_intp i = 0; i < len; i++) y[i] = (x[i] - ch) - cl;
    } else if (sizeof(FA_T) == 4) {
        FA_IVDEP for (fa_intp i = 0; i < len; i++) y[i] = (FA_T)(((double)x[i] - md) * inv - L);
    } else {
        FA_IVDEP for (fa_intp i = 0; i < len; i++) {
            FA_T lo, hi = FA_FN(row_arg)(x[i], st->m, t, st->ti, &lo, 0);
            y[i] = (hi - Lh) + (lo - Ll);
        }
    }
}

/* softmax / log_softmax of one row ---------------------------------------- */
FA_INLINE void FA_FN(softmax_row)(const char *xp, fa_intp sx, char *yp, fa_intp sy, fa_intp n, FA_T t,
                               int kind, int take_log)
{
    FA_FN(row_stats) st;
    if (!take_log) {
        FA_FN(scaled_softmax_row)(xp, sx, yp, sy, n, t, kind, FA_C(1), 0, &st);
        return;
    }
    FA_T buf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    st = FA_FN(softmax_stats)(xp, sx, n, kind, t, NULL, 1);
    double L = FA_FN(stats_log)(&st);
    FA_CHUNKS(k, len, n) {
        const FA_T *x = FA_FN(row_in)(xp, sx, k, len, kind, buf);
        FA_T *y = FA_FN(row_dst)(yp, sy, k, kind, obuf);
        if (t == FA_C(1)) FA_FN(log_out)(x, y, len, &st, t, L, 1);
        else FA_FN(log_out)(x, y, len, &st, t, L, 0);
        FA_FN(row_flush)(yp, sy, k, len, kind, y, obuf);
    }
}

/* A compensated signed sum over a row: sum(g y) (with_y) or sum(g), as
 * hi + *lo, the terms exact: a product of floats is exact in double, one of
 * doubles is split (mul_err) first. */
FA_INLINE double FA_FN(row_dot)(const char *gp, fa_intp sg, const char *yp, fa_intp sy, fa_intp n, int kind,
                             const int with_y, double *lo)
{
    FA_T gbuf[FA_ROW_BLOCK], ybuf[FA_ROW_BLOCK];
    fa_vacc acc;
    fa_vacc_init(&acc);
    FA_CHUNKS(k, len, n) {
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, kind, gbuf);
        if (!with_y) {
            FA_FN(vacc_chunk)(&acc, g, NULL, len, 1);
            continue;
        }
        const FA_T *y = FA_FN(row_in)(yp, sy, k, len, kind, ybuf);
        if (!y) __builtin_unreachable(); /* lets vacc_step drop its test of y */
        FA_FN(vacc_chunk)(&acc, g, y, len, 1);
    }
    return fa_vacc_total(&acc, lo);
}

/* exp(y) in double for a float y (the value of fa_vm_exp_f64), for the
 * float rows of log_softmax's backward. y is clamped, in float, to
 * [-700, 660]: below, exp(y) |sum(g)| is far below the least float; above,
 * it overflows one (or sum(g) = 0, and the term is 0 either way). So 2^n
 * is one normal double. (fa_exp_neg_core_f64 would give the same values,
 * but its clamp in double after these in float made the loop 23% slower:
 * 0.79 -> 0.98 ms at 1000 x 1000, same run.) */
FA_INLINE double FA_FN(exp_wide)(FA_T y)
{
    FA_T a = y < FA_C(-700) ? FA_C(-700) : y;
    a = a > FA_C(660) ? FA_C(660) : a;
    uint64_t kb;
    double q = fa_exp_reduce_f64((double)a, 0.0, 1.0, NULL, &kb, 0);
    return q * fa_f64((kb - 0x4338000000000000ull + 1023u) << 52);
}

/* softmax's output pass for float rows at t = 1, in float: o = (g - D) y
 * with D = dot + dlo held as fdot + dl + dl2 (three floats: D's digits past
 * fdot survive), g - fdot split exactly (TwoSum) into s + e, and o = s y +
 * ((e - dl) y - dl2 y) with the small terms under FMAs. Where g - D
 * cancels (g within a factor 2 of fdot) s is exact and e = 0, so the result
 * is the exact difference times y, rounded about once. Max error 0.73 ULP
 * over adversarial rows (constant grads, grads at D's float neighbours),
 * 0.5 elsewhere, as the double path; 15% faster than it (1000 x 1000 float32,
 * 0.53 -> 0.45 ms, same run). Only with an FMA: SSE2 takes the double path
 * (1.4 ULP otherwise). Returns 0 if a result is NaN, as wherever g - fdot
 * is not finite (an inf or NaN grad or dot, or a dot past the float range:
 * TwoSum's error is NaN there); the caller then redoes the chunk in double. */
FA_INLINE int FA_FN(softmax_out_float)(const FA_T *g, const FA_T *y, FA_T *o, fa_intp len, double dot,
                                       double dlo)
{
    FA_T fdot = (FA_T)dot;
    double rest = (dot - (double)fdot) + dlo;
    FA_T dl = (FA_T)rest, dl2 = (FA_T)(rest - (double)dl);
    int bad = 0;
    FA_IVDEP for (fa_intp i = 0; i < len; i++) {
        FA_T s = g[i] - fdot, e = FA_FN(add_err)(g[i], -fdot, s);
        o[i] = FA_FMA(s, y[i], FA_FMA(e - dl, y[i], -dl2 * y[i]));
        bad |= o[i] != o[i]; /* a quiet compare: no flag */
    }
    return !bad;
}

/* The backwards' output pass: o = (g - a(y) (dot + dlo)) / t with a(y) = y
 * (softmax, then times y: o = (g - dot) y / t) or exp(y) (log_softmax).
 * Float rows in double (rounded once) but for softmax_out_float's case; div
 * (t != 1) a constant. */
FA_INLINE void FA_FN(backward_out)(const FA_T *g, const FA_T *y, FA_T *o, fa_intp len, double dot, double dlo,
                                   FA_T t, const int softmax, const int div)
{
    FA_T fdot = (FA_T)dot, fdlo = (FA_T)dlo;
    double inv = 1.0 / (double)t;
    if (sizeof(FA_T) == 4 && softmax && !div && FA_HAVE_FMA && FA_FN(softmax_out_float)(g, y, o, len, dot, dlo))
        return;
    if (sizeof(FA_T) == 4) {
        FA_IVDEP for (fa_intp i = 0; i < len; i++) {
            double gi = (double)g[i], yi = (double)y[i], r;
            if (softmax) {
                r = ((gi - dot) - dlo) * yi;
            } else {
                double e = FA_FN(exp_wide)(y[i]);
                r = (gi - e * dot) - e * dlo;
            }
            o[i] = (FA_T)(div ? r * inv : r);
        }
    } else {
        FA_IVDEP for (fa_intp i = 0; i < len; i++) {
            FA_T r;
            if (softmax) {
                r = ((g[i] - fdot) - fdlo) * y[i];
            } else {
                FA_T e = FA_M(exp)(y[i]);
                r = (g[i] - e * fdot) - e * fdlo;
            }
            o[i] = div ? r / t : r;
        }
    }
}

/* Backward of softmax from its output y: (g - sum(g y)) y / t; of
 * log_softmax: (g - exp(y) sum(g)) / t. Float rows evaluate the rest in
 * double, or in float with error-free steps (softmax_out_float), so the
 * result is within an ULP even where the terms cancel; double rows within
 * a few ULP of the result or of the terms' size. */
FA_INLINE void FA_FN(softmax_backward_any)(const char *gp, fa_intp sg, const char *yp, fa_intp sy, char *op,
                                        fa_intp so, fa_intp n, FA_T t, int kind, const int softmax)
{
    FA_T gbuf[FA_ROW_BLOCK], ybuf[FA_ROW_BLOCK], obuf[FA_ROW_BLOCK];
    double dlo, dot = FA_FN(row_dot)(gp, sg, yp, sy, n, kind, softmax, &dlo);
    FA_CHUNKS(k, len, n) {
        const FA_T *g = FA_FN(row_in)(gp, sg, k, len, kind, gbuf);
        const FA_T *y = FA_FN(row_in)(yp, sy, k, len, kind, ybuf);
        FA_T *o = FA_FN(row_dst)(op, so, k, kind, obuf);
        if (t == FA_C(1)) FA_FN(backward_out)(g, y, o, len, dot, dlo, t, softmax, 0);
        else FA_FN(backward_out)(g, y, o, len, dot, dlo, t, softmax, 1);
        FA_FN(row_flush)(op, so, k, len, kind, o, obuf);
    }
}
FA_INLINE void FA_FN(softmax_backward_row)(const char *gp, fa_intp sg, const char *yp, fa_intp sy, char *op,
                                        fa_intp so, fa_intp n, FA_T t, int kind)
{
    FA_FN(softmax_backward_any)(gp, sg, yp, sy, op, so, n, t, kind, 1);
}

FA_INLINE void FA_FN(log_softmax_backward_row)(const char *gp, fa_intp sg, const char *yp, fa_intp sy, char *op,
                                            fa_intp so, fa_intp n, FA_T t, int kind)
{
    FA_FN(softmax_backward_any)(gp, sg, yp, sy, op, so, n, t, kind, 0);
}

/* softmax_cross_entropy of one row: log(sum(exp(z))) - z[label], as
 * L - u[label] with u = z - max, L = log1p((cnt - 1) + S'): two terms >= 0,
 * so the loss keeps its relative accuracy down to 0. A label outside
 * [0, n) gives NaN (the Python wrapper rejects such labels first). */
FA_INLINE FA_T FA_FN(cross_entropy_row)(const char *zp, fa_intp sz, fa_intp n, fa_intp label, int kind)
{
    if (label < 0 || label >= n) return (FA_T)NAN;
    FA_FN(row_stats) st = FA_FN(softmax_stats)(zp, sz, n, kind, FA_C(1), NULL, 1);
    double L = FA_FN(stats_log)(&st);
    FA_T lo, hi = FA_FN(row_arg)(FA_FN(row_get)(zp, sz, label, kind), st.m, FA_C(1), FA_C(1), &lo, 1);
    if (sizeof(FA_T) == 4) return (FA_T)(L - ((double)hi + (double)lo));
    FA_T Lh = (FA_T)L, Ll = (FA_T)(L - (double)Lh);
    return (Lh - hi) + (Ll - lo);
}

/* Its backward: g (softmax(z) - onehot(label)). At the label the value
 * p - 1 is evaluated as -(sum of the other terms) / S when the label holds
 * the max (where p -> 1 and p - 1 would cancel). */
FA_INLINE void FA_FN(cross_entropy_backward_row)(FA_T g, const char *zp, fa_intp sz, fa_intp label,
                                              char *op, fa_intp so, fa_intp n, int kind)
{
    FA_FN(row_stats) st;
    if (label < 0 || label >= n) {
        for (fa_intp i = 0; i < n; i++) FA_FN(row_set)(op, so, i, kind, (FA_T)NAN);
        return;
    }
    FA_T zl = FA_FN(row_get)(zp, sz, label, kind); /* before out= z is written */
    FA_FN(scaled_softmax_row)(zp, sz, op, so, n, FA_C(1), kind, g, 1, &st);
    double total = st.cnt + st.sum, v;
    if (zl == st.m) {
        v = -(((st.cnt - 1.0) + st.sum) + st.sum_lo) / total;
    } else {
        FA_T lo, hi = FA_FN(row_arg)(zl, st.m, FA_C(1), FA_C(1), &lo, 1);
        v = FA_FN(exp_d)(hi, lo) / total - 1.0;
    }
    /* NaN in the row (S' NaN) stays NaN. */
    FA_FN(row_set)(op, so, label, kind, (FA_T)((double)g * (st.sum == st.sum ? v : (double)NAN)));
}
