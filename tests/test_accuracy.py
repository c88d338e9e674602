"""Accuracy: results within the ULP budgets of function_cases.ACCURACY.

* against mpmath (the independent reference), on samples that cover the
  whole range -- log-uniform magnitudes from the subnormals to the tails --
  for every element-wise function, direction, dtype and parameter set
  (float64: where the result is a normal number);
* float32 against the float64 reference (fastact.reference works in float64
  and rounds once) on dense sweeps: every float32 step of 2^-8 on [-20, 20],
  uniform [-100, 100], and log-spaced tails +-1e-40 ... +-1e38, subnormal
  results measured in units of the smallest subnormal;
* the budgets themselves respect the goals of the issue: float32 forward
  <= 4 ULP, float64 forward <= 4 (gelu 8), float32 backward <= 8.

Row-wise functions (softmax, log_softmax, softmax_cross_entropy) are
measured the same way in test_rowwise.py."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import fastact
from fastact._registry import Activation

from exact import PRECISION, correctly_rounded
from function_cases import (
    ACCURACY,
    GRADCHECK,
    Budget,
    cancellation_scale,
    correctly_rounded_values,
    param_sets,
    with_param_sets,
)
from inputs import DIRECTIONS, FLOAT_DTYPES, backward_args, dtype_id, reference_of
from tables import TABLED, table_edges
from ulp import assert_ulp_close, ulp_distance

N = 400
# Largest |x| sampled per dtype: past it every function here is saturated.
SPAN = {np.float16: 20.0, np.float32: 110.0, np.float64: 760.0}


def accuracy_sample(dtype, rng: np.random.Generator, n: int = N) -> np.ndarray:
    """Both signs of log-uniform magnitudes (subnormals to SPAN), plus uniform values."""
    tiny = float(np.finfo(dtype).smallest_subnormal)
    span = SPAN[dtype]
    magnitudes = np.exp(rng.uniform(np.log(tiny), np.log(span), n))
    signs = rng.choice([-1.0, 1.0], n)
    uniform = rng.uniform(-span, span, n // 2)
    return np.concatenate([signs * magnitudes, uniform, [0.0, -0.0]]).astype(dtype)


def other_inputs(act: Activation, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """The second data input of a two-input function, per element of x:
    bce's target (hard 0/1 labels and soft ones), prelu's weight (one
    value: x is 1-d, one channel)."""
    if act.name == "bce_with_logits":
        t = rng.choice([0.0, 1.0, 0.5, -1.0], x.shape)
        t = np.where(t < 0, rng.uniform(0, 1, x.shape), t)
        return (t.astype(x.dtype),)
    if act.kind == "channelwise":
        return (np.array([0.25], x.dtype),)
    return ()


def budget_for(budget: Budget, direction: str, dtype) -> int:
    """float16 results are float32 results rounded once more: 1 ULP."""
    return 1 if dtype == np.float16 else getattr(budget, direction)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: not act.rowwise))
def test_within_budget_of_correctly_rounded(act: Activation, params, dtype, direction, rng) -> None:
    accuracy = ACCURACY[act.name]
    # The default parameters get the full sample, the others (and float16,
    # a float32 result rounded once more) a quarter: mpmath is the cost here.
    full = params == param_sets(act)[0] and dtype != np.float16
    x = accuracy_sample(dtype, rng, N if full else N // 4)
    others = other_inputs(act, x, rng)
    if direction == "forward":
        args = (x, *others)
    else:
        args = backward_args(act, rng.uniform(0.5, 2.0, x.shape).astype(dtype), (x, *others), params)
    expected = correctly_rounded_values(act, direction, args, params, dtype)
    actual = getattr(act, direction)(*args, **params)
    if isinstance(actual, tuple):  # prelu_backward: (grad_x, grad_weight); grad_x here
        actual = actual[0]
    if dtype == np.float64:  # the goal covers normal results
        subnormal = np.abs(expected) < np.finfo(dtype).smallest_normal
        actual, expected = np.where(subnormal, 0, actual), np.where(subnormal, 0, expected)
    assert_ulp_close(
        actual,
        expected,
        budget_for(accuracy.budget, direction, dtype),
        inputs=dict(enumerate(args)),
        what=f"{act.name} {direction} vs mpmath",
        scale=cancellation_scale(act, direction, args, params) if dtype == np.float64 else None,
    )


# Far enough that grad * f'(x) underflows even for the largest grad: the
# exp-based derivatives reach ~ -198 (float32) and ~ -1461 (float64).
LARGE_GRAD_SPAN = {np.float32: 210.0, np.float64: 1500.0}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: not act.rowwise and act.kind != "channelwise"))
def test_backward_with_a_large_grad_in_the_tails(act: Activation, params, dtype, rng) -> None:
    """grad * f'(x) where f'(x) alone is subnormal or 0 but the product is a
    normal number (grads up to near the largest float): every tier of the
    FA_TAIL shift, gelu's phi tiers, bce's hard targets. Subnormal results
    count too, in units of the smallest subnormal."""
    span = LARGE_GRAD_SPAN[dtype]
    m = np.concatenate([np.geomspace(2.0, span, 400), np.linspace(2.0, span, 150)])
    x = np.concatenate([-m, m]).astype(dtype)
    grads = np.array([np.finfo(dtype).max / 2, np.sqrt(np.finfo(dtype).max)], dtype)
    x, grad = np.tile(x, grads.size), np.repeat(grads, x.size)
    args = backward_args(act, grad, (x, *other_inputs(act, x, rng)), params)
    expected = correctly_rounded_values(act, "backward", args, params, dtype)
    assert_ulp_close(act.backward(*args, **params), expected, ACCURACY[act.name].budget.backward,
                     inputs={"grad": grad, "x": x}, what=f"{act.name} backward, large grad",
                     scale=cancellation_scale(act, "backward", args, params) if dtype == np.float64 else None)


def test_budgets_meet_the_goals() -> None:
    """float32 forward <= 4 ULP, float64 forward <= 4 (gelu: 8), float32 backward <= 8.
    (One Budget serves both precisions: forward, backward.)"""
    for name, accuracy in ACCURACY.items():
        assert accuracy.budget.forward <= (8 if name == "gelu" else 4), name
        assert accuracy.budget.backward <= 8, name


# --------------------------------------------------------------------------
# Dense float32 sweeps against the float64 reference
# --------------------------------------------------------------------------


def dense_float32() -> np.ndarray:
    """Every 2^-8 on [-20, 20], 20000 uniform on [-100, 100], 8000 log-spaced
    magnitudes 1e-40 ... 1e38 of both signs, and the special values."""
    rng = np.random.default_rng(20240601)
    grid = np.arange(-20 * 256, 20 * 256 + 1) / 256.0
    uniform = rng.uniform(-100, 100, 20000)
    tails = np.geomspace(1e-40, 1e38, 4000)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 3.4e38, -3.4e38]
    return np.concatenate([grid, uniform, tails, -tails, specials]).astype(np.float32)


SWEEP = dense_float32()


def sweep_args(act: Activation, direction: str, params: dict) -> tuple[np.ndarray, ...]:
    """float32 arguments of a sweep: x = SWEEP (bce: against targets 0, 1, 0.3
    and random; prelu: one channel with weight 0.25), grad = 1 -- and a
    random grad in [0.5, 2] for the last quarter of the points."""
    x = SWEEP
    others: tuple[np.ndarray, ...] = ()
    if act.name == "bce_with_logits":
        t = np.resize(np.array([0.0, 1.0, 0.3, 0.77], np.float32), x.shape)
        x, others = x, (t,)
    elif act.kind == "channelwise":
        others = (np.array([0.25], np.float32),)
    if direction == "forward":
        return (x, *others)
    grad = np.ones_like(x)
    grad[3 * x.size // 4:] = np.random.default_rng(7).uniform(0.5, 2, x.size - 3 * x.size // 4)
    saved = x if act.saved == "input" else act.forward(x, **params)
    return (grad, saved, *others)


def float32_params(params: dict) -> dict:
    """Numeric parameters rounded to float32: the values float32 kernels use,
    so that the float64 reference computes with the same ones."""
    return {k: v if isinstance(v, str) else float(np.float32(v)) for k, v in params.items()}


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: not act.rowwise))
def test_float32_dense_sweep_against_float64(act: Activation, params, direction) -> None:
    params = float32_params(params)
    args = sweep_args(act, direction, params)
    actual = getattr(act, direction)(*args, **params)
    wide = tuple(a.astype(np.float64) for a in args)
    want = reference_of(act, direction)(*wide, **params)
    if isinstance(actual, tuple):
        actual, want = actual[0], want[0]
    with np.errstate(over="ignore"):  # beyond float32's range: inf, as the kernel
        want = np.asarray(want).astype(np.float32)
    assert_ulp_close(
        actual,
        want,
        getattr(ACCURACY[act.name].budget, direction),
        inputs=dict(enumerate(args)),
        what=f"{act.name} {direction} float32 sweep vs float64",
    )


@pytest.mark.parametrize(("name", "direction"), sorted(TABLED))
def test_float32_table_edges(name, direction) -> None:
    """float32 gelu, mish, log_sigmoid, silu's backward, softplus (at -x) and tanh (at |x|)
    read a table of 32 polynomials on part of their range (src/act_tables.h):
    every float32 within 300 steps of each interval edge (where the index,
    computed in float, may pick the neighbour's polynomial), against the
    float64 reference. (The dense sweep above covers their insides.)"""
    lo, hi, width = TABLED[(name, direction)]
    points = table_edges(lo, hi, width)
    steps = np.arange(-300, 301, dtype=np.int32)
    bits = (np.abs(points).view(np.int32)[:, None] + steps).ravel()
    x = np.where(np.repeat(points, steps.size) < 0, -1, 1) * bits.view(np.float32)
    x = np.unique(x[np.isfinite(x)].astype(np.float32))
    ufunc = name if direction == "forward" else name + "_backward"
    args = (x,) if direction == "forward" else (np.ones_like(x), x)
    want = getattr(fastact.reference, ufunc)(*(a.astype(np.float64) for a in args))
    assert_ulp_close(getattr(fastact, ufunc)(*args), np.asarray(want).astype(np.float32),
                     getattr(ACCURACY[name].budget, direction), inputs={"x": x}, what=f"{name} {direction} table edges")


# Where exp(x) is subnormal but the result is not (or is a larger subnormal):
# the negative tails, every float32 there.
TAILS = {
    "silu": (-110.0, -80.0),
    "mish": (-110.0, -80.0),
    "softplus": (-110.0, -80.0),
    "gelu": (-16.0, -9.0),
}


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: act.name in TAILS))
def test_float32_negative_tail_to_the_last_subnormal(act: Activation, params, direction) -> None:
    params = float32_params(params)
    low, high = (v / params.get("beta", 1.0) for v in TAILS[act.name])
    start, stop = np.float32(low).view(np.int32), np.float32(high).view(np.int32)
    x = np.arange(stop, start, 7, dtype=np.int32).view(np.float32)  # every 7th float32
    fn = getattr(act, direction)
    args = (x,) if direction == "forward" else (np.ones_like(x), x)
    actual = fn(*args, **params)
    want = reference_of(act, direction)(*(a.astype(np.float64) for a in args), **params)
    want = np.asarray(want).astype(np.float32)
    assert np.count_nonzero(want) > x.size // 4, "the sweep reaches the subnormal range"
    assert_ulp_close(actual, want, getattr(ACCURACY[act.name].budget, direction),
                     inputs={"x": x}, what=f"{act.name} {direction} negative tail")


def test_the_tails_of_the_issue() -> None:
    """silu is not 0 at -95 in float32 (true value ~1.6e-39); gelu(-10) is not 0."""
    with mpmath.workprec(PRECISION):
        silu = correctly_rounded(mpmath.mpf(-95) * mpmath.exp(-95) / (1 + mpmath.exp(-95)), np.float32)
        gelu = correctly_rounded(-10 * mpmath.erfc(10 / mpmath.sqrt(2)) / 2, np.float32)
    assert fastact.silu(np.float32(-95)) != 0
    assert ulp_distance(fastact.silu(np.float32(-95)), silu) <= 1
    assert fastact.gelu(np.float32(-10)) != 0
    assert ulp_distance(fastact.gelu(np.float32(-10)), gelu) <= 2


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
