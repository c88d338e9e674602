"""Timing behind ``python -m fastact bench`` (and the inputs of bench/).

Every function of the registry is timed forward and backward, per dtype and
size, next to two yardsticks measured in the same run:

* the memory limit: ``np.copyto(out, x)`` for a call that reads one array,
  ``np.add(a, b, out=out)`` for two, ``np.clip(a, b, c, out=out)`` for
  three -- the time to read the inputs and write the output once;
* the NumPy reference (``fastact.reference``), i.e. what a careful NumPy
  user would otherwise run.

Each time is the median of repeated calls (``time.perf_counter``) after a
warm-up call, with enough repeats to fill a fixed time budget per cell.
Only NumPy is needed.
"""

from __future__ import annotations

import datetime
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import reference
from ._registry import ACTIVATIONS, Activation

# Range of each data input of the benchmark arrays: where the function is
# typically evaluated (a kernel's speed may depend on the range, e.g. tails).
INPUT_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "relu": ((-4.0, 4.0),),
    "leaky_relu": ((-4.0, 4.0),),
    "sigmoid": ((-8.0, 8.0),),
    "tanh": ((-4.0, 4.0),),
    "relu_sigmoid": ((-8.0, 8.0),),
    "leaky_relu_sigmoid": ((-8.0, 8.0),),
    "relu6": ((-2.0, 8.0),),
    "hardtanh": ((-2.0, 2.0),),
    "elu": ((-4.0, 4.0),),
    "selu": ((-4.0, 4.0),),
    "celu": ((-4.0, 4.0),),
    "gelu": ((-4.0, 4.0),),
    "silu": ((-8.0, 8.0),),
    "mish": ((-8.0, 8.0),),
    "log_sigmoid": ((-8.0, 8.0),),
    "softplus": ((-8.0, 8.0),),
    "softsign": ((-4.0, 4.0),),
    "hardsigmoid": ((-4.0, 4.0),),
    "hardswish": ((-4.0, 4.0),),
    "prelu": ((-4.0, 4.0), (0.0, 0.5)),  # x; the weight (one value)
    "bce_with_logits": ((-8.0, 8.0), (0.0, 1.0)),
    "softmax": ((-8.0, 8.0),),
    "log_softmax": ((-8.0, 8.0),),
    "softmax_cross_entropy": ((-8.0, 8.0), (0.0, 0.0)),  # logits; labels in [0, row)
}
ROW = 1000  # row length of the row-wise functions' inputs (n elements in n / ROW rows)

DIRECTIONS = ("forward", "backward")
DEFAULT_DTYPES = ("float32", "float64")
DEFAULT_SIZES = (100, 10_000, 1_000_000, 16_000_000)
QUICK_SIZES = (10_000, 1_000_000)
DEFAULT_BUDGET = 0.4  # seconds of repeated calls per timing
QUICK_BUDGET = 0.05
MIN_REPEATS = 3
_MIN_SAMPLE = 2e-4  # batch tiny calls so one sample is not timer noise


def by_name(name: str) -> Activation:
    """The registry entry of `name` (KeyError lists the known names)."""
    for act in ACTIVATIONS:
        if act.name == name:
            return act
    raise KeyError(f"unknown function {name!r}; known: {', '.join(a.name for a in ACTIVATIONS)}")


def make_inputs(
    act: Activation, direction: str, dtype: Any, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """The positional array arguments of act.forward or act.backward, n elements each.

    Backward gets a gradient in [-1, 1) and the saved tensor (the input, or
    the forward's output when act.saved == "output"). Row-wise functions get
    n elements as rows of ROW; class labels are integers in [0, ROW); prelu
    has one weight.
    """
    shape = (max(1, n // ROW), min(n, ROW)) if act.rowwise else (n,)
    data = []
    for k, (low, high) in enumerate(INPUT_RANGES[act.name]):
        if act.args[k] in act.int_args:
            data.append(rng.integers(0, shape[-1], size=shape[:-1]))
        elif act.kind == "channelwise" and k > 0:
            data.append(rng.uniform(low, high, size=1).astype(dtype))
        else:
            data.append(rng.uniform(low, high, size=shape).astype(dtype))
    data = tuple(data)
    if direction == "forward":
        return data
    grad = rng.uniform(-1.0, 1.0, size=shape[:-1] if act.int_args else shape).astype(dtype)
    saved = act.forward(*data, **act.params) if act.saved == "output" else data[0]
    return (grad, saved, *data[1:])


def make_out(act: Activation, direction: str, args: tuple[np.ndarray, ...]) -> Any:
    """A preallocated out= for act.forward / act.backward(*args): an array of
    the result's shape, or a tuple of them (prelu_backward)."""
    result = getattr(act, direction)(*args, **act.params)
    return tuple(map(np.empty_like, result)) if isinstance(result, tuple) else np.empty_like(result)


def median_time(fn: Callable[[], Any], budget: float, min_repeats: int = MIN_REPEATS) -> float:
    """Median seconds per call of fn, from repeats filling about `budget` seconds."""
    fn()  # warm-up: page in the output, load caches and code
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, int(_MIN_SAMPLE / max(once, 1e-9)))
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < min_repeats or time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def _memory_baseline(arrays: Sequence[np.ndarray], out: np.ndarray) -> Callable[[], Any]:
    """Read every input once and write out once, with NumPy's fastest ufuncs."""
    if len(arrays) == 1:
        return lambda: np.copyto(out, arrays[0])
    if len(arrays) == 2:
        return lambda: np.add(arrays[0], arrays[1], out=out)
    if len(arrays) == 3:
        return lambda: np.clip(arrays[0], arrays[1], arrays[2], out=out)
    raise ValueError(f"no memory baseline for {len(arrays)} inputs")


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    function: str
    direction: str
    dtype: str
    n: int
    seconds: float  # fastact, median per call
    baseline_seconds: float  # memory baseline (copy / add / clip)
    reference_seconds: float  # fastact.reference
    bytes_moved: int  # inputs read + output written

    @property
    def ns_per_element(self) -> float:
        return self.seconds / self.n * 1e9

    @property
    def gigabytes_per_second(self) -> float:
        return self.bytes_moved / self.seconds / 1e9

    @property
    def vs_memory(self) -> float:
        return self.seconds / self.baseline_seconds

    @property
    def speedup(self) -> float:
        return self.reference_seconds / self.seconds


def measure(
    act: Activation,
    direction: str,
    dtype: str,
    n: int,
    budget: float,
    rng: np.random.Generator,
    baselines: dict[tuple[int, str, int], float],
) -> Row:
    """Time one cell: fastact (into a preallocated out), its baseline, the reference.

    `baselines` caches the memory baseline per (inputs, dtype, n) for the run.
    """
    args = make_inputs(act, direction, dtype, n, rng)
    out = make_out(act, direction, args)
    fast = getattr(act, direction)
    slow = getattr(reference, act.name if direction == "forward" else f"{act.name}_backward")
    seconds = median_time(lambda: fast(*args, **act.params, out=out), budget)
    # the yardstick: the full-size inputs (not labels, weights, per-row grads)
    main = out[0] if isinstance(out, tuple) else out
    full = [a for a in args if a.shape == main.shape] or [args[0]]
    key = (len(full), dtype, n)
    if key not in baselines:
        baselines[key] = median_time(_memory_baseline(full, main), budget)
    reference_seconds = median_time(lambda: slow(*args, **act.params), budget)
    bytes_moved = (len(args) + 1) * n * np.dtype(dtype).itemsize
    return Row(act.name, direction, dtype, n, seconds, baselines[key], reference_seconds, bytes_moved)


def run(
    functions: Iterable[str],
    dtypes: Iterable[str],
    sizes: Iterable[int],
    budget: float,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Measure every (function, direction, dtype, size) cell, in that order."""
    rng = np.random.default_rng(0)
    baselines: dict[tuple[int, str, int], float] = {}
    rows = []
    for name in functions:
        act = by_name(name)
        for direction in DIRECTIONS:
            for dtype in dtypes:
                for n in sizes:
                    row = measure(act, direction, dtype, n, budget, rng, baselines)
                    rows.append(row)
                    if progress is not None:
                        progress(row)
    return rows


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo, else platform)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("model name", "Model", "Hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def header(budget: float) -> list[str]:
    """Lines that say where and how the numbers were measured."""
    import fastact

    return [
        "# fastact bench",
        "",
        f"- CPU: {cpu_model()} ({platform.machine()}), {platform.system()}",
        f"- fastact {fastact.__version__}: simd_level() = {fastact.simd_level()}, "
        f"get_num_threads() = {fastact.get_num_threads()}",
        f"- NumPy {np.__version__}, Python {platform.python_version()}",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- each time: median of repeated calls filling ~{budget:g} s, after a warm-up call",
        "- `vs copy`: time / time of reading the inputs and writing the output once "
        "(`np.copyto(out, x)` forward, `np.add(g, x, out=out)` backward), same run, "
        "n and dtype; 1.0 is the memory limit of one core (NumPy does not use threads, so a "
        "threaded fastact can go below 1 on large arrays)",
        "- `speedup`: time of the NumPy reference (`fastact.reference`) / time of fastact",
    ]


_COLUMNS = ("function", "direction", "dtype", "n", "ns/element", "GB/s", "vs copy", "speedup")
_ALIGN = ("---", "---", "---", "---:", "---:", "---:", "---:", "---:")


def _times(ratio: float) -> str:
    """2 significant digits without exponents: 0.062x, 3.4x, 113x."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def format_row(row: Row) -> str:
    cells = (
        row.function,
        row.direction,
        row.dtype,
        f"{row.n:,}",
        f"{row.ns_per_element:.3g}",
        f"{row.gigabytes_per_second:.3g}",
        f"{row.vs_memory:.2f}",
        _times(row.speedup),
    )
    return "| " + " | ".join(cells) + " |"


def table_head() -> list[str]:
    return ["| " + " | ".join(_COLUMNS) + " |", "|" + "|".join(_ALIGN) + "|"]


def markdown(rows: Sequence[Row], budget: float) -> str:
    """The whole report: header lines and the table."""
    return "\n".join([*header(budget), "", *table_head(), *map(format_row, rows)]) + "\n"
