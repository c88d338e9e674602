"""Exact values: mpmath at high precision, rounded correctly to a float dtype."""

from __future__ import annotations

import mpmath
import numpy as np

PRECISION = 256  # bits of mpmath working precision


def working_dtype(dtype) -> type:
    """float16 is computed in float32."""
    return np.float32 if dtype == np.float16 else dtype


def correctly_rounded(value: mpmath.mpf, dtype) -> np.floating:
    """The float of `dtype` nearest to value, ties to even (IEEE round-to-nearest)."""
    with np.errstate(over="ignore"):
        guess = np.array(float(value)).astype(dtype)  # within an ULP (double rounding)
    if np.isinf(guess) and mpmath.isfinite(value):
        # beyond the largest float: inf from max + ulp(max)/2 on (the tie goes
        # to inf, max's last bit being odd), else max
        big = np.finfo(dtype).max
        half_ulp = mpmath.mpf(float(big - np.nextafter(big, dtype(0)))) / 2
        overflows = abs(value) >= mpmath.mpf(float(big)) + half_ulp
        return guess if overflows else np.copysign(big, guess)
    candidates = [np.nextafter(guess, dtype(-np.inf)), guess, np.nextafter(guess, dtype(np.inf))]

    def distance_then_odd(c: np.floating) -> tuple:
        odd = int(np.array(c).view(f"u{np.dtype(dtype).itemsize}")) & 1
        return abs(mpmath.mpf(float(c)) - value), odd

    return min(candidates, key=distance_then_odd)


def rounder(dtype):
    return lambda v: mpmath.mpf(float(correctly_rounded(v, working_dtype(dtype))))


def mp_params(params: dict, work) -> dict:
    """Numeric parameters as the kernels use them (rounded to the working
    precision); strings (gelu's approximate) as they are."""
    return {k: v if isinstance(v, str) else mpmath.mpf(float(work(v))) for k, v in params.items()}
