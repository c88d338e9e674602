"""Special values: ±0, subnormals, ±max, ±inf and NaN.

* fastact agrees with the reference on every special value (forward) and on
  every (grad, saved) pair of special values (backward);
* nothing warns or raises, even with every floating-point error turned into
  an exception (np.errstate(all="raise")) and warnings into errors;
* the conventions of DESIGN.md section 4 hold, checked against closed forms.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

import fastact
import fastact.reference as reference
from fastact._registry import Activation

from function_cases import cancellation_scale, parity_budget, with_param_sets
from inputs import DIRECTIONS, FLOAT_DTYPES, call, dtype_id, reference_of, special_values
from tables import SATURATION, saturation_limit
from ulp import assert_ulp_close

nan, inf = math.nan, math.inf


@contextlib.contextmanager
def strict(fp_flags: bool = True) -> Iterator[None]:
    """Warnings become exceptions, and with fp_flags every floating-point flag
    too (np.errstate(all="raise"), underflow included). The reference is held
    to NumPy's default errstate only: a careful NumPy user's np.exp reports
    underflow to a subnormal when asked to."""
    with warnings.catch_warnings(), np.errstate(**({"all": "raise"} if fp_flags else {})):
        warnings.simplefilter("error")
        yield


ELEMENTWISE = lambda act: act.kind == "elementwise"  # noqa: E731  (row-wise, prelu: own files)


def special_arguments(act: Activation, direction: str, dtype, params: dict, valid_saved: bool) -> tuple:
    """Forward: the special values (every pair of them for two inputs, e.g.
    bce's logits and targets). Backward: every combination (grad, saved, ...).

    With valid_saved, a saved output is what the forward can return (the
    forward of the special values), otherwise any special value.
    """
    values = special_values(dtype)
    if direction == "forward":
        return tuple(np.meshgrid(*[values] * len(act.args), indexing="ij"))
    saved = values
    if act.saved == "output" and valid_saved:
        saved = np.asarray(reference_of(act, "forward")(values, **params))
    return tuple(np.meshgrid(values, saved, *[values] * (len(act.args) - 1), indexing="ij"))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(ELEMENTWISE))
def test_matches_reference(act, params, dtype, direction) -> None:
    args = special_arguments(act, direction, dtype, params, valid_saved=False)
    expected = reference_of(act, direction)(*args, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are the next test's business
        actual = call(getattr(act, direction), *args, **params)
    if direction == "backward":
        # grad = +-inf times a derivative that underflows to 0 in the dtype
        # (the reference works in float64, where it does not): NaN (inf * 0)
        # and +-inf are both IEEE answers; skip those.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = reference_of(act, direction)(np.ones_like(args[0]), *args[1:], **params)
        ambiguous = np.isinf(args[0]) & (np.asarray(unit) == 0)
        actual, expected = np.where(ambiguous, 0, actual), np.where(ambiguous, 0, expected)
    budget = parity_budget(act.name, direction, dtype)
    assert_ulp_close(actual, expected, budget, inputs=dict(enumerate(args)), what=f"{act.name} {direction}",
                     scale=cancellation_scale(act, direction, args, params))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(ELEMENTWISE))
def test_no_floating_point_errors_or_warnings(act, params, dtype, direction) -> None:
    args = special_arguments(act, direction, dtype, params, valid_saved=True)
    fn = getattr(act, direction)
    with strict():
        fn(*args, **params)
        flat = [a.ravel() for a in args]
        for k in range(0, flat[0].size, max(1, flat[0].size // 600)):  # the scalar path too
            fn(*(a[k] for a in flat), **params)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(ELEMENTWISE))
def test_reference_emits_no_runtime_warning(act, params, dtype, direction) -> None:
    """The oracle keeps its promise too (NumPy's default errstate)."""
    args = special_arguments(act, direction, dtype, params, valid_saved=False)
    with strict(fp_flags=False):
        reference_of(act, direction)(*args, **params)


# --------------------------------------------------------------------------
# Conventions, against closed forms
# --------------------------------------------------------------------------

A = 0.2  # a non-default alpha, to see that the parameter is used
CONVENTIONS = [
    # (function, arguments, parameters, expected, why)
    ("relu", (nan,), {}, nan, "relu(NaN) is NaN"),
    ("relu", (-inf,), {}, 0.0, ""),
    ("relu", (inf,), {}, inf, ""),
    ("relu", (-0.0,), {}, 0.0, ""),
    ("relu_backward", (1.0, 0.0), {}, 0.0, "relu'(0) = 0"),
    ("relu_backward", (1.0, -0.0), {}, 0.0, "relu'(-0) = 0"),
    ("relu_backward", (inf, -1.0), {}, 0.0, "a mask: inf * 0 is not computed"),
    ("relu_backward", (nan, -1.0), {}, 0.0, "a mask"),
    ("relu_backward", (nan, 1.0), {}, nan, ""),
    ("relu_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("leaky_relu", (nan,), {}, nan, ""),
    ("leaky_relu", (-inf,), {"alpha": A}, -inf, ""),
    ("leaky_relu", (-2.0,), {"alpha": A}, -2 * A, ""),
    ("leaky_relu_backward", (1.0, 0.0), {}, 0.01, "leaky_relu'(0) = alpha"),
    ("leaky_relu_backward", (1.0, 0.0), {"alpha": A}, A, "leaky_relu'(0) = alpha"),
    ("leaky_relu_backward", (1.0, -0.0), {"alpha": A}, A, ""),
    ("leaky_relu_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("sigmoid", (-inf,), {}, 0.0, ""),
    ("sigmoid", (inf,), {}, 1.0, ""),
    ("sigmoid", (0.0,), {}, 0.5, ""),
    ("sigmoid", (-0.0,), {}, 0.5, ""),
    ("sigmoid", (nan,), {}, nan, ""),
    ("sigmoid_backward", (1.0, 0.5), {}, 0.25, "from the output"),
    ("sigmoid_backward", (1.0, 1.0), {}, 0.0, ""),
    ("sigmoid_backward", (1.0, 0.0), {}, 0.0, ""),
    ("sigmoid_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("sigmoid_backward", (nan, 0.5), {}, nan, ""),
    ("tanh", (inf,), {}, 1.0, ""),
    ("tanh", (-inf,), {}, -1.0, ""),
    ("tanh", (nan,), {}, nan, ""),
    ("tanh_backward", (1.0, 0.0), {}, 1.0, "from the output"),
    ("tanh_backward", (1.0, 1.0), {}, 0.0, ""),
    ("tanh_backward", (1.0, -1.0), {}, 0.0, ""),
    ("tanh_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("relu_sigmoid", (-inf,), {}, 0.5, "the trap: >= 0.5 everywhere"),
    ("relu_sigmoid", (-1.0,), {}, 0.5, ""),
    ("relu_sigmoid", (0.0,), {}, 0.5, ""),
    ("relu_sigmoid", (inf,), {}, 1.0, ""),
    ("relu_sigmoid", (nan,), {}, nan, ""),
    ("relu_sigmoid_backward", (1.0, 0.0), {}, 0.0, "no gradient for z <= 0"),
    ("relu_sigmoid_backward", (1.0, -3.0), {}, 0.0, ""),
    ("relu_sigmoid_backward", (inf, -3.0), {}, 0.0, "a mask"),
    ("relu_sigmoid_backward", (1.0, inf), {}, 0.0, ""),
    ("relu_sigmoid_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("leaky_relu_sigmoid", (-inf,), {"alpha": A}, 0.0, ""),
    ("leaky_relu_sigmoid", (inf,), {"alpha": A}, 1.0, ""),
    ("leaky_relu_sigmoid", (0.0,), {"alpha": A}, 0.5, ""),
    ("leaky_relu_sigmoid", (nan,), {}, nan, ""),
    ("leaky_relu_sigmoid_backward", (1.0, 0.0), {"alpha": A}, 0.25 * A, "slope alpha at 0"),
    ("leaky_relu_sigmoid_backward", (1.0, -inf), {"alpha": A}, 0.0, ""),
    ("leaky_relu_sigmoid_backward", (1.0, inf), {"alpha": A}, 0.0, ""),
    ("leaky_relu_sigmoid_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    # relu6, hardtanh: PyTorch's hardtanh_backward, 0 at and beyond the edges
    ("relu6", (nan,), {}, nan, ""),
    ("relu6", (-inf,), {}, 0.0, ""),
    ("relu6", (inf,), {}, 6.0, ""),
    ("relu6", (-0.0,), {}, 0.0, ""),
    ("relu6_backward", (1.0, 0.0), {}, 0.0, "relu6'(0) = 0"),
    ("relu6_backward", (1.0, 6.0), {}, 0.0, "relu6'(6) = 0 (PyTorch)"),
    ("relu6_backward", (1.0, 3.0), {}, 1.0, ""),
    ("relu6_backward", (inf, -1.0), {}, 0.0, "a mask"),
    ("relu6_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("hardtanh", (nan,), {}, nan, ""),
    ("hardtanh", (-inf,), {}, -1.0, ""),
    ("hardtanh", (inf,), {"min_val": -2.0, "max_val": 0.5}, 0.5, ""),
    ("hardtanh_backward", (1.0, -1.0), {}, 0.0, "0 at min_val"),
    ("hardtanh_backward", (1.0, 1.0), {}, 0.0, "0 at max_val"),
    ("hardtanh_backward", (1.0, 0.25), {"min_val": -2.0, "max_val": 0.5}, 1.0, ""),
    ("hardtanh_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    # elu, selu, celu
    ("elu", (-inf,), {"alpha": 0.5}, -0.5, ""),
    ("elu", (nan,), {}, nan, ""),
    ("elu_backward", (1.0, 0.0), {"alpha": 0.5}, 0.5, "elu'(0) = alpha (x > 0 test)"),
    ("elu_backward", (1.0, -inf), {}, 0.0, ""),
    ("elu_backward", (1.0, nan), {}, nan, "NaN saved tensor -> NaN gradient"),
    ("selu", (-inf,), {}, -1.7580993408473768, "-scale * alpha"),
    ("selu", (nan,), {}, nan, ""),
    ("selu_backward", (1.0, 0.0), {}, 1.7580993408473768, "selu'(0) = scale * alpha"),
    ("selu_backward", (1.0, 1.0), {}, 1.0507009873554805, ""),
    ("celu", (-inf,), {"alpha": 0.5}, -0.5, ""),
    ("celu_backward", (1.0, 0.0), {"alpha": 0.5}, 1.0, "celu'(0) = 1"),
    ("celu_backward", (1.0, nan), {}, nan, ""),
    # the limits at +-inf of the issue
    ("gelu", (-inf,), {}, 0.0, "gelu(-inf) = 0, not NaN"),
    ("gelu", (-inf,), {"approximate": "tanh"}, 0.0, "gelu(-inf) = 0, not NaN"),
    ("gelu", (inf,), {}, inf, ""),
    ("gelu", (inf,), {"approximate": "tanh"}, inf, ""),
    ("gelu", (nan,), {}, nan, ""),
    ("gelu", (0.0,), {"approximate": "tanh"}, 0.0, ""),
    ("gelu_backward", (1.0, -inf), {}, 0.0, ""),
    ("gelu_backward", (1.0, inf), {}, 1.0, ""),
    ("gelu_backward", (1.0, 0.0), {}, 0.5, ""),
    ("gelu_backward", (1.0, 0.0), {"approximate": "tanh"}, 0.5, ""),
    ("gelu_backward", (1.0, -inf), {"approximate": "tanh"}, 0.0, ""),
    ("gelu_backward", (1.0, nan), {}, nan, ""),
    ("silu", (-inf,), {}, 0.0, "silu(-inf) = 0, not NaN"),
    ("silu", (inf,), {}, inf, ""),
    ("silu", (nan,), {}, nan, ""),
    ("silu_backward", (1.0, -inf), {}, 0.0, ""),
    ("silu_backward", (1.0, inf), {}, 1.0, ""),
    ("silu_backward", (1.0, 0.0), {}, 0.5, ""),
    ("mish", (-inf,), {}, 0.0, "mish(-inf) = 0, not NaN"),
    ("mish", (inf,), {}, inf, ""),
    ("mish", (0.0,), {}, 0.0, ""),
    ("mish_backward", (1.0, -inf), {}, 0.0, ""),
    ("mish_backward", (1.0, inf), {}, 1.0, ""),
    ("mish_backward", (1.0, nan), {}, nan, ""),
    ("hardswish", (-inf,), {}, 0.0, "hardswish(-inf) = 0, not NaN"),
    ("hardswish", (inf,), {}, inf, ""),
    ("hardswish", (-3.0,), {}, 0.0, ""),
    ("hardswish", (3.0,), {}, 3.0, ""),
    ("hardswish_backward", (1.0, -3.0), {}, -0.5, "PyTorch: (2x + 3)/6 at -3"),
    ("hardswish_backward", (1.0, 3.0), {}, 1.5, "PyTorch: (2x + 3)/6 at 3"),
    ("hardswish_backward", (1.0, -4.0), {}, 0.0, ""),
    ("hardswish_backward", (1.0, 4.0), {}, 1.0, ""),
    ("hardswish_backward", (1.0, -1.5), {}, 0.0, ""),
    ("hardswish_backward", (1.0, nan), {}, nan, ""),
    ("softsign", (inf,), {}, 1.0, "softsign(+-inf) = +-1"),
    ("softsign", (-inf,), {}, -1.0, ""),
    ("softsign", (1.0,), {}, 0.5, ""),
    ("softsign_backward", (1.0, inf), {}, 0.0, ""),
    ("softsign_backward", (1.0, 1.0), {}, 0.25, ""),
    ("softplus", (-inf,), {}, 0.0, "softplus(-inf) = 0"),
    ("softplus", (inf,), {}, inf, ""),
    ("softplus", (inf,), {"beta": 1.0, "threshold": inf}, inf, ""),
    ("softplus", (25.0,), {}, 25.0, "x beyond the threshold (PyTorch)"),
    ("softplus_backward", (1.0, -inf), {}, 0.0, ""),
    ("softplus_backward", (1.0, 25.0), {}, 1.0, "beyond the threshold"),
    ("softplus_backward", (1.0, 0.0), {}, 0.5, ""),
    ("softplus_backward", (1.0, nan), {}, nan, ""),
    ("log_sigmoid", (inf,), {}, 0.0, "log_sigmoid(+inf) = 0"),
    ("log_sigmoid", (-inf,), {}, -inf, ""),
    ("log_sigmoid", (nan,), {}, nan, ""),
    ("log_sigmoid_backward", (1.0, inf), {}, 0.0, ""),
    ("log_sigmoid_backward", (1.0, -inf), {}, 1.0, ""),
    ("log_sigmoid_backward", (1.0, 0.0), {}, 0.5, ""),
    ("hardsigmoid", (-inf,), {}, 0.0, ""),
    ("hardsigmoid", (inf,), {}, 1.0, ""),
    ("hardsigmoid", (0.0,), {}, 0.5, ""),
    ("hardsigmoid", (nan,), {}, nan, ""),
    ("hardsigmoid_backward", (1.0, -3.0), {}, 0.0, "PyTorch: strict (-3, 3)"),
    ("hardsigmoid_backward", (1.0, 3.0), {}, 0.0, ""),
    ("hardsigmoid_backward", (1.0, 0.0), {}, 1 / 6, ""),
    ("hardsigmoid_backward", (1.0, nan), {}, nan, ""),
    # bce_with_logits: the limits with hard targets are 0, not inf - inf
    ("bce_with_logits", (inf, 1.0), {}, 0.0, "no inf - inf"),
    ("bce_with_logits", (-inf, 0.0), {}, 0.0, "no inf * 0"),
    ("bce_with_logits", (inf, 0.5), {}, inf, ""),
    ("bce_with_logits", (nan, 1.0), {}, nan, ""),
    ("bce_with_logits", (1.0, nan), {}, nan, ""),
    ("bce_with_logits_backward", (1.0, 0.0, 0.5), {}, 0.0, ""),
    ("bce_with_logits_backward", (1.0, inf, 1.0), {}, 0.0, ""),
    ("bce_with_logits_backward", (1.0, -inf, 0.0), {}, 0.0, ""),
    ("bce_with_logits_backward", (1.0, -inf, 1.0), {}, -1.0, ""),
    ("bce_with_logits_backward", (1.0, nan, 1.0), {}, nan, ""),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("name", "args", "params", "expected", "why"),
    [pytest.param(*row, id=f"{row[0]}{row[1]}{row[2] or ''}") for row in CONVENTIONS],
)
@pytest.mark.parametrize("impl", ("fastact", "reference"))
def test_convention(name, args, params, expected, why, dtype, impl) -> None:
    """fastact and the oracle both follow the conventions."""
    arrays = [np.array([a], dtype) for a in args]
    module = fastact if impl == "fastact" else reference
    with strict(fp_flags=impl == "fastact"):
        actual = getattr(module, name)(*arrays, **params)
    # alpha is used at the data's precision (float32 for float16 data).
    want = np.array([expected], np.float32 if dtype == np.float16 else dtype).astype(dtype)
    assert actual.dtype == dtype
    np.testing.assert_array_equal(actual, want, err_msg=why)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_zero_and_tiny_inputs(dtype) -> None:
    """tanh keeps the sign of zero and is exact on subnormals; relu is exact."""
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([-0.0, 0.0, tiny, -tiny], dtype)
    with strict():
        t = fastact.tanh(x)
        r = fastact.relu(x)
    np.testing.assert_array_equal(np.signbit(t), np.signbit(x), err_msg="tanh(±0) = ±0")
    np.testing.assert_array_equal(t, x, err_msg="tanh(x) = x for subnormal x")
    np.testing.assert_array_equal(r, [0, 0, tiny, 0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_extremes_saturate(dtype) -> None:
    big = np.finfo(dtype).max
    x = np.array([-big, big], dtype)
    with strict():
        np.testing.assert_array_equal(fastact.sigmoid(x), [0, 1])
        np.testing.assert_array_equal(fastact.tanh(x), [-1, 1])
        np.testing.assert_array_equal(fastact.relu_sigmoid(x), [0.5, 1])
        np.testing.assert_array_equal(fastact.leaky_relu_sigmoid(x), [0, 1])
        np.testing.assert_array_equal(fastact.relu(x), [0, big])
        for name in ("silu", "gelu", "mish"):
            np.testing.assert_array_equal(getattr(fastact, name)(x), [0, big], err_msg=name)
        np.testing.assert_array_equal(fastact.gelu(x, approximate="tanh"), [0, big])
        np.testing.assert_array_equal(fastact.hardswish(x), [0, big])
        np.testing.assert_array_equal(fastact.softsign(x), [-1, 1])
        np.testing.assert_array_equal(fastact.softplus(x), [0, big])
        np.testing.assert_array_equal(fastact.softplus(x, threshold=np.inf), [0, big])
        np.testing.assert_array_equal(fastact.log_sigmoid(x), [-big, 0])
        np.testing.assert_array_equal(fastact.relu6(x), [0, 6])
        np.testing.assert_array_equal(fastact.hardsigmoid(x), [0, 1])


@pytest.mark.parametrize(("name", "direction"), sorted(SATURATION))
def test_float32_saturation_bounds(name, direction, rng) -> None:
    """Past a saturation bound beyond its table (src/act_table.h) a float32
    kernel returns its limit without the closed form: x, the grad, +-1 or
    -0.0. Every float32 within 20000 steps past each bound, and log-spaced
    on to the largest float and inf: the result is the limit bit for bit
    (the sign of a zero too), and the float64 reference rounds to that
    limit there as well, so a bound set where the function has not yet
    saturated fails against an independent value. (tools/saturation_scan.py
    checks every float32 past each bound against the closed forms.)"""
    fn = getattr(fastact, name if direction == "forward" else name + "_backward")
    ref = getattr(reference, name if direction == "forward" else name + "_backward")
    for side, bound, limit in SATURATION[(name, direction)]:
        sign = 1.0 if side == ">=" else -1.0
        assert math.copysign(1.0, bound) == sign, (name, side, bound)
        start = np.abs(np.float32(bound)).view(np.int32)
        near = (start + np.arange(20000, dtype=np.int32)).view(np.float32)
        far = np.geomspace(abs(bound), float(np.finfo(np.float32).max), 2000, dtype=np.float32)
        x = (sign * np.concatenate([near, far, [np.inf]])).astype(np.float32)
        g = rng.standard_normal(x.size).astype(np.float32)
        g[:6] = [0.0, -0.0, 1e-40, -3e38, np.inf, -np.inf]
        args = (x,) if direction == "forward" else (g, x)
        want = saturation_limit(limit, x, g)
        with strict():
            got = fn(*args)
        what = f"{name} {direction} at x {side} {bound}: {limit}"
        np.testing.assert_array_equal(got, want, err_msg=what)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=what)
        # independently: the forward, or the derivative (grad 1; the kernels
        # form grad * f'(x) from f'(x) in float32), rounds to the limit
        ref_args = (x,) if direction == "forward" else (np.ones_like(x), x)
        with np.errstate(under="ignore"):  # float64 -> float32: the tails round to subnormals
            rounded = np.asarray(ref(*(a.astype(np.float64) for a in ref_args))).astype(np.float32)
        ref_want = want if direction == "forward" else np.ones_like(x)
        np.testing.assert_array_equal(rounded, ref_want, err_msg=f"reference, {what}")
        np.testing.assert_array_equal(np.signbit(rounded), np.signbit(ref_want), err_msg=f"reference, {what}")
