"""Distances between floats in units in the last place (ULP), and an assertion on them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

_SIGNED = {2: np.int16, 4: np.int32, 8: np.int64}


def _ordinal(a: NDArray) -> NDArray[np.uint64]:
    """Map floats to uint64 so that adjacent floats map to adjacent integers.

    -0.0 and +0.0 both map to the same integer; NaNs map to something
    meaningless (callers handle them separately).
    """
    bits = np.ascontiguousarray(a).view(_SIGNED[a.dtype.itemsize])
    minimum = np.iinfo(bits.dtype).min
    # Sign-magnitude -> two's complement, in the same width (no overflow).
    ordinal = np.where(bits < 0, minimum - bits, bits).astype(np.int64)
    # Flipping the sign bit makes int64 order into uint64 order, so the
    # distance below is a plain unsigned subtraction that cannot overflow.
    return ordinal.view(np.uint64) ^ np.uint64(1 << 63)


def ulp_distance(actual: ArrayLike, expected: ArrayLike) -> NDArray[np.float64]:
    """Elementwise number of representable floats between two arrays of one dtype.

    ±0 are equal; NaN vs NaN is 0; NaN vs a number is inf; inf vs the
    largest finite float is 1.
    """
    a, b = np.broadcast_arrays(np.asarray(actual), np.asarray(expected))
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise TypeError(f"ulp_distance needs two arrays of one float dtype, got {a.dtype}, {b.dtype}")
    ua, ub = _ordinal(a), _ordinal(b)
    distance = np.where(ua > ub, ua - ub, ub - ua).astype(np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    distance[nan_a != nan_b] = np.inf
    distance[nan_a & nan_b] = 0.0
    return distance


def assert_ulp_close(
    actual: ArrayLike,
    expected: ArrayLike,
    max_ulp: float,
    *,
    inputs: Mapping[str, ArrayLike] | None = None,
    what: str = "",
    scale: ArrayLike | None = None,
) -> None:
    """Assert same dtype, same shape, NaN in the same places, and values within max_ulp.

    With `scale` (the magnitude of the terms of a difference that may cancel,
    e.g. sigmoid(z) - t), an element also passes when it is within max_ulp
    ULPs *of the scale*: the conditioning of the difference, not an error of
    the kernel. On failure, report the worst element and the inputs that
    produced it.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.size == 0:
        return
    distance = ulp_distance(actual, expected)
    if scale is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            unit = np.spacing(np.abs(np.broadcast_to(np.asarray(scale), distance.shape)).astype(actual.dtype))
            error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
            scaled = error / unit.astype(np.float64)
        distance = np.where(np.isfinite(scaled) & (scaled < distance), scaled, distance)
    worst = np.unravel_index(np.argmax(distance), distance.shape)
    if distance[worst] <= max_ulp:
        return
    lines = [
        f"{what}: {np.count_nonzero(distance > max_ulp)} of {distance.size} elements "
        f"differ by more than {max_ulp} ULP; worst {distance[worst]:g} ULP at {worst}:",
        f"  actual   = {actual[worst]!r}",
        f"  expected = {expected[worst]!r}",
    ]
    for name, value in (inputs or {}).items():
        value = np.broadcast_to(np.asarray(value), distance.shape)
        lines.append(f"  {name} = {value[worst]!r}")
    raise AssertionError("\n".join(lines))
