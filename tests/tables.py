"""The float32 kernels that read a table (src/act_tables.h, written by
tools/act_tables.py) on part of their range, as the C sources say: which
kernel uses which table (the FA_TAB_LOOP rows of src/act_loops.h) and each
table's range on x (the generated header; negated for a row that reads
its table at -x, or at |x|), and the saturation bounds beyond it
(src/act_table.h). Read from the sources, so the tests
follow the tables wherever they change."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"


def _rows() -> list[tuple[str, str, str]]:
    """(kernel, table, form) of each FA_TAB_LOOP row of src/act_loops.h."""
    loops = (SRC / "act_loops.h").read_text()
    return re.findall(r"^FA_TAB_LOOP\((\w+), \d, (\w+), (FA_TAB_\w+), \d\)", loops, re.M)


def _name_direction(kernel: str) -> tuple[str, str]:
    return (kernel[:-5], "backward") if kernel.endswith("_grad") else (kernel, "forward")


def _tabled() -> dict[tuple[str, str], tuple[float, float, float]]:
    """(function, direction) -> (lo, hi, interval width) of its table."""
    header = (SRC / "act_tables.h").read_text()
    out = {}
    for kernel, table, form in _rows():
        lo, hi, inv = (float(re.search(rf"#define FA_TAB_{table}_{key} (\S+)f", header).group(1))
                       for key in ("LO", "HI", "INV"))
        if form in ("FA_TAB_REFLECT", "FA_TAB_MIRROR"):  # the table at -x (softplus, sigmoid): x in (-hi, -lo]
            lo, hi = -hi, -lo
        elif form == "FA_TAB_ABS_TIMES_X":  # the table at |x| (tanh), lo = 0: x in (-hi, hi)
            lo = -hi
        out[_name_direction(kernel)] = (lo, hi, 1 / inv)
    return out


def _saturation() -> dict[tuple[str, str], list[tuple[str, float, str]]]:
    """(function, direction) -> its saturation bounds on x (src/act_table.h's
    FA_TAB_<table>_SAT): (side, bound, limit) with side ">=" or "<=" (x at
    or beyond the bound) and the limit "x", "grad", "1", "sign" (+-1) or "-0"."""
    header = (SRC / "act_table.h").read_text()
    limits = {"FA_SAT_X": "x", "FA_SAT_M": "grad", "FA_SAT_SIGN": "sign", "FA_SAT_NEGZERO": "-0"}
    out = {}
    for kernel, table, form in _rows():
        found = re.search(rf"#define FA_TAB_{table}_SAT \((\w+), (\S+)f, (\w+), (\S+)f\)", header)
        if not found:
            continue
        hi_is, hi, lo_is, lo = found.group(1), float(found.group(2)), found.group(3), float(found.group(4))
        bounds = []
        for is_, bound, side in ((hi_is, hi, ">="), (lo_is, lo, "<=")):
            if is_ == "FA_SAT_NONE":
                continue
            if form in ("FA_TAB_REFLECT", "FA_TAB_MIRROR"):  # the table at t = -x
                bound, side = -bound, "<=" if side == ">=" else ">="
            limit = limits[is_]
            if limit == "grad" and not kernel.endswith("_grad"):  # a forward's factor m is 1 (sigmoid)
                limit = "1"
            bounds.append((side, bound, limit))
            if form == "FA_TAB_ABS_TIMES_X":  # at t = |x|: both sides
                bounds.append(("<=", -bound, limits[is_]))
        out[_name_direction(kernel)] = bounds
    return out


def saturation_limit(limit: str, x: np.ndarray, grad: np.ndarray | None) -> np.ndarray:
    """The value a SATURATION bound's limit names, for inputs x and grad."""
    if limit == "x":
        return x
    if limit == "grad":
        assert grad is not None, "a backward's limit needs the grad"
        return grad
    if limit == "1":
        return np.ones_like(x)
    if limit == "sign":
        return np.copysign(np.float32(1), x)
    return np.full_like(x, -0.0)


TABLED = _tabled()
# the tests parametrised over TABLED would pass vacuously if the pattern
# above stopped matching the sources
assert len(TABLED) >= 9, f"FA_TAB_LOOP rows not found in {SRC / 'act_loops.h'}"
SATURATION = _saturation()
assert len(SATURATION) >= 9, f"FA_TAB_<table>_SAT bounds not found in {SRC / 'act_table.h'}"


def table_edges(lo: float, hi: float, width: float) -> np.ndarray:
    """The interval boundaries of a table (both ends included), float32."""
    return np.float32(lo + np.arange(round((hi - lo) / width) + 1) * width)
