"""The float32 kernels that read a table (src/act_tables.h, written by
tools/act_tables.py) on part of their range, as the C sources say: which
kernel uses which table (the FA_TAB_LOOP rows of src/act_loops.h) and each
table's range on x (the generated header; negated for a row that reads
its table at -x, or at |x|). Read from the sources, so the tests
follow the tables wherever they change."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"


def _tabled() -> dict[tuple[str, str], tuple[float, float, float]]:
    """(function, direction) -> (lo, hi, interval width) of its table."""
    header = (SRC / "act_tables.h").read_text()
    loops = (SRC / "act_loops.h").read_text()
    out = {}
    rows = re.findall(r"^FA_TAB_LOOP\((\w+), \d, (\w+), (FA_TAB_\w+), \d\)", loops, re.M)
    for kernel, table, form in rows:
        lo, hi, inv = (float(re.search(rf"#define FA_TAB_{table}_{key} (\S+)f", header).group(1))
                       for key in ("LO", "HI", "INV"))
        if form == "FA_TAB_REFLECT":  # the table at -x (softplus from log_sigmoid's): x in (-hi, -lo]
            lo, hi = -hi, -lo
        elif form == "FA_TAB_ABS_TIMES_X":  # the table at |x| (tanh), lo = 0: x in (-hi, hi)
            lo = -hi
        name, direction = (kernel[:-5], "backward") if kernel.endswith("_grad") else (kernel, "forward")
        out[(name, direction)] = (lo, hi, 1 / inv)
    return out


TABLED = _tabled()
# the tests parametrised over TABLED would pass vacuously if the pattern
# above stopped matching the sources
assert len(TABLED) >= 9, f"FA_TAB_LOOP rows not found in {SRC / 'act_loops.h'}"


def table_edges(lo: float, hi: float, width: float) -> np.ndarray:
    """The interval boundaries of a table (both ends included), float32."""
    return np.float32(lo + np.arange(round((hi - lo) / width) + 1) * width)
