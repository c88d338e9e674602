"""Bad input gets a clear exception -- never a crash, a wrong result or a
modified input: complex/object/string data (TypeError naming the function and
the dtype), non-real parameters, wrong-shaped or read-only out, mismatched
shapes (ValueError)."""

from __future__ import annotations

import numpy as np
import pytest

from fastact._registry import Activation

from function_cases import activation_params, numeric_params
from inputs import DIRECTIONS, arguments, checksum, output_shape

BAD_DTYPES = {
    "complex": np.array([1.0 + 1.0j, -2.0]),
    "complex64": np.array([1.0 + 1.0j, -2.0], np.complex64),
    "object": np.array([1.0, -2.0], dtype=object),
    "str": np.array(["1.0", "-2.0"]),
    "bytes": np.array([b"1", b"2"]),
}


def _function_name(act: Activation, direction: str) -> str:
    return act.name if direction == "forward" else f"{act.name}_backward"


def _dtype_names(dtype: np.dtype) -> set[str]:
    """Ways an error message may spell a dtype: complex128, <U3, StrDType..."""
    return {str(dtype), dtype.name, repr(dtype), type(dtype).__name__}


@pytest.mark.parametrize("bad", BAD_DTYPES)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_unsupported_dtype_is_a_type_error(act, direction, bad, rng) -> None:
    good = arguments(act, direction, np.float64, (2,), rng, act.params)
    for position in range(len(good)):
        args = list(good)
        args[position] = BAD_DTYPES[bad]
        before = [checksum(a) for a in args]
        with pytest.raises(TypeError) as info:
            getattr(act, direction)(*args, **act.params)
        message = str(info.value)
        assert _function_name(act, direction) in message, message
        assert any(name in message for name in _dtype_names(BAD_DTYPES[bad].dtype)), message
        assert [checksum(a) for a in args] == before


@pytest.mark.parametrize("value", [1j, "0.1", None, np.array([1j])], ids=repr)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda act: bool(numeric_params(act))))
def test_non_real_parameter_is_a_type_error(act, direction, value, rng) -> None:
    args = arguments(act, direction, np.float64, (2,), rng, act.params)
    for name in numeric_params(act):
        with pytest.raises(TypeError, match=_function_name(act, direction)):
            getattr(act, direction)(*args, **{**act.params, name: value})


OUT_SHAPES = {"too_long": ((4,), (5,)), "not_broadcastable": ((2, 4), (4,)), "transposed": ((2, 3), (3, 2))}
# A per-sample loss has one value per row: its outs are relative to the batch shape.
LOSS_OUT_SHAPES = {"too_long": ((2, 4), (3,)), "not_broadcastable": ((2, 4), (4,)),
                   "transposed": ((2, 3, 4), (3, 2))}


def _out_arg(act, direction, out):
    """out= as the function takes it: (grad_x, grad_weight) for prelu_backward."""
    return (out, None) if act.kind == "channelwise" and direction == "backward" else out


@pytest.mark.parametrize("shape_id", list(OUT_SHAPES))
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_wrong_shaped_out_is_a_value_error(act, direction, shape_id, rng) -> None:
    loss = act.int_args and direction == "forward"
    data_shape, out_shape = (LOSS_OUT_SHAPES if loss else OUT_SHAPES)[shape_id]
    args = arguments(act, direction, np.float32, data_shape, rng, act.params)
    out = np.zeros(out_shape, np.float32)
    before = [checksum(a) for a in (*args, out)]
    with pytest.raises(ValueError):
        getattr(act, direction)(*args, **act.params, out=_out_arg(act, direction, out))
    assert [checksum(a) for a in (*args, out)] == before


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_read_only_out_is_a_value_error(act, direction, rng) -> None:
    args = arguments(act, direction, np.float32, (3, 6), rng, act.params)
    shape = output_shape(act, (3, 6)) if direction == "forward" else (3, 6)
    out = np.zeros(shape, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        getattr(act, direction)(*args, **act.params, out=_out_arg(act, direction, out))
    assert not out.any()


@pytest.mark.parametrize("act", activation_params())
def test_mismatched_backward_shapes_are_a_value_error(act, rng) -> None:
    grad, saved, *rest = arguments(act, "backward", np.float64, (3, 5), rng, act.params)
    with pytest.raises(ValueError):
        act.backward(grad[:2], saved, *rest, **act.params)


@pytest.mark.parametrize("act", activation_params())
def test_out_of_an_unsafe_dtype_is_a_type_error(act, rng) -> None:
    """float64 data cannot be written into an int out (same_kind casting)."""
    args = arguments(act, "forward", np.float64, (2, 3), rng, act.params)
    with pytest.raises(TypeError):
        act.forward(*args, **act.params, out=np.zeros(output_shape(act, (2, 3)), np.int64))
