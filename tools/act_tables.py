"""Piecewise polynomial tables for float32 activations and derivatives.

Development-time tool, not part of the package (needs mpmath; run
``python tools/act_tables.py`` from the repository root). It writes
src/act_tables.h, which src/act_table.h evaluates.

Each table cuts a range [lo, lo + 32 width) into 32 intervals (a 32-entry
table per coefficient: one AVX-512 vpermt2ps per coefficient, no gather).
On interval k, with centre c_k and d = x - c_k:

    f(x) = (c0 + c0lo) + d (c1 + d (c2 + ... + d c7))

so the kernel needs no exp, log or division there. Each fit is a Remez
minimax of the relative error (tools/vmath_remez.py), rounded to float32
one coefficient at a time (c0 kept as hi + lo). A derivative with a real
root r (gelu', silu', mish') is fitted on r's interval in d = x - r
instead, as d q(d), its "centre" being r as float hi + lo: the relative
error stays small as f' goes through 0. Forwards with a zero at x = 0 are
tabulated as f(x) / x (Phi, tanh(softplus)) and multiplied by x.

Ranges: an interval's polynomial needs degree 7 when its half-width is
about a tenth of the distance to the nearest complex singularity of f
(gelu: none, but Phi's relative derivatives grow like |x|^n, so [-5, 5);
sigmoid: +-i pi; tanh(softplus): 0.35 +- 2.36i); beyond, the closed forms
of activation_defs.h take over. tanh is odd: tanh(x) / x is even, and
tabulated on [0, 9) (poles at +-i pi / 2: width 9 / 32), read at |x| and
multiplied by x; tanh(x) rounds to +-1 beyond.
"""
import pathlib
import sys

import mpmath as mp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from root_polys import d_gelu, d_mish, d_silu, sig  # noqa: E402
from vmath_remez import rounded_fit  # noqa: E402

COUNT, DEGREE = 32, 7
EPS = 2.0**-23
GRID = 300  # Remez grid per interval (Chebyshev points)


def tanh_softplus(x):
    return mp.tanh(mp.log1p(mp.exp(x)))


def tanh_over_x(x):
    return mp.tanh(x) / x if x != 0 else mp.mpf(1)


def log_sigmoid(x):
    return -mp.log1p(mp.exp(-x))


def d_log_sigmoid(x):
    return sig(-x)


# name: (function, lo, width, root of the function or None); the root is
# found near the given guess
TABLES = {
    "gelu_phi": (mp.ncdf, -5.0, 5.0 / 16, None),
    "gelu_der": (d_gelu, -5.0, 5.0 / 16, -0.75),
    "silu_der": (d_silu, -8.0, 0.5, -1.28),
    "mish_ts": (tanh_softplus, -8.0, 0.5, None),
    "mish_der": (d_mish, -8.0, 0.5, -1.19),
    "log_sigmoid": (log_sigmoid, -8.0, 0.5, None),
    "log_sigmoid_der": (d_log_sigmoid, -8.0, 0.5, None),
    "tanh_ts": (tanh_over_x, 0.0, 9.0 / 32, None),
}


def fit_interval(f, centre, a, b, through_zero=False):
    """Coefficient rows [c0, c0lo, c1, ..., c7] of f on [a, b] in d = x - centre,
    and the max relative error (in float32 eps) of the rounded fit."""
    basis = [lambda d, j=j: d**j for j in range(DEGREE + 1 - through_zero)]
    lo, hi = mp.mpf(a) - centre, mp.mpf(b) - centre
    if through_zero:  # f(centre) = 0: fit f(x) / d, relative, then shift by one power
        g = lambda d: f(centre + d) / d  # noqa: E731
        coeffs, err = rounded_fit(g, lambda d: 1 / abs(g(d)), basis, lo, hi, np.float32, EPS, n_grid=GRID)
        return [0.0, 0.0, *coeffs], err
    g = lambda d: f(centre + d)  # noqa: E731
    coeffs, err = rounded_fit(g, lambda d: 1 / abs(g(d)), basis, lo, hi, np.float32, EPS, split_c0=True,
                              n_grid=GRID)
    return coeffs, err


def table(f, lo, width, root=None):
    """Rows: centre, centre_lo, c0, c0lo, c1..c7; each a list of COUNT floats."""
    rows = [[] for _ in range(DEGREE + 4)]
    worst = 0.0
    for k in range(COUNT):
        a = lo + k * width
        b = a + width
        if root is not None and a <= root < b:
            hi = float(np.float32(float(root)))
            cen = [hi, float(np.float32(float(root - mp.mpf(hi))))]
            coeffs, err = fit_interval(f, root, a, b, through_zero=True)
        else:
            centre = mp.mpf(a + width / 2)  # a multiple of 1/64: exact in float
            cen = [float(centre), 0.0]
            coeffs, err = fit_interval(f, centre, a, b)
        for row, v in zip(rows, cen + coeffs):
            row.append(v)
        worst = max(worst, err)
    return rows, worst


def c_table(name, lo, width, rows, err, root):
    upper = name  # as written, so that FA_TAB_##NAME##_LO pastes
    hi = lo + COUNT * width
    head = [
        f"/* {name}: [{lo:g}, {hi:g}), width {width:g}, max relative error of the rounded fit"
        f" {err:.3g} eps" + (f", fitted through the root {float(root):.17g}" if root is not None else "") + " */",
        f"#define FA_TAB_{upper}_LO {lo:.1f}f",
        f"#define FA_TAB_{upper}_HI {hi:.1f}f",
        f"#define FA_TAB_{upper}_INV {1 / width:.9e}f",
        f"#define FA_TAB_{upper}_BIAS {-lo / width:.1f}f",
        # 0: every centre is a float (no root): the kernels skip the centre's low row
        f"#define FA_TAB_{upper}_CENTRE_LO {int(any(v != 0.0 for v in rows[1]))}",
        f"static const float fa_tab_{name}[FA_TAB_ROWS][32] __attribute__((aligned(64))) = {{",
    ]
    body = ["    {" + ", ".join("%.9ef" % v for v in row) + "}," for row in rows]
    return "\n".join(head + body + ["};", ""])


def main() -> None:
    mp.mp.prec = 160
    names = sys.argv[1:] or list(TABLES)
    parts = []
    for name in names:
        f, lo, width, guess = TABLES[name]
        root = mp.findroot(f, mp.mpf(guess)) if guess is not None else None
        rows, err = table(f, lo, width, root)
        print(f"{name}: {err:.3g} eps")
        parts.append(c_table(name, lo, width, rows, err, root))
    if names != list(TABLES):
        return  # a trial: print the errors only
    out = pathlib.Path(__file__).resolve().parent.parent / "src" / "act_tables.h"
    out.write_text("\n".join([
        "/* GENERATED by tools/act_tables.py -- do not edit.",
        " *",
        f" * float32 tables of {COUNT} intervals: row j of a table holds, for every",
        " * interval, the centre (hi, lo), then c0 (hi, lo), c1 .. c7 of the",
        " * polynomial in d = x - centre; index trunc(x INV + BIAS). */",
        "#ifndef FASTACT_ACT_TABLES_H",
        "#define FASTACT_ACT_TABLES_H",
        "",
        f"#define FA_TAB_ROWS {DEGREE + 4}",
        "",
        *parts,
        "#endif",
        "",
    ]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
