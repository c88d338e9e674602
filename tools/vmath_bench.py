"""Same-run timing of the internal vector math (fastact._core._vm_*, which
the bench report does not list) beside np.copyto, np.exp and two
activations: one thread, ns per element, interleaved medians
(fastact._bench.compare). Run once per level:

    FASTACT_SIMD=avx512 python tools/vmath_bench.py
"""
import numpy as np

import fastact as fa
from fastact import _bench
from fastact import _core as c

fa.set_num_threads(1)
for dt, n in [(np.float32, 10**6), (np.float64, 10**6), (np.float32, 16 * 10**6)]:
    x = np.random.default_rng(0).uniform(-10, 10, n).astype(dt)
    xn, xa = -np.abs(x), np.abs(x)
    out = np.empty_like(x)
    cases = {"copyto": lambda: np.copyto(out, x), "np.exp": lambda: np.exp(x, out=out)}
    for nm, arg in [("exp", x), ("exp_neg", xn), ("expm1_neg", xn), ("tanh", x), ("erf", x), ("log1p", xa)]:
        f = getattr(c, "_vm_" + nm)
        cases["_vm_" + nm] = lambda f=f, arg=arg: f(arg, out=out)
    cases["sigmoid"] = lambda: fa.sigmoid(x, out=out)
    cases["tanh"] = lambda: fa.tanh(x, out=out)
    res = _bench.compare(cases, budget=0.3)
    print(c.simd_level(), np.dtype(dt).name, n, " ".join(f"{k}={v / n * 1e9:.3f}" for k, v in res.items()), flush=True)
