"""Run the cross-compiled kernels under an emulator and compare their results
with this machine's, level by level (issue 4: other architectures build the
baseline, and NEON where available).

Development-time tool. tools/cross_build.py shows that the C compiles and
links for another architecture; this runs it. The baseline loop table
(src/loops.c) with threads.c and table.c is linked, statically, into
tools/cross_harness.c, which calls a loop on operands read from a file;
qemu-user runs it. Every ufunc of the module (the public kernels, the
vector math `_vm_*` and the statistics `_stats_*`), for float16, float32 and
float64, gets inputs with every special value and magnitudes across the
whole range, through the loops' three paths (contiguous operands with
hoisted parameters; parameters as arrays; strided operands), and one
threaded call. The same calls run here at every SIMD level this CPU
supports (a child process each, FASTACT_SIMD set).

Verdict per result: NaN where this machine has NaN, the same infinities and
signs, and at most MAX_ULP units in the last place from the nearest of this
machine's levels (which the test suite holds to the accuracy budgets
against mpmath). Most kernels give the bits of this machine's AVX2 level,
the other FMA build; the report lists those that do not.

    apt-get install gcc-aarch64-linux-gnu qemu-user-static
    pip install .                  # this machine's build, the reference
    python tools/cross_run.py      # aarch64-linux-gnu-gcc, qemu-aarch64-static
"""
from __future__ import annotations

import argparse
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cross_build import REPO, SRC, common_flags, compile_objects, run  # noqa: E402
from ulp import ulp_distance  # noqa: E402  (the test suite's: +-0 equal, NaN apart)

# The nearest level's result within this many ULP (the largest accuracy
# budget of the catalogue is 8, mish's backward against the reference; two
# results each within budget of the truth are within twice it).
MAX_ULP = 16
TYPES = {"e": np.float16, "f": np.float32, "d": np.float64, "l": np.int64, "q": np.int64}
ROWS, ELEMENTS = 5, 4099  # gufunc rows; element-wise length (not a multiple of any vector)


# ----------------------------------------------------------------- inputs


def values(dtype: type, n: int, rng: np.random.Generator) -> np.ndarray:
    """n values of dtype: every special value, then magnitudes log-uniform over
    the whole range (both signs), then the bulk in [-12, 12)."""
    info = np.finfo(dtype)
    tiny = float(info.smallest_subnormal)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0, tiny, -tiny,
               float(info.tiny), -float(info.tiny), float(info.max), -float(info.max), 0.5, -0.5,
               -1.2784645, -0.7517915, -1.1924312,  # the roots of silu', gelu', mish'
               3.0, -3.0, 6.0, 20.0,  # kinks and softplus's threshold
               -88.7, -103.5, -745.2, 88.8, 709.8]  # exp's under- and overflow edges
    lo, hi = np.log2(tiny), np.log2(float(info.max))
    wide = np.exp2(rng.uniform(lo, hi, n // 4)) * rng.choice([-1.0, 1.0], n // 4)
    bulk = rng.uniform(-12.0, 12.0, n)
    with np.errstate(all="ignore"):
        out = np.concatenate([np.array(special), wide, bulk]).astype(dtype)[:n]
    rng.shuffle(out)
    return out


def parse_params(text: str) -> list[float]:
    """The default values of "alpha=0.01,beta=1.0" (names without "=" are
    argument names, as softmax_cross_entropy's, not parameters)."""
    return [float(p.split("=")[1]) for p in text.split(",") if "=" in p]


def core_dim_names(signature: str) -> list[list[str]]:
    """Per operand, the names of its core dimensions: "(n),()->(n)" gives
    [["n"], [], ["n"]]."""
    ops = signature.replace("->", ",").replace(" ", "")
    names, depth, cur = [], 0, ""
    for ch in ops:
        if ch == "(":
            depth, cur = 1, ""
        elif ch == ")":
            names.append([d for d in cur.split(",") if d])
            depth = 0
        elif depth:
            cur += ch
    return names


# Core dimensions: rows of 37, and ("long" calls) of 600, which the row
# loops take in chunks of FA_ROW_BLOCK (256).
SIZES = {"n": 37, "c": 5, "k": 40, "m": 3}
LONG_ROWS = 600


def make_call(kernel: dict, loop_types: str, variant: str, host_core, rng: np.random.Generator) -> dict:
    """One call of a ufunc: its operands (inputs, then outputs) as arrays and
    how the loop sees them (strides: 'contig', 'params' as arrays, or
    'strided' operands; 'long' rows)."""
    sizes = dict(SIZES, n=LONG_ROWS) if variant == "long" else SIZES
    ins, outs = loop_types.split("->")
    nin, nargs = len(ins), len(ins) + len(outs)
    cores = core_dim_names(kernel["signature"]) if kernel["signature"] else [[] for _ in range(nargs)]
    outer = ROWS if kernel["signature"] else ELEMENTS
    shape = lambda k: (outer, *[sizes[d] for d in cores[k]])  # noqa: E731
    params = parse_params(kernel["params"])
    name, ndata = kernel["name"], kernel["ndata"]
    arrays = []
    for k, code in enumerate(ins):
        dtype = TYPES[code]
        if code in "lq":  # class labels
            arrays.append(rng.integers(0, sizes["n"], shape(k)).astype(dtype))
            continue
        if k >= ndata:  # a parameter: its default, then thresholds / weights
            j = k - ndata
            value = params[j] if j < len(params) else (1e-3 if name.startswith("_stats") else 0.25)
            if name.startswith("_prelu"):
                arrays.append(rng.uniform(-0.5, 0.5, shape(k)))
            elif variant == "params":
                arrays.append(np.full(shape(k), value))
            else:
                arrays.append(np.full(shape(k) if kernel["signature"] else (), value))
            continue
        x = values(dtype, int(np.prod(shape(k))), rng).reshape(shape(k))
        if name.startswith("bce") and k == ndata - 1:  # targets
            x = rng.uniform(0.0, 1.0, shape(k)).astype(dtype)
            x.flat[:4] = [0.0, 1.0, 0.5, np.nan]
        arrays.append(x)
    if kernel["backward"] and kernel["saved"] == "output":  # the saved output: the forward's
        fwd = getattr(host_core, name[: -len("_backward")])
        with np.errstate(all="ignore"):
            arrays[ndata - 1] = fwd(arrays[ndata - 1], *arrays[ndata:nin]).astype(arrays[ndata - 1].dtype)
    for k, code in enumerate(outs, start=nin):
        arrays.append(np.zeros(shape(k), TYPES[code]))
    return {"name": name, "types": loop_types, "variant": variant, "nin": nin, "arrays": arrays,
            "cores": cores, "sizes": sizes}


def strided_view(a: np.ndarray) -> np.ndarray:
    """a's values at every other element of a buffer twice as long (the
    'strided' calls; the buffer is the view's base)."""
    buf = np.zeros(2 * a.size, a.dtype)
    buf[::2] = a.ravel()
    return buf[::2]


def harness_job(call: dict, loop_index: int) -> bytes:
    """The call in cross_harness.c's format."""
    arrays, cores, variant = call["arrays"], call["cores"], call["variant"]
    elementwise = not any(cores)
    n = arrays[0].shape[0]
    dims = [n]
    for names in cores:
        for d in names:
            if d not in dims[1:]:
                dims.append(d)
    dim_sizes = [n] + [call["sizes"][d] for d in dims[1:]]
    outer, core_steps, blobs = [], [], []
    for a, names in zip(arrays, cores):
        if elementwise and a.ndim == 0:  # a hoisted parameter: stride 0
            outer.append(0)
            blobs.append(a.tobytes())
        elif elementwise and variant == "strided":
            view = strided_view(a)
            outer.append(view.strides[0])
            blobs.append(view.base.tobytes())
        else:
            c = np.ascontiguousarray(a)
            outer.append(c.strides[0] if c.ndim else 0)
            core_steps += [c.strides[1 + j] for j in range(len(names))]
            blobs.append(c.tobytes())
    head = struct.pack("<iii", loop_index, len(arrays), len(dim_sizes))
    head += struct.pack(f"<{len(dim_sizes)}q", *dim_sizes)
    steps = outer + core_steps
    head += struct.pack(f"<i{len(steps)}q", len(steps), *steps)
    return head + b"".join(struct.pack("<q", len(b)) + b for b in blobs)


def decode_outputs(call: dict, blob: memoryview, pos: int) -> tuple[list[np.ndarray], int]:
    """The call's outputs from the harness's OUT stream at pos."""
    results = []
    elementwise = not any(call["cores"])
    for k, a in enumerate(call["arrays"]):
        strided = elementwise and call["variant"] == "strided" and a.ndim > 0
        size = a.nbytes * (2 if strided else 1)
        if k >= call["nin"]:
            data = np.frombuffer(blob[pos:pos + size], a.dtype)
            results.append((data[::2] if strided else data).reshape(a.shape).copy())
        pos += size
    return results, pos


# ---------------------------------------------------------- this machine


def host_results(calls_file: str, level: str, out_file: str) -> None:
    """Every call through this machine's ufuncs at `level` (a child process)."""
    os.environ["FASTACT_SIMD"] = level
    from fastact import _core

    with open(calls_file, "rb") as f:
        calls = pickle.load(f)
    results = []
    for call in calls:
        u = getattr(_core, call["name"])
        arrays = [a.copy() for a in call["arrays"]]
        if call["variant"] == "strided" and not any(call["cores"]):
            arrays = [strided_view(a) if a.ndim else a for a in arrays]
        with np.errstate(all="ignore"):
            u(*arrays[: call["nin"]], out=tuple(arrays[call["nin"]:]), signature=call["types"])
        results.append([np.ascontiguousarray(a) for a in arrays[call["nin"]:]])
    with open(out_file, "wb") as f:
        pickle.dump(results, f)


def ulp_gap(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """Largest ULP distance between two results, and how many elements
    disagree on NaN, infinity or sign of a nonzero (counted, not measured)."""
    if a.dtype.kind != "f":
        return (0.0 if np.array_equal(a, b) else np.inf), 0
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    with np.errstate(all="ignore"):
        signed = ~nan_a & ~nan_b & (a != 0) & (b != 0)  # a NaN's sign means nothing
        bad = (nan_a != nan_b) | (np.isinf(a) != np.isinf(b)) | (signed & (np.signbit(a) != np.signbit(b)))
    ok = ~(nan_a | nan_b | bad)
    return (float(ulp_distance(a[ok], b[ok]).max()) if ok.any() else 0.0), int(bad.sum())


# ------------------------------------------------------------------ main


def emulator(triple: str) -> list[str]:
    arch = triple.split("-")[0]
    for exe in (f"qemu-{arch}-static", f"qemu-{arch}"):
        if shutil.which(exe):
            return [exe, "-L", f"/usr/{triple}"]
    sys.exit(f"qemu-{arch}-static not found (apt-get install qemu-user-static)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", default="aarch64-linux-gnu-gcc", help="the cross C compiler")
    parser.add_argument("--verbose", action="store_true", help="show the inputs of each failing result")
    parser.add_argument("--seed", type=int, default=2026, help="the inputs' random seed")
    parser.add_argument("--host", nargs=3, metavar=("CALLS", "LEVEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.host:
        host_results(*args.host)
        return 0
    if not shutil.which(args.cc):
        sys.exit(f"{args.cc} not found (e.g. apt-get install gcc-aarch64-linux-gnu)")
    triple = args.cc[: -len("-gcc")]
    qemu = emulator(triple)
    from fastact import _core

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        objects = [o for o in compile_objects(args.cc, out) if o.stem in ("loops", "threads", "table")]
        harness = out / "cross_harness"
        hobj = out / "cross_harness.o"
        run([args.cc, *common_flags(), "-I", str(SRC), "-c", str(REPO / "tools" / "cross_harness.c"),
             "-o", str(hobj)])
        run([args.cc, "-static", "-o", str(harness), str(hobj), *map(str, objects), "-lm", "-lpthread"])
        listing = run([*qemu, str(harness), "--list"])
        index = {line.split("\t")[1]: int(line.split("\t")[0]) for line in listing.splitlines()}
        rng = np.random.default_rng(args.seed)
        calls, jobs = [], []
        for kernel in _core.KERNEL_TABLE:
            u = getattr(_core, kernel["name"])
            if index.get(kernel["name"]) != _core.KERNEL_INDEX[kernel["name"]]:
                sys.exit(f"{kernel['name']}: the cross build's table differs from this machine's")
            for t, loop_types in enumerate(u.types):
                variants = ["contig", "long"] if kernel["signature"] else ["contig", "params", "strided"]
                for variant in variants:
                    call = make_call(kernel, loop_types, variant, _core, rng)
                    calls.append(call)
                    jobs.append(harness_job(call, 3 * index[kernel["name"]] + t))
        (out / "jobs.bin").write_bytes(struct.pack("<i", len(jobs)) + b"".join(jobs))
        with open(out / "calls.pkl", "wb") as f:
            pickle.dump(calls, f)
        children = {level: subprocess.Popen([sys.executable, __file__, "--host", str(out / "calls.pkl"), level,
                                             str(out / f"host-{level}.pkl")], cwd=tmp)
                    for level in _core.SUPPORTED_LEVELS}
        subprocess.run([*qemu, str(harness), str(out / "jobs.bin"), str(out / "out.bin")], check=True)
        # again with 2 threads, the thresholds lowered: the pool under the emulator
        pool = run([*qemu, str(harness), str(out / "jobs.bin"), str(out / "out2.bin"), "2"]).strip()
        for level, child in children.items():
            if child.wait() != 0:
                sys.exit(f"this machine's {level} run failed")
        host = {}
        for level in _core.SUPPORTED_LEVELS:
            with open(out / f"host-{level}.pkl", "rb") as f:
                host[level] = pickle.load(f)
        one = (out / "out.bin").read_bytes()
        same_threads = one == (out / "out2.bin").read_bytes()
    blob = memoryview(one)
    pos, failures, not_avx2, worst = 0, [], set(), {}
    for j, call in enumerate(calls):
        got, pos = decode_outputs(call, blob, pos)
        for k, g in enumerate(got):
            gaps = {level: ulp_gap(g, host[level][j][k]) for level in host}
            best = min(gaps.values())
            key = (call["name"], g.dtype.name)
            worst[key] = max(worst.get(key, 0.0), best[0])
            if "avx2" in gaps and gaps["avx2"] != (0.0, 0):
                not_avx2.add(key)
            if args.verbose and (best[0] > MAX_ULP or best[1]):
                h = host[min(gaps, key=gaps.get)][j][k]
                with np.errstate(all="ignore"):
                    diff = np.flatnonzero(~((g == h) | (np.isnan(g) & np.isnan(h))))[:4]
                ins = [a.ravel()[diff] if a.ndim and a.size == g.size else a for a in call["arrays"][:call["nin"]]]
                print(call["name"], call["types"], "in", ins, "got", g.ravel()[diff], "here", h.ravel()[diff])
            if best[0] > MAX_ULP or best[1]:
                failures.append(f"{call['name']} {call['types']} {call['variant']} output {k}: "
                                f"{best[0]:g} ULP, {best[1]} special values differ")
    print(f"{args.cc} under {qemu[0]}: {len(calls)} calls of {len(_core.KERNEL_TABLE)} ufuncs "
          f"(float16/32/64; contiguous, parameter arrays, strided; rows of 37 and 600), compared with this machine's "
          f"{', '.join(host)}")
    print(f"threads: 1 and 2 ({pool}) give the same bits: {same_threads}")
    top = max(worst.values())
    print(f"largest distance to the nearest level: {top:g} ULP"
          + (f" ({', '.join(f'{n} {d}' for (n, d), v in worst.items() if v == top)})" if top else
             ": every result has the bits of one of them"))
    if not_avx2:
        print(f"not the bits of avx2 ({len(not_avx2)} of {len(worst)} ufunc-dtypes): "
              + ", ".join(f"{n} {d} ({worst[(n, d)]:g})" for n, d in sorted(not_avx2)))
    for line in failures:
        print("FAIL", line)
    ok = not failures and same_threads
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
