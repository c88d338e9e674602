"""Command line: ``python -m fastact bench [...]`` and ``python -m fastact info``.

``bench`` times every function forward and backward and prints a Markdown
table (ns per element, GB/s, ratio to a plain copy, speedup over the NumPy
reference); see fastact/_bench.py for how it measures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np


def _names(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _sizes(text: str) -> list[int]:
    """ "1e4,1e6,16000000" -> [10000, 1000000, 16000000]."""
    try:
        sizes = [int(float(item)) for item in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers such as 1e4,1e6: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return sizes


def _parser() -> argparse.ArgumentParser:
    from . import _bench

    parser = argparse.ArgumentParser(prog="python -m fastact", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="time every function, print a Markdown table")
    bench.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {','.join(map(str, _bench.QUICK_SIZES))} and a short time budget (well under a minute)",
    )
    bench.add_argument("--functions", type=_names, metavar="a,b", help="functions to time (default: all)")
    bench.add_argument(
        "--dtypes",
        type=_names,
        metavar="float32,float64",
        help=f"dtypes (default: {','.join(_bench.DEFAULT_DTYPES)})",
    )
    bench.add_argument(
        "--sizes",
        type=_sizes,
        metavar="N,N",
        help="array sizes (default: 1e2,1e4,1e6,1.6e7; --quick: 1e4,1e6)",
    )
    bench.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help=f"time spent repeating each timing (default {_bench.DEFAULT_BUDGET}, "
        f"--quick {_bench.QUICK_BUDGET})",
    )
    bench.add_argument("--threads", type=int, metavar="N", help="fastact.set_num_threads(N) first")
    bench.add_argument("--out", metavar="FILE.md", help="also write the report to this file")

    commands.add_parser("info", help="version, SIMD level, threads")
    return parser


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import fastact

    from . import _bench

    known = [act.name for act in _bench.ACTIVATIONS]
    functions = args.functions or known
    unknown = sorted(set(functions) - set(known))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; known: {', '.join(known)}")
    dtypes = args.dtypes or list(_bench.DEFAULT_DTYPES)
    for dtype in dtypes:
        try:
            ok = np.dtype(dtype).kind == "f"
        except TypeError:
            ok = False
        if not ok:
            parser.error(f"--dtypes takes float dtypes such as float32, got {dtype!r}")
    sizes = args.sizes or list(_bench.QUICK_SIZES if args.quick else _bench.DEFAULT_SIZES)
    budget = (
        args.budget
        if args.budget is not None
        else (_bench.QUICK_BUDGET if args.quick else _bench.DEFAULT_BUDGET)
    )
    if args.threads is not None:
        fastact.set_num_threads(args.threads)

    # Print as we go (a full run takes minutes); the file gets the same text.
    print("\n".join([*_bench.header(budget), "", *_bench.table_head()]), flush=True)
    rows = _bench.run(
        functions, dtypes, sizes, budget, progress=lambda row: print(_bench.format_row(row), flush=True)
    )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as report:
            report.write(_bench.markdown(rows, budget))
    return 0


def _info() -> int:
    import fastact

    from . import _core

    print(f"fastact {fastact.__version__}")
    compiled = ", ".join(getattr(_core, "COMPILED_LEVELS", ()))
    print(f"simd_level: {fastact.simd_level()} (compiled: {compiled})")
    print(f"threads: {fastact.get_num_threads()}")
    print(f"numpy: {np.__version__}")
    print(f"compiler: {_core.BUILD_INFO['compiler']}")
    print(f"flags: {_core.BUILD_INFO['flags']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        return _bench(args, parser)
    return _info()


if __name__ == "__main__":
    sys.exit(main())
