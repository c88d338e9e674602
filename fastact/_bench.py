"""Timing behind ``python -m fastact bench`` (and the inputs of bench/).

Every function of the registry is timed forward and backward, per dtype and
size, next to yardsticks measured in the same run, interleaved with it
(round after round, so that a busy machine slows them alike):

* the memory limit: ``np.copyto(out, x)`` for a call that reads one array,
  ``np.add(a, b, out=out)`` for two, ``np.clip(a, b, c, out=out)`` for
  three -- the time to read the inputs and write the output once;
* the NumPy reference (``fastact.reference``), i.e. what a careful NumPy
  user would otherwise run;
* the peers that are installed (fastact/_peers.py): scipy.special where it
  has the function, PyTorch's CPU kernels with ``out=``.

Each time is the median over rounds (``time.perf_counter``) after a
warm-up call, tiny calls batched so that a sample is not timer noise.
``targets()`` measures the four speed targets of the project. Only NumPy is
needed; matplotlib for ``plot()``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _peers, reference
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
    "prelu": ((-4.0, 4.0), (0.0, 0.5)),  # x; the weight
    "bce_with_logits": ((-8.0, 8.0), (0.0, 1.0)),
    "softmax": ((-8.0, 8.0),),
    "log_softmax": ((-8.0, 8.0),),
    "softmax_cross_entropy": ((-8.0, 8.0), (0.0, 0.0)),  # logits; (labels: integers)
}

DIRECTIONS = ("forward", "backward")
DEFAULT_DTYPES = ("float32", "float64")
DEFAULT_SIZES = (100, 10_000, 1_000_000, 16_000_000)
QUICK_SIZES = (10_000, 1_000_000)
DEFAULT_BUDGET = 0.4  # seconds of repeated calls per timing
QUICK_BUDGET = 0.05
TARGETS_BUDGET = 0.3
MIN_REPEATS = 3
_MIN_SAMPLE = 2e-4  # batch tiny calls so one sample is not timer noise
# Row-wise functions (softmax, ...) get rows of this many elements (fewer
# when n is smaller); prelu gets a weight per channel of this many.
ROW_LENGTH = 1000
PRELU_CHANNELS = 64


def by_name(name: str) -> Activation:
    """The registry entry of `name` (KeyError lists the known names)."""
    for act in ACTIVATIONS:
        if act.name == name:
            return act
    raise KeyError(f"unknown function {name!r}; known: {', '.join(a.name for a in ACTIVATIONS)}")


def _data_shapes(act: Activation, n: int) -> list[tuple[int, ...]]:
    """Shapes of act's forward data arguments for n elements in all."""
    if act.rowwise:
        row = min(n, ROW_LENGTH)
        rows = max(1, n // row)
        return [(rows,) if name == "labels" else (rows, row) for name in act.args]
    if "weight" in act.args:  # prelu: a weight per channel, axis 1
        channels = min(n, PRELU_CHANNELS)
        return [(channels,) if name == "weight" else (max(1, n // channels), channels) for name in act.args]
    return [(n,)] * len(act.args)


def make_inputs(
    act: Activation, direction: str, dtype: Any, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """The positional array arguments of act.forward or act.backward, n elements each.

    Element-wise functions get 1-D arrays; row-wise ones (rows, ROW_LENGTH)
    (integer labels: one per row); prelu (n / 64, 64) and a weight of 64.
    Backward gets a gradient in [-1, 1) shaped like the forward's output and
    the saved tensor (the input, or the forward's output when act.saved ==
    "output").
    """
    ranges = INPUT_RANGES.get(act.name) or ((-4.0, 4.0),) * len(act.args)
    data = []
    for name, (low, high), shape in zip(act.args, ranges, _data_shapes(act, n)):
        if name == "labels":
            data.append(rng.integers(0, _data_shapes(act, n)[0][-1], size=shape).astype(np.intp))
        else:
            data.append(rng.uniform(low, high, size=shape).astype(dtype))
    data = tuple(data)
    if direction == "forward":
        return data
    y = act.forward(*data, **act.params)
    y = y[0] if isinstance(y, tuple) else y
    grad = rng.uniform(-1.0, 1.0, size=np.shape(y)).astype(dtype)
    saved = y if act.saved == "output" else data[0]
    return (grad, saved, *data[1:])


def _calibrate(fn: Callable[[], Any]) -> int:
    """Warm up fn; how many calls make one sample of at least _MIN_SAMPLE."""
    fn()  # warm-up: page in the output, load caches and code
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, int(_MIN_SAMPLE / max(once, 1e-9)))


def compare(calls: dict[str, Callable[[], Any]], budget: float, min_repeats: int = MIN_REPEATS) -> dict[str, float]:
    """Median seconds per call of each function, measured interleaved: each
    round times every function once (a batch of calls for tiny ones), and
    rounds repeat until about `budget` seconds have passed."""
    numbers = {name: _calibrate(fn) for name, fn in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + budget
    rounds = 0
    while rounds < min_repeats or time.perf_counter() < deadline:
        for name, fn in calls.items():
            number = numbers[name]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
        rounds += 1
    return {name: statistics.median(values) for name, values in samples.items()}


def median_time(fn: Callable[[], Any], budget: float, min_repeats: int = MIN_REPEATS) -> float:
    """Median seconds per call of fn, from repeats filling about `budget` seconds."""
    return compare({"fn": fn}, budget, min_repeats)["fn"]


# The yardstick of a call by its number of inputs; what it runs is in its
# __doc__, which target 1's rows quote where it is not the target's own.
# NumPy has no faster ufunc of three inputs than clip, which is not
# memory-bound (here ~0.95 ns per float32 at 16M, np.add ~0.44).
_YARDSTICKS = {1: "np.copyto(out, x)", 2: "np.add(a, b, out=out)", 3: "np.clip(a, b, c, out=out)"}


def _memory_baseline(arrays: Sequence[np.ndarray], out: np.ndarray) -> Callable[[], Any]:
    """Read every input once and write out once, with NumPy's fastest ufuncs."""
    calls = {1: lambda: np.copyto(out, arrays[0]),
             2: lambda: np.add(arrays[0], arrays[1], out=out),
             3: lambda: np.clip(arrays[0], arrays[1], arrays[2], out=out)}
    if len(arrays) not in calls:
        raise ValueError(f"no memory baseline for {len(arrays)} inputs")
    call = calls[len(arrays)]
    call.__doc__ = _YARDSTICKS[len(arrays)]
    return call


def _baseline_for(args: Sequence[np.ndarray], dtype: str) -> Callable[[], Any]:
    """The memory baseline of a call: its inputs of the largest size (a
    prelu weight or the labels of a row are not worth a pass), flattened."""
    size = max(a.size for a in args)
    big = [np.ascontiguousarray(a).reshape(-1) for a in args if a.size == size and a.dtype.kind == "f"]
    return _memory_baseline(big[:3], np.empty(size, dtype))


def direct_call(fn: Callable[..., Any], args: Sequence[Any], params: dict[str, Any], out: Any) -> Callable[[], Any]:
    """``lambda: fn(a0, a1, alpha=..., out=out)`` spelled out, as a user writes
    the call: ``fn(*args, **params, out=out)`` would add the cost of building
    the tuple and the dict (~0.1-0.2 us, a third of a NumPy ufunc call at
    n = 100) to every timing."""
    names = [f"a{i}" for i in range(len(args))]
    namespace: dict[str, Any] = {"fn": fn, "out": out, **dict(zip(names, args))}
    keywords = []
    for i, (key, value) in enumerate(params.items()):
        namespace[f"p{i}"] = value
        keywords.append(f"{key}=p{i}")
    source = f"lambda: fn({', '.join([*names, *keywords, 'out=out'])})"
    return eval(source, namespace)  # noqa: S307 - names and keys from the registry only


def _out_like(result: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(np.empty_like(r) for r in result)
    return np.empty_like(result)


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
    peer_seconds: dict[str, float] = field(default_factory=dict, hash=False, compare=False)

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

    def speedup_over(self, peer: str) -> float | None:
        seconds = self.peer_seconds.get(peer)
        return None if seconds is None else seconds / self.seconds


def _calls(
    act: Activation, direction: str, dtype: str, n: int, rng: np.random.Generator, peers: Sequence[_peers.Peer]
) -> tuple[dict[str, Callable[[], Any]], int]:
    """The timed calls of one cell (fastact, baseline, reference, peers) and
    the bytes a call moves."""
    args = make_inputs(act, direction, dtype, n, rng)
    fast = getattr(act, direction)
    slow = getattr(reference, act.name if direction == "forward" else f"{act.name}_backward")
    out = _out_like(fast(*args, **act.params))
    calls = {
        "fastact": direct_call(fast, args, act.params, out),
        "baseline": _baseline_for(args, dtype),
        "reference": lambda: slow(*args, **act.params),
    }
    for peer in peers:
        call = peer.bind(act.name, direction, args, out, act.params)
        if call is not None:
            calls[peer.name] = call
    outs = out if isinstance(out, tuple) else (out,)
    bytes_moved = sum(a.nbytes for a in args) + sum(o.nbytes for o in outs)
    return calls, bytes_moved


def measure(
    act: Activation,
    direction: str,
    dtype: str,
    n: int,
    budget: float,
    rng: np.random.Generator,
    peers: Sequence[_peers.Peer] = (),
) -> Row:
    """Time one cell: fastact (into a preallocated out), its memory baseline,
    the reference and the peers, interleaved."""
    calls, bytes_moved = _calls(act, direction, dtype, n, rng, peers)
    times = compare(calls, budget)
    peer_seconds = {peer.name: times[peer.name] for peer in peers if peer.name in times}
    return Row(act.name, direction, dtype, n, times["fastact"], times["baseline"], times["reference"],
               bytes_moved, peer_seconds)


def run(
    functions: Iterable[str],
    dtypes: Iterable[str],
    sizes: Iterable[int],
    budget: float,
    progress: Callable[[Row], None] | None = None,
    peers: Sequence[_peers.Peer] = (),
) -> list[Row]:
    """Measure every (function, direction, dtype, size) cell, in that order."""
    rng = np.random.default_rng(0)
    rows = []
    for name in functions:
        act = by_name(name)
        for direction in DIRECTIONS:
            for dtype in dtypes:
                for n in sizes:
                    row = measure(act, direction, dtype, n, budget, rng, peers)
                    rows.append(row)
                    if progress is not None:
                        progress(row)
    return rows


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo, else platform), with
    its x86 family and model numbers: a VM may say only "AMD EPYC", which
    covers Zen 2 to Zen 5 (family 25 model 17 is Zen 4, whose AVX-512 is
    two 256-bit halves: compute-bound kernels run ~2x slower than on Zen 5)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or fields.get("Model") or fields.get("Hardware")
    if not name:
        return platform.processor() or platform.machine() or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def header(budget: float, peers: Sequence[_peers.Peer] = ()) -> list[str]:
    """Lines that say where and how the numbers were measured."""
    import fastact

    peer_line = ", ".join(f"{p.name} {p.version}" for p in peers) or "none installed"
    if any(p.name == "torch" for p in peers):
        import torch

        # its SIMD level too (ATEN_CPU_CAPABILITY sets it): a fair row compares like with like
        capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "unknown")()
        peer_line += f" (torch.get_num_threads() = {torch.get_num_threads()}, CPU capability {capability})"
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.2f}"
    return [
        "# fastact bench",
        "",
        f"- CPU: {cpu_model()} ({platform.machine()}, {_cores()} cores available{load}), {platform.system()}",
        f"- fastact {fastact.__version__}: simd_level() = {fastact.simd_level()}, "
        f"get_num_threads() = {fastact.get_num_threads()}",
        f"- NumPy {np.__version__}, Python {platform.python_version()}; peers: {peer_line}",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- each time: median of rounds filling ~{budget:g} s, after a warm-up call; fastact, "
        "the memory baseline, the reference and the peers interleaved round by round (same-run ratios)",
        "- `vs copy`: time / time of reading the inputs and writing the output once "
        "(one input: `np.copyto(out, x)`; two, as a backward's grad and x: `np.add(a, b, out=out)`; "
        "three, as bce_with_logits' backward: `np.clip(a, b, c, out=out)`, itself slower than "
        "memory), same run, n and dtype; 1.0 is the memory limit of one core (NumPy does not "
        "use threads, so a threaded fastact can go below 1 on large arrays)",
        "- `speedup`: time of the NumPy reference (`fastact.reference`) / time of fastact; "
        "`vs <peer>`: time of the peer / time of fastact (above 1: fastact is faster)",
    ]


BASE_COLUMNS = ("function", "direction", "dtype", "n", "ns/element", "GB/s", "vs copy", "speedup")


def _times(ratio: float | None) -> str:
    """2 significant digits without exponents: 0.062x, 3.4x, 113x."""
    if ratio is None:
        return "-"
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def format_row(row: Row, peers: Sequence[str] = ()) -> str:
    cells = [
        row.function,
        row.direction,
        row.dtype,
        f"{row.n:,}",
        f"{row.ns_per_element:.3g}",
        f"{row.gigabytes_per_second:.3g}",
        f"{row.vs_memory:.2f}",
        _times(row.speedup),
        *(_times(row.speedup_over(peer)) for peer in peers),
    ]
    return "| " + " | ".join(cells) + " |"


def table_head(peers: Sequence[str] = ()) -> list[str]:
    columns = (*BASE_COLUMNS, *(f"vs {peer}" for peer in peers))
    align = ("---", "---", "---", *("---:",) * (len(columns) - 3))
    return ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]


def markdown(rows: Sequence[Row], peers: Sequence[_peers.Peer], head: Sequence[str]) -> str:
    """The whole report: header lines (`head`, as printed when the run
    began) and the table."""
    names = [p.name for p in peers]
    lines = [*head, "", *table_head(names),
             *(format_row(r, names) for r in rows)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------


def plot(rows: Sequence[Row], path: str, title: str = "") -> None:
    """ns/element against n, log-log, one panel per (function, dtype):
    fastact, the reference, the peers and the memory limit (copy / add),
    forward solid and backward dashed. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys((r.function, r.dtype) for r in rows))
    cols = min(4, len(panels))
    nrows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows + 1.0), squeeze=False,
                             layout="constrained")
    peer_names = sorted({p for r in rows for p in r.peer_seconds})
    colors = {"fastact": "C0", "reference": "C1", "memory limit": "k", **{p: f"C{i + 2}" for i, p in enumerate(peer_names)}}
    legend: dict[str, Any] = {}
    for ax, (function, dtype) in zip(axes.flat, panels):
        for direction, style in (("forward", "-"), ("backward", "--")):
            cell = sorted((r for r in rows if (r.function, r.dtype, r.direction) == (function, dtype, direction)),
                          key=lambda r: r.n)
            if not cell:
                continue
            n = [r.n for r in cell]
            series = {
                "fastact": [r.seconds for r in cell],
                "reference": [r.reference_seconds for r in cell],
                "memory limit": [r.baseline_seconds for r in cell],
                **{p: [r.peer_seconds.get(p, np.nan) for r in cell] for p in peer_names},
            }
            for name, seconds in series.items():
                per = [s / k * 1e9 for s, k in zip(seconds, n)]
                if all(np.isnan(per)):
                    continue
                (line,) = ax.plot(n, per, style, marker="o", ms=3, color=colors[name],
                                  lw=1.0 if name == "memory limit" else 1.6,
                                  alpha=0.6 if name == "memory limit" else 1.0)
                legend.setdefault(f"{name} {direction}", line)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{function} ({dtype})", fontsize=9)
        ax.set_xlabel("n (elements)", fontsize=8)
        ax.set_ylabel("ns / element", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.2)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    order = sorted(legend, key=lambda k: (k.endswith("backward"), list(colors).index(k.rsplit(" ", 1)[0])))
    fig.legend([legend[k] for k in order], order, loc="outside lower center", ncol=min(len(order), 5),
               fontsize=8, frameon=False)
    fig.suptitle(title + "\nsolid: forward, dashed: backward; memory limit: np.copyto / np.add", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


# ---------------------------------------------------------------------------
# The four targets of the speed issue
# ---------------------------------------------------------------------------

TARGET_TEXT = {
    1: "16M float32, 1 thread: forward <= 1.3x np.copyto(out, x), backward <= 1.3x np.add(g, x, out=out) "
       "(a call with more inputs against np.add for two, np.clip for three: the row says so)",
    2: "1M, 1 thread, float32 and float64: fastact <= PyTorch's kernel, per function and direction",
    3: "n = 100: per-call cost <= 2x a NumPy ufunc call (np.exp(x, out=o)), parameters included",
    4: "4M float32 gelu, silu, tanh: 2 threads >= 1.6x faster than 1",
}
TARGET_SIZES = {1: 16_000_000, 2: 1_000_000, 3: 100, 4: 4_000_000}
THREADED = ("gelu", "silu", "tanh")


@dataclass(frozen=True)
class TargetRow:
    target: int
    function: str
    direction: str
    dtype: str
    ratio: float | None  # the measured ratio (None: cannot be measured here)
    limit: float
    at_most: bool  # True: ratio <= limit passes; False: ratio >= limit passes
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "n/a"
        ok = self.ratio <= self.limit if self.at_most else self.ratio >= self.limit
        return "PASS" if ok else "MISS"


def _with_threads(n: int, fn: Callable[[], Any]) -> Callable[[], Any]:
    import fastact

    def call():
        fastact.set_num_threads(n)
        return fn()

    return call


def targets(
    functions: Iterable[str],
    budget: float = TARGETS_BUDGET,
    peers: Sequence[_peers.Peer] = (),
    which: Iterable[int] = (1, 2, 3, 4),
    progress: Callable[[TargetRow], None] | None = None,
) -> list[TargetRow]:
    """Measure the targets (same-run, interleaved medians) for `functions`."""
    import fastact

    rng = np.random.default_rng(0)
    rows: list[TargetRow] = []
    torch_peer = [p for p in peers if p.name == "torch"]
    before = fastact.get_num_threads()

    def emit(row: TargetRow) -> None:
        rows.append(row)
        if progress is not None:
            progress(row)

    try:
        for target in which:
            n = TARGET_SIZES[target]
            for name in functions:
                act = by_name(name)
                for direction in DIRECTIONS:
                    if target == 1:
                        if act.rowwise:
                            continue
                        fastact.set_num_threads(1)
                        calls, _ = _calls(act, direction, "float32", n, rng, ())
                        t = compare({k: calls[k] for k in ("fastact", "baseline")}, budget)
                        yardstick = calls["baseline"].__doc__
                        own = _YARDSTICKS[1 if direction == "forward" else 2]
                        note = "" if yardstick == own else f"against {yardstick}"
                        emit(TargetRow(1, name, direction, "float32", t["fastact"] / t["baseline"], 1.3, True, note))
                    elif target == 2:
                        for dtype in ("float32", "float64"):
                            fastact.set_num_threads(1)
                            calls, _ = _calls(act, direction, dtype, n, rng, torch_peer)
                            if "torch" not in calls:
                                note = "torch not installed" if not torch_peer else "no torch kernel"
                                emit(TargetRow(2, name, direction, dtype, None, 1.0, True, note))
                                continue
                            t = compare({k: calls[k] for k in ("fastact", "torch")}, budget)
                            emit(TargetRow(2, name, direction, dtype, t["fastact"] / t["torch"], 1.0, True))
                    elif target == 3:
                        fastact.set_num_threads(1)
                        calls, _ = _calls(act, direction, "float32", n, rng, ())
                        x = rng.uniform(-1, 1, n).astype(np.float32)
                        o = np.empty_like(x)
                        t = compare({"fastact": calls["fastact"], "ufunc": lambda: np.exp(x, out=o)}, budget)
                        emit(TargetRow(3, name, direction, "float32", t["fastact"] / t["ufunc"], 2.0, True,
                                       f"{t['fastact'] * 1e6:.2f} us vs {t['ufunc'] * 1e6:.2f} us"))
                    elif target == 4:
                        if name not in THREADED:
                            continue
                        if _cores() < 2:
                            emit(TargetRow(4, name, direction, "float32", None, 1.6, False, "one core"))
                            continue
                        calls, _ = _calls(act, direction, "float32", n, rng, ())
                        wall = {"one": 0.0, "two": 0.0}

                        def walled(fn: Callable[[], Any], key: str) -> Callable[[], None]:
                            def call() -> None:
                                start = time.perf_counter()
                                fn()
                                wall[key] += time.perf_counter() - start
                            return call

                        cpu = time.process_time()
                        t = compare({"one": walled(_with_threads(1, calls["fastact"]), "one"),
                                     "two": walled(_with_threads(2, calls["fastact"]), "two")}, budget)
                        cpu = time.process_time() - cpu
                        # How many cores the 2-thread calls really had: ~2 on
                        # an idle machine, ~1 when another process holds a
                        # core. The process's CPU time over the whole run,
                        # less the 1-thread calls' (one core each): per call
                        # it would miss the worker's time, which Linux adds
                        # to the process clock only when the worker is next
                        # descheduled, after the call has returned.
                        cores = (cpu - wall["one"]) / wall["two"] if wall["two"] else float("nan")
                        emit(TargetRow(4, name, direction, "float32", t["one"] / t["two"], 1.6, False,
                                       f"2 threads had {cores:.2f} cores on average"))
    finally:
        fastact.set_num_threads(before)
    return rows


def targets_repeated(
    functions: Sequence[str],
    budget: float = TARGETS_BUDGET,
    peers: Sequence[_peers.Peer] = (),
    repeats: int = 1,
    progress: Callable[[int, TargetRow], None] | None = None,
) -> list[TargetRow]:
    """`targets` run `repeats` times over the whole list, each row's ratio the
    median of its runs. On a shared machine a neighbour's load comes and goes
    over seconds: one pass can catch a row in a slow moment (the same row
    measured 1.16x and 1.44x an hour apart), repeated passes spread the rows
    of each over time. Notes (target 4's cores) are those of the median run."""
    runs = []
    for k in range(repeats):
        report = None if progress is None else functools.partial(progress, k)
        runs.append(targets(functions, budget, peers, progress=report))
    if repeats == 1:
        return runs[0]
    merged = []
    for same in zip(*runs):
        measured = sorted((r for r in same if r.ratio is not None), key=lambda r: r.ratio)
        if not measured:
            merged.append(same[0])
            continue
        mid = measured[(len(measured) - 1) // 2]
        ratio = statistics.median(r.ratio for r in measured)
        runs_note = f"median of {len(measured)}: " + " ".join(f"{r.ratio:.2f}" for r in same if r.ratio is not None)
        merged.append(dataclasses.replace(mid, ratio=ratio, note="; ".join(filter(None, (mid.note, runs_note)))))
    return merged


def format_target_row(row: TargetRow) -> str:
    measured = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    limit = f"{'<=' if row.at_most else '>='} {row.limit:g}x"
    return f"| {row.target} | {row.function} | {row.direction} | {row.dtype} | {measured} | {limit} | {row.verdict} | {row.note} |"


TARGET_HEAD = [
    "| target | function | direction | dtype | measured | limit | verdict | note |",
    "|---:|---|---|---|---:|---|---|---|",
]


def targets_markdown(rows: Sequence[TargetRow], head: Sequence[str]) -> str:
    lines = [*head, "", "## Targets", ""]
    lines += [f"{k}. {text}" for k, text in TARGET_TEXT.items() if any(r.target == k for r in rows)]
    lines += ["", "Ratios: (1) fastact / memory baseline, (2) fastact / torch, (3) fastact / np.exp call, "
              "(4) 1 thread / 2 threads.", "", *TARGET_HEAD, *map(format_target_row, rows), "", *target_summary(rows)]
    return "\n".join(lines) + "\n"


def target_summary(rows: Sequence[TargetRow]) -> list[str]:
    lines = []
    for k in sorted({r.target for r in rows}):
        mine = [r for r in rows if r.target == k]
        passed = sum(r.verdict == "PASS" for r in mine)
        measured = sum(r.verdict != "n/a" for r in mine)
        misses = ", ".join(f"{r.function} {r.direction}{'' if k in (1, 3, 4) else ' ' + r.dtype}"
                           for r in mine if r.verdict == "MISS")
        lines.append(f"- target {k}: {passed}/{measured} PASS" + (f"; MISS: {misses}" if misses else ""))
    return lines
