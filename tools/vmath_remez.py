"""Minimax coefficients for the polynomials of src/vmath_*.h.

Development-time tool, not part of the package: it needs mpmath only. Every
polynomial in the vector math was produced by this script (``python
tools/vmath_remez.py [name ...]``); the C headers quote the printed
coefficients and name the fit they come from.

Method: linear Remez exchange in 160-bit arithmetic on a dense grid
(Chebyshev-distributed, 4000 points), minimising max |w(x) * (g(x) - sum
c_i phi_i(x))| for the target g, weight w and basis phi_i of each fit.
The coefficients are then rounded to the working precision one at a time,
lowest order first, refitting the remaining ones after each rounding (so the
later coefficients absorb the rounding of the earlier ones). The printed
"err" is the weighted error of the rounded polynomial on the grid, in units
of the precision's epsilon (2^-23 float32, 2^-52 float64).
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.prec = 160


def _cheb_grid(a, b, n):
    k = np.arange(n)
    return [mp.mpf(a) + (mp.mpf(b) - mp.mpf(a)) * (1 - mp.cos(mp.pi * mp.mpf(int(i)) / (n - 1))) / 2
            for i in k]


def _extrema(err):
    """Indices of the extremum of each run of equal sign in err."""
    idx = []
    sign = 0
    for i, e in enumerate(err):
        s = 1 if e > 0 else -1
        if s != sign:
            idx.append(i)
            sign = s
        elif abs(e) > abs(err[idx[-1]]):
            idx[-1] = i
    return idx


def remez(g, w, basis, a, b, n_grid=4000, iters=40, grid=None):
    """Coefficients c minimising max |w (g - sum c_i basis_i)| on [a, b]."""
    xs = grid if grid is not None else _cheb_grid(a, b, n_grid)
    G = [g(x) for x in xs]
    W = [w(x) for x in xs]
    # a zero weight (the error does not matter there) would make the
    # reference system singular: floor it far below the level
    wmax = max(W)
    W = [max(v, wmax * mp.mpf(2) ** -40) for v in W]
    B = [[phi(x) for phi in basis] for x in xs]
    n = len(basis)
    # initial reference: Chebyshev extrema
    ref = sorted(set(int(round((len(xs) - 1) * (1 - float(mp.cos(mp.pi * j / n))) / 2)) for j in range(n + 1)))
    best = None
    for _ in range(iters):
        if len(ref) != n + 1:
            break
        A = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for r, i in enumerate(ref):
            for j in range(n):
                A[r, j] = B[i][j]
            A[r, n] = (-1) ** r / W[i]
            rhs[r] = G[i]
        try:
            sol = mp.lu_solve(A, rhs)
        except ZeroDivisionError:  # degenerate reference: keep the best so far
            break
        c = [sol[j] for j in range(n)]
        err = [W[i] * (G[i] - mp.fsum(c[j] * B[i][j] for j in range(n))) for i in range(len(xs))]
        emax = max(abs(e) for e in err)
        if best is None or emax < best[1]:
            best = (c, emax)
        ext = _extrema(err)
        while len(ext) > n + 1:
            # drop the smallest extremum; merge neighbours of equal sign
            k = min(range(len(ext)), key=lambda q: abs(err[ext[q]]))
            del ext[k]
            merged = []
            for i in ext:
                if merged and (err[i] > 0) == (err[merged[-1]] > 0):
                    if abs(err[i]) > abs(err[merged[-1]]):
                        merged[-1] = i
                else:
                    merged.append(i)
            ext = merged
        lev = abs(sol[n])
        if ext == ref or emax <= lev * (1 + mp.mpf(2) ** -20):
            break
        ref = ext
    return best if best is not None else ([mp.mpf(0)] * n, mp.inf)


def _round2(c, dtype):
    """c as hi + lo in dtype (for a leading coefficient kept in double-word)."""
    hi = mp.mpf(float(dtype(float(c))))
    return hi + mp.mpf(float(dtype(float(c - hi))))


def rounded_fit(g, w, basis, a, b, dtype, eps, split_c0=False, n_grid=4000):
    """Remez, then round to dtype: the better of (a) rounding every
    coefficient and (b) rounding them one at a time, lowest order first,
    refitting the remaining ones after each rounding."""
    xs = _cheb_grid(a, b, n_grid)

    def err_of(cs):
        return max(abs(w(x) * (g(x) - mp.fsum(c * phi(x) for c, phi in zip(cs, basis))))
                   for x in xs)

    c_all, _ = remez(g, w, basis, a, b, grid=xs)
    direct = [mp.mpf(float(dtype(float(c)))) for c in c_all]
    fixed = []
    if split_c0:
        direct[0] = _round2(c_all[0], dtype)
        fixed = [direct[0]]
    for k in range(len(fixed), len(basis)):
        def gk(x, fixed=tuple(fixed)):
            return g(x) - mp.fsum(c * basis[j](x) for j, c in enumerate(fixed))
        c, _ = remez(gk, w, basis[len(fixed):], a, b, grid=xs)
        fixed.append(mp.mpf(float(dtype(float(c[0])))))
    best = min((direct, fixed), key=err_of)
    out = [float(dtype(float(c))) for c in best]
    if split_c0:
        out.insert(1, float(best[0] - mp.mpf(out[0])))  # c0 = out[0] + out[1]
    return out, float(err_of(best) / eps)


def _fmt(c, dtype):
    if dtype is np.float32:
        return "%.9ef" % c
    return "%.17e" % c


def report(name, coeffs, err, dtype, first_power):
    print(f"/* {name}: max weighted error {err:.3g} eps */")
    split = name.startswith(("erfc", "mills"))  # c0 as c0 + c0lo
    for i, c in enumerate(coeffs):
        label = "c0lo" if split and i == 1 else f"c{first_power + i - (split and i > 1)}"
        print(f"    {label} = {_fmt(c, dtype)},")


F32 = (np.float32, mp.mpf(2) ** -23)
F64 = (np.float64, mp.mpf(2) ** -52)
LN2 = mp.log(2)


def powers(lo, hi):
    return [(lambda x, k=k: x ** k) for k in range(lo, hi + 1)]


FITS = {}


def fit(fn):
    FITS[fn.__name__] = fn
    return fn


def _rel(f):
    return lambda x: 1 / abs(f(x)) if f(x) != 0 else mp.mpf(1)


# exp(r) = 1 + r + r^2 (c2 + c3 r + ...), |r| <= ln2/2 (+ slack for rounding of n)
def _exp(prec, deg):
    dt, eps = prec
    R = LN2 / 2 * (1 + mp.mpf(2) ** -12)
    g = lambda r: (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(0.5)
    w = lambda r: r**2 / mp.exp(r)           # error of the r^2 term, relative to exp(r)
    return rounded_fit(g, w, powers(0, deg - 2), -R, R, dt, eps)


@fit
def exp_f32():
    return _exp(F32, 6), F32[0], 2


@fit
def exp_f64():
    return _exp(F64, 11), F64[0], 2


# expm1(r) = r + r^2 (c2 + c3 r + ...), relative to expm1(r)
def _expm1(prec, deg):
    dt, eps = prec
    R = LN2 / 2 * (1 + mp.mpf(2) ** -12)
    g = lambda r: (mp.expm1(r) - r) / r**2 if r != 0 else mp.mpf(0.5)
    w = lambda r: r**2 / abs(mp.expm1(r)) if r != 0 else mp.mpf(0)
    return rounded_fit(g, w, powers(0, deg - 2), -R, R, dt, eps)


@fit
def expm1_f32():
    return _expm1(F32, 7), F32[0], 2


@fit
def expm1_f64():
    return _expm1(F64, 12), F64[0], 2


# log(1+f) = f + f^2 (c2 + c3 f + ...), f in [sqrt(2)/2 - 1, sqrt(2) - 1], relative
def _log1p(prec, deg):
    dt, eps = prec
    a, b = mp.sqrt(2) / 2 - 1, mp.sqrt(2) - 1
    a, b = a * (1 + mp.mpf(2) ** -12), b * (1 + mp.mpf(2) ** -12)
    g = lambda f: (mp.log1p(f) - f) / f**2 if f != 0 else mp.mpf(-0.5)
    w = lambda f: f**2 / abs(mp.log1p(f)) if f != 0 else mp.mpf(0)
    return rounded_fit(g, w, powers(0, deg - 2), a, b, dt, eps)


@fit
def log1p_f32():
    return _log1p(F32, int(sys.argv[2]) if len(sys.argv) > 2 else 9), F32[0], 2


@fit
def log1p_f64():
    return _log1p(F64, int(sys.argv[2]) if len(sys.argv) > 2 else 18), F64[0], 2


# tanh(y) = y + y^3 (c0 + c1 y^2 + ...), 0 <= y <= atanh(1/2): in s = y^2
def _tanh(prec, deg):
    dt, eps = prec
    Y = mp.atanh(mp.mpf(1) / 2) * (1 + mp.mpf(2) ** -10)
    g = lambda s: (mp.tanh(mp.sqrt(s)) - mp.sqrt(s)) / (s * mp.sqrt(s)) if s != 0 else mp.mpf(-1) / 3
    w = lambda s: s * mp.sqrt(s) / mp.tanh(mp.sqrt(s)) if s != 0 else mp.mpf(0)
    return rounded_fit(g, w, powers(0, deg), mp.mpf(0), Y**2, dt, eps)


@fit
def tanh_f32():
    return _tanh(F32, int(sys.argv[2]) if len(sys.argv) > 2 else 4), F32[0], 0


@fit
def tanh_f64():
    return _tanh(F64, int(sys.argv[2]) if len(sys.argv) > 2 else 10), F64[0], 0


# erf(x) = x + x R(x^2), R(t) = c0 + c1 t + ..., |x| <= XB; error relative to erf
def _erf(prec, deg, XB):
    dt, eps = prec
    g = lambda t: mp.erf(mp.sqrt(t)) / mp.sqrt(t) - 1 if t != 0 else 2 / mp.sqrt(mp.pi) - 1
    w = lambda t: 1 / (1 + g(t))
    return rounded_fit(g, w, powers(0, deg), mp.mpf(0), mp.mpf(XB) ** 2, dt, eps)


@fit
def erf_f32():
    return _erf(F32, int(sys.argv[2]) if len(sys.argv) > 2 else 5, 1.0), F32[0], 0


@fit
def erf_f64():
    return _erf(F64, int(sys.argv[2]) if len(sys.argv) > 2 else 11, 1.0), F64[0], 0


# erfc(x) = t exp(-x^2 + P(t)), t = 1 / (1 + x/2), 0 <= x <= XMAX (beyond
# it erfc underflows to 0): P(t) = log(erfc(x) exp(x^2) / t) vanishes at
# t = 1 (x = 0), so P = (t - 1) Q(u), u = t - tc, which keeps the Horner
# evaluation well-conditioned near x = 0 (in plain powers of t the terms
# are ~2 and cancel to P ~ 0). Fit Q for the absolute error of P (= the
# relative error of erfc): weight |t - 1|.
def _erfc(prec, deg, lo, hi, tc=None):
    dt, eps = prec
    p = mp.mpf(0.5)
    ta, tb = 1 / (1 + p * hi), 1 / (1 + p * lo)
    if tc is None:
        tc = mp.mpf(float(dt(float((ta + tb) / 2))))
    tc = mp.mpf(tc)
    print(f"/* piece {lo} <= x <= {hi}: u = t - {float(tc)!r} */")

    def P(t):
        x = (1 / t - 1) / p
        return mp.log(mp.erfc(x) * mp.exp(x * x) / t)

    def g(u):
        t = u + tc
        if t == 1:
            h = mp.mpf(2) ** -80
            return P(1 - h) / -h
        return P(t) / (t - 1)

    w = lambda u: abs(u + tc - 1)
    # c0 (~1.3) is kept as hi + lo: its rounding would be ~0.5 ulp of erfc
    return rounded_fit(g, w, powers(0, deg), ta - tc, tb - tc, dt, eps, split_c0=True)


def _arg(i, default):
    return type(default)(sys.argv[i]) if len(sys.argv) > i else default


@fit
def erfc_f32():
    return _erfc(F32, _arg(2, 10), 0.0, 10.1, 0.5), F32[0], 0


@fit
def erfc_f64():  # three pieces: erfc_f64 17 0 2, erfc_f64 17 2 6, erfc_f64 17 6 27.3
    return _erfc(F64, _arg(2, 17), _arg(3, 0.0), _arg(4, 2.0)), F64[0], 0


# Phi(-a) exp(a^2/2) = t R(t) / 2 for gelu (vmath_erf.h fa_phi_ratio_f32 /
# _f64): R(t) = erfc(z) exp(z^2) / t, z = a/sqrt2 = k (1/t - 1), a polynomial
# in u = t - tc for zlo <= z <= zhi, relative error; c0 as hi + lo. tc: the
# middle, rounded, unless given. k = 2 (float32: t = 1 / (1 + z/2)) or
# 2 sqrt2 (float64: t = 1 / (1 + a/4), a/4 exact).
def _mills(prec, deg, zlo, zhi, tc=None, k=2):
    dt, eps = prec
    k = mp.mpf(k)

    def R(t):
        z = (1 / t - 1) * k
        return mp.erfc(z) * mp.exp(z * z) / t

    ta, tb = 1 / (1 + mp.mpf(zhi) / k), 1 / (1 + mp.mpf(zlo) / k)
    tc = mp.mpf(float(dt(float((ta + tb) / 2)))) if tc is None else mp.mpf(tc)
    print(f"/* {float(zlo)} <= z <= {float(zhi)}, t = 1 / (1 + z / {float(k)}): u = t - {float(tc)!r} */")
    return rounded_fit(lambda u: R(u + tc), lambda u: 1 / R(u + tc), powers(0, deg), ta - tc, tb - tc, dt, eps,
                       split_c0=True)


@fit
def mills_f32():  # 0 <= z <= 14 (a <= 19.8)
    return _mills(F32, _arg(2, 11), 0.0, _arg(3, 14.0)), F32[0], 0


# float64, in a = sqrt2 z: mills_f64 DEG ALO AHI [TC]
@fit
def mills_f64():
    tc = float(sys.argv[5]) if len(sys.argv) > 5 else None
    r2 = mp.sqrt(2)
    return _mills(F64, _arg(2, 21), _arg(3, 0.0) / r2, _arg(4, 5.66) / r2, tc, 2 * r2), F64[0], 0


# log1p(e) = e + e^2 P(e - 1/2) on 0 <= e <= 1, for log1p(exp(-|x|)) (log_sigmoid,
# softplus, bce: vmath_log.h fa_vm_log1p_unit). Weight: the error of
# e^2 P relative to log1p(e).
# P is a polynomial in e - 1/2 (better conditioned than powers of e on [0, 1]).
def _log1p_unit(prec, deg):
    dt, eps = prec
    h = mp.mpf(0.5)
    g = lambda u: (mp.log1p(u + h) - u - h) / (u + h)**2 if u != -h else mp.mpf(-0.5)
    w = lambda u: (u + h)**2 / mp.log1p(u + h) if u != -h else mp.mpf(0)
    return rounded_fit(g, w, powers(0, deg), -h, h, dt, eps)


@fit
def log1p_unit_f32():
    return _log1p_unit(F32, _arg(2, 8)), F32[0], 0


@fit
def log1p_unit_f64():
    return _log1p_unit(F64, _arg(2, 19)), F64[0], 0


if __name__ == "__main__":
    names = sys.argv[1:2] or list(FITS)
    for nm in names:
        (coeffs, err), dt, p0 = FITS[nm]()
        report(nm, coeffs, err, dt, p0)
