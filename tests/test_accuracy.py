"""Accuracy against mpmath: results within the ULP budgets of
function_cases.ACCURACY of the correctly rounded value, on samples that cover
the whole range (log-uniform magnitudes from the subnormals to the tails)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import fastact
from fastact._registry import Activation

from function_cases import ACCURACY, GRADCHECK, Budget, ndata, with_param_sets
from inputs import DIRECTIONS, FLOAT_DTYPES, dtype_id, reference_of
from ulp import assert_ulp_close

PRECISION = 256  # bits of mpmath working precision
N = 400
# Largest |x| sampled per dtype: past it every function here is saturated.
SPAN = {np.float16: 20.0, np.float32: 110.0, np.float64: 760.0}


def working_dtype(dtype) -> type:
    """float16 is computed in float32."""
    return np.float32 if dtype == np.float16 else dtype


def correctly_rounded(value: mpmath.mpf, dtype) -> np.floating:
    """The float of `dtype` nearest to value, ties to even (IEEE round-to-nearest)."""
    guess = np.array(float(value)).astype(dtype)  # within an ULP (double rounding)
    candidates = [np.nextafter(guess, dtype(-np.inf)), guess, np.nextafter(guess, dtype(np.inf))]

    def distance_then_odd(c: np.floating) -> tuple:
        odd = int(np.array(c).view(f"u{np.dtype(dtype).itemsize}")) & 1
        return abs(mpmath.mpf(float(c)) - value), odd

    return min(candidates, key=distance_then_odd)


def rounder(dtype):
    return lambda v: mpmath.mpf(float(correctly_rounded(v, working_dtype(dtype))))


def accuracy_sample(dtype, rng: np.random.Generator) -> np.ndarray:
    """Both signs of log-uniform magnitudes (subnormals to SPAN), plus uniform values."""
    tiny = float(np.finfo(dtype).smallest_subnormal)
    span = SPAN[dtype]
    magnitudes = np.exp(rng.uniform(np.log(tiny), np.log(span), N))
    signs = rng.choice([-1.0, 1.0], N)
    uniform = rng.uniform(-span, span, N // 2)
    return np.concatenate([signs * magnitudes, uniform, [0.0, -0.0]]).astype(dtype)


def budget_for(budget: Budget, direction: str, dtype) -> int:
    """float16 results are float32 results rounded once more: 1 ULP."""
    return 1 if dtype == np.float16 else getattr(budget, direction)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: ndata(act) == 1))
def test_within_budget_of_correctly_rounded(act: Activation, params, dtype, direction, rng) -> None:
    accuracy = ACCURACY[act.name]
    x = accuracy_sample(dtype, rng)
    work = working_dtype(dtype)
    rnd = rounder(dtype)
    mp_params = {k: mpmath.mpf(float(work(v))) for k, v in params.items()}  # as the kernels use them

    with mpmath.workprec(PRECISION):
        if direction == "forward":
            args = (x,)
            exact = [accuracy.forward(mpmath.mpf(float(v)), rnd, **mp_params) for v in x]
        else:
            grad = rng.uniform(0.5, 2.0, x.shape).astype(dtype)
            saved = x if act.saved == "input" else np.asarray(reference_of(act, "forward")(x, **params))
            args = (grad, saved)
            exact = [
                mpmath.mpf(float(g)) * accuracy.derivative(mpmath.mpf(float(s)), rnd, **mp_params)
                for g, s in zip(grad, saved, strict=True)
            ]
        expected = np.array([correctly_rounded(e, dtype) for e in exact], dtype)

    actual = getattr(act, direction)(*args, **params)
    assert_ulp_close(
        actual,
        expected,
        budget_for(accuracy.budget, direction, dtype),
        inputs=dict(enumerate(args)),
        what=f"{act.name} {direction} vs mpmath",
    )


def test_gradcheck_domains_are_inside_the_sampled_span() -> None:
    """The accuracy samples reach at least as far as the gradient checks."""
    for name, case in GRADCHECK.items():
        assert max(abs(v) for domain in case.domains for v in domain) <= SPAN[np.float32], name


@pytest.mark.parametrize(
    ("dtype", "x"),
    [(np.float32, -95.0), (np.float32, -100.0), (np.float64, -720.0), (np.float16, -12.0)],
    ids=["float32(-95)", "float32(-100)", "float64(-720)", "float16(-12)"],
)
def test_sigmoid_tail_is_the_correctly_rounded_subnormal(dtype, x) -> None:
    """Deep in the negative tail sigmoid(x) is a subnormal, not 0."""
    with mpmath.workprec(PRECISION):
        want = correctly_rounded(1 / (1 + mpmath.exp(-mpmath.mpf(x))), dtype)
    got = fastact.sigmoid(np.array([x], dtype))[0]
    assert 0 < want < np.finfo(dtype).smallest_normal
    assert got == want, f"sigmoid({x}) = {got!r}, correctly rounded {want!r}"


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
def test_sigmoid_whole_subnormal_tail(dtype) -> None:
    """Every output in the subnormal range of sigmoid, within 1 ULP."""
    info = np.finfo(dtype)
    low, high = np.log(float(info.smallest_subnormal)), np.log(float(info.smallest_normal))
    x = np.linspace(low, high, 300).astype(dtype)
    with mpmath.workprec(PRECISION):
        want = np.array([correctly_rounded(1 / (1 + mpmath.exp(-mpmath.mpf(float(v)))), dtype) for v in x])
    assert_ulp_close(fastact.sigmoid(x), want.astype(dtype), 1, inputs={"x": x}, what="sigmoid tail")
