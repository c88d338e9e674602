/* Activation definitions, written once for both precisions (see
 * activations.h; no include guard on purpose). For each activation NAME:
 *
 *   FA_FN(NAME)(x, params...)           forward, y = f(x)
 *   FA_FN(NAME_grad)(g, s, params...)   vector-Jacobian product g * f'(.),
 *                                       s the saved tensor (kernels.def says
 *                                       whether it is the input or output)
 *
 * Conventions (DESIGN section 4): NaN in any data argument gives NaN; the
 * gradient of a piecewise-linear piece is a mask (0, not g*0, where the
 * derivative is 0: PyTorch's threshold_backward), and the derivative at a
 * kink is the one of PyTorch's `x > 0` test. Comparisons and selects rather
 * than branches or fmin/fmax, so that GCC vectorises every loop. */

/* ======================================================================
 * Building blocks
 * ====================================================================== */

/* Limits per precision.
 *   FA_BIG    |x| beyond which every exp(-|x|) below is 0 or irrelevant; an
 *             input is clamped to +-FA_BIG before it multiplies such an exp,
 *             so that inf * 0 never makes a NaN where the limit is 0.
 *   FA_TAIL   below this, exp(x) is near or below the subnormal range while
 *             grad * x * exp(x) (silu', mish', ...) is still a normal number:
 *             such kernels evaluate exp(x + FA_SHIFT) (x + FA_SHIFT is
 *             exact) and multiply the product by FA_ESHIFT = exp(-FA_SHIFT)
 *             last, so the only rounding in the subnormal range is the final
 *             one. The shift is chosen so that exp(-FA_SHIFT) is within 0.01
 *             ULP of its float value.
 *   FA_TAIL2  the same, deeper: a grad near the largest float keeps
 *             grad * f'(x) normal down to x ~ -181 / -1425, past the reach
 *             of the first shift (exp(x + FA_SHIFT) is subnormal below
 *             -124 / -919). There the shift is FA_SHIFT2 (the bits of
 *             exp(x + FA_SHIFT2) follow the result's down to the last
 *             subnormal), exp(-FA_SHIFT2) is subnormal, and so it is split:
 *             grad times FA_GSCALE2 first (a power of 2: exact where it
 *             matters), the product times FA_ESHIFT2 = exp(-FA_SHIFT2) /
 *             FA_GSCALE2 last (within 0.01 ULP). Each tier keeps
 *             exp(x + shift) below 2^-29 / 2^-57 of 1, so 1 + e is 1 as for
 *             the unshifted e. */
#define FA_BIG FA_PICK(200.0, 2000.0)
#define FA_TAIL_F32 -80.0
#define FA_TAIL_F64 -700.0
#define FA_TAIL FA_PICK(FA_TAIL_F32, FA_TAIL_F64)
#define FA_SHIFT FA_PICK(37.0, 211.0)
#define FA_ESHIFT FA_PICK(8.533047630075754e-17, 2.3113425714217192e-92)
#define FA_TAIL2 FA_PICK(-118.0, -800.0)
#define FA_SHIFT2 FA_PICK(96.0, 724.0)
#define FA_GSCALE2 FA_PICK(0x1p-64, 0x1p-128)
#define FA_ESHIFT2 FA_PICK(3.7467046539458326e-23, 1.2665856025502263e-276)

/* Largest |a| for which mul_err is exact (Dekker's split does not overflow). */
#define FA_SPLIT_MAX FA_PICK(1e30, 1e299)

/* x clamped to [-FA_BIG, FA_BIG] (to x >= -FA_BIG); clamp_neg keeps a NaN,
 * clamp_big makes it +-FA_BIG (see there). */
FA_INLINE FA_T FA_FN(clamp_neg)(FA_T x)
{
    return x < -FA_BIG ? -FA_BIG : x;
}

/* x with its magnitude clamped to m >= 0 (a NaN's to m), as an unsigned
 * min of the bits (|x| orders as them) with the sign put back: written as
 * float selects, GCC 12 specialised whole kernels at the clamp's value and
 * blended the constants back (AVX2 gelu: 16 vblendvps per vector). */
FA_INLINE FA_T FA_FN(clamp_mag)(FA_T x, FA_T m)
{
    if (sizeof(FA_T) == 4) {
        uint32_t b = fa_u32((float)x), a = b & 0x7fffffffu, c = fa_u32((float)m);
        return (FA_T)fa_f32((a < c ? a : c) | (b & 0x80000000u));
    }
    uint64_t b = fa_u64((double)x), a = b & 0x7fffffffffffffffull, c = fa_u64((double)m);
    return (FA_T)fa_f64((a < c ? a : c) | (b & 0x8000000000000000ull));
}

/* A NaN becomes +-FA_BIG here: every caller's result also depends on x or
 * exp(-|x|) (silu', mish', gelu_tanh's w and derivative), so is NaN. */
FA_INLINE FA_T FA_FN(clamp_big)(FA_T x)
{
    return FA_FN(clamp_mag)(x, FA_BIG);
}

/* a * b - fl(a * b), exactly, for p = fl(a * b) (|a * b| well inside the
 * normal range): one FMA where the ISA has one, Dekker's product with
 * Veltkamp's split on the SSE2 baseline (a libm fma would be a scalar call). */
FA_INLINE FA_T FA_FN(mul_err)(FA_T a, FA_T b, FA_T p)
{
#if FA_HAVE_FMA
    return FA_TFMA(a, b, -p);
#else
    const FA_T split = FA_PICK(4097.0, 134217729.0); /* 2^12 + 1, 2^27 + 1 */
    FA_T ca = split * a, cb = split * b;
    FA_T ah = ca - (ca - a), al = a - ah;
    FA_T bh = cb - (cb - b), bl = b - bh;
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

/* The rounding error of p = fl(x * f) (mul_err), for a low part carried
 * into an exp: 0 where it is irrelevant and may be NaN (|p| >= FA_BIG:
 * inf - inf) or where Dekker's split overflows (no FMA, |x| >
 * FA_SPLIT_MAX). Inputs unguarded: the select drops what they spoil. */
FA_INLINE FA_T FA_FN(mul_lo)(FA_T x, FA_T f, FA_T p)
{
    int ok = FA_M(abs)(p) < FA_BIG && (FA_HAVE_FMA || FA_M(abs)(x) <= FA_SPLIT_MAX);
    FA_T e = FA_FN(mul_err)(x, f, p);
    return ok ? e : FA_C(0);
}

/* a + b - fl(a + b), exactly (Knuth's TwoSum, any order of magnitudes). */
FA_INLINE FA_T FA_FN(add_err)(FA_T a, FA_T b, FA_T s)
{
    FA_T bb = s - a;
    return (a - (s - bb)) + (b - bb);
}

/* exp(a + lo), a <= 0, as e * *scale, shifted in tiers of t (a itself,
 * or the variable whose tail a is): t < k.tail gives exp(a + k.shift) and
 * *scale = k.scale; with g (the grad, scaled in place), t < k.tail2 gives
 * exp(a + k.shift2), *g * FA_GSCALE2 and *scale = k.scale2; else exp(a)
 * and *scale = k.scale0. The caller forms (g * ... e ...) * *scale: a tiny
 * exp is multiplied by grad (or x) before it is scaled, so that
 * grad * f'(x) is right even when f'(x) alone would be subnormal. A
 * forward passes g = NULL (one tier reaches results near 1 / beta times
 * the exp's; see softplus). exp_shifted has the FA_TAIL tiers; gelu's phi
 * its own. Every tail shift goes through here. */
typedef struct {
    FA_T scale0, tail, shift, scale, tail2, shift2, scale2;
} FA_FN(tiers);

FA_INLINE FA_T FA_FN(exp_tiered)(FA_FN(tiers) k, FA_T a, FA_T lo, FA_T t, FA_T *g, FA_T *scale)
{
    int t1 = t < k.tail;
    FA_T shift = t1 ? k.shift : FA_C(0);
    *scale = t1 ? k.scale : k.scale0;
    if (g) {
        int t2 = t < k.tail2;
        shift = t2 ? k.shift2 : shift;
        *scale = t2 ? k.scale2 : *scale;
        *g = t2 ? *g * FA_GSCALE2 : *g;
    }
    return FA_FN(exp_neg_core)(a + shift, lo, FA_C(1));
}

/* FA_TAILS 0 (the _nt variant, range_loops.h): the result for t >= FA_TAIL,
 * bit for bit, without the tier tests; only for blocks where every t is. */
FA_INLINE FA_T FA_FN(exp_shifted)(FA_T a, FA_T lo, FA_T t, FA_T *g, FA_T *scale)
{
    if (!FA_TAILS) {
        (void)t, (void)g;
        *scale = FA_C(1);
        return FA_FN(exp_neg_core)(a, lo, FA_C(1)); /* exp(-0) = exp(+0) */
    }
    const FA_FN(tiers) k = {FA_C(1), FA_TAIL, FA_SHIFT, FA_ESHIFT, FA_TAIL2, FA_SHIFT2, FA_ESHIFT2};
    return FA_FN(exp_tiered)(k, a, lo, t, g, scale);
}

/* exp(a + lo), a <= 0, unshifted: exp_neg_core, or in the no-tier forms
 * (range_loops.h, on blocks where a >= FA_TAIL, so e is normal)
 * exp_neg_normal, the same bits without the clamp and the two-step 2^n. */
FA_INLINE FA_T FA_FN(exp_neg_at)(FA_T a, FA_T lo)
{
    return FA_TAILS ? FA_FN(exp_neg_core)(a, lo, FA_C(1)) : FA_FN(exp_neg_normal)(a, lo, FA_C(1));
}

/* exp_shifted where a >= t (t = a itself, or elu's x below a = min(x, 0)):
 * in the no-tier form a >= t >= FA_TAIL, so exp_neg_at (no clamp, one
 * scaling) gives the same bits with 3 vector operations fewer (float32 at
 * 1M: leaky_relu_sigmoid's backward -17%, relu_sigmoid's -11%). */
FA_INLINE FA_T FA_FN(exp_shifted_above)(FA_T a, FA_T lo, FA_T t, FA_T *g, FA_T *scale)
{
    if (!FA_TAILS) {
        (void)t, (void)g;
        *scale = FA_C(1);
        return FA_FN(exp_neg_at)(a, lo);
    }
    return FA_FN(exp_shifted)(a, lo, t, g, scale);
}

/* m * exp(a + lo) and *e = exp(a + lo), a <= 0, from one reduction (GCC
 * shares it): m * exp(a) is rounded once as a normal number and once more
 * if it is subnormal, so a forward's x * exp(-|x|) needs no FA_TAIL shift.
 * |m| <= FA_BIG: exp_neg_core's clamp is set so that m exp(a) still
 * underflows to 0 there (vmath_exp.h). */
FA_INLINE FA_T FA_FN(exp_times)(FA_T a, FA_T lo, FA_T m, FA_T *e)
{
    *e = FA_FN(exp_neg_core)(a, lo, FA_C(1));
    return FA_FN(exp_neg_core)(a, lo, m);
}

/* exp(-|x|), shifted on the negative side only (t = x). */
FA_INLINE FA_T FA_FN(exp_neg_abs)(FA_T x, FA_T *g, FA_T *scale)
{
    return FA_FN(exp_shifted)(-FA_M(abs)(x), FA_C(0), x, g, scale);
}

/* sigmoid'(x) = e / (1 + e)^2, e = exp(-|x|) (symmetric: tiers of -|x|),
 * as value * *scale. */
FA_INLINE FA_T FA_FN(dsigmoid_scaled)(FA_T x, FA_T *g, FA_T *scale)
{
    FA_T a = -FA_M(abs)(x), e = FA_FN(exp_shifted_above)(a, FA_C(0), a, g, scale);
    FA_T r = FA_C(1) / (FA_C(1) + e);
    return e * r * r;
}

/* clamp for piecewise-linear functions: lo if x < lo, hi if x > hi, else x
 * (NaN stays NaN, -0.0 stays -0.0), for lo <= hi, neither NaN. Written as
 * m = min(hi, x), then max(lo, m), each in the one form "a < b ? a : b"
 * (or >) that is exactly x86's minps / maxps, NaN and signed zeros
 * included: GCC emits those two instructions where the nested selects
 * "x < lo ? lo : (x > hi ? hi : x)" (the same values) took four compares
 * and three blends. With constant bounds GCC folds the selects again, so
 * relu6 keeps its own form. */
FA_INLINE FA_T FA_FN(clamp)(FA_T x, FA_T lo, FA_T hi)
{
    FA_T m = hi < x ? hi : x;
    return lo > m ? lo : m;
}

/* Shared pieces --------------------------------------------------------- */

/* r, or x itself when x is NaN. The backward of a piecewise-linear function
 * is "inside ? g : g * slope" then this, not nested selects such as
 * "x > 0 ? g : (x <= 0 ? g * alpha : x)": with the nested form GCC's AVX-512
 * code loads g under a mask, and masked loads stream ~1.6x slower than full
 * ones on this machine (AMD EPYC, 16M float32, vs np.add). Where g is only
 * kept or zeroed (relu, relu6, hardtanh), GCC still masks the load; see the
 * speed notes in README. */
FA_INLINE FA_T FA_FN(nan_or)(FA_T x, FA_T r)
{
    return x == x ? r : x;
}

/* x for x > 0, 0 for x <= 0, NaN for NaN (max(x, 0) that propagates NaN). */
FA_INLINE FA_T FA_FN(relu_nan)(FA_T x)
{
    return x > 0 ? x : (x <= 0 ? FA_C(0) : x);
}

/* relu ------------------------------------------------------------------ */
FA_INLINE FA_T FA_FN(relu)(FA_T x) { return FA_FN(relu_nan)(x); }

FA_INLINE FA_T FA_FN(relu_grad)(FA_T g, FA_T x)
{
    return FA_FN(nan_or)(x, x > 0 ? g : FA_C(0));
}

/* leaky_relu ------------------------------------------------------------ */
FA_INLINE FA_T FA_FN(leaky_relu)(FA_T x, FA_T alpha)
{
    return x > 0 ? x : x * alpha;
}

FA_INLINE FA_T FA_FN(leaky_relu_grad)(FA_T g, FA_T x, FA_T alpha)
{
    return FA_FN(nan_or)(x, x > 0 ? g : g * alpha);
}

/* sigmoid --------------------------------------------------------------- */
/* Branch on the sign through the numerator: with e = exp(-|x|) <= 1,
 * sigmoid(x) = (x >= 0 ? 1 : e) / (1 + e). exp never overflows, one
 * division, and for x -> -inf the result is e (subnormal when it should be). */
FA_INLINE FA_T FA_FN(sigmoid_closed)(FA_T x)
{
    FA_T e = FA_M(exp_neg)(-FA_M(abs)(x));
    return (x >= 0 ? FA_C(1) : e) / (FA_C(1) + e);
}
/* float32 where log_sigmoid's derivative table serves: sigmoid(x) =
 * log_sigmoid'(-x), read at -x (no exp, no division: the division alone
 * held the closed form to 0.6 ns per element in cache on an Intel Xeon). */
FA_INLINE FA_T FA_FN(sigmoid)(FA_T x)
{
    return FA_TABLED_AT(log_sigmoid_der, -x, x, FA_C(1), FA_FN(sigmoid_closed)(x));
}

/* From the output y: sigmoid' = y * (1 - y); 1 - y is exact for y >= 1/2. */
FA_INLINE FA_T FA_FN(sigmoid_grad)(FA_T g, FA_T y)
{
    return g * (y * (FA_C(1) - y));
}

/* tanh ------------------------------------------------------------------ */
/* float32 where its table serves: x T(|x|), T = tanh(x) / x on [0, 9). */
FA_INLINE FA_T FA_FN(tanh_closed)(FA_T x) { return FA_M(tanh)(x); }
FA_INLINE FA_T FA_FN(tanh)(FA_T x)
{
    return FA_TABLED_AT(tanh_ts, FA_M(abs)(x), x, x, FA_FN(tanh_closed)(x));
}

/* From the output y: tanh' = 1 - y^2, evaluated as (1 - y)(1 + y) so that
 * it keeps its relative accuracy as |y| -> 1. */
FA_INLINE FA_T FA_FN(tanh_grad)(FA_T g, FA_T y)
{
    return g * ((FA_C(1) - y) * (FA_C(1) + y));
}

/* relu_sigmoid: sigmoid(max(z, 0)), fused ------------------------------- */
FA_INLINE FA_T FA_FN(relu_sigmoid)(FA_T z)
{
    FA_T x = FA_FN(relu_nan)(z);
    return FA_C(1) / (FA_C(1) + FA_M(exp_neg)(-x));
}

FA_INLINE FA_T FA_FN(relu_sigmoid_grad)(FA_T g, FA_T z)
{
    FA_T scale;
    FA_T d = FA_FN(dsigmoid_scaled)(z, &g, &scale);
    return FA_FN(nan_or)(z, z > 0 ? (g * d) * scale : FA_C(0));
}
/* relu6 ----------------------------------------------------------------- */
/* min(max(x, 0), 6) = hardtanh(x, 0, 6); relu6(-0.0) = +0.0 as relu. */
FA_INLINE FA_T FA_FN(relu6)(FA_T x)
{
    return x <= 0 ? FA_C(0) : (x > 6 ? FA_C(6) : x);
}

/* hardtanh -------------------------------------------------------------- */
FA_INLINE FA_T FA_FN(hardtanh)(FA_T x, FA_T min_val, FA_T max_val)
{
    return FA_FN(clamp)(x, min_val, max_val);
}

FA_INLINE FA_T FA_FN(hardtanh_grad)(FA_T g, FA_T x, FA_T min_val, FA_T max_val)
{
    return FA_FN(nan_or)(x, (x > min_val && x < max_val) ? g : FA_C(0));
}

/* relu6' is PyTorch's hardtanh_backward(x, 0, 6): grad strictly inside
 * (0, 6), a mask (0) at and beyond both edges. */
FA_INLINE FA_T FA_FN(relu6_grad)(FA_T g, FA_T x)
{
    return FA_FN(hardtanh_grad)(g, x, FA_C(0), FA_C(6));
}

/* elu ------------------------------------------------------------------- */
/* pos x for x > 0, neg expm1(x) below (elu: 1, alpha; selu: its scale and
 * scale alpha): expm1 keeps the relative accuracy near 0. */
FA_INLINE FA_T FA_FN(elu_form)(FA_T x, FA_T pos, FA_T neg)
{
    return x > 0 ? pos * x : neg * FA_M(expm1_neg)(x);
}

/* Its derivative times g: pos for x > 0 (elu'(0) = alpha, PyTorch's x > 0),
 * neg exp(x) below, with the FA_TAIL tiers. */
FA_INLINE FA_T FA_FN(elu_grad_form)(FA_T g, FA_T x, FA_T pos, FA_T neg)
{
    FA_T gs = g, scale, e = FA_FN(exp_shifted_above)(x <= 0 ? x : FA_C(0), FA_C(0), x, &gs, &scale);
    return FA_FN(nan_or)(x, x > 0 ? g * pos : ((gs * e) * neg) * scale);
}

FA_INLINE FA_T FA_FN(elu)(FA_T x, FA_T alpha)
{
    return FA_FN(elu_form)(x, FA_C(1), alpha);
}

FA_INLINE FA_T FA_FN(elu_grad)(FA_T g, FA_T x, FA_T alpha)
{
    return FA_FN(elu_grad_form)(g, x, FA_C(1), alpha);
}

/* selu ------------------------------------------------------------------ */
/* scale * (x > 0 ? x : alpha * expm1(x)); the product scale * alpha is one
 * constant, so each side rounds only twice. */
#define FA_SELU_SCALE FA_C(1.0507009873554804934193349852946)
#define FA_SELU_SCALE_ALPHA FA_C(1.7580993408473768599402175208123)
FA_INLINE FA_T FA_FN(selu)(FA_T x)
{
    return FA_FN(elu_form)(x, FA_SELU_SCALE, FA_SELU_SCALE_ALPHA);
}

FA_INLINE FA_T FA_FN(selu_grad)(FA_T g, FA_T x)
{
    return FA_FN(elu_grad_form)(g, x, FA_SELU_SCALE, FA_SELU_SCALE_ALPHA);
}
#undef FA_SELU_SCALE
#undef FA_SELU_SCALE_ALPHA

/* celu ------------------------------------------------------------------ */
/* x > 0 ? x : alpha * expm1(x / alpha), in two forms. alpha > 0
 * (alpha_pos, the usual case) makes u = x / alpha <= 0 where it is used:
 * expm1_neg serves, and the division rounds once without being amplified
 * (|u expm1'(u) / expm1(u)| <= 1 for u <= 0). alpha < 0 makes u >= 0, where
 * expm1 amplifies the rounding of u |u| times and alpha * expm1(u) may be
 * finite where expm1(u) is not: that form takes u as uh + ul (celu_u) and
 * alpha as exp_core's factor. The loops run one form per call
 * (param_loops.h); the per-element kernels pick the same form by alpha's
 * sign, so every path gives the same bits. */

/* u = min(x, 0) / alpha as uh + ul: x times the reciprocal, corrected by
 * the product's error and the reciprocal's (1/alpha and its low part are
 * loop invariants, computed once per call once the kernel is inlined). */
FA_INLINE FA_T FA_FN(celu_u)(FA_T x, FA_T alpha, FA_T *ul)
{
    FA_T inv = FA_C(1) / alpha, pa = alpha * inv;
    FA_T inv_lo = ((FA_C(1) - pa) - FA_FN(mul_err)(alpha, inv, pa)) * inv;
    FA_T xm = x > 0 ? FA_C(0) : x; /* NaN stays */
    FA_T uh = xm * inv;
    FA_T lo = FA_FN(mul_err)(xm, inv, uh) + xm * inv_lo;
    *ul = FA_M(abs)(uh) < FA_BIG ? lo : FA_C(0); /* inf - inf beyond */
    return uh;
}

FA_INLINE FA_T FA_FN(celu_form)(FA_T x, FA_T alpha, const int alpha_pos)
{
    if (alpha_pos) return x > 0 ? x : alpha * FA_M(expm1_neg)(x / alpha);
    FA_T ul, uh = FA_FN(celu_u)(x, alpha, &ul);
    /* expm1(uh + ul) = E + ul (1 + E); beyond 20 / 40, alpha e^u (the -alpha
     * is below 2^-28 of it) rounded once, to +-inf only where it overflows */
    FA_T E = FA_M(expm1)(uh);
    /* FA_FMA, not FA_TFMA: on the SSE2 baseline the latter is a libm call
     * per element (a scalar loop); ul (1 + E) is ~ulp(E), so rounding it
     * first costs nothing */
    FA_T small = alpha * FA_FMA(ul, FA_C(1) + E, E);
    FA_T big = FA_FN(exp_core)(uh, ul, alpha);
    return x > 0 ? x : (uh < FA_PICK(20.0, 40.0) ? small : big);
}

FA_INLINE FA_T FA_FN(celu)(FA_T x, FA_T alpha)
{
    return alpha > 0 ? FA_FN(celu_form)(x, alpha, 1) : FA_FN(celu_form)(x, alpha, 0);
}

/* grad * exp(uh + ul): exp amplifies the rounding of u |u| times (40 ULP at
 * u = -80 for alpha = 0.3), hence celu_u. alpha > 0: u <= 0, exp_neg_core
 * with the FA_TAIL shift. alpha < 0: u >= 0, and grad * exp(u) may be
 * finite (grad tiny) where exp(u) overflows: u is shifted down by 78 / 695
 * once or twice (exact), and the product scaled up by exp(78) / exp(695)
 * (within 0.03 ULP of its float) as many times; u is clamped at three
 * shifts, beyond which the product overflows for every nonzero grad. */
#define FA_UP_SHIFT FA_PICK(78.0, 695.0)
#define FA_EUP_SHIFT FA_PICK(7.4984169969901204e+33, 6.8338418295780108e+301)
FA_INLINE FA_T FA_FN(celu_grad_form)(FA_T g, FA_T x, FA_T alpha, const int alpha_pos)
{
    FA_T ul, uh = FA_FN(celu_u)(x, alpha, &ul), r;
    if (alpha_pos) {
        FA_T gs = g, scale, e = FA_FN(exp_shifted)(uh, ul, uh, &gs, &scale);
        r = (gs * e) * scale;
    } else {
        FA_T u = uh < FA_C(3) * FA_UP_SHIFT ? uh : FA_C(3) * FA_UP_SHIFT;
        int once = u > FA_UP_SHIFT, twice = u > FA_C(2) * FA_UP_SHIFT;
        FA_T v = u - (twice ? FA_C(2) * FA_UP_SHIFT : (once ? FA_UP_SHIFT : FA_C(0)));
        r = g * FA_FN(exp_core)(v, ul, FA_C(1));
        r = once ? r * FA_EUP_SHIFT : r;
        r = twice ? r * FA_EUP_SHIFT : r;
    }
    return FA_FN(nan_or)(x, x > 0 ? g : r);
}
#undef FA_UP_SHIFT
#undef FA_EUP_SHIFT

FA_INLINE FA_T FA_FN(celu_grad)(FA_T g, FA_T x, FA_T alpha)
{
    return alpha > 0 ? FA_FN(celu_grad_form)(g, x, alpha, 1) : FA_FN(celu_grad_form)(g, x, alpha, 0);
}

/* silu ------------------------------------------------------------------ */
/* x * sigmoid(x) with e = exp(-|x|): x / (1 + e) for x >= 0 and
 * x * e / (1 + e) for x < 0 (never x / (1 + exp(-x)), which overflows).
 * x * e is exp_neg_core's m * exp(a) (exp_times): x times the mantissa,
 * rounded once as a normal number, then scaled, so that it keeps its
 * precision where exp(x) alone would be subnormal and 1 + e = 1: float32
 * silu is exact to the last subnormal (x ~ -103.3). */
/* x sigmoid(w) for a w of x's sign, given as a + lo = -|w|: silu (w = x)
 * and gelu_tanh. */
FA_INLINE FA_T FA_FN(x_sigmoid)(FA_T x, FA_T a, FA_T lo)
{
    FA_T e, xe = FA_FN(exp_times)(a, lo, FA_FN(clamp_neg)(x), &e);
    /* x < 0, not !(x >= 0): a NaN x is the dividend, which the division
     * returns as it is; xe's NaN took its sign from however GCC arranged
     * the exp, which differs between vector code and the epilogue */
    return (x < 0 ? xe : x) / (FA_C(1) + e);
}

FA_INLINE FA_T FA_FN(silu)(FA_T x)
{
    return FA_FN(x_sigmoid)(x, -FA_M(abs)(x), FA_C(0));
}

/* silu'(x) = s (1 + x (1 - s)), s = sigmoid(x), with e = exp(-|x|):
 *   x >= 0:  (1 + e + x e) / (1 + e)^2
 *   x <  0:  e (1 + x + e) / (1 + e)^2      (1 + x is exact near the root)
 * The root at x = -1.2785 cancels in 1 + x + e: see FA_FN(silu_grad). */
FA_INLINE FA_T FA_FN(silu_deriv)(FA_T x, FA_T *g, FA_T *scale)
{
    FA_T e = FA_FN(exp_neg_abs)(x, g, scale);
    FA_T xm = FA_FN(clamp_big)(x);
    FA_T ope = FA_C(1) + e;
    FA_T num = x >= 0 ? ope + xm * e : e * ((FA_C(1) + xm) + e);
    return num / (ope * ope);
}

/* gelu (erf) ------------------------------------------------------------ */
/* gelu(x) = x Phi(x) from Phi(-a) = m(a) exp(-a^2/2), a = |x|
 * (fa_phi_ratio_f32 / _f64, vmath_erf.h): one exp of the exact double-word
 * -a^2/2 and one polynomial; Phi(x) = 1 - Phi(-a) for x > 0, rounded once
 * by the FMA, and Phi(-a) itself for x < 0, so that the negative tail keeps
 * its relative accuracy (1 + erf(x/sqrt2) cancels to 0 below -5.5 in
 * float32). The forward's f exp(-a^2/2) (f = m, or a m for the negative
 * side; float64: as double-word numbers) is exp_neg_core's factor product,
 * rounded once as a normal number and once more if subnormal: no tail
 * series, no shift. The backward's exp(-a^2/2) is shifted in exp_shifted's
 * tiers on the negative side. a is clamped at 19.8 / 54.1, where even the
 * largest grad times gelu'(x) underflows to 0. float32 on [-5, 5) reads a
 * table instead where the lookup is cheap (FA_TABLED).
 *
 * The core range of float64, |x| < FA_GELU_CORE (m's first piece): forms
 * with `core` set (a constant) assume it and skip the clamp, m's piece
 * selects and the tiers; gelu's range loops (range_loops.h) run them on
 * blocks inside it. The same bits. */
#define FA_GELU_A_MAX FA_PICK(19.8, 54.1)
#define FA_GELU_CORE FA_PHI_CORE_F64

FA_INLINE FA_T FA_FN(gelu_abs)(FA_T x, const int core)
{
    FA_T a = FA_M(abs)(x);
    /* a NaN becomes A_MAX: its result is x, through gelu_nan */
    return core ? a : FA_FN(clamp_mag)(a, FA_GELU_A_MAX);
}

/* v, or x itself where x is NaN (gelu_abs clamps a NaN's |x|). */
FA_INLINE FA_T FA_FN(gelu_nan)(FA_T x, FA_T v, const int core)
{
    return core || x == x ? v : x;
}

/* m(a), rounded to one number (the backward). */
FA_INLINE FA_T FA_FN(gelu_m)(FA_T a, const int core)
{
    if (sizeof(FA_T) == 4) return fa_phi_ratio_f32(a);
    double ml, mh = fa_phi_ratio_f64(a, &ml, core);
    return mh + ml;
}

FA_INLINE FA_T FA_FN(gelu_form)(FA_T x, const int core)
{
    FA_T a = FA_FN(gelu_abs)(x, core);
    FA_T h = a * (FA_C(-0.5) * a), hl = FA_FN(mul_err)(a, FA_C(-0.5) * a, h); /* -a^2/2 */
    FA_T q; /* Phi(-a) (x > 0) or a Phi(-a) */
    if (sizeof(FA_T) == 4) {
        FA_T m = FA_FN(gelu_m)(a, core);
        q = fa_exp_neg_core_f32(h, hl, x > 0 ? m : a * m);
    } else {
        double ml, mh = fa_phi_ratio_f64(a, &ml, core);
        double fh = a * mh, fl = FA_FMA_F64(a, ml, FA_FN(mul_err)(a, mh, fh)); /* a m */
        double lo = x > 0 ? ml : fl;
        q = fa_exp_neg_core_dw_f64(h, hl, x > 0 ? mh : fh, &lo);
    }
    /* both arms first: GCC does not if-convert an FMA inside one */
    FA_T pos = FA_FMA(-a, q, x), neg = FA_FN(signed)(q, x);
    return FA_FN(gelu_nan)(x, x > 0 ? pos : neg, core);
}

FA_INLINE FA_T FA_FN(gelu_closed)(FA_T x)
{
    return FA_FN(gelu_form)(x, 0);
}

FA_INLINE FA_T FA_FN(gelu)(FA_T x)
{
    return FA_TABLED(gelu_phi, x, x, FA_FN(gelu_closed)(x));
}

/* gelu'(x) = Phi(x) + x phi(x), as value * *scale, phi(x) = exp(-a^2/2) /
 * sqrt(2 pi): the forward's exp, without the factor. The root at
 * x = -0.7518 (the two terms cancel) is handled in FA_FN(gelu_grad). */
FA_INLINE FA_T FA_FN(gelu_deriv)(FA_T x, FA_T *g, FA_T *scale, const int core)
{
    FA_T a = FA_FN(gelu_abs)(x, core);
    FA_T h = a * (FA_C(-0.5) * a), hl = FA_FN(mul_err)(a, FA_C(-0.5) * a, h);
    FA_T e = FA_FN(exp_shifted)(h, hl, core || x > 0 ? FA_C(0) : h, g, scale);
    FA_T m = FA_FN(gelu_m)(a, core);
    FA_T pos = FA_FMA(-e, m, FA_C(1)), neg = e * m;
    FA_T phi_x = x > 0 ? pos : neg; /* Phi(x) */
    /* explicit FMAs: nothing left for GCC to contract differently in
     * different inlined contexts (the stats kernel must agree bitwise) */
    return FA_FN(gelu_nan)(x, FA_FMA(FA_FN(signed)(a, x), e * FA_PICK(0.3989422804f, 0.3989422804014327), phi_x), core);
}

/* gelu (tanh approximation) --------------------------------------------- */
/* 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), is x sigmoid(w)
 * with w = 2u = x (A + B x^2): one exp, no cancellation for x < 0. sigmoid
 * of a large |w| amplifies the rounding of w |w| times, so w is formed as
 * wh + wl: in double for float (exact enough), in double-word arithmetic
 * for double. exp(-|w|) = exp(-|wh|) (1 -+ wl); the tail as in silu (the
 * forward) and silu' (the backward's FA_TAIL shift). */
FA_INLINE FA_T FA_FN(gelu_tanh_w)(FA_T x, FA_T *lo)
{
    FA_T hi;
    if (sizeof(FA_T) == 4) {
        double xd = (double)x;
        double w = xd * (1.5957691216057308 + 0.07135481627260025 * (xd * xd));
        hi = (FA_T)w;
        *lo = (FA_T)(w - (double)hi);
    } else {
        const FA_T a_hi = FA_C(1.5957691216057308), a_lo = FA_C(-9.96930880911092e-17);
        const FA_T b_hi = FA_C(0.07135481627260025), b_lo = FA_C(-6.175149918155315e-19);
        FA_T xc = FA_FN(clamp_big)(x);
        FA_T p = xc * xc, pe = FA_FN(mul_err)(xc, xc, p);
        FA_T t = b_hi * p, te = FA_FN(mul_err)(b_hi, p, t) + (b_hi * pe + b_lo * p);
        FA_T s = a_hi + t, se = FA_FN(add_err)(a_hi, t, s) + (te + a_lo);
        hi = x * s;
        *lo = FA_FN(mul_err)(xc, s, hi) + xc * se;
    }
    /* Outside |w| < FA_BIG the correction is irrelevant (and may be NaN). */
    *lo = FA_M(abs)(hi) < FA_BIG ? *lo : FA_C(0);
    return hi;
}

/* -|wh + wl| as -|wh| + *lo: lo = wh >= 0 ? -wl : wl, a sign flip rather
 * than a select. */
FA_INLINE FA_T FA_FN(neg_abs2)(FA_T wh, FA_T wl, FA_T *lo)
{
    *lo = -FA_M(mulsign)(wl, wh);
    return -FA_M(abs)(wh);
}

/* exp(-|w|) for w = wh + wl (|wl| <= ulp(wh)), as exp_neg_abs: shifted in
 * exp_shifted's tiers of t (wh for the negative side only, -|wh| for
 * sigmoid', symmetric). */
FA_INLINE FA_T FA_FN(exp_neg_abs2)(FA_T wh, FA_T wl, FA_T t, FA_T *g, FA_T *scale)
{
    FA_T al, a = FA_FN(neg_abs2)(wh, wl, &al);
    return FA_FN(exp_shifted)(a, al, t, g, scale);
}

/* leaky_relu_sigmoid: sigmoid(leaky_relu(z, alpha)), fused -------------- */
/* -|u| for u = leaky_relu(z, alpha), as a + *al: alpha z rounds, and
 * sigmoid of a large negative u amplifies that rounding |u| times
 * (alpha = 0.01 and z = -7000 would lose 6 bits); with *al the result is
 * within a few ULP of sigmoid of the exact alpha z. -|u| = z * (z > 0 ? -1
 * : |alpha|) for either sign of alpha, so one product gives the exp's
 * argument without an abs and a sign flip of the low part. */
FA_INLINE FA_T FA_FN(leaky_relu_sigmoid_s)(FA_T z, FA_T alpha)
{
    return z > 0 ? FA_C(-1) : FA_M(abs)(alpha);
}
FA_INLINE FA_T FA_FN(leaky_relu_sigmoid_a)(FA_T z, FA_T alpha, FA_T *al)
{
    FA_T s = FA_FN(leaky_relu_sigmoid_s)(z, alpha);
    FA_T a = z * s; /* also range_loops.h's tier variable */
    /* mul_lo's guard, without its abs since a <= 0 (forward 6% faster),
     * as two selects of FA_T: an int of two float64 compares kept the SSE2
     * loops scalar. The no-tier forms run where a >= FA_TAIL > -FA_BIG,
     * where it always passes: they drop it. */
    FA_T e = FA_FN(mul_err)(z, s, a); /* 0 for z > 0 */
    if (FA_TAILS) e = a > -FA_BIG ? e : FA_C(0);
    if (!FA_HAVE_FMA) e = FA_M(abs)(z) <= FA_SPLIT_MAX ? e : FA_C(0);
    *al = e;
    return a;
}

/* sigmoid(u) = (u >= 0 ? 1 : e) / (1 + e), e = exp(-|u|); u >= 0 is
 * z > 0 or alpha < 0 (z = 0, alpha = 0 and an underflowed alpha z give
 * e = 1 on both sides). No FA_TAIL shift: where e is subnormal, so is the
 * result, and e / (1 + e) = e is exact; exp_neg_core rounds it once. */
FA_INLINE FA_T FA_FN(leaky_relu_sigmoid)(FA_T z, FA_T alpha)
{
    FA_T al, a = FA_FN(leaky_relu_sigmoid_a)(z, alpha, &al);
    FA_T e = FA_FN(exp_neg_at)(a, al);
    return (z > 0 || alpha < 0 ? FA_C(1) : e) / (FA_C(1) + e);
}

/* sigmoid'(u) (1 if z > 0 else alpha), sigmoid'(u) = e / (1 + e)^2. */
FA_INLINE FA_T FA_FN(leaky_relu_sigmoid_grad)(FA_T g, FA_T z, FA_T alpha)
{
    FA_T al, scale, a = FA_FN(leaky_relu_sigmoid_a)(z, alpha, &al);
    FA_T e = FA_FN(exp_shifted_above)(a, al, a, &g, &scale);
    FA_T r = FA_C(1) / (FA_C(1) + e);
    return ((g * (e * r * r)) * (z > 0 ? FA_C(1) : alpha)) * scale;
}
FA_INLINE FA_T FA_FN(gelu_tanh)(FA_T x)
{
    FA_T wl, al;
    FA_T wh = FA_FN(gelu_tanh_w)(x, &wl), a = FA_FN(neg_abs2)(wh, wl, &al);
    return FA_FN(x_sigmoid)(x, a, al); /* wh has x's sign */
}

/* d/dx x s(w) = s + x s (1 - s) w', w' = A + 3 B x^2, s = sigmoid(w):
 *   w >= 0: (1 + e + x w' e) / (1 + e)^2,  w < 0: e (1 + e + x w') / (1 + e)^2 */
FA_INLINE FA_T FA_FN(gelu_tanh_deriv)(FA_T x, FA_T *g, FA_T *scale)
{
    FA_T wl;
    FA_T wh = FA_FN(gelu_tanh_w)(x, &wl);
    FA_T e = FA_FN(exp_neg_abs2)(wh, wl, wh, g, scale);
    FA_T xm = FA_FN(clamp_big)(x);
    FA_T xw = xm * (FA_C(1.5957691216057308) + FA_C(0.21406444881780074) * (xm * xm));
    FA_T ope = FA_C(1) + e;
    FA_T num = wh >= 0 ? ope + xw * e : e * ((FA_C(1) + xw) + e);
    return num / (ope * ope);
}

/* mish ------------------------------------------------------------------ */
/* x tanh(softplus(x)) with one exp, w = exp(-|x|):
 *   x >= 0: tanh(log1p(1/w)) = (1 + 2w) / (1 + 2w + 2w^2)
 *   x <  0: tanh(log1p(w))   = n / (n + 2),  n = w (w + 2)
 * Neither overflows nor cancels; the tail as in silu (there n/(n+2) is w
 * exactly). */
FA_INLINE FA_T FA_FN(mish_closed)(FA_T x)
{
    FA_T w, xw = FA_FN(exp_times)(-FA_M(abs)(x), FA_C(0), FA_FN(clamp_neg)(x), &w);
    FA_T n = w * (w + FA_C(2));
    FA_T a = FA_C(1) + FA_C(2) * w;
    /* x < 0: x n = (x w) (w + 2), x w as silu's (exp_times) */
    FA_T num = x >= 0 ? x * a : xw * (w + FA_C(2));
    FA_T den = x >= 0 ? a + FA_C(2) * (w * w) : n + FA_C(2);
    /* a NaN x gives x: num's NaN took its sign from however GCC arranged
     * the selects, which differs between vector code and the epilogue */
    return FA_FN(nan_or)(x, num / den);
}
/* float32 on [-8, 8): x tanh(softplus(x)) from the table */
FA_INLINE FA_T FA_FN(mish)(FA_T x)
{
    return FA_TABLED(mish_ts, x, x, FA_FN(mish_closed)(x));
}

/* mish'(x) = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x)), as one
 * fraction (T + x Q) / D:
 *   x >= 0: b = a + 2w^2:  T = a b,  Q = 4 w^2 (1 + w),  D = b^2
 *   x <  0: P = n + 2:     T = n P (1 + w),  Q = 4 (n + 1) w,  D = P^2 (1 + w)
 * The root at x = -1.1924 is handled in FA_FN(mish_grad). */
FA_INLINE FA_T FA_FN(mish_deriv)(FA_T x, FA_T *g, FA_T *scale)
{
    FA_T w = FA_FN(exp_neg_abs)(x, g, scale);
    FA_T xm = FA_FN(clamp_big)(x);
    FA_T opw = FA_C(1) + w;
    FA_T n = w * (w + FA_C(2)), P = n + FA_C(2);
    FA_T a = FA_C(1) + FA_C(2) * w, b = a + FA_C(2) * (w * w);
    FA_T T = x >= 0 ? a * b : n * P * opw;
    FA_T Q = x >= 0 ? FA_C(4) * (w * w) * opw : FA_C(4) * (n + FA_C(1)) * w;
    FA_T D = x >= 0 ? b * b : P * P * opw;
    return (T + xm * Q) / D;
}

/* softplus -------------------------------------------------------------- */
/* PyTorch: x where beta x > threshold, else log1p(exp(beta x)) / beta,
 * here evaluated stably as (max(u, 0) + log1p(exp(-|u|))) / beta with
 * u = beta x formed exactly as uh + ul (beta x rounds, and log1p(exp(u))
 * amplifies that rounding |u| times for u < 0). threshold = inf gives the
 * exact function. FA_TAIL shift for u << 0, where the result is
 * exp(u) / beta and may be normal while exp(u) is not (beta < 1), or is
 * subnormal and would round twice (beta > 1); beta = 1 needs none: the
 * result is exp(u), rounded once. The first tier suffices (exp(u + FA_SHIFT)
 * is normal down to u = -124 / -919, where exp(u) / beta is subnormal for
 * every beta above 1e-16 / 1e-91).
 *
 * beta = 1 is a form of its own (beta1, a literal, as celu's alpha_pos):
 * softplus(x) = -log_sigmoid(-x) and softplus'(x) = log_sigmoid'(-x), so
 * float32 reads log_sigmoid's tables at -x where they cover it
 * (FA_TABLED_AT), and the cut-off is applied after, as to the closed form.
 * Only at the levels that read that table (FA_TAB_USE): elsewhere its NaN
 * rule alone made AVX2's beta = 1 loop 20% slower (GCC merges it into the
 * closed form's selects), and the kernels are the closed forms, NaN
 * included. The loops run beta = 1 for the whole block when the hoisted
 * beta is 1 (param_loops.h; on AVX-512 through act_loops.h), with the same
 * bits. */
FA_INLINE FA_T FA_FN(softplus_u)(FA_T x, FA_T beta, FA_T *ul)
{
    FA_T uh = beta * x;
    *ul = beta == 1 ? FA_C(0) : FA_FN(mul_lo)(x, beta, uh); /* folds where beta is 1 */
    return uh;
}

/* Without the cut-off. */
FA_INLINE FA_T FA_FN(softplus_beta)(FA_T x, FA_T beta)
{
    FA_T ul, scale;
    FA_T uh = FA_FN(softplus_u)(x, beta, &ul);
    FA_T e = FA_FN(exp_neg_abs2)(uh, ul, beta != 1 ? uh : FA_C(0), NULL, &scale);
    FA_T l = FA_M(log1p_unit)(e);
    FA_T sp = uh > 0 ? uh + (ul + l) : l;
    return sp / beta * scale;
}
FA_INLINE FA_T FA_FN(softplus_closed)(FA_T x)
{
    return FA_FN(softplus_beta)(x, FA_C(1));
}

FA_INLINE FA_T FA_FN(softplus_form)(FA_T x, FA_T beta, FA_T threshold, const int beta1)
{
    FA_T y = beta1 && FA_TAB_USE(log_sigmoid) ? FA_TABLED_AT(log_sigmoid, -x, x, -1, FA_FN(softplus_closed)(x))
                                              : FA_FN(softplus_beta)(x, beta);
    return beta * x > threshold ? x : y;
}
/* Per element: the general form once (at a beta of 1 it gives the bits of
 * the closed form with a literal 1), the table where beta is 1. */
FA_INLINE FA_T FA_FN(softplus)(FA_T x, FA_T beta, FA_T threshold)
{
    FA_T y = FA_FN(softplus_beta)(x, beta);
    y = beta == 1 && FA_TAB_USE(log_sigmoid) ? FA_TABLED_AT(log_sigmoid, -x, x, -1, y) : y;
    return beta * x > threshold ? x : y;
}

/* softplus' = sigmoid(beta x), 1 where beta x > threshold (PyTorch). */
FA_INLINE FA_T FA_FN(softplus_grad_beta)(FA_T g, FA_T x, FA_T beta)
{
    FA_T ul, scale;
    FA_T uh = FA_FN(softplus_u)(x, beta, &ul);
    FA_T gs = g, e = FA_FN(exp_neg_abs2)(uh, ul, uh, &gs, &scale);
    FA_T s = (uh >= 0 ? FA_C(1) : e) / (FA_C(1) + e);
    return gs * s * scale;
}
FA_INLINE FA_T FA_FN(softplus_grad_closed)(FA_T g, FA_T x)
{
    return FA_FN(softplus_grad_beta)(g, x, FA_C(1));
}

FA_INLINE FA_T FA_FN(softplus_grad_form)(FA_T g, FA_T x, FA_T beta, FA_T threshold, const int beta1)
{
    FA_T r = beta1 && FA_TAB_USE(log_sigmoid_der)
                 ? FA_TABLED_AT(log_sigmoid_der, -x, x, g, FA_FN(softplus_grad_closed)(g, x))
                 : FA_FN(softplus_grad_beta)(g, x, beta);
    return beta * x > threshold ? g : r;
}
FA_INLINE FA_T FA_FN(softplus_grad)(FA_T g, FA_T x, FA_T beta, FA_T threshold)
{
    FA_T r = FA_FN(softplus_grad_beta)(g, x, beta);
    r = beta == 1 && FA_TAB_USE(log_sigmoid_der) ? FA_TABLED_AT(log_sigmoid_der, -x, x, g, r) : r;
    return beta * x > threshold ? g : r;
}

/* log_sigmoid ----------------------------------------------------------- */
/* min(x, 0) - log1p(exp(-|x|)): both terms <= 0, no cancellation. */
FA_INLINE FA_T FA_FN(log_sigmoid_closed)(FA_T x)
{
    FA_T l = FA_M(log1p_unit)(FA_M(exp_neg)(-FA_M(abs)(x)));
    return x > 0 ? -l : x - l;
}
FA_INLINE FA_T FA_FN(log_sigmoid)(FA_T x)
{
    return FA_TABLED(log_sigmoid, x, 1, FA_FN(log_sigmoid_closed)(x));
}

/* log_sigmoid'(x) = sigmoid(-x) = (x >= 0 ? e : 1) / (1 + e). */
FA_INLINE FA_T FA_FN(log_sigmoid_grad_closed)(FA_T g, FA_T x)
{
    /* e tiny and in the numerator for x >> 0: tiers of -x */
    FA_T scale, e = FA_FN(exp_shifted)(-FA_M(abs)(x), FA_C(0), -x, &g, &scale);
    return (g * ((x >= 0 ? e : FA_C(1)) / (FA_C(1) + e))) * scale;
}
FA_INLINE FA_T FA_FN(log_sigmoid_grad)(FA_T g, FA_T x)
{
    return FA_TABLED(log_sigmoid_der, x, g, FA_FN(log_sigmoid_grad_closed)(g, x));
}

/* softsign -------------------------------------------------------------- */
FA_INLINE FA_T FA_FN(softsign)(FA_T x)
{
    FA_T ax = FA_M(abs)(x);
    return ax > FA_PICK(1e30, 1e300) ? (x > 0 ? FA_C(1) : FA_C(-1)) : x / (FA_C(1) + ax);
}

/* softsign'(x) = 1 / (1 + |x|)^2, as (g r) r with r = 1 / (1 + |x|): never
 * overflows, and a subnormal result rounds once. */
FA_INLINE FA_T FA_FN(softsign_grad)(FA_T g, FA_T x)
{
    FA_T r = FA_C(1) / (FA_C(1) + FA_M(abs)(x));
    return (g * r) * r;
}

/* hardsigmoid ----------------------------------------------------------- */
/* PyTorch: min(max(x + 3, 0), 6) / 6 (x + 3 is exact near -3). A true
 * division: a (1/6) corrected by an FMA of the remainder gives its bits
 * for every float32 with a normal quotient, but measured 17-32% slower
 * than vdivps on the Zen 4 test machine. */
FA_INLINE FA_T FA_FN(hardsigmoid)(FA_T x)
{
    FA_T v = x + FA_C(3);
    return v <= 0 ? FA_C(0) : (v >= 6 ? FA_C(1) : v / FA_C(6));
}

/* grad / 6 strictly inside (-3, 3), a mask (0) elsewhere (PyTorch). */
FA_INLINE FA_T FA_FN(hardsigmoid_grad)(FA_T g, FA_T x)
{
    return FA_FN(nan_or)(x, (x > -3 && x < 3) ? g / FA_C(6) : FA_C(0));
}

/* hardswish ------------------------------------------------------------- */
/* PyTorch: x min(max(x + 3, 0), 6) / 6, with the x <= -3 side selected as
 * -0.0 so that hardswish(-inf) is 0, not -inf * 0 = NaN. */
FA_INLINE FA_T FA_FN(hardswish)(FA_T x)
{
    return x <= -3 ? FA_C(-0.0) : (x >= 3 ? x : x * (x + FA_C(3)) / FA_C(6));
}

/* PyTorch's hardswish_backward: 0 for x < -3, grad (2x + 3)/6 on [-3, 3]
 * (so -grad/2 at -3 and 1.5 grad at 3), grad for x > 3. (2x + 3) is exact
 * near the root -1.5, unlike x/3 + 1/2. */
FA_INLINE FA_T FA_FN(hardswish_grad)(FA_T g, FA_T x)
{
    FA_T inside = g * ((FA_C(2) * x + FA_C(3)) / FA_C(6));
    return FA_FN(nan_or)(x, x < -3 ? FA_C(0) : (x <= 3 ? inside : g));
}

/* prelu ----------------------------------------------------------------- */
/* x > 0 ? x : weight x. weight is a parameter (float64 to the ufunc, so a
 * broadcast weight is hoisted out of the loop); the Python wrapper shapes
 * it to broadcast along axis 1. */
FA_INLINE FA_T FA_FN(prelu)(FA_T x, FA_T w)
{
    return x > 0 ? x : w * x;
}

/* grad_x; the weight's gradient, the sum of grad * x over x <= 0, is
 * reduced alongside (prelu_reduce.h). */
FA_INLINE FA_T FA_FN(prelu_grad)(FA_T g, FA_T x, FA_T w)
{
    return FA_FN(nan_or)(x, x > 0 ? g : g * w);
}

/* bce_with_logits ------------------------------------------------------- */
/* max(z, 0) - z t + log1p(exp(-|z|)), arranged as
 *   z > 0:  z (1 - t) + log1p(e)      z <= 0:  -z t + log1p(e)
 * so that for targets in [0, 1] both terms are >= 0 (no cancellation; 1 - t
 * is exact for t >= 1/2). A term whose factor is exactly 0 is 0, so the
 * limits at z = +-inf with a hard target are 0 (not inf - inf). */
/* max(z, 0) - z t (exactly 0 for a hard target on the right side, so
 * that a confident correct logit costs only the log term) */
FA_INLINE FA_T FA_FN(bce_lin)(FA_T z, FA_T t)
{
    FA_T c = z > 0 ? FA_C(1) - t : -t;
    return c == 0 ? FA_C(0) : z * c;
}
/* log1p(exp(-|z|)) */
FA_INLINE FA_T FA_FN(bce_log_closed)(FA_T az)
{
    return FA_M(log1p_unit)(FA_M(exp_neg)(-az));
}
/* lin + log1p(exp(-|z|)); the log term as -log_sigmoid(|z|) from that
 * table where it serves (float32; act_loops.h has the AVX-512 loop). A NaN
 * z gives z (the sum of two NaNs would keep the one GCC put first). */
FA_INLINE FA_T FA_FN(bce_with_logits)(FA_T z, FA_T t)
{
    FA_T az = FA_M(abs)(z);
    FA_T l = FA_TABLED_AT(log_sigmoid, az, az, -1, FA_FN(bce_log_closed)(az));
    FA_T r = FA_FN(bce_lin)(z, t) + l;
    return z != z ? z : r;
}

/* sigmoid(z) - t: for |z| >= 1 as (1 - t) - sigmoid(-z) (z > 0) or
 * sigmoid(z) - t (z < 0), exact for hard targets, no rounding of
 * 1 - sigmoid(z); for |z| < 1 as tanh(z/2)/2 - (t - 1/2), where t - 1/2 is
 * exact, so that sigmoid(z) -> t = 1/2 keeps its relative accuracy. With a
 * soft target the two terms may still cancel: float kernels evaluate in
 * double, so the result is within an ULP of the exact value; double
 * kernels are within a few ULP of the terms' size, |1 - t| + sigmoid(-z)
 * (z >= 0) or |t| + sigmoid(z). */
FA_INLINE FA_T FA_FN(bce_with_logits_grad)(FA_T g, FA_T z, FA_T t)
{
    if (sizeof(FA_T) == 4) {
        /* in double, one exp: sigmoid(|z|) - 1/2 = (1 - e) / (2 (1 + e)),
         * where 1 - e is within 2^-41 for |z| >= 2^-12, and z/4 below
         * (relative error z^2/12) */
        double zd = (double)z, td = (double)t, az = fa_vm_abs_f64(zd);
        double e = fa_vm_exp_neg_f64(-az), r = 1.0 / (1.0 + e), s = e * r;
        double big = zd >= 0 ? (1.0 - td) - s : s - td;
        double half = az < 0x1p-12 ? 0.25 * az : 0.5 * ((1.0 - e) * r);
        double small = fa_signed_f64(half, zd) - (td - 0.5);
        return (FA_T)((double)g * (az < 1.0 ? small : big));
    }
    /* big = c -+ s with c = 1 - t (z >= 0) or -t; a hard target makes c
     * 0 and the result g s, whose e is shifted as in FA_TAIL (g large) */
    FA_T a = -FA_M(abs)(z), gs = g, scale, e = FA_FN(exp_shifted_above)(a, FA_C(0), a, &gs, &scale);
    FA_T s = e / (FA_C(1) + e), ss = FA_M(mulsign)(s, -z); /* -+ s, shifted */
    FA_T c = z >= 0 ? FA_C(1) - t : -t;
    FA_T big = c == 0 ? (gs * ss) * scale : g * (c + ss * scale);
    /* |z| < 1: tanh(z/2) is tanh's polynomial branch (|z|/2 < atanh(1/2)),
     * its bits without the exp and division of the other branch, which
     * cost as much again as the rest (float64 at 1M: 2.66 -> 1.71 ns) */
    FA_T h = FA_FN(signed)(FA_M(tanh_poly)(FA_C(0.5) * FA_M(abs)(z)), z);
    FA_T small = FA_C(0.5) * h - (t - FA_C(0.5));
    return FA_M(abs)(z) < 1 ? g * small : big;
}

/* Backward of the smooth non-monotone functions: grad times the derivative,
 * which near its one real root is the difference of two nearly equal terms;
 * there (|x - root| <= 0.25 ... 0.75) it is a fitted polynomial in x - root
 * instead (root_polys.h, tools/root_polys.py), accurate to the last bits. */
FA_INLINE FA_T FA_FN(silu_grad_closed)(FA_T g, FA_T x)
{
    FA_T scale, d = FA_FN(silu_deriv)(x, &g, &scale);
    return (g * FA_ROOT(silu)(x, d)) * scale;
}
FA_INLINE FA_T FA_FN(silu_grad)(FA_T g, FA_T x)
{
    return FA_TABLED(silu_der, x, g, FA_FN(silu_grad_closed)(g, x));
}
FA_INLINE FA_T FA_FN(gelu_grad_form)(FA_T g, FA_T x, const int core)
{
    FA_T scale, d = FA_FN(gelu_deriv)(x, &g, &scale, core);
    return (g * FA_ROOT(gelu)(x, d)) * scale;
}
FA_INLINE FA_T FA_FN(gelu_grad_closed)(FA_T g, FA_T x)
{
    return FA_FN(gelu_grad_form)(g, x, 0);
}
FA_INLINE FA_T FA_FN(gelu_grad)(FA_T g, FA_T x)
{
    return FA_TABLED(gelu_der, x, g, FA_FN(gelu_grad_closed)(g, x));
}
FA_INLINE FA_T FA_FN(gelu_tanh_grad)(FA_T g, FA_T x)
{
    FA_T scale, d = FA_FN(gelu_tanh_deriv)(x, &g, &scale);
    return (g * FA_ROOT(gelu_tanh)(x, d)) * scale;
}
FA_INLINE FA_T FA_FN(mish_grad_closed)(FA_T g, FA_T x)
{
    FA_T scale, d = FA_FN(mish_deriv)(x, &g, &scale);
    return (g * FA_ROOT(mish)(x, d)) * scale;
}
FA_INLINE FA_T FA_FN(mish_grad)(FA_T g, FA_T x)
{
    return FA_TABLED(mish_der, x, g, FA_FN(mish_grad_closed)(g, x));
}
