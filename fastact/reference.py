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

Numerical conventions (DESIGN.md section 4): NaN in -> NaN out, and a NaN
saved tensor gives a NaN gradient; relu'(0) = 0 and leaky_relu'(0) = alpha
(the ``x > 0`` test of PyTorch); the backward of a piecewise-linear function
is a mask (``relu_backward(inf, -1) == 0``, as PyTorch's threshold_backward);
sigmoid branches on the sign of x so that it never overflows, and
``sigmoid_backward``/``tanh_backward`` take the saved *output*.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "leaky_relu",
    "leaky_relu_backward",
    "leaky_relu_sigmoid",
    "leaky_relu_sigmoid_backward",
    "relu",
    "relu_backward",
    "relu_sigmoid",
    "relu_sigmoid_backward",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
]

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
    """Round once to the result dtype; 0-d results become scalars, as ufuncs do."""
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

    Saved tensor: the input z.
    """
    work, result = _dtypes("relu_sigmoid_backward", grad, z)
    grad, z = _cast(work, grad, z)
    _, slope = _sigmoid_and_slope(np.maximum(z, 0))
    with _ieee():
        inside = grad * slope
    return _finish(_mask(z, inside), result)


def leaky_relu_sigmoid(z: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """sigmoid(leaky_relu(z, alpha))."""
    work, result = _dtypes("leaky_relu_sigmoid", z)
    z, alpha = _cast(work, z, alpha)
    s, _ = _sigmoid_and_slope(_leaky(z, alpha))
    return _finish(s, result)


def leaky_relu_sigmoid_backward(grad: ArrayLike, z: ArrayLike, alpha: ArrayLike = 0.01) -> NDArray:
    """grad * s*(1-s) * (1 if z > 0 else alpha), s = sigmoid(leaky_relu(z, alpha)).

    Saved tensor: the input z. NaN z gives NaN (through s).
    """
    work, result = _dtypes("leaky_relu_sigmoid_backward", grad, z)
    grad, z, alpha = _cast(work, grad, z, alpha)
    _, slope = _sigmoid_and_slope(_leaky(z, alpha))
    with _ieee():
        derivative = slope * np.where(z > 0, 1, alpha)
        return _finish(grad * derivative, result)
