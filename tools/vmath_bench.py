"""Quick same-run timing of the vector math and two activations, one thread,
ns/element (medians). Run once per level: FASTACT_SIMD=avx512 python tools/vmath_bench.py"""
import time

import numpy as np

import fastact as fa
from fastact import _core as c
fa.set_num_threads(1)
def med(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return np.median(ts)
rows = []
for dt, n, reps in [(np.float32, 10**6, 21), (np.float64, 10**6, 21), (np.float32, 16 * 10**6, 5)]:
    x = np.random.default_rng(0).uniform(-10, 10, n).astype(dt)
    out = np.empty_like(x)
    cases = {"copyto": lambda: np.copyto(out, x), "np.exp": lambda: np.exp(x, out=out)}
    for nm in ["exp", "tanh", "erf", "log1p"]:
        f = getattr(c, "_vm_" + nm)
        xx = np.abs(x) if nm == "log1p" else x
        cases["_vm_" + nm] = (lambda f=f, xx=xx: f(xx, out=out))
    cases["sigmoid"] = lambda: fa.sigmoid(x, out=out)
    cases["tanh"] = lambda: fa.tanh(x, out=out)
    res = {k: med(v, reps) / n * 1e9 for k, v in cases.items()}
    print(c.simd_level(), np.dtype(dt).name, n, " ".join(f"{k}={v:.3f}" for k, v in res.items()), flush=True)
