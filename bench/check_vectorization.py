"""Do the kernel loops really vectorise, at every SIMD level? (DESIGN.md 5)

Compiles src/loops.c once per level with the flags of CMakeLists.txt (read
from it, so the two cannot drift apart) and GCC's -fopt-info-vec, then
disassembles each range function (fa_range_<ufunc>_<dtype>: the body of a
NumPy loop) and reports whether it contains packed vector arithmetic:
%zmm registers at avx512, %ymm at avx2, packed SSE arithmetic (addps,
mulpd, cmpltps, cvtdq2ps, ...) at the baseline. A scalar loop there is
10-50x slower. Also checks that no range function calls libm (a call per
element keeps the loop scalar: fma() on the SSE2 baseline, which has no
FMA instruction, was one) and that no -march/-mtune=native is in the build.

    python bench/check_vectorization.py            # table + verdict, exit 1 if scalar
    python bench/check_vectorization.py --missed   # also GCC's "missed" notes per table row

Needs gcc and objdump; run from the repository root (or anywhere: paths are
relative to this file).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

PACKED_SSE = re.compile(
    r"\b(?:(?:add|sub|mul|div|max|min|sqrt|rcp|rsqrt|cmp[a-z]*|blendv|round)p[sd]"
    r"|cvt[a-z0-9]*2p[sd]|cvtt?p[sd]2[a-z0-9]+|pmul[a-z]*|padd[bwdq]|psub[bwdq]|psr[al][dq]|psll[dq])\b"
)
WIDTH = {"avx512": re.compile(r"%zmm"), "avx2": re.compile(r"%ymm"), "baseline": PACKED_SSE}
# Scalar floating-point arithmetic (SSE2's addsd, AVX's vmulss, ...).
SCALAR_ARITH = re.compile(r"\bv?(?:add|sub|mul|div|sqrt|min|max)s[sd]\b|\bvf[n]?m(?:add|sub)\d+s[sd]\b")
# A call into libm (relocation of `objdump -r`): the vector math is ours.
LIBM_CALL = re.compile(r"R_X86_64_PLT32\s+((?:fma|exp|expm1|log|log1p|tanh|erf|erfc|pow|sqrt|rint|round)f?)-")


def isa_flags() -> dict[str, list[str]]:
    """{"baseline": [], "avx2": [...], ...} from CMakeLists.txt's FA_ISA_FLAGS_<isa>."""
    text = (REPO / "CMakeLists.txt").read_text()
    flags = {"baseline": []}
    for isa, body in re.findall(r"set\(FA_ISA_FLAGS_(\w+)\s+([^)]*)\)", text):
        flags[isa] = [f for f in body.replace('"', "").split() if f]
    return flags


def common_flags() -> list[str]:
    text = (REPO / "CMakeLists.txt").read_text()
    match = re.search(r"set\(FA_COMMON_FLAGS\s+([^)]*)\)", text)
    return match.group(1).split() if match else ["-O3"]


def no_native() -> list[str]:
    """Files of the build that mention -march=native / -mtune=native / -xHost."""
    bad = []
    for path in [REPO / "CMakeLists.txt", REPO / "pyproject.toml", *SRC.glob("*")]:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        # Code only: drop C comments, and CMake/TOML comments.
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = "\n".join(line.split("#", 1)[0] if path.suffix in ("", ".txt", ".toml") else line
                         for line in text.splitlines())
        if re.search(r"-m(arch|tune|cpu)=native|-xHost", text):
            bad.append(str(path.relative_to(REPO)))
    return bad


def functions(objdump: str) -> dict[str, str]:
    """Disassembly of each function of the object."""
    out: dict[str, list[str]] = {}
    current = None
    for line in objdump.splitlines():
        head = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if head:
            current = head.group(1)
            out[current] = []
        elif current and line.strip():
            out[current].append(line)
    return {name: "\n".join(lines) for name, lines in out.items()}


def with_hand_loops(name: str, bodies: dict[str, str]) -> list[str]:
    """A range function's code and that of the hand loops it calls (GCC may
    keep fa_hand_* and the table loops out of line: fa_hand_celu_f32.isra.0,
    fa_tab_loop_gelu_f32.constprop.0.isra.0, a range loop's
    fa_hand_elu_grad_f64_core), transitively: one body per function."""
    seen, todo, code = set(), [name], []
    while todo:
        fn = todo.pop()
        if fn in seen or fn not in bodies:
            continue
        seen.add(fn)
        code.append(bodies[fn])
        todo += re.findall(r"\bcall\s+[0-9a-f]+ <((?:fa_hand_|fa_tab_loop_|fa_prelu_block_)[\w.]+)>", bodies[fn])
    return code


def vectorised(code: list[str], packed: re.Pattern) -> bool:
    """Packed arithmetic in the range function and in every called loop that
    does floating-point arithmetic at all: a range loop whose fast core form
    is scalar (the float64 cores at the SSE2 baseline were) does not hide
    behind its vectorised fallback."""
    return bool(packed.search("\n".join(code))) and all(
        packed.search(body) for body in code[1:] if SCALAR_ARITH.search(body))


def compile_level(isa: str, flags: list[str], workdir: Path, numpy_include: str) -> tuple[dict[str, bool], str]:
    obj = workdir / f"loops_{isa}.o"
    cmd = ["gcc", "-c", *common_flags(), "-fPIC", *flags, f"-DFA_ISA={isa}", f"-I{SRC}",
           f"-I{numpy_include}", str(SRC / "loops.c"), "-o", str(obj), "-fopt-info-vec-missed"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"gcc failed at {isa}:\n{proc.stderr[-3000:]}")
    dump = subprocess.run(["objdump", "-d", "-r", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                          check=True)
    packed = WIDTH[isa]
    bodies = functions(dump.stdout)
    result, libm = {}, {}
    for name, body in bodies.items():
        if not name.startswith("fa_range_"):
            continue
        # Identical code folding: a function that is only a jump to another
        # (e.g. _vm_tanh_f32 -> tanh_f32) is that one.
        alias = re.fullmatch(r"\s*[0-9a-f]+:\s+jmp\s+[0-9a-f]+ <(fa_range_\w+)>\s*(\n.*(nop|R_X86).*)*", body)
        code = with_hand_loops(alias.group(1) if alias else name, bodies)
        result[name] = vectorised(code, packed)
        libm[name] = sorted(set(LIBM_CALL.findall("\n".join(code))))
    return result, libm, proc.stderr


def baseline_tables() -> set[str]:
    """Range functions that read a float32 table with scalar loads at the
    SSE2 baseline by design (FA_TAB_BASELINE_<table> in act_table.h: faster
    there than the vectorised closed form), from the kernels act_loops.h
    pairs with those tables; float16 computes in float32, so both."""
    wanted = set(re.findall(r"#define FA_TAB_BASELINE_(\w+)", (SRC / "act_table.h").read_text()))
    names = set()
    for kernel, table in re.findall(r"^FA_TAB_LOOP\((\w+), \d+, (\w+),", (SRC / "act_loops.h").read_text(), re.M):
        if table in wanted:
            ufunc = kernel.replace("_grad", "_backward")
            names |= {f"fa_range_{ufunc}_f16", f"fa_range_{ufunc}_f32"}
    return names


def missed_by_row(stderr: str) -> dict[str, collections.Counter]:
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in stderr.splitlines():
        match = re.match(r"^(src/\S+\.(?:def|h)):(\d+):\d+: missed: (.*)$", line.replace(str(REPO) + "/", ""))
        if match and "couldn't vectorize loop" not in match.group(3):
            rows[f"{match.group(1)}:{match.group(2)}"][match.group(3)] += 1
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missed", action="store_true", help="print GCC's missed-vectorisation notes per table row")
    args = parser.parse_args()
    for tool in ("gcc", "objdump"):
        if shutil.which(tool) is None:
            sys.exit(f"needs {tool}")
    import numpy

    levels = isa_flags()
    results: dict[str, dict[str, bool]] = {}
    calls: list[str] = []
    notes: dict[str, dict[str, collections.Counter]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for isa, flags in levels.items():
            results[isa], libm, stderr = compile_level(isa, flags, Path(tmp), numpy.get_include())
            calls += [f"{name}@{isa} ({', '.join(names)})" for name, names in sorted(libm.items()) if names]
            notes[isa] = missed_by_row(stderr)

    names = sorted({name for per in results.values() for name in per})
    by_design = baseline_tables()
    print(f"| range function | {' | '.join(levels)} |")
    print("|---|" + "---|" * len(levels))
    scalar = []
    for name in names:
        cells = []
        for isa in levels:
            ok = results[isa].get(name)
            if not ok and isa == "baseline" and name in by_design:
                cells.append("scalar (table)")
                continue
            cells.append("vector" if ok else "**SCALAR**")
            if not ok:
                scalar.append(f"{name}@{isa}")
        print(f"| {name.removeprefix('fa_range_')} | {' | '.join(cells)} |")
    native = no_native()
    print()
    print(f"{len(names)} range functions x {len(levels)} levels; scalar: {len(scalar)} "
          f"(and {len(by_design)} baseline table lookups, scalar by design)")
    print("libm calls: " + ("none" if not calls else "FOUND in " + "; ".join(calls)))
    print("-march=native: " + ("none" if not native else "FOUND in " + ", ".join(native)))
    if args.missed:
        for isa, rows in notes.items():
            print(f"\n## GCC missed notes at {isa} (strided paths are not expected to vectorise)")
            for row, counter in sorted(rows.items()):
                print(f"- {row}: " + "; ".join(f"{n}x {msg}" for msg, n in counter.most_common(3)))
    return 1 if scalar or native or calls else 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
