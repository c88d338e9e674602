"""When do two threads pay? The measurement behind FA_PARALLEL_MIN_NS
(src/threads.c).

For each function and size: the median time of a call on 1 thread, and on
2 threads with the pool forced on (no threshold), interleaved in one run.
The crossover is where the ratio passes 1; the table also gives the serial
time per call there, which is what the threshold is expressed in.

    python bench/threads_threshold.py [--functions relu,sigmoid] [--rounds 31]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import fastact
from fastact import _core

SIZES = (8_192, 16_384, 32_768, 65_536, 131_072, 262_144, 524_288, 1_048_576, 4_194_304)


def _time(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", default="relu,sigmoid,tanh")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    print(f"# threads threshold: simd_level={fastact.simd_level()}, dtype={args.dtype}, "
          f"median of {args.rounds} interleaved rounds")
    print("| function | n | 1 thread us | 2 threads (forced) us | 2 threads (default) us | speedup forced | speedup default |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    default_tuning = _core._thread_tuning()
    rng = np.random.default_rng(0)
    for name in args.functions.split(","):
        fn = getattr(fastact, name)
        for n in SIZES:
            x = rng.uniform(-4, 4, n).astype(args.dtype)
            out = np.empty_like(x)
            call = lambda: fn(x, out=out)  # noqa: E731
            number = max(1, int(2e-3 / max(_time(call, 3), 1e-7)))
            samples = {"one": [], "forced": [], "default": []}
            for _ in range(args.rounds):
                fastact.set_num_threads(1)
                samples["one"].append(_time(call, number))
                fastact.set_num_threads(2)
                _core._thread_tuning(min_work=4096, min_ns=0.0)
                samples["forced"].append(_time(call, number))
                _core._thread_tuning(*default_tuning)
                samples["default"].append(_time(call, number))
            one, forced, default = (statistics.median(samples[k]) * 1e6 for k in ("one", "forced", "default"))
            print(f"| {name} | {n:,} | {one:.1f} | {forced:.1f} | {default:.1f} | "
                  f"{one / forced:.2f} | {one / default:.2f} |", flush=True)


if __name__ == "__main__":
    main()
