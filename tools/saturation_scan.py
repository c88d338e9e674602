"""Check the float32 saturation bounds of src/act_table.h over every float32.

Past a bound (FA_TAB_<table>_SAT) the table kernels return their limit (x,
the grad, +-1 or -0.0) without running the closed form. That is only right
if the closed form gives exactly that limit there. At a level without
tables (AVX2) every float32 runs the closed form, so this scans, at each
supported level in a child process (FASTACT_SIMD):

- from the table's edge outwards, every float32 to infinity: the last x
  where the result differs from the limit (the closed form's, at a level
  that runs it there), which must lie inside the bound;
- backwards with several grads (1, 1.9999999, 3e38, -1e-40, -1.5), so that a
  derivative that rounds to 1 - 2^-24 cannot hide behind one grad's
  rounding.

    python tools/saturation_scan.py            # every supported level
    python tools/saturation_scan.py avx2       # one level

Takes about five minutes per level. Exits 1 if a bound is not past its last
differing x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from tables import SATURATION, TABLED, saturation_limit  # noqa: E402  (the bounds, read from the sources)

GRADS = (1.0, 1.9999999, 3e38, -1e-40, -1.5)
CHUNK = 1 << 24


def last_differing(fn, limit: str, start: float, sign: float, grad: float | None) -> float | None:
    """The x farthest out in [start, sign * inf] where fn differs from the limit."""
    import numpy as np

    lo = int(np.abs(np.float32(start)).view(np.uint32))
    hi = int(np.float32(np.inf).view(np.uint32))
    last = None
    for b in range(lo, hi + 1, CHUNK):
        x = np.float32(sign) * np.arange(b, min(b + CHUNK, hi + 1), dtype=np.uint32).view(np.float32)
        g = None if grad is None else np.full_like(x, grad)
        got = fn(x) if g is None else fn(g, x)
        want = saturation_limit(limit, x, g)
        bad = np.nonzero(got.view(np.uint32) != want.view(np.uint32))[0]
        if bad.size:
            last = float(x[bad[-1]])
    return last


def scan_here() -> dict:
    """This process's level: {name direction side bound: last differing x per grad}."""
    import fastact

    out = {"level": fastact.simd_level(), "rows": []}
    for (name, direction), bounds in sorted(SATURATION.items()):
        fn = getattr(fastact, name if direction == "forward" else name + "_backward")
        lo, hi, _ = TABLED[(name, direction)]
        for side, bound, limit in bounds:
            sign = 1.0 if side == ">=" else -1.0
            edge = hi if sign > 0 else lo
            grads = (None,) if direction == "forward" else GRADS
            lasts = [last_differing(fn, limit, edge, sign, g) for g in grads]
            out["rows"].append({"what": f"{name} {direction} x {side} {bound} -> {limit}", "bound": bound,
                                "sign": sign, "last": lasts})
    return out


def main() -> int:
    if os.environ.get("FASTACT_SATURATION_CHILD"):
        print(json.dumps(scan_here()))
        return 0
    from fastact import _core

    levels = sys.argv[1:] or list(_core.SUPPORTED_LEVELS)
    failed = False
    for level in levels:
        env = dict(os.environ, FASTACT_SIMD=level, FASTACT_SATURATION_CHILD="1")
        proc = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, cwd="/")
        if proc.returncode:
            print(proc.stderr)
            return 1
        result = json.loads(proc.stdout)
        print(f"level {result['level']}")
        for row in result["rows"]:
            lasts = [v for v in row["last"] if v is not None]
            worst = max(lasts, key=abs) if lasts else None
            ok = worst is None or abs(worst) < abs(row["bound"])
            failed |= not ok
            shown = "none" if worst is None else f"{worst:.9g}"
            print(f"  {'ok  ' if ok else 'FAIL'} {row['what']}: last differing x {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
