"""pytest-benchmark suite: every function of the registry, forward and backward,
float32 and float64, n in {1e2, 1e4, 1e6, 1.6e7}, fastact vs fastact.reference.

Run from the repository root:

    pytest bench/ --benchmark-only
    pytest bench/ --benchmark-only -k "sigmoid and float32"      # a subset
    pytest bench/ --benchmark-only --benchmark-columns=median,ops

Each benchmark group is one (function, direction, dtype, n) cell, so the two
implementations appear side by side. fastact writes into a preallocated out.
The 16M cases run few rounds (they take up to ~0.5 s each for the reference).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

import fastact.reference as reference
from fastact._bench import DEFAULT_DTYPES, DEFAULT_SIZES, DIRECTIONS, by_name, make_inputs, make_out
from fastact._registry import ACTIVATIONS

LARGE = 1_000_000  # from here on: fixed, few rounds instead of calibration


class Case(NamedTuple):
    name: str
    direction: str
    dtype: str
    n: int

    def __str__(self) -> str:
        return f"{self.name}-{self.direction}-{self.dtype}-{self.n}"


CASES = [
    Case(act.name, direction, dtype, n)
    for act in ACTIVATIONS
    for direction in DIRECTIONS
    for dtype in DEFAULT_DTYPES
    for n in DEFAULT_SIZES
]

_inputs_cache: dict[Case, tuple[np.ndarray, ...]] = {}


def _inputs(case: Case) -> tuple[np.ndarray, ...]:
    """The arrays of one case, kept only while its two implementations run."""
    if case not in _inputs_cache:
        _inputs_cache.clear()  # 16M float64 arrays are 128 MB each
        act = by_name(case.name)
        _inputs_cache[case] = make_inputs(act, case.direction, case.dtype, case.n, np.random.default_rng(0))
    return _inputs_cache[case]


@pytest.mark.parametrize(
    ("case", "impl"),
    [pytest.param(case, impl, id=f"{case}-{impl}") for case in CASES for impl in ("fastact", "reference")],
)
def test_bench(benchmark, case: Case, impl: str) -> None:
    act = by_name(case.name)
    args = _inputs(case)
    benchmark.group = str(case)
    benchmark.extra_info.update(case._asdict())
    if impl == "fastact":
        out = make_out(act, case.direction, args)  # the result's shape (rows, per-sample losses)
        fn = getattr(act, case.direction)

        def call():
            return fn(*args, **act.params, out=out)

    else:
        fn = getattr(reference, case.name if case.direction == "forward" else f"{case.name}_backward")

        def call():
            return fn(*args, **act.params)

    if case.n >= LARGE:
        benchmark.pedantic(call, rounds=5 if case.n < 10 * LARGE else 3, warmup_rounds=1)
    else:
        benchmark(call)
