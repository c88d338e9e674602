"""Pure-NumPy reference implementation of every fastact function.

This module is the independent oracle of the test suite and the baseline of
the benchmarks. It is written the way a careful NumPy user would write the
functions by hand -- numerically stable over the whole floating-point range,
no RuntimeWarning on any input, NaN propagating -- but without any of
fastact's compiled code, so that comparing the two is meaningful.

Every public function of fastact has a twin here with the same name and
signature (``sigmoid(x)``, ``leaky_relu_backward(grad, x, alpha=0.01)``...).
They return new arrays (no ``out=``/``where=``) and follow fastact's dtype
rules:

* float32 in -> float32 out, float64 -> float64; float16 is computed in
  float32 and rounded once at the end;
* integers and bools become the float type ``np.exp`` would give them
  (int8/uint8/bool -> float16, int16/uint16 -> float32, wider -> float64);
* parameters such as ``alpha`` never change the result dtype: they are
  cast to the working precision of the data;
* complex, object and string input raise ``TypeError``.

The functions added with the full catalogue (relu6 ... softmax_cross_entropy)
work in float64 whatever the data precision and round once at the end, so
that for float16/float32 data they are (nearly) correctly rounded: the
oracle of the accuracy sweeps. Parameters are first rounded to the data's
precision (float32 for float16/float32 data), since that is the value the
kernels use. For float64 data the few places where float64 itself is not
enough (an exp of a rounded argument, a derivative near its root) use
double-word arithmetic or the near-root polynomials of tools/root_polys.py;
float64 results in the subnormal range are not exact here (x * exp(x) with
exp(x) already subnormal), while the kernels' are.

Numerical conventions (DESIGN.md section 4): NaN in -> NaN out, and a NaN
saved tensor gives a NaN gradient; relu'(0) = 0 and leaky_relu'(0) = alpha
(the ``x > 0`` test of PyTorch); the backward of a piecewise-linear function
is a mask (``relu_backward(inf, -1) == 0``, as PyTorch's threshold_backward);
sigmoid branches on the sign of x so that it never overflows, and
``sigmoid_backward``/``tanh_backward`` take the saved *output*.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._root_polys import ROOT_POLYS

__all__ = sorted(
    name
    for base in (
        "relu", "leaky_relu", "sigmoid", "tanh", "relu_sigmoid", "leaky_relu_sigmoid",
        "relu6", "hardtanh", "elu", "selu", "celu", "gelu", "silu", "mish", "log_sigmoid",
        "softplus", "softsign", "hardsigmoid", "hardswish", "prelu", "bce_with_logits",
        "softmax", "log_softmax", "softmax_cross_entropy",
    )
    for name in (base, base + "_backward")
)

_DATA_KINDS = "biuf"  # bool, signed, unsigned, float


# --------------------------------------------------------------------------
# dtype handling shared by every function
# --------------------------------------------------------------------------


def _dtypes(name: str, *data: ArrayLike) -> tuple[np.dtype, np.dtype]:
    """Return (working dtype, result dtype) for the data arguments of `name`.

    The result dtype is what a ufunc with float loops gives, i.e. what
    ``np.exp`` does: NumPy promotion of the data inputs (Python scalars are
    weak), integers and bools moved to the smallest float that holds them.
    float16 is worked in float32.
    """
    # Python scalars stay as they are: they are "weak" in NumPy promotion.
    args = [a if type(a) in (bool, int, float) else np.asarray(a) for a in data]
    for arg in args:
        dtype = np.asarray(arg).dtype
        if dtype.kind not in _DATA_KINDS:
            raise TypeError(f"{name}: unsupported input dtype {dtype}")
    result = np.result_type(*args)
    if result.kind != "f":
        result = np.promote_types(result, np.float16)
    work = np.dtype(np.float32) if result == np.float16 else result
    return work, result


def _cast(work: np.dtype, *args: ArrayLike) -> list[NDArray]:
    """The arguments as arrays of the working dtype (no copy when possible)."""
    return [np.asarray(arg).astype(work, copy=False) for arg in args]


def _finish(y: ArrayLike, result: np.dtype) -> NDArray:
    """Round once to the result dtype; 0-d results become scalars, as ufuncs do.
    (Beyond the dtype's range the result is +-inf: the IEEE answer, no warning.)"""
    with np.errstate(over="ignore"):
        return np.asarray(y).astype(result, copy=False)[()]


def _ieee() -> np.errstate:
    """Silence flags raised by a product whose IEEE result *is* the answer.

    Used only around ``grad * derivative`` and ``alpha * x``: ``inf * 0`` is
    NaN (an undefined gradient) and ``max * 1.5`` is ``-inf``; both are the
    correct values of the product itself, not an accident of the formula.
    """
    return np.errstate(over="ignore", invalid="ignore")


# --------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------


def _sigmoid_and_slope(x: NDArray) -> tuple[NDArray, NDArray]:
    """sigmoid(x) and sigmoid'(x) = s*(1-s), both accurate in relative terms.

    With e = exp(-|x|) (never overflows): sigmoid(x) = 1/(1+e) for x >= 0
    and e/(1+e) for x < 0, and s*(1-s) = e/(1+e)**2 for either sign; the
    latter avoids computing 1 - s, which cancels to 0 for large x.
    NaN propagates through e.
    """
    e = np.exp(-np.abs(x))
    one_plus_e = 1 + e
    s = np.where(x >= 0, 1, e) / one_plus_e
    slope = e / (one_plus_e * one_plus_e)
    return s, slope


def _leaky(x: NDArray, alpha: NDArray) -> NDArray:
    """x for x > 0, alpha*x otherwise (NaN stays NaN through alpha*x)."""
    with _ieee():
        return np.where(x > 0, x, alpha * x)


def _mask(x: NDArray, inside: NDArray) -> NDArray:
    """`inside` where x > 0, 0 where x <= 0, NaN where x is NaN.

    The backward of a function that is constant for x <= 0 is a mask there:
    the gradient is exactly 0 whatever the incoming grad (inf included).
    """
    return np.where(x > 0, inside, np.where(x <= 0, 0, x))


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def relu(x: ArrayLike) -> NDArray:
    """max(x, 0); relu(NaN) is NaN."""
    work, result = _dtypes("relu", x)
    (x,) = _cast(work, x)
    return _finish(np.maximum(x, 0), result)


def relu_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad where x > 0, 0 where x <= 0 (relu'(0) = 0), NaN where x is NaN.

    Saved tensor: the input x.
    """
    work, result = _dtypes("relu_backward", grad, x)
    grad, x = _cast(work, grad, x)
    return _finish(_mask(x, grad), result)


def leaky_relu(x: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """x for x > 0, alpha*x for x <= 0."""
    work, result = _dtypes("leaky_relu", x)
    x, alpha = _cast(work, x, alpha)
    return _finish(_leaky(x, alpha), result)


def leaky_relu_backward(grad: ArrayLike, x: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """grad for x > 0, alpha*grad for x <= 0 (leaky_relu'(0) = alpha), NaN for NaN x.

    Saved tensor: the input x.
    """
    work, result = _dtypes("leaky_relu_backward", grad, x)
    grad, x, alpha = _cast(work, grad, x, alpha)
    with _ieee():
        negative_side = alpha * grad
    return _finish(np.where(x > 0, grad, np.where(x <= 0, negative_side, x)), result)


def sigmoid(x: ArrayLike) -> NDArray:
    """1/(1+exp(-x)), branching on the sign so that nothing overflows."""
    work, result = _dtypes("sigmoid", x)
    (x,) = _cast(work, x)
    s, _ = _sigmoid_and_slope(x)
    return _finish(s, result)


def sigmoid_backward(grad: ArrayLike, y: ArrayLike) -> NDArray:
    """grad * y * (1 - y). Saved tensor: the output y = sigmoid(x)."""
    work, result = _dtypes("sigmoid_backward", grad, y)
    grad, y = _cast(work, grad, y)
    with _ieee():
        return _finish(grad * (y * (1 - y)), result)


def tanh(x: ArrayLike) -> NDArray:
    """Hyperbolic tangent (np.tanh is already stable and odd)."""
    work, result = _dtypes("tanh", x)
    (x,) = _cast(work, x)
    return _finish(np.tanh(x), result)


def tanh_backward(grad: ArrayLike, y: ArrayLike) -> NDArray:
    """grad * (1 - y*y). Saved tensor: the output y = tanh(x).

    Evaluated as (1 - y)*(1 + y): 1 - y*y cancels for |y| near 1 and loses
    up to ~10 bits in float32, the factored form stays within ~1.5 ULP.
    """
    work, result = _dtypes("tanh_backward", grad, y)
    grad, y = _cast(work, grad, y)
    with _ieee():
        return _finish(grad * ((1 - y) * (1 + y)), result)


def relu_sigmoid(z: ArrayLike) -> NDArray:
    """sigmoid(max(z, 0)): always >= 0.5, and exactly 0.5 for z <= 0."""
    work, result = _dtypes("relu_sigmoid", z)
    (z,) = _cast(work, z)
    s, _ = _sigmoid_and_slope(np.maximum(z, 0))
    return _finish(s, result)


def relu_sigmoid_backward(grad: ArrayLike, z: ArrayLike) -> NDArray:
    """grad * s*(1-s) with s = sigmoid(z) for z > 0; 0 for z <= 0; NaN for NaN z.

    Saved tensor: the input z. (In float64, rounded once: s*(1-s) is tiny
    for large z, and grad * s*(1-s) must not lose it.)
    """
    (grad, z), result, _ = _wide("relu_sigmoid_backward", grad, z)
    _, slope = _sigmoid_and_slope(np.maximum(z, 0))
    with _ieee():
        inside = grad * slope
    return _finish(_mask(z, inside), result)


def leaky_relu_sigmoid(z: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """sigmoid(leaky_relu(z, alpha)), of the exact product alpha * z (in float64,
    with alpha at the data's precision; float64 data: alpha * z as hi + lo)."""
    (z,), result, prec = _wide("leaky_relu_sigmoid", z)
    hi, lo = _leaky_wide(z, _param(prec, alpha))
    return _finish(_sigmoid_w(hi, lo)[0], result)


def leaky_relu_sigmoid_backward(grad: ArrayLike, z: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """grad * s*(1-s) * (1 if z > 0 else alpha), s = sigmoid(leaky_relu(z, alpha)).

    Saved tensor: the input z. NaN z gives NaN (through s).
    """
    (grad, z), result, prec = _wide("leaky_relu_sigmoid_backward", grad, z)
    alpha = _param(prec, alpha)
    hi, lo = _leaky_wide(z, alpha)
    s, sn, _ = _sigmoid_w(hi, lo)
    with _ieee():
        derivative = (s * sn) * np.where(z > 0, 1, alpha)
        return _finish(grad * derivative, result)


# ==========================================================================
# The full catalogue: float64 throughout, rounded once
# ==========================================================================


def _wide(name: str, *data: ArrayLike) -> tuple[list[NDArray], np.dtype, type]:
    """The data as float64 arrays, the result dtype, and the precision the
    kernels work in (float32 for float16/float32 results)."""
    _, result = _dtypes(name, *data)
    precision = np.float64 if result == np.float64 else np.float32
    return [np.asarray(a).astype(np.float64) for a in data], result, precision


def _param(precision: type, value: ArrayLike) -> NDArray:
    """A parameter as the kernels see it: rounded to the data's precision."""
    return np.asarray(value).astype(precision).astype(np.float64)


def _exp(x: NDArray) -> NDArray:
    """exp with overflow to inf accepted (the caller selects away or wants it)."""
    with np.errstate(over="ignore"):
        return np.exp(x)


def _two_prod(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """a*b = p + e exactly (Dekker; NumPy has no fma). Finite, moderate a, b."""
    with np.errstate(all="ignore"):
        p = a * b
        split = 134217729.0  # 2^27 + 1
        ca, cb = split * a, split * b
        ah, bh = ca - (ca - a), cb - (cb - b)
        al, bl = a - ah, b - bh
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where(np.isfinite(e), e, 0.0)


def _two_sum(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """a+b = s + e exactly (Knuth)."""
    with np.errstate(all="ignore"):
        s = a + b
        bb = s - a
        e = (a - (s - bb)) + (b - bb)
    return s, np.where(np.isfinite(e), e, 0.0)


def _root_fix(name: str, x: NDArray, value: NDArray) -> NDArray:
    """The derivative near its root from the fitted polynomial (see
    tools/root_polys.py), `value` elsewhere."""
    r, w, c0, q = ROOT_POLYS[name]
    d = x - r
    poly = np.zeros_like(d)
    for c in reversed(q):
        poly = poly * d + c
    return np.where(np.abs(d) <= w, c0 + d * poly, value)


def _band(x: NDArray, inside: NDArray, where_inside: NDArray, where_outside: NDArray) -> NDArray:
    """inside where where_inside, 0 where where_outside, NaN (x) elsewhere."""
    return np.where(where_inside, inside, np.where(where_outside, 0.0, x))


def _sig_parts(x: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """e = exp(-|x|), sigmoid(x), sigmoid(-x) (relative accuracy both ways)."""
    e = np.exp(-np.abs(x))
    s_pos = np.where(x >= 0, 1.0, e) / (1 + e)
    s_neg = np.where(x >= 0, e, 1.0) / (1 + e)
    return e, s_pos, s_neg


# relu6, hardtanh ------------------------------------------------------------


def relu6(x: ArrayLike) -> NDArray:
    """min(max(x, 0), 6); relu6(-0.0) is +0.0."""
    (x,), result, _ = _wide("relu6", x)
    return _finish(np.where(x <= 0, 0.0, np.where(x > 6, 6.0, x)), result)


def relu6_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad strictly inside (0, 6), 0 at and beyond the edges (PyTorch's
    hardtanh_backward), NaN for NaN x. Saved tensor: the input x."""
    (grad, x), result, _ = _wide("relu6_backward", grad, x)
    return _finish(_band(x, grad, (x > 0) & (x < 6), (x <= 0) | (x >= 6)), result)


def hardtanh(x: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0) -> NDArray:
    """min_val for x < min_val, max_val for x > max_val, x otherwise."""
    (x,), result, prec = _wide("hardtanh", x)
    lo, hi = _param(prec, min_val), _param(prec, max_val)
    return _finish(np.where(x < lo, lo, np.where(x > hi, hi, x)), result)


def hardtanh_backward(grad: ArrayLike, x: ArrayLike, min_val: ArrayLike = -1.0,
                      max_val: ArrayLike = 1.0) -> NDArray:
    """grad strictly inside (min_val, max_val), 0 elsewhere. Saved tensor: the input x."""
    (grad, x), result, prec = _wide("hardtanh_backward", grad, x)
    lo, hi = _param(prec, min_val), _param(prec, max_val)
    return _finish(_band(x, grad, (x > lo) & (x < hi), (x <= lo) | (x >= hi)), result)


# elu, selu, celu ----------------------------------------------------------------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = 1.7580993408473768599402175208123  # the product, rounded once


def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> NDArray:
    """x for x > 0, alpha * expm1(x) otherwise."""
    (x,), result, prec = _wide("elu", x)
    alpha = _param(prec, alpha)
    with _ieee():
        return _finish(np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), result)


def elu_backward(grad: ArrayLike, x: ArrayLike, alpha: ArrayLike = 1.0) -> NDArray:
    """grad for x > 0, grad * alpha * exp(x) for x <= 0. Saved tensor: the input x."""
    (grad, x), result, prec = _wide("elu_backward", grad, x)
    alpha = _param(prec, alpha)
    with _ieee():
        neg = grad * (alpha * np.exp(np.minimum(x, 0)))
    return _finish(np.where(x > 0, grad, np.where(x <= 0, neg, x)), result)


def selu(x: ArrayLike) -> NDArray:
    """scale * (x for x > 0, alpha * expm1(x) otherwise), PyTorch's constants."""
    (x,), result, _ = _wide("selu", x)
    with _ieee():
        neg = _SELU_SCALE_ALPHA * np.expm1(np.minimum(x, 0))
        return _finish(np.where(x > 0, _SELU_SCALE * x, neg), result)


def selu_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad * scale for x > 0, grad * scale * alpha * exp(x) otherwise. Saved tensor: the input x."""
    (grad, x), result, _ = _wide("selu_backward", grad, x)
    with _ieee():
        pos = grad * _SELU_SCALE
        neg = grad * (_SELU_SCALE_ALPHA * np.exp(np.minimum(x, 0)))
    return _finish(np.where(x > 0, pos, np.where(x <= 0, neg, x)), result)


def _celu_u(x: NDArray, alpha: NDArray) -> tuple[NDArray, NDArray]:
    """min(x, 0) / alpha as q + lo (q rounded, lo its error, 0 where not finite)."""
    xm = np.minimum(x, 0)
    q = xm / alpha
    p, pe = _two_prod(q, alpha + np.zeros_like(q))
    lo = ((xm - p) - pe) / alpha
    return q, np.where(np.isfinite(lo) & (np.abs(lo) < 1), lo, 0.0)


def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> NDArray:
    """x for x > 0, alpha * expm1(x / alpha) otherwise.

    x / alpha is carried as q + lo: for alpha < 0, expm1 amplifies the
    rounding of q q times (expm1(q + lo) = expm1(q) + lo exp(q))."""
    (x,), result, prec = _wide("celu", x)
    alpha = _param(prec, alpha)
    with _ieee():
        q, lo = _celu_u(x, alpha)
        em1 = np.expm1(q)
        em1 = np.where((lo == 0) | np.isinf(em1), em1, em1 + lo * _exp(q))  # no 0 * inf, inf - inf
        return _finish(np.where(x > 0, x, alpha * em1), result)


def celu_backward(grad: ArrayLike, x: ArrayLike, alpha: ArrayLike = 1.0) -> NDArray:
    """grad for x > 0, grad * exp(x / alpha) otherwise. Saved tensor: the input x.

    x / alpha is carried as q + lo: exp amplifies the rounding of q |q| times.
    A zero grad gives 0 even where exp(x / alpha) overflows (alpha < 0): the
    exact product, not 0 * inf."""
    (grad, x), result, prec = _wide("celu_backward", grad, x)
    alpha = _param(prec, alpha)
    with _ieee():
        q, lo = _celu_u(x, alpha)
        neg = np.where(grad == 0, grad, grad * _exp(q) * (1 + lo))
    return _finish(np.where(x > 0, grad, np.where(x <= 0, neg, x)), result)


# gelu ---------------------------------------------------------------------------

_ERFC = np.frompyfunc(math.erfc, 1, 1)
_SQRT1_2 = 0.7071067811865476
_SQRT1_2_LO = -4.833646656726457e-17
_INV_SQRT_2PI = 0.3989422804014327
_GELU_A = 1.5957691216057308  # 2 sqrt(2/pi)
_GELU_A_LO = -9.96930880911092e-17
_GELU_B = 0.07135481627260025  # 2 sqrt(2/pi) 0.044715
_GELU_B_LO = -6.175149918155315e-19


def _erfc(t: NDArray) -> NDArray:
    return np.asarray(_ERFC(t)).astype(np.float64) if np.size(t) else np.zeros_like(t)


def _phi_cdf(x: NDArray) -> NDArray:
    """Phi(x) = erfc(-x/sqrt2)/2 with the argument carried as hi + lo (the
    rounding of x/sqrt2 is amplified by erfc's decay): erfc(t + d) =
    erfc(t) - d 2/sqrt(pi) exp(-t^2)."""
    xs = np.where(np.isfinite(x), x, 0.0)
    p, pe = _two_prod(xs, np.full_like(xs, _SQRT1_2))
    t = -p
    d = -(pe + xs * _SQRT1_2_LO)
    tt = np.where(np.isfinite(x), t, -x)
    with np.errstate(under="ignore"):
        e = _erfc(tt) - d * (2 / math.sqrt(math.pi)) * np.exp(-np.minimum(t * t, 1e4))
    return 0.5 * e


def _phi_pdf(x: NDArray) -> NDArray:
    """phi(x) = exp(-x^2/2)/sqrt(2 pi) with x^2 exact."""
    xs = np.where(np.abs(x) < 1e100, x, 1e100)
    p, pe = _two_prod(xs, xs)
    with np.errstate(under="ignore"):
        e = np.exp(-0.5 * p)
        return (e - e * (0.5 * pe)) * _INV_SQRT_2PI


def _gelu_w(x: NDArray) -> tuple[NDArray, NDArray]:
    """w = x (A + B x^2) = 2 sqrt(2/pi) (x + 0.044715 x^3) as hi + lo."""
    xs = np.where(np.abs(x) < 1e50, x, np.sign(x) * 1e50)
    xs = np.where(np.isnan(x), 0.0, xs)
    p, pe = _two_prod(xs, xs)
    t, te = _two_prod(np.full_like(p, _GELU_B), p)
    te = te + (_GELU_B * pe + _GELU_B_LO * p)
    s, se = _two_sum(np.full_like(t, _GELU_A), t)
    se = se + (te + _GELU_A_LO)
    hi, lo = _two_prod(xs, s)
    lo = lo + xs * se
    hi = np.where(np.isfinite(x) & (np.abs(x) < 1e50), hi, x)  # inf, NaN as they are
    return hi, np.where(np.abs(hi) < 1e3, lo, 0.0)


def _sigmoid_w(hi: NDArray, lo: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """sigmoid(w), sigmoid(-w) and e = exp(-|w|) for w = hi + lo."""
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(hi))
        e = e * (1 - np.where(hi >= 0, lo, -lo))
    return np.where(hi >= 0, 1.0, e) / (1 + e), np.where(hi >= 0, e, 1.0) / (1 + e), e


def _leaky_wide(z: NDArray, alpha: NDArray) -> tuple[NDArray, NDArray]:
    """leaky_relu(z, alpha) as hi + lo (alpha z exact)."""
    zs = np.where(np.abs(z) < 1e150, z, 0.0)
    a = np.broadcast_to(alpha, np.broadcast_shapes(z.shape, alpha.shape)) + 0.0
    p, pe = _two_prod(a, zs + np.zeros_like(a))
    with np.errstate(all="ignore"):
        whole = alpha * z
    hi = np.where(z > 0, z, np.where(np.abs(z) < 1e150, p, whole))
    lo = np.where((z > 0) | (np.abs(hi) >= 1e3), 0.0, pe)
    return hi, lo


def _check_approximate(name: str, approximate: str) -> None:
    if not isinstance(approximate, str):
        raise TypeError(f"{name}: approximate must be a string, 'none' or 'tanh'; got {approximate!r}")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{name}: approximate must be 'none' or 'tanh'; got {approximate!r}")


def gelu(x: ArrayLike, approximate: str = "none") -> NDArray:
    """x Phi(x) (approximate="none", Phi the normal CDF, via erfc so that the
    negative tail keeps its digits), or 0.5 x (1 + tanh(sqrt(2/pi)(x +
    0.044715 x^3))) = x sigmoid(2 sqrt(2/pi)(x + 0.044715 x^3)) ("tanh")."""
    _check_approximate("gelu", approximate)
    (x,), result, _ = _wide("gelu", x)
    with _ieee():
        if approximate == "none":
            y = x * _phi_cdf(x)
        else:
            hi, lo = _gelu_w(x)
            y = x * _sigmoid_w(hi, lo)[0]
        y = np.where(x == -np.inf, -0.0, y)
    return _finish(y, result)


def gelu_backward(grad: ArrayLike, x: ArrayLike, approximate: str = "none") -> NDArray:
    """grad * (Phi(x) + x phi(x)), or the derivative of the tanh form.
    Saved tensor: the input x."""
    _check_approximate("gelu_backward", approximate)
    (grad, x), result, _ = _wide("gelu_backward", grad, x)
    with _ieee():
        if approximate == "none":
            d = _phi_cdf(x) + np.where(np.isfinite(x), x * _phi_pdf(x), 0.0)
            d = _root_fix("gelu", x, d)
        else:
            hi, lo = _gelu_w(x)
            s, sn, _ = _sigmoid_w(hi, lo)
            xs = np.clip(np.where(np.isfinite(x), x, 0.0), -1e3, 1e3)  # beyond: s (1 - s) = 0
            d = s + xs * (s * sn) * (_GELU_A + 3 * _GELU_B * xs * xs)
            d = np.where(np.isfinite(x), d, np.where(x > 0, 1.0, 0.0))
            d = _root_fix("gelu_tanh", x, np.where(np.isnan(x), x, d))
        return _finish(grad * d, result)


# silu, mish -----------------------------------------------------------------------


def silu(x: ArrayLike) -> NDArray:
    """x sigmoid(x), as x e / (1 + e) for x < 0 (e = exp(x)): no overflow."""
    (x,), result, _ = _wide("silu", x)
    with _ieee():
        _, s, _ = _sig_parts(x)
        y = np.where(np.isinf(x) & (x < 0), -0.0, x * s)
    return _finish(y, result)


def silu_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad * s (1 + x (1 - s)), s = sigmoid(x). Saved tensor: the input x."""
    (grad, x), result, _ = _wide("silu_backward", grad, x)
    with _ieee():
        e, s, sn = _sig_parts(x)
        xs = np.where(np.isfinite(x), x, 0.0)
        # 1 + x (1 - s) = (1 + e + x e) / (1 + e) for x >= 0, (1 + x + e) / (1 + e) below
        inner = np.where(x >= 0, 1 + e + xs * e, (1 + xs) + e) / (1 + e)
        d = np.where(np.isinf(x), np.where(x > 0, 1.0, 0.0), s * inner)
        d = _root_fix("silu", x, np.where(np.isnan(x), x, d))
        return _finish(grad * d, result)


def mish(x: ArrayLike) -> NDArray:
    """x tanh(softplus(x)), softplus by np.logaddexp (stable)."""
    (x,), result, _ = _wide("mish", x)
    with _ieee():
        y = x * np.tanh(np.logaddexp(0.0, x))
        y = np.where(x == -np.inf, -0.0, y)
    return _finish(y, result)


def mish_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad * (t + x (1 - t^2) sigmoid(x)), t = tanh(softplus(x)), with
    1 - t = 2 / (1 + (1 + e^x)^2) (no cancellation). Saved tensor: the input x."""
    (grad, x), result, _ = _wide("mish_backward", grad, x)
    with _ieee():
        t = np.tanh(np.logaddexp(0.0, x))
        one_plus = 1 + _exp(np.minimum(x, 400.0))
        one_minus_t = 2 / (1 + one_plus * one_plus)
        _, s, _ = _sig_parts(x)
        xs = np.where(np.isfinite(x), x, 0.0)
        d = t + xs * (one_minus_t * (1 + t)) * s
        d = np.where(np.isinf(x), np.where(x > 0, 1.0, 0.0), d)
        d = _root_fix("mish", x, np.where(np.isnan(x), x, d))
        return _finish(grad * d, result)


# log_sigmoid, softplus, softsign ----------------------------------------------------


def log_sigmoid(x: ArrayLike) -> NDArray:
    """min(x, 0) - log1p(exp(-|x|))."""
    (x,), result, _ = _wide("log_sigmoid", x)
    return _finish(np.where(x > 0, 0.0, x) - np.log1p(np.exp(-np.abs(x))), result)


def log_sigmoid_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad * sigmoid(-x). Saved tensor: the input x."""
    (grad, x), result, _ = _wide("log_sigmoid_backward", grad, x)
    with _ieee():
        return _finish(grad * _sig_parts(x)[2], result)


def _softplus_parts(x: NDArray, beta: NDArray, prec: type) -> tuple[NDArray, NDArray, NDArray]:
    """u = beta x as hi + lo (exact), and u rounded to the kernels' precision
    (what the threshold is compared with)."""
    xs = np.where(np.abs(x) < 1e150, x, 0.0)
    hi, lo = _two_prod(np.broadcast_to(beta, np.broadcast_shapes(x.shape, beta.shape)) + 0.0,
                       xs + np.zeros_like(beta))
    with np.errstate(all="ignore"):
        whole = beta * x
    hi = np.where(np.abs(x) < 1e150, hi, whole)
    lo = np.where(np.abs(hi) < 1e3, lo, 0.0)
    with np.errstate(over="ignore"):
        rounded = whole.astype(prec).astype(np.float64)
    return hi, lo, rounded


def softplus(x: ArrayLike, beta: ArrayLike = 1.0, threshold: ArrayLike = 20.0) -> NDArray:
    """log1p(exp(beta x)) / beta, stably as (max(u, 0) + log1p(exp(-|u|))) / beta;
    x itself where beta x > threshold (PyTorch); threshold=inf: the exact function."""
    (x,), result, prec = _wide("softplus", x)
    beta, threshold = _param(prec, beta), _param(prec, threshold)
    hi, lo, rounded = _softplus_parts(x, beta, prec)
    with _ieee(), np.errstate(under="ignore"):
        e = np.exp(-np.abs(hi)) * (1 - np.where(hi > 0, lo, -lo))
        sp = np.where(hi > 0, hi + (lo + np.log1p(e)), np.log1p(e))
        y = np.where(rounded > threshold, x, sp / beta)
    return _finish(y, result)


def softplus_backward(grad: ArrayLike, x: ArrayLike, beta: ArrayLike = 1.0,
                      threshold: ArrayLike = 20.0) -> NDArray:
    """grad * sigmoid(beta x); grad where beta x > threshold. Saved tensor: the input x."""
    (grad, x), result, prec = _wide("softplus_backward", grad, x)
    beta, threshold = _param(prec, beta), _param(prec, threshold)
    hi, lo, rounded = _softplus_parts(x, beta, prec)
    with _ieee():
        s = _sigmoid_w(hi, lo)[0]
        return _finish(np.where(rounded > threshold, grad, grad * s), result)


def softsign(x: ArrayLike) -> NDArray:
    """x / (1 + |x|); +-1 at +-inf."""
    (x,), result, _ = _wide("softsign", x)
    finite = np.where(np.isinf(x), 0.0, x)
    return _finish(np.where(np.isinf(x), np.sign(x), finite / (1 + np.abs(finite))), result)


def softsign_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad / (1 + |x|)^2, as (grad r) r with r = 1 / (1 + |x|). Saved tensor: the input x."""
    (grad, x), result, _ = _wide("softsign_backward", grad, x)
    r = 1 / (1 + np.abs(x))
    with _ieee(), np.errstate(under="ignore"):
        return _finish((grad * r) * r, result)


# hardsigmoid, hardswish --------------------------------------------------------------


def hardsigmoid(x: ArrayLike) -> NDArray:
    """min(max(x + 3, 0), 6) / 6 (PyTorch)."""
    (x,), result, _ = _wide("hardsigmoid", x)
    v = x + 3
    return _finish(np.where(v <= 0, 0.0, np.where(v >= 6, 1.0, v / 6)), result)


def hardsigmoid_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """grad / 6 strictly inside (-3, 3), 0 elsewhere. Saved tensor: the input x."""
    (grad, x), result, _ = _wide("hardsigmoid_backward", grad, x)
    return _finish(_band(x, grad / 6, (x > -3) & (x < 3), (x <= -3) | (x >= 3)), result)


def hardswish(x: ArrayLike) -> NDArray:
    """x min(max(x + 3, 0), 6) / 6 (PyTorch); 0 (not NaN) at -inf."""
    (x,), result, _ = _wide("hardswish", x)
    with _ieee():
        y = np.where(x <= -3, -0.0, np.where(x >= 3, x, x * (x + 3) / 6))
    return _finish(y, result)


def hardswish_backward(grad: ArrayLike, x: ArrayLike) -> NDArray:
    """0 for x < -3, grad (2x + 3) / 6 on [-3, 3], grad for x > 3 (PyTorch's
    conventions at +-3). Saved tensor: the input x."""
    (grad, x), result, _ = _wide("hardswish_backward", grad, x)
    with _ieee():
        inside = grad * ((2 * x + 3) / 6)
    y = np.where(x < -3, 0.0, np.where(x <= 3, inside, np.where(x > 3, grad, x)))
    return _finish(y, result)


# prelu --------------------------------------------------------------------------------


def _prelu_weight(name: str, x: NDArray, weight: ArrayLike) -> NDArray:
    w = np.asarray(weight)
    if w.dtype.kind not in _DATA_KINDS:
        raise TypeError(f"{name}: unsupported weight dtype {w.dtype}")
    if w.ndim > 1:
        raise ValueError(f"{name}: weight must be a scalar or 1-d, got shape {w.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.size not in (1, channels):
        raise ValueError(f"{name}: weight has {w.size} values, x has {channels} channels")
    w = w.astype(np.float64)
    return w.reshape(()) if w.size == 1 else w.reshape((channels,) + (1,) * (x.ndim - 2))


def prelu(x: ArrayLike, weight: ArrayLike) -> NDArray:
    """x for x > 0, weight * x otherwise, weight one value or one per channel
    (axis 1), used at the data's precision like every parameter."""
    (x,), result, prec = _wide("prelu", x)
    w = _param(prec, _prelu_weight("prelu", x, weight))
    with _ieee():
        return _finish(np.where(x > 0, x, w * x), result)


def prelu_backward(grad: ArrayLike, x: ArrayLike, weight: ArrayLike) -> tuple[NDArray, NDArray]:
    """(grad_x, grad_weight): grad_x = grad for x > 0, grad * weight otherwise;
    grad_weight = sum of grad * x over x <= 0, reduced to weight's shape.
    Saved tensor: the input x."""
    (grad, x), result, prec = _wide("prelu_backward", grad, x)
    w = _param(prec, _prelu_weight("prelu_backward", x, weight))
    with np.errstate(all="ignore"):  # inf * 0, inf - inf: the IEEE values are the answer
        grad_x = np.where(x > 0, grad, np.where(x <= 0, grad * w, x))
        g, xb = np.broadcast_arrays(grad, x)
        per_channel = np.size(weight) != 1
        if result == np.float64:
            gw = _exact_channel_sums(g, xb, per_channel)
        else:  # float data: the products are exact in float64, the sum's error far below an ULP
            contrib = np.where(xb > 0, 0.0, g * xb)
            gw = contrib.sum(axis=tuple(k for k in range(contrib.ndim) if k != 1)) if per_channel else contrib.sum()
    return _finish(grad_x, result), np.asarray(gw).astype(result).reshape(np.shape(weight))


def _exact_channel_sums(g: NDArray, x: NDArray, per_channel: bool) -> NDArray:
    """Sum of g * x over x <= 0, per channel (axis 1) or over everything:
    exact products (_two_prod) summed exactly (_row_sum), rounded once --
    the float64 weight gradient, which fastact computes compensated. A
    non-finite sum is NumPy's sum of the products."""
    p, e = _two_prod(g, x)
    keep = ~(x > 0)
    p, e = np.where(keep, p, 0.0), np.where(keep & np.isfinite(p), e, 0.0)
    if per_channel:
        p, e = (np.moveaxis(a, 1, 0).reshape(a.shape[1], a.size // max(a.shape[1], 1)) for a in (p, e))
    else:
        p, e = p.reshape(1, -1), e.reshape(1, -1)
    sums = _row_sum(np.concatenate([p, e], axis=1), 1)[0][:, 0]
    return sums if per_channel else sums[0]


# bce_with_logits -----------------------------------------------------------------------


def bce_with_logits(z: ArrayLike, target: ArrayLike) -> NDArray:
    """max(z, 0) - z t + log1p(exp(-|z|)), as z (1 - t) (z > 0) or -z t
    (z <= 0) plus log1p(exp(-|z|)); a term with a factor of exactly 0 is 0."""
    (z, t), result, _ = _wide("bce_with_logits", z, target)
    c = np.where(z > 0, 1 - t, -t)
    with _ieee():
        lin = np.where(c == 0, 0.0, z * c)
        return _finish(lin + np.log1p(np.exp(-np.abs(z))), result)


def bce_with_logits_backward(grad: ArrayLike, z: ArrayLike, target: ArrayLike) -> NDArray:
    """grad * (sigmoid(z) - t), as tanh(z/2)/2 - (t - 1/2) for |z| < 1.
    Saved tensor: the input z."""
    (grad, z, t), result, _ = _wide("bce_with_logits_backward", grad, z, target)
    e = np.exp(-np.abs(z))
    s = e / (1 + e)
    with _ieee():
        big = np.where(z >= 0, (1 - t) - s, s - t)
        small = 0.5 * np.tanh(0.5 * z) - (t - 0.5)  # sigmoid(z) - 1/2 without cancellation
        return _finish(grad * np.where(np.abs(z) < 1, small, big), result)


# Row-wise: softmax, log_softmax, softmax_cross_entropy ----------------------------------


def _rows(name: str, x: ArrayLike, axis: int) -> tuple[NDArray, np.dtype, type, int]:
    (x,), result, prec = _wide(name, x)
    if x.ndim == 0:
        raise ValueError(f"{name}: needs at least one dimension")
    axis = operator.index(axis)
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim)
    return x, result, prec, axis % x.ndim


def _check_temperature(name: str, temperature: ArrayLike) -> None:
    if not np.all(np.asarray(temperature) > 0):
        raise ValueError(f"{name}: requires temperature>0, got temperature={temperature!r}")


def _row_param(prec: type, value: ArrayLike, x: NDArray, axis: int) -> NDArray:
    """A per-row parameter (broadcast over the batch dimensions) as an array
    with a length-1 axis where the row axis is."""
    v = _param(prec, value)
    return np.expand_dims(v, axis - x.ndim) if v.ndim else v


def _row_exp_args(x: NDArray, axis: int, t: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """m = max over the row (NaN skipped), u = (x - m) / t as hi + lo."""
    with np.errstate(invalid="ignore"):
        m = np.max(np.where(np.isnan(x), -np.inf, x), axis=axis, keepdims=True) if x.shape[axis] \
            else np.full(x.shape[:axis] + (1,) + x.shape[axis + 1:], -np.inf)
        d, de = _two_sum(x, -m)
        q = d / t
        p, pe = _two_prod(q, t + np.zeros_like(q))
        lo = ((d - p) - pe + de) / t
    lo = np.where(np.isfinite(lo) & (np.abs(lo) < 1), lo, 0.0)
    return m, q, lo


def _row_stats(x: NDArray, axis: int, t: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """m, u = hi + lo, cnt (elements equal to m), S' (the sum of exp(u) over
    the others; NaN for a row with a NaN or an infinite max)."""
    m, hi, lo = _row_exp_args(x, axis, t)
    with np.errstate(under="ignore", invalid="ignore"):
        e = np.exp(hi) * (1 + lo)
    top = x == m
    cnt = np.sum(top, axis=axis, keepdims=True).astype(np.float64)
    rest = np.sum(np.where(top, hi, e), axis=axis, keepdims=True)  # hi is 0 or NaN at the top
    return m, hi, lo, cnt, rest


def softmax(x: ArrayLike, axis: int = -1, temperature: ArrayLike = 1.0) -> NDArray:
    """exp((x - max) / T) / sum(...) along axis; a row of all -inf (or with a
    NaN, or with +inf) gives NaN."""
    _check_temperature("softmax", temperature)
    x, result, prec, axis = _rows("softmax", x, axis)
    t = _row_param(prec, temperature, x, axis)
    _, hi, lo, cnt, rest = _row_stats(x, axis, t)
    with np.errstate(under="ignore", invalid="ignore"):
        y = np.exp(hi) * (1 + lo) / (cnt + rest)
    return _finish(y, result)


def log_softmax(x: ArrayLike, axis: int = -1, temperature: ArrayLike = 1.0) -> NDArray:
    """(x - max) / T - log(sum(exp((x - max) / T))), never through log(softmax):
    log(cnt + S') = log1p((cnt - 1) + S') stays accurate where softmax -> 1."""
    _check_temperature("log_softmax", temperature)
    x, result, prec, axis = _rows("log_softmax", x, axis)
    t = _row_param(prec, temperature, x, axis)
    _, hi, lo, cnt, rest = _row_stats(x, axis, t)
    with np.errstate(invalid="ignore", divide="ignore"):  # (empty rows: log1p(-1))
        log_total = np.log1p((cnt - 1) + rest)
        y = (hi - log_total) + lo
    return _finish(y, result)


def _row_sum(a: NDArray, axis: int) -> tuple[NDArray, NDArray]:
    """The exact row sums as hi + lo (math.fsum per row; lo is what hi,
    the correctly rounded sum, leaves out); NumPy's sum (lo 0) for a row
    with a non-finite term or an overflowing sum."""
    moved = np.moveaxis(a, axis, -1)
    flat = moved.reshape(int(np.prod(moved.shape[:-1])), moved.shape[-1])
    hi, lo = np.zeros(flat.shape[0]), np.zeros(flat.shape[0])
    for k, row in enumerate(flat):
        try:
            if np.all(np.isfinite(row)):
                hi[k] = math.fsum(row)
                lo[k] = math.fsum([*row, -hi[k]])
                continue
        except OverflowError:  # finite terms whose sum overflows
            pass
        hi[k] = np.sum(row)
    shape = moved.shape[:-1]
    return np.expand_dims(hi.reshape(shape), axis), np.expand_dims(lo.reshape(shape), axis)


def softmax_backward(grad: ArrayLike, y: ArrayLike, axis: int = -1,
                     temperature: ArrayLike = 1.0) -> NDArray:
    """(grad - sum(grad y)) y / T along axis. Saved tensor: the output y = softmax(x)."""
    _check_temperature("softmax_backward", temperature)
    (grad, y), result, prec = _wide("softmax_backward", grad, y)
    grad, y = np.broadcast_arrays(grad, y)
    if y.ndim == 0:
        raise ValueError("softmax_backward: needs at least one dimension")
    axis = operator.index(axis) % y.ndim
    t = _row_param(prec, temperature, y, axis)
    with _ieee():
        p, pe = _two_prod(grad, y)
        dot, dot_lo = _row_sum(np.concatenate([p, pe], axis=axis), axis)
        return _finish((((grad - dot) - dot_lo) * y) / t, result)


def log_softmax_backward(grad: ArrayLike, y: ArrayLike, axis: int = -1,
                         temperature: ArrayLike = 1.0) -> NDArray:
    """(grad - exp(y) sum(grad)) / T along axis. Saved tensor: the output y = log_softmax(x)."""
    _check_temperature("log_softmax_backward", temperature)
    (grad, y), result, prec = _wide("log_softmax_backward", grad, y)
    grad, y = np.broadcast_arrays(grad, y)
    if y.ndim == 0:
        raise ValueError("log_softmax_backward: needs at least one dimension")
    axis = operator.index(axis) % y.ndim
    t = _row_param(prec, temperature, y, axis)
    total, total_lo = _row_sum(grad, axis)
    with _ieee():
        e = _exp(y)
        return _finish(((grad - e * total) - e * total_lo) / t, result)


def _labels(name: str, z: NDArray, labels: ArrayLike, axis: int) -> NDArray:
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers, got dtype {lab.dtype}")
    if lab.shape != z.shape[:axis] + z.shape[axis + 1:]:
        raise ValueError(f"{name}: labels must have the shape of z without the class axis")
    if lab.size and (lab.min() < 0 or lab.max() >= z.shape[axis]):
        raise ValueError(f"{name}: labels out of range")
    return np.expand_dims(lab.astype(np.intp), axis)


def softmax_cross_entropy(z: ArrayLike, labels: ArrayLike, axis: int = -1) -> NDArray:
    """Per-sample loss log(sum(exp(z))) - z[label] along axis, as
    log1p((cnt - 1) + S') - (z[label] - max): two terms >= 0."""
    z, result, prec, axis = _rows("softmax_cross_entropy", z, axis)
    lab = _labels("softmax_cross_entropy", z, labels, axis)
    one = np.ones(())
    _, hi, lo, cnt, rest = _row_stats(z, axis, one)
    with np.errstate(invalid="ignore"):
        log_total = np.log1p((cnt - 1) + rest)
        u_hi = np.take_along_axis(hi, lab, axis)
        u_lo = np.take_along_axis(lo, lab, axis)
        loss = (log_total - u_hi) - u_lo
    return _finish(np.squeeze(loss, axis), result)


def softmax_cross_entropy_backward(grad: ArrayLike, z: ArrayLike, labels: ArrayLike,
                                   axis: int = -1) -> NDArray:
    """grad * (softmax(z) - onehot(label)) along axis (grad: one per sample).
    Saved tensor: the input z (the logits)."""
    z, result, prec, axis = _rows("softmax_cross_entropy_backward", z, axis)
    _, result = _dtypes("softmax_cross_entropy_backward", grad, np.zeros((), result))
    lab = _labels("softmax_cross_entropy_backward", z, labels, axis)
    g = np.expand_dims(np.asarray(grad).astype(np.float64), axis)
    m, hi, lo, cnt, rest = _row_stats(z, axis, np.ones(()))
    total = cnt + rest
    with np.errstate(under="ignore", invalid="ignore"):
        p = np.exp(hi) * (1 + lo) / total
        at_label = np.take_along_axis(p, lab, axis)
        z_label = np.take_along_axis(z, lab, axis)
        # p - 1 at the label, without cancellation when the label holds the max
        minus_one = np.where(z_label == m, -((cnt - 1) + rest) / total, at_label - 1)
        onehot = np.arange(z.shape[axis]).reshape((-1,) + (1,) * (z.ndim - 1 - axis)) == lab
        d = np.where(onehot, minus_one, p)
    with _ieee():
        return _finish(g * d, result)
