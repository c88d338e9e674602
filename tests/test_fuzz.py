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
def operand(draw, dtype, shape, low, high):
    """An array of `shape` with values in [low, high] plus specials, laid out
    at random: contiguous, reversed, strided, or broadcast from a smaller one."""
    layout = draw(st.sampled_from(["contiguous", "reversed", "strided", "broadcast"]))
    base_shape = shape
    if layout == "broadcast" and shape:
        base_shape = tuple(1 if draw(st.booleans()) else s for s in shape)
    if layout == "strided":
        base_shape = tuple(2 * s for s in shape)
    elements = st.one_of(
        st.floats(low, high, allow_nan=False, width=64),
        st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan]),
    )
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
