"""Command line: ``python -m fastact bench [...]`` and ``python -m fastact info``.

``bench`` times every function forward and backward and prints a Markdown
table (ns per element, GB/s, ratio to a plain copy, speedup over the NumPy
reference and over scipy.special / PyTorch when installed); ``bench
--targets`` checks the project's four speed targets; see fastact/_bench.py
for how it measures.
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    from . import _bench, _peers

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
    bench.add_argument(
        "--threads",
        type=_positive,
        default=1,
        metavar="N",
        help="threads for fastact and PyTorch (default 1; --targets sets its own)",
    )
    bench.add_argument(
        "--peers",
        type=_names,
        metavar="torch,scipy",
        help="peers to compare with when installed (default: all of %s; 'none' for none)" % ",".join(_peers.PEERS),
    )
    bench.add_argument("--out", metavar="FILE.md", help="also write the report to this file")
    bench.add_argument("--plot", metavar="FILE.png", help="also plot ns/element against n (needs matplotlib)")
    bench.add_argument(
        "--targets",
        action="store_true",
        help="measure the four speed targets (16M vs copy, 1M vs torch, n=100 call cost, 2-thread speedup) "
        "and print PASS/MISS per function",
    )
    bench.add_argument(
        "--repeat",
        type=_positive,
        default=3,
        metavar="N",
        help="--targets: measure every target N times, interleaved over the whole run, and report each "
        "row's median ratio (default 3)",
    )

    commands.add_parser("info", help="version, SIMD level, threads")
    return parser


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import fastact

    from . import _bench, _peers

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
    peer_names = [] if args.peers == ["none"] else (args.peers or list(_peers.PEERS))
    bad_peers = sorted(set(peer_names) - set(_peers.PEERS))
    if bad_peers:
        parser.error(f"unknown peer(s) {', '.join(bad_peers)}; known: {', '.join(_peers.PEERS)}, none")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib (pip install matplotlib)")
    default_budget = _bench.TARGETS_BUDGET if args.targets else _bench.DEFAULT_BUDGET
    budget = (
        args.budget if args.budget is not None else (_bench.QUICK_BUDGET if args.quick else default_budget)
    )
    fastact.set_num_threads(args.threads)
    peers = _peers.load(peer_names, threads=args.threads)

    # One header for the screen and the file (the load average moves).
    head = _bench.header(budget, peers)
    if args.targets:
        print("\n".join([*head, "", *_bench.TARGET_HEAD]), flush=True)
        def progress(k: int, row: _bench.TargetRow) -> None:
            print(f"{_bench.format_target_row(row)} (run {k + 1} of {args.repeat})", flush=True)

        rows = _bench.targets_repeated(functions, budget, peers, args.repeat, progress=progress)
        if args.repeat > 1:
            print("\n" + "\n".join([*_bench.TARGET_HEAD, *map(_bench.format_target_row, rows)]))
        print("\n" + "\n".join(_bench.target_summary(rows)))
        if args.out:
            with open(args.out, "w", encoding="utf-8") as report:
                report.write(_bench.targets_markdown(rows, head))
        return 0

    # Print as we go (a full run takes minutes); the file gets the same text.
    names = [p.name for p in peers]
    print("\n".join([*head, "", *_bench.table_head(names)]), flush=True)
    rows = _bench.run(
        functions,
        dtypes,
        sizes,
        budget,
        progress=lambda row: print(_bench.format_row(row, names), flush=True),
        peers=peers,
    )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as report:
            report.write(_bench.markdown(rows, peers, head))
    if args.plot:
        _bench.plot(rows, args.plot, title=f"fastact {fastact.__version__}, {fastact.simd_level()}, "
                    f"{fastact.get_num_threads()} thread(s), {_bench.cpu_model()}")
        print(f"\nplot: {args.plot}")
    return 0


def _info() -> int:
    import fastact

    from . import _core

    print(f"fastact {fastact.__version__}")
    compiled = ", ".join(getattr(_core, "COMPILED_LEVELS", ()))
    supported = ", ".join(getattr(_core, "SUPPORTED_LEVELS", ()))
    print(f"simd_level: {fastact.simd_level()} (compiled: {compiled}; this CPU: {supported})")
    pool = "thread pool" if getattr(_core, "HAVE_THREADS", False) else "serial build"
    print(f"threads: {fastact.get_num_threads()} ({pool})")
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
