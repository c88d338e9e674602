"""Hypothesis fuzzing: random dtypes, shapes, strides, broadcasting and
parameter values; every element-wise function, forward and backward, must
agree with fastact.reference (within its parity budget) and leave its
inputs untouched."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastact._registry import ACTIVATIONS

from function_cases import GRADCHECK, PARAM_VALUES, cancellation_scale, parity_budget
from inputs import backward_args, call, reference_of
from ulp import assert_ulp_close

# (prelu's weight has its own shape rules: tests/test_prelu.py)
ELEMENTWISE = [act for act in ACTIVATIONS if act.kind == "elementwise"]
DTYPES = [np.float16, np.float32, np.float64]


@st.composite
def operand(draw, dtype, shape, low, high, specials=True):
    """An array of `shape` with values in [low, high] plus (with specials)
    ±0, ±inf and NaN, laid out at random: contiguous, reversed, strided, or
    broadcast from a smaller one."""
    layout = draw(st.sampled_from(["contiguous", "reversed", "strided", "broadcast"]))
    base_shape = shape
    if layout == "broadcast" and shape:
        base_shape = tuple(1 if draw(st.booleans()) else s for s in shape)
    if layout == "strided":
        base_shape = tuple(2 * s for s in shape)
    elements = st.floats(low, high, allow_nan=False, width=64)
    if specials:
        elements = st.one_of(elements, st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan]))
    base = draw(hnp.arrays(np.float64, base_shape, elements=elements)).astype(dtype)
    if layout == "reversed":
        base = base[tuple(slice(None, None, -1) for _ in shape)]
    elif layout == "strided":
        base = base[tuple(slice(None, None, 2) for _ in shape)]
    return np.broadcast_to(base, shape) if layout == "broadcast" else base


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("act", [pytest.param(a, id=a.name) for a in ELEMENTWISE])
def test_random_layouts_match_the_reference(act, data) -> None:
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6), label="shape")
    params = data.draw(st.sampled_from(PARAM_VALUES.get(act.name, ({},))), label="params")
    domains = GRADCHECK[act.name].domains
    inputs = tuple(data.draw(operand(dtype, shape, lo, hi), label=f"data{i}")
                   for i, (lo, hi) in enumerate(domains))
    direction = data.draw(st.sampled_from(["forward", "backward"]), label="direction")
    if direction == "forward":
        args = inputs
    else:
        grad = data.draw(operand(dtype, shape, -2.0, 2.0), label="grad")
        args = backward_args(act, grad, tuple(np.ascontiguousarray(a) for a in inputs), params)
    got = call(getattr(act, direction), *args, **params)
    expected = reference_of(act, direction)(*args, **params)
    assert_ulp_close(got, np.asarray(expected), parity_budget(act.name, direction, dtype),
                     what=f"{act.name} {direction}", scale=cancellation_scale(act, direction, args, params))


ROWWISE = [act for act in ACTIVATIONS if act.rowwise]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("act", [pytest.param(a, id=a.name) for a in ROWWISE])
def test_rowwise_random_shapes_axes_and_layouts(act, data) -> None:
    """Row-wise functions over a random axis of a random 1-3-d array, laid
    out at random, with a random temperature where they take one."""
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    params = {}
    if "temperature" in act.params:
        params["temperature"] = data.draw(st.sampled_from([1.0, 0.5, 3.0]), label="temperature")
    x = data.draw(operand(dtype, shape, -30.0, 30.0), label="x")
    args: tuple = (x,)
    if "labels" in act.args:
        row_shape = tuple(s for i, s in enumerate(shape) if i != axis % len(shape))
        labels = data.draw(hnp.arrays(np.intp, row_shape, elements=st.integers(0, shape[axis] - 1)),
                           label="labels")
        args = (x, labels)
    direction = data.draw(st.sampled_from(["forward", "backward"]), label="direction")
    if direction == "backward":
        y = reference_of(act, "forward")(*args, axis=axis, **params)
        saved = np.asarray(y) if act.saved == "output" else np.ascontiguousarray(x)
        # A row's backward mixes the whole row's gradient (g - sum(g*y)): an
        # infinite incoming gradient has no meaningful VJP there, so the
        # fuzz draws finite ones (NaN/inf rows are in the special-value tests).
        grad = data.draw(operand(dtype, np.shape(y), -2.0, 2.0, specials=False), label="grad")
        args = (grad, saved, *args[1:])
    got = call(getattr(act, direction), *args, axis=axis, **params)
    expected = reference_of(act, direction)(*args, axis=axis, **params)
    # A backward that cancels (g - sum(g*y)) is held to ULPs of its terms.
    scale = None
    if direction == "backward" and act.args == ("x",):
        moved = tuple(np.moveaxis(a, axis, -1) for a in args)
        scale = cancellation_scale(act, direction, moved, params)
    assert_ulp_close(got, np.asarray(expected), parity_budget(act.name, direction, dtype),
                     what=f"{act.name} {direction} axis={axis}",
                     scale=None if scale is None else np.moveaxis(scale, -1, axis))
