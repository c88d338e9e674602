"""Measure the max ULP error of every function (the numbers in the docstrings
and the README table).

    python tools/ulp_report.py [--n 3000] [name ...]

For each function, direction and parameter set of tests/function_cases.py:

* float32: the dense sweep of tests/test_accuracy.py (every 2^-8 on [-20, 20],
  uniform [-100, 100], log-spaced tails +-1e-40 ... +-1e38) against the
  float64 reference, plus mpmath on log-uniform samples;
* float64: mpmath on log-uniform samples (subnormals to 760) and uniform
  ones, where the result is a normal number;
* row-wise functions: mpmath on the rows of tests/test_rowwise.py and, for
  float32, 400 rows of 257 against the float64 reference.

    python tools/ulp_report.py --tables

instead measures the float32 kernels that read a table (tests/tables.py) on
every float32 of each table's range against the float64 reference (grad 1),
as a real number of ULPs of the result (the docstrings' "over every float32
in the table"); several minutes per table (the float64 reference on two
billion points).

Backward uses grad in [0.5, 2]; for the differences that may cancel (bce's
sigmoid(z) - t, softmax's g - sum(g y), ...) the error is in ULPs of the
terms where that is smaller, as in the tests. Run it against the installed
package; it prints a Markdown table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mpmath
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fastact as fastact_module  # noqa: E402
import fastact.reference as reference  # noqa: E402
from fastact._registry import ACTIVATIONS  # noqa: E402
from function_cases import ACCURACY, cancellation_scale, param_sets  # noqa: E402
from exact import PRECISION, correctly_rounded, mp_params, rounder, working_dtype  # noqa: E402
from test_accuracy import accuracy_sample, float32_params, other_inputs, sweep_args  # noqa: E402
from test_rowwise import mp_rows  # noqa: E402
from tables import TABLED  # noqa: E402
from ulp import ulp_distance  # noqa: E402


def scaled_distance(actual, expected, scale) -> np.ndarray:
    d = ulp_distance(actual, expected)
    if scale is None:
        return d
    with np.errstate(all="ignore"):
        unit = np.spacing(np.abs(np.broadcast_to(scale, d.shape)).astype(actual.dtype)).astype(np.float64)
        e = np.abs(actual.astype(np.float64) - expected.astype(np.float64)) / unit
    return np.where(np.isfinite(e) & (e < d), e, d)


def first(r):
    return r[0] if isinstance(r, tuple) else r


def mp_elementwise(act, params, dtype, direction, n, rng) -> float:
    accuracy = ACCURACY[act.name]
    # plus a grid where the derivatives of silu, gelu, mish have their roots
    x = np.concatenate([accuracy_sample(dtype, rng, n), np.linspace(-3, 1, 401)]).astype(dtype)
    others = other_inputs(act, x, rng)
    rnd = rounder(dtype)
    mpp = mp_params(params, working_dtype(dtype))

    def mp(values):
        return [mpmath.mpf(float(v)) for v in np.broadcast_to(values, x.shape)]

    with mpmath.workprec(PRECISION):
        if direction == "forward":
            args = (x, *others)
            exact = [accuracy.forward(*v, rnd, **mpp) for v in zip(*map(mp, args))]
        else:
            grad = rng.uniform(0.5, 2.0, x.shape).astype(dtype)
            saved = x if act.saved == "input" else np.asarray(reference.__dict__[act.name](x, **params))
            args = (grad, saved, *others)
            exact = [v[0] * accuracy.derivative(*v[1:], rnd, **mpp) for v in zip(*map(mp, args))]
        want = np.array([correctly_rounded(e, dtype) for e in exact], dtype)
    got = first(getattr(act, direction)(*args, **params))
    if dtype == np.float64:
        normal = np.abs(want) >= np.finfo(dtype).smallest_normal
        got, want = got[normal], want[normal]
        scale = cancellation_scale(act, direction, args, params)
        scale = None if scale is None else np.broadcast_to(scale, normal.shape)[normal]
    else:
        scale = None
    return float(scaled_distance(got, want, scale).max(initial=0))


def sweep_elementwise(act, params, direction) -> float:
    params = float32_params(params)
    args = sweep_args(act, direction, params)
    got = first(getattr(act, direction)(*args, **params))
    name = act.name if direction == "forward" else act.name + "_backward"
    want = first(getattr(reference, name)(*(a.astype(np.float64) for a in args), **params))
    with np.errstate(over="ignore"):
        want = np.asarray(want).astype(np.float32)
    return float(ulp_distance(got, want).max(initial=0))


def rowwise(act, params, dtype, direction, rng) -> float:
    accuracy = ACCURACY[act.name]
    rnd = rounder(dtype)
    worst = 0.0
    mpp = mp_params(params, working_dtype(dtype))
    for x in mp_rows(dtype, rng):
        labels = () if not act.int_args else (int(rng.integers(len(x))),)
        r = [mpmath.mpf(float(v)) for v in x]
        with mpmath.workprec(PRECISION):
            if direction == "forward":
                exact = accuracy.forward(r, *labels, rnd, **mpp)
                args = (x, *labels)
            else:
                if act.int_args:
                    g = dtype(1.5)
                    exact = accuracy.derivative(mpmath.mpf(1.5), r, *labels, rnd, **mpp)
                    args = (g, x, *labels)
                else:
                    g = rng.uniform(-2, 2, x.shape).astype(dtype)
                    y = act.forward(x, **params)
                    exact = accuracy.derivative([mpmath.mpf(float(v)) for v in g],
                                                [mpmath.mpf(float(v)) for v in y], rnd, **mpp)
                    args = (g, y)
            exact = exact if isinstance(exact, list) else [exact]
            want = np.array([correctly_rounded(v, dtype) for v in exact], dtype)
        got = np.atleast_1d(getattr(act, direction)(*args, **params))
        scale = cancellation_scale(act, direction, args, params) if dtype == np.float64 else None
        worst = max(worst, float(scaled_distance(got, want, scale).max(initial=0)))
    return worst


def table_sweep(name: str, direction: str) -> tuple[float, float]:
    """Largest error (real ULPs of the float32 result) over every float32 in
    the table's range, and where."""
    lo, hi, _ = TABLED[(name, direction)]
    ufunc = name if direction == "forward" else name + "_backward"
    worst = (0.0, 0.0)
    for sign, end in ((-1.0, -lo), (1.0, hi)):
        top = int(np.float32(end).view(np.uint32)) if end > 0 else 0
        for start in range(0, top, 1 << 25):
            x = np.float32(sign) * np.arange(start, min(start + (1 << 25), top), dtype=np.uint32).view(np.float32)
            args = (x,) if direction == "forward" else (np.ones_like(x), x)
            got = getattr(fastact_module, ufunc)(*args).astype(np.float64)
            want = np.asarray(getattr(reference, ufunc)(*(a.astype(np.float64) for a in args)))
            err = np.abs(got - want) / np.spacing(np.abs(want.astype(np.float32))).astype(np.float64)
            i = int(np.argmax(err))
            if err[i] > worst[0]:
                worst = (float(err[i]), float(x[i]))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="mpmath samples per case")
    parser.add_argument("--tables", action="store_true", help="every float32 of each table's range")
    parser.add_argument("names", nargs="*")
    opts = parser.parse_args()
    if opts.tables:
        print("| function | direction | range | max error (ULP) | at x |")
        print("|---|---|---|---:|---:|")
        for (name, direction), (lo, hi, _) in sorted(TABLED.items()):
            if not opts.names or name in opts.names:
                err, at = table_sweep(name, direction)
                print(f"| {name} | {direction} | [{lo:g}, {hi:g}) | {err:.3f} | {at:.9g} |", flush=True)
        return
    rng = np.random.default_rng(12345)
    print("| function | float32 forward | float32 backward | float64 forward | float64 backward |")
    print("|---|---:|---:|---:|---:|")
    for act in ACTIVATIONS:
        if opts.names and act.name not in opts.names:
            continue
        # one line per value of a string parameter (gelu's approximate)
        choices = [p for p in param_sets(act) if any(isinstance(v, str) for v in p.values())]
        for label, sets in ([(f"{act.name} ({', '.join(map(str, c.values()))})", [c]) for c in choices]
                            or [(act.name, param_sets(act))]):
            report(act, label, sets, opts.n, rng)


def report(act, label, sets, n, rng) -> None:
    if True:
        cells = []
        for dtype in (np.float32, np.float64):
            for direction in ("forward", "backward"):
                worst = 0.0
                for params in sets:
                    if act.rowwise:
                        worst = max(worst, rowwise(act, params, dtype, direction, rng))
                        continue
                    worst = max(worst, mp_elementwise(act, params, dtype, direction, n, rng))
                    if dtype == np.float32:
                        worst = max(worst, sweep_elementwise(act, params, direction))
                cells.append(f"{worst:g}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
