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

from function_cases import ndata, parity_budget, with_param_sets  # grids below: one data input
from inputs import DIRECTIONS, FLOAT_DTYPES, call, dtype_id, reference_of, special_values
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


def special_arguments(act: Activation, direction: str, dtype, params: dict, valid_saved: bool) -> tuple:
    """Forward: the special values. Backward: every pair (grad, saved) of them.

    With valid_saved, a saved output is what the forward can return (the
    forward of the special values), otherwise any special value.
    """
    values = special_values(dtype)
    if direction == "forward":
        return (values,)
    saved = values
    if act.saved == "output" and valid_saved:
        saved = np.asarray(reference_of(act, "forward")(values, **params))
    grad, saved = np.meshgrid(values, saved, indexing="ij")
    return grad, saved


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: ndata(act) == 1))
def test_matches_reference(act, params, dtype, direction) -> None:
    args = special_arguments(act, direction, dtype, params, valid_saved=False)
    expected = reference_of(act, direction)(*args, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are the next test's business
        actual = call(getattr(act, direction), *args, **params)
    budget = parity_budget(act.name, direction, dtype)
    assert_ulp_close(actual, expected, budget, inputs=dict(enumerate(args)), what=f"{act.name} {direction}")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: ndata(act) == 1))
def test_no_floating_point_errors_or_warnings(act, params, dtype, direction) -> None:
    args = special_arguments(act, direction, dtype, params, valid_saved=True)
    fn = getattr(act, direction)
    with strict():
        fn(*args, **params)
        for x in zip(*(a.ravel() for a in args), strict=True):  # the scalar path too
            fn(*x, **params)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: ndata(act) == 1))
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
