"""pytest-benchmark suite: every function of the registry, forward and backward,
float32 and float64, n in {1e2, 1e4, 1e6, 1.6e7}, fastact vs fastact.reference
and, when installed, scipy.special and PyTorch (CPU, 1 thread, out=; see
fastact/_peers.py). Peer cases are skipped when the peer is not installed or
has no kernel for the function.

Run from the repository root:

    pytest bench/ --benchmark-only
    pytest bench/ --benchmark-only -k "sigmoid and float32"      # a subset
    pytest bench/ --benchmark-only --benchmark-columns=median,ops

Each benchmark group is one (function, direction, dtype, n) cell, so the
implementations appear side by side. fastact and the peers write into a
preallocated out (where the peer has an out variant); fastact runs on one
thread unless FASTACT_NUM_THREADS says otherwise.
The 16M cases run few rounds (they take up to ~0.5 s each for the reference).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

import os

import fastact
import fastact.reference as reference
from fastact import _peers
from fastact._bench import (
    DEFAULT_DTYPES,
    DEFAULT_SIZES,
    DIRECTIONS,
    _out_like,
    by_name,
    direct_call,
    make_inputs,
)
from fastact._registry import ACTIVATIONS

if "FASTACT_NUM_THREADS" not in os.environ:
    fastact.set_num_threads(1)
IMPLS = ("fastact", "reference", *_peers.PEERS)
_loaded: dict[str, _peers.Peer | None] = {}


def _peer(name: str) -> _peers.Peer | None:
    """The installed peer, loaded on first use (torch takes a second to import)."""
    if name not in _loaded:
        found = _peers.load([name], threads=1)
        _loaded[name] = found[0] if found else None
    return _loaded[name]

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
    [pytest.param(case, impl, id=f"{case}-{impl}") for case in CASES for impl in IMPLS],
)
def test_bench(benchmark, case: Case, impl: str) -> None:
    act = by_name(case.name)
    args = _inputs(case)
    benchmark.group = str(case)
    benchmark.extra_info.update(case._asdict())
    if impl == "fastact":
        fn = getattr(act, case.direction)
        call = direct_call(fn, args, act.params, _out_like(fn(*args, **act.params)))

    elif impl in _peers.PEERS:
        peer = _peer(impl)
        if peer is None:
            pytest.skip(f"{impl} is not installed")
        if not peer.has(case.name, case.direction):
            pytest.skip(f"{impl} has no {case.name} {case.direction}")
        out = _out_like(getattr(act, case.direction)(*args, **act.params))
        call = peer.bind(case.name, case.direction, args, out, act.params)
        benchmark.extra_info["version"] = peer.version

    else:
        fn = getattr(reference, case.name if case.direction == "forward" else f"{case.name}_backward")

        def call():
            return fn(*args, **act.params)

    if case.n >= LARGE:
        benchmark.pedantic(call, rounds=5 if case.n < 10 * LARGE else 3, warmup_rounds=1)
    else:
        benchmark(call)
