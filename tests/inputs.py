"""Test inputs: dtypes, random samples, special values, memory layouts, and
calling a function while checking that it leaves its inputs alone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

import fastact.reference as reference
from fastact._registry import Activation

from function_cases import GRADCHECK

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
# Data dtypes of the parity tests: floats, and integers/bools that are
# converted as np.exp converts them.
DATA_DTYPES = (*FLOAT_DTYPES, np.int8, np.int32, np.bool_)
DIRECTIONS = ("forward", "backward")


def result_dtype(*dtypes: type | np.dtype) -> np.dtype:
    """The result dtype NumPy's own float ufuncs give (np.exp, np.add)."""
    zeros = [np.zeros(1, dtype) for dtype in dtypes]
    result = np.exp(zeros[0])
    for other in zeros[1:]:
        result = np.hypot(result, other)
    return result.dtype


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def special_values(dtype: type | np.dtype) -> NDArray:
    """±0, subnormals, the normal limits, ordinary and tail values, ±max, ±inf, NaN."""
    info = np.finfo(dtype)
    magnitudes = [
        0.0,
        info.smallest_subnormal,
        info.smallest_normal,
        1e-3,
        0.5,
        1.0,
        2.0,
        20.0,
        100.0,
        info.max,
        np.inf,
    ]
    values = [sign * m for m in magnitudes for sign in (1.0, -1.0)] + [np.nan]
    return np.array(values, dtype=dtype)


def arg_shape(act: Activation, k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of forward argument k when x (argument 0) has `shape`: the same
    for element-wise inputs; x's batch shape (without the last axis) for class
    labels; one weight per channel (axis 1) for prelu's weight."""
    name = act.args[k]
    if name in act.int_args:
        return shape[:-1]
    if act.kind == "channelwise" and k == 1:
        return (shape[1],) if len(shape) >= 2 else (1,)
    return shape


def output_shape(act: Activation, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the forward's output (and of backward's grad) for x of `shape`."""
    return shape[:-1] if act.int_args else shape


def sample(
    act: Activation, dtype: type | np.dtype, shape: tuple[int, ...], rng: np.random.Generator
) -> tuple[NDArray, ...]:
    """Random data inputs of `act`: values from its domain (GRADCHECK) for
    floats, with a few ±0/±inf/NaN mixed in; small integers or bools otherwise.
    Class labels are intp in [0, n) (n = the last axis of x); prelu's weight
    has one value per channel and no special values."""
    args = []
    for k, (low, high) in enumerate(GRADCHECK[act.name].domains):
        kshape = arg_shape(act, k, shape)
        if act.args[k] in act.int_args:
            n = shape[-1] if shape else 0
            args.append(rng.integers(0, max(n, 1), size=kshape).astype(np.intp))
        else:
            specials = not (act.kind == "channelwise" and k == 1)
            args.append(_draw(low, high, np.dtype(dtype), kshape, rng, specials=specials))
    return tuple(args)


def sample_grad(dtype: type | np.dtype, shape: tuple[int, ...], rng: np.random.Generator) -> NDArray:
    """A random incoming gradient."""
    return _draw(-2.0, 2.0, np.dtype(dtype), shape, rng, specials=False)


def simple_args(act: Activation, x: Any) -> tuple:
    """Forward arguments with x as the first: class labels 0 (of x's batch
    shape), prelu's weight 0.25 (one value), bce's target 0.5 (x's shape)."""
    shape = np.shape(x)
    args = [x]
    for k, name in enumerate(act.args[1:], start=1):
        if name in act.int_args:
            args.append(np.zeros(shape[:-1], np.intp))
        elif act.kind == "channelwise":
            args.append(np.array([0.25], np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float64))
        else:
            args.append(np.full(shape, 0.5, np.asarray(x).dtype) if shape else 0.5)
    return tuple(args)


def float_positions(act: Activation, direction: str) -> list[int]:
    """Positions of the arguments of act.forward / act.backward that take part
    in the result dtype (not the class labels)."""
    names = act.args if direction == "forward" else ("grad", *act.args)
    return [k for k, name in enumerate(names) if name not in act.int_args]


def _draw(
    low: float,
    high: float,
    dtype: np.dtype,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    specials: bool = True,
) -> NDArray:
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(max(low, -5), min(high, 5) + 1, size=shape).astype(dtype)
    values = rng.uniform(low, high, size=shape)
    if specials and values.size >= 8:
        flat = values.reshape(-1)
        where = rng.choice(flat.size, size=max(1, flat.size // 16), replace=False)
        flat[where] = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan], size=where.size)
    return values.astype(dtype)


def backward_args(act: Activation, grad: NDArray, data: tuple[NDArray, ...], params: dict) -> tuple:
    """Arguments of act.backward: grad, the saved tensor, the other data inputs.

    The saved tensor is the first data input, or the forward's output
    (computed by the reference) when act.saved == "output". Integer and bool
    data stay as they are (they exercise the type conversion).
    """
    saved = data[0]
    if act.saved == "output" and saved.dtype.kind == "f":
        forward = getattr(reference, act.name)
        saved = np.asarray(forward(*data, **params))
    return (grad, saved, *data[1:])


# --------------------------------------------------------------------------
# Layouts: every builder returns an array of shape (4, 6) drawn from `draw`
# --------------------------------------------------------------------------

Draw = Callable[[tuple[int, ...]], NDArray]

LAYOUT_SHAPE = (4, 6)
LAYOUTS: dict[str, Callable[[Draw], NDArray]] = {
    "contiguous": lambda draw: draw((4, 6)),
    "transposed": lambda draw: draw((6, 4)).T,
    "step2": lambda draw: draw((4, 12))[:, ::2],
    "reversed": lambda draw: draw((4, 6))[::-1, ::-1],
    "negative_step2": lambda draw: draw((8, 12))[::-2, ::-2],
    "broadcast_rows": lambda draw: np.broadcast_to(draw((1, 6)), (4, 6)),  # stride 0, outer
    "broadcast_cols": lambda draw: np.broadcast_to(draw((4, 1)), (4, 6)),  # stride 0, inner
    "broadcast_scalar": lambda draw: np.broadcast_to(draw(()), (4, 6)),
}

SHAPES: dict[str, tuple[int, ...]] = {
    "0d": (),
    "empty": (0,),
    "empty_2d": (3, 0),
    "1d": (17,),
    "1d_long": (1031,),  # odd length: vector body plus a remainder
    "2d": (5, 7),
    "3d": (2, 3, 5),
    "4d": (2, 3, 2, 4),
}


# --------------------------------------------------------------------------
# Calling with input protection
# --------------------------------------------------------------------------


def checksum(value: Any) -> tuple:
    """A fingerprint of an array's contents (and of scalars, by value)."""
    if not isinstance(value, np.ndarray):
        return ("scalar", repr(value))
    if value.dtype.hasobject:
        return (value.shape, "object", repr(value.tolist()))
    data = np.ascontiguousarray(value)
    return (value.shape, value.dtype.str, hashlib.sha256(data.view(np.uint8)).hexdigest())


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), asserting it modified none of its inputs (except `out`)."""
    out = kwargs.get("out")
    out = out if isinstance(out, tuple) else (out,)
    guarded = [
        (i, arg, checksum(arg))
        for i, arg in enumerate([*args, *kwargs.values()])
        if isinstance(arg, np.ndarray) and not any(arg is o for o in out)
    ]
    result = fn(*args, **kwargs)
    for i, arg, before in guarded:
        assert checksum(arg) == before, f"{getattr(fn, '__name__', fn)} modified its input #{i}"
    return result


def arguments(
    act: Activation,
    direction: str,
    dtype: type | np.dtype,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    params: dict,
) -> tuple:
    """Positional arguments of act.forward or act.backward, all of `shape`."""
    data = sample(act, dtype, shape, rng)
    if direction == "forward":
        return data
    return backward_args(act, sample_grad(dtype, output_shape(act, shape), rng), data, params)


def reference_of(act: Activation, direction: str) -> Callable[..., Any]:
    """fastact.reference's twin of act.forward / act.backward."""
    return getattr(reference, act.name if direction == "forward" else f"{act.name}_backward")


def grad_x(result: Any) -> Any:
    """The result, or grad_x of prelu_backward's (grad_x, grad_weight)."""
    return result[0] if isinstance(result, tuple) else result


def dtype_id(dtype: type | np.dtype) -> str:
    return np.dtype(dtype).name
