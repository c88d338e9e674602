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

/* Shared pieces --------------------------------------------------------- */

/* sigmoid'(x) = sigmoid(x) * sigmoid(-x) = e / (1 + e)^2 with e = exp(-|x|):
 * symmetric, so one exp of a non-positive number, and no cancellation. */
FA_INLINE FA_T FA_FN(dsigmoid)(FA_T x)
{
    FA_T e = FA_M(exp)(-FA_M(abs)(x));
    FA_T r = FA_C(1) / (FA_C(1) + e);
    return e * r * r;
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
    return x > 0 ? g : (x <= 0 ? FA_C(0) : x);
}

/* leaky_relu ------------------------------------------------------------ */
FA_INLINE FA_T FA_FN(leaky_relu)(FA_T x, FA_T alpha)
{
    return x > 0 ? x : x * alpha;
}

FA_INLINE FA_T FA_FN(leaky_relu_grad)(FA_T g, FA_T x, FA_T alpha)
{
    return x > 0 ? g : (x <= 0 ? g * alpha : x);
}

/* sigmoid --------------------------------------------------------------- */
/* Branch on the sign through the numerator: with e = exp(-|x|) <= 1,
 * sigmoid(x) = (x >= 0 ? 1 : e) / (1 + e). exp never overflows, one
 * division, and for x -> -inf the result is e (subnormal when it should be). */
FA_INLINE FA_T FA_FN(sigmoid)(FA_T x)
{
    FA_T e = FA_M(exp)(-FA_M(abs)(x));
    return (x >= 0 ? FA_C(1) : e) / (FA_C(1) + e);
}

/* From the output y: sigmoid' = y * (1 - y); 1 - y is exact for y >= 1/2. */
FA_INLINE FA_T FA_FN(sigmoid_grad)(FA_T g, FA_T y)
{
    return g * (y * (FA_C(1) - y));
}

/* tanh ------------------------------------------------------------------ */
FA_INLINE FA_T FA_FN(tanh)(FA_T x) { return FA_M(tanh)(x); }

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
    return FA_C(1) / (FA_C(1) + FA_M(exp)(-x));
}

FA_INLINE FA_T FA_FN(relu_sigmoid_grad)(FA_T g, FA_T z)
{
    FA_T d = FA_FN(dsigmoid)(z);
    return z > 0 ? g * d : (z <= 0 ? FA_C(0) : z);
}

/* leaky_relu_sigmoid: sigmoid(leaky_relu(z, alpha)), fused -------------- */
FA_INLINE FA_T FA_FN(leaky_relu_sigmoid)(FA_T z, FA_T alpha)
{
    return FA_FN(sigmoid)(FA_FN(leaky_relu)(z, alpha));
}

FA_INLINE FA_T FA_FN(leaky_relu_sigmoid_grad)(FA_T g, FA_T z, FA_T alpha)
{
    FA_T d = FA_FN(dsigmoid)(FA_FN(leaky_relu)(z, alpha));
    return g * d * (z > 0 ? FA_C(1) : alpha);
}
