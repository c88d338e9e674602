"""Accuracy of the vector math (src/vmath*.h) through its internal ufuncs
fastact._core._vm_<name>: max ULP error per function and precision against
an independent reference, special values, no warnings -- at the active SIMD
level (tests/test_simd_levels.py reruns this file at every other level the
CPU supports).

References: mpmath (80 bits for float32, 120 for float64) on a few thousand
points per function chosen to cover the dense core, log-spaced tails up to
overflow/underflow, the region near 0 and subnormals; for float32 also
NumPy/scipy float64 results rounded to float32 on 10^6 dense points.
"""
import warnings

import mpmath as mp
import numpy as np
import pytest

from fastact import _core as core

from ulp import ulp_distance  # exact, vectorised, float32 and float64

FUNCS = ("exp", "exp_neg", "expm1", "expm1_neg", "log", "log1p", "tanh", "erf", "erfc")

# Max ULP error (distance to the correctly rounded result, in units of the
# last place; subnormal results in units of the smallest subnormal).
BUDGET = {
    # name:   (float32, float64)
    "exp": (1, 1),
    "exp_neg": (1, 1),  # exp on x <= 43 / 620 (vmath_exp.h)
    "expm1": (2, 2),
    "expm1_neg": (2, 2),  # expm1 on x <= 0
    "log": (1, 1),
    "log1p": (2, 1),
    "tanh": (2, 2),
    "erf": (2, 1),
    "erfc": (2, 2),
}

MP = {"exp": mp.exp, "exp_neg": mp.exp, "expm1_neg": mp.expm1, "expm1": mp.expm1, "log": mp.log, "log1p": mp.log1p,
      "tanh": mp.tanh, "erf": mp.erf, "erfc": mp.erfc}


def np64(name):
    """The float64 reference of the dense float32 sweep. NumPy has no erf:
    scipy (an optional peer) provides it; without scipy those two sweeps are
    skipped, and the mpmath tests still cover erf and erfc."""
    if name in ("exp_neg", "expm1_neg"):
        return np.exp if name == "exp_neg" else np.expm1
    if name in ("erf", "erfc"):
        sp = pytest.importorskip("scipy.special", reason="float64 erf/erfc for the dense sweep")
        return getattr(sp, name)
    return getattr(np, name)
def _vm(name):
    return getattr(core, f"_vm_{name}")


def _mp_ref(name, x, dtype):
    prec = 80 if dtype == np.float32 else 120
    out = np.empty(x.size, dtype)
    with mp.workprec(prec), np.errstate(over="ignore"):  # rounding to dtype may overflow
        for i, v in enumerate(x.astype(np.float64)):
            if name in ("erf", "erfc") and abs(v) > 100:
                v = np.sign(v) * 100.0  # same result; mpmath's erfc chokes on 1e308
            r = MP[name](mp.mpf(float(v)))
            out[i] = dtype(np.nan) if isinstance(r, mp.mpc) else dtype(float(r))  # log(< 0)
    return out


# exp_neg, expm1_neg: exp and expm1 for x <= 0, correct up to these.
NEG_MAX = {"exp_neg": {np.float32: 43.0, np.float64: 620.0},
           "expm1_neg": {np.float32: 0.0, np.float64: 0.0}}


def _sample(name, dtype, n=700, seed=0):
    """Points covering the function's interesting range for dtype."""
    rng = np.random.default_rng(seed)
    f32 = dtype == np.float32
    big = 38 if f32 else 307
    tiny = -45 if f32 else -323
    lo_exp = {"exp": (-104 if f32 else -746), "expm1": -20 if f32 else -40}
    hi_exp = 88.7 if f32 else 709.7
    logspaced = 10.0 ** rng.uniform(tiny, 0, n)
    parts = [rng.uniform(-20, 20, n), np.sign(rng.uniform(-1, 1, n)) * logspaced]
    if name in ("exp", "expm1"):
        lo = lo_exp[name]
        parts += [rng.uniform(lo, hi_exp, n),
                  rng.uniform(hi_exp - 1, hi_exp + 0.1, n // 4),   # overflow edge
                  rng.uniform(lo - 2, lo + 20, n // 4)]            # (subnormal) underflow
    elif name in ("log", "log1p"):
        shift = -1 if name == "log1p" else 0
        parts = [10.0 ** rng.uniform(tiny, big, n), rng.uniform(0, 4, n),
                 shift + 10.0 ** rng.uniform(-7 if f32 else -16, 0, n),
                 np.sign(rng.uniform(-1, 1, n)) * logspaced]
    elif name == "tanh":
        parts += [rng.uniform(0.4, 0.7, n // 2), rng.uniform(8, 20 if f32 else 40, n // 4)]
    elif name in ("erf", "erfc"):
        top = 10.1 if f32 else 27.3
        parts += [rng.uniform(0.8, 1.2, n // 2), rng.uniform(-6, top + 0.5, n)]
        if name == "erfc":
            parts.append(rng.uniform(top - 2, top, n // 2))  # far tail, subnormal results
    elif name in NEG_MAX:  # the domain: x <= NEG_MAX
        top = NEG_MAX[name][dtype]
        x = _sample(name[:-4], dtype, n, seed)
        return np.concatenate([x[x <= top], rng.uniform(0, 1, n // 4).astype(dtype) * top])
    x = np.concatenate(parts).astype(dtype)
    return x[np.isfinite(x)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", FUNCS)
def test_ulp_vs_mpmath(name, dtype):
    x = _sample(name, dtype)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = _vm(name)(x)
    ref = _mp_ref(name, x, dtype)
    d = ulp_distance(y, ref)
    budget = BUDGET[name][dtype == np.float64]
    i = int(np.argmax(d))
    assert d[i] <= budget, (
        f"{name} {dtype.__name__} [{core.simd_level()}]: {d[i]} ulp at x={x[i]!r}: "
        f"got {y[i]!r}, want {ref[i]!r}")


DENSE = {"exp": (-104, 89), "exp_neg": (-104, 43), "expm1_neg": (-20, 0), "expm1": (-20, 89), "log": (0, 100), "log1p": (-1, 100),
         "tanh": (-10, 10), "erf": (-5, 5), "erfc": (-5, 10.2)}


@pytest.mark.parametrize("name", FUNCS)
def test_ulp_float32_dense(name):
    """10^6 dense points (plus every 4099th float32 bit pattern) against
    float64 NumPy/scipy rounded to float32."""
    lo, hi = DENSE[name]
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([np.linspace(lo, hi, 10**6, dtype=np.float32), bits[np.isfinite(bits)]])
    if name in NEG_MAX:
        x = x[x <= hi]
    with np.errstate(all="ignore"):
        ref = np64(name)(x.astype(np.float64)).astype(np.float32)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = _vm(name)(x)
    d = ulp_distance(y, ref)
    i = int(np.argmax(d))
    # the float64 reference may be off by one rounding near a tie
    assert d[i] <= BUDGET[name][0] + 1, (name, x[i], y[i], ref[i], d[i])
    assert np.mean(d <= BUDGET[name][0]) > 0.9999


INF, NAN = np.inf, np.nan
SPECIAL = {
    # name: [(x, expected)]
    "exp": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (1e4, INF), (-1e4, 0.0)],
    "exp_neg": [(0.0, 1.0), (-0.0, 1.0), (-INF, 0.0), (NAN, NAN), (-1e4, 0.0)],
    "expm1_neg": [(0.0, 0.0), (-0.0, -0.0), (-INF, -1.0), (NAN, NAN), (-1e4, -1.0)],
    "expm1": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -1.0), (NAN, NAN), (1e4, INF), (-1e4, -1.0)],
    "log": [(0.0, -INF), (-0.0, -INF), (1.0, 0.0), (INF, INF), (-INF, NAN), (-1.0, NAN), (NAN, NAN)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (-1.0, -INF), (-2.0, NAN), (INF, INF), (-INF, NAN), (NAN, NAN)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (1e4, 1.0), (-1e4, -1.0)],
    "erf": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (30.0, 1.0), (-30.0, -1.0)],
    "erfc": [(0.0, 1.0), (-0.0, 1.0), (INF, 0.0), (-INF, 2.0), (NAN, NAN), (1e4, 0.0), (-1e4, 2.0)],
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=["f16", "f32", "f64"])
@pytest.mark.parametrize("name", FUNCS)
def test_special_values(name, dtype):
    xs, want = zip(*SPECIAL[name])
    big = np.finfo(dtype).max
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array(list(xs) + [-big if name in NEG_MAX else big, -big, tiny, -tiny], dtype)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = _vm(name)(x)
        y_strided = _vm(name)(np.repeat(x, 2)[::2])  # the strided loop too
    n = len(want)
    w = np.array(want, dtype)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[:n], w)  # NaN == NaN here
    np.testing.assert_array_equal(np.signbit(y[:n]), np.signbit(w))
    np.testing.assert_array_equal(y, y_strided)
    # +-max, +-smallest subnormal: finite inputs give the reference result
    if dtype != np.float16:
        ref = _mp_ref(name, x[n:], dtype)
        assert ulp_distance(y[n:], ref).max() <= BUDGET[name][dtype == np.float64]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_subnormal_results(dtype):
    """Correctly scaled subnormal results, not flushed to 0."""
    f32 = dtype == np.float32
    x = np.array([-100.0, -103.0] if f32 else [-740.0, -744.0], dtype)
    y = core._vm_exp(x)
    assert np.all((y > 0) & (y < np.finfo(dtype).smallest_normal))
    assert ulp_distance(y, _mp_ref("exp", x, dtype)).max() <= 1
    xe = np.array([9.0, 10.0] if f32 else [26.0, 27.0], dtype)
    ye = core._vm_erfc(xe)
    assert np.all(ye > 0)
    assert ulp_distance(ye, _mp_ref("erfc", xe, dtype)).max() <= 2
