"""Compare two builds of fastact's kernels in one process, call by call.

On a shared machine a neighbour's load comes and goes over seconds, so two
benchmark runs a minute apart can differ by more than a kernel change does.
This loads the `_core` extension of two builds side by side (each a
directory holding `fastact/_core*.so`, such as
`pip install --no-build-isolation --target DIR .` makes) and times their
ufuncs in alternating calls, so that both see the same machine:

    python bench/ab.py BEFORE_DIR AFTER_DIR tanh:float32:1e6 elu_backward:float32:16e6:1.0

Each item is ufunc:dtype:n[:parameter...] (a `_core` ufunc name, its
scalar parameters last), or copyto / add (NumPy's memory baselines).
Data: the last data operand (x) uniform in [-4, 4), the others (grad,
target) in [-1, 1) (a target: [0, 1)). Prints the median ns per element of
each build and their ratio (below 1: AFTER is faster).
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import time
from collections.abc import Callable
from types import ModuleType

import numpy as np


def load_core(directory: str, tag: str) -> ModuleType:
    """The `_core` extension of the build in `directory`, as module tag._core."""
    found = glob.glob(f"{directory}/fastact/_core*.so")
    if not found:
        raise SystemExit(f"no fastact/_core*.so under {directory}")
    spec = importlib.util.spec_from_file_location(f"{tag}._core", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.set_num_threads(1)
    return module


def operands(name: str, nin: int, nparams: int, dtype: np.dtype, n: int,
             rng: np.random.Generator) -> list[np.ndarray]:
    """The data operands of ufunc `name` (nin inputs, nparams of them scalars)."""
    ndata = nin - nparams
    data = [rng.uniform(-1, 1, n).astype(dtype) for _ in range(ndata)]
    x = 1 if name.startswith("bce_with_logits") and ndata == 3 else ndata - 1
    data[x] = rng.uniform(-4, 4, n).astype(dtype)
    if name.startswith("bce_with_logits"):
        data[-1] = rng.uniform(0, 1, n).astype(dtype)
        if ndata == 2:
            data[0] = rng.uniform(-4, 4, n).astype(dtype)
    return data


def calls(item: str, cores: dict[str, ModuleType],
          rng: np.random.Generator) -> tuple[dict[str, Callable[[], object]], int]:
    """One timed call per build for `item`, and its element count."""
    name, dtype, size, *params = item.split(":")
    dt, n = np.dtype(dtype), int(float(size))
    if name in ("copyto", "add"):
        x, y, out = (rng.uniform(-1, 1, n).astype(dt) for _ in range(3))
        call = (lambda: np.copyto(out, x)) if name == "copyto" else (lambda: np.add(x, y, out=out))
        return {tag: call for tag in cores}, n
    scalars = [float(p) for p in params]
    ufuncs = {tag: getattr(core, name) for tag, core in cores.items()}
    data = operands(name, ufuncs["A"].nin, len(scalars), dt, n, rng)
    out = np.empty(n, dt)
    return {tag: (lambda u=u: u(*data, *scalars, out=out)) for tag, u in ufuncs.items()}, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="directory of build A")
    parser.add_argument("after", help="directory of build B")
    parser.add_argument("items", nargs="+", help="ufunc:dtype:n[:param...], copyto:dtype:n or add:dtype:n")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per item (default 1)")
    args = parser.parse_args()
    cores = {"A": load_core(args.before, "ab_a"), "B": load_core(args.after, "ab_b")}
    rng = np.random.default_rng(0)
    print(f"{'item':44s} {'A ns/el':>8s} {'B ns/el':>8s} {'B/A':>6s} calls")
    for item in args.items:
        timed, n = calls(item, cores, rng)
        for call in timed.values():
            call()  # warm-up
        times: dict[str, list[float]] = {"A": [], "B": []}
        end = time.perf_counter() + args.seconds
        while time.perf_counter() < end or len(times["A"]) < 7:
            order = ("A", "B") if len(times["A"]) % 2 == 0 else ("B", "A")
            for tag in order:
                start = time.perf_counter()
                timed[tag]()
                times[tag].append(time.perf_counter() - start)
        a, b = (float(np.median(times[t])) / n * 1e9 for t in ("A", "B"))
        print(f"{item:44s} {a:8.3f} {b:8.3f} {b / a:6.3f} {len(times['A'])}")


if __name__ == "__main__":
    main()
