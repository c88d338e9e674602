"""Does the extension build for another architecture? (issue 4: "other
architectures build the baseline without breaking the build")

Development-time tool. Compiles every C source of the module (the Cython
output of src/_core.pyx, src/dispatch.c, threads.c, table.c, and
src/loops.c once, as the baseline level, the only one CMakeLists.txt
builds off x86-64) with a cross compiler and the flags of CMakeLists.txt,
links a shared object, and checks that it exports PyInit__core, calls no
libm transcendental, and that the compiler vectorised the kernels with the
target's SIMD (counts packed NEON arithmetic on aarch64). Warnings are
errors. The headers are this machine's Python and NumPy ones: this checks
the C, it does not produce a wheel (CMake with a cross toolchain file and
the target's Python would).

    apt-get install gcc-aarch64-linux-gnu       # the cross compiler only
    python tools/cross_build.py                 # aarch64-linux-gnu-gcc
    python tools/cross_build.py --cc powerpc64le-linux-gnu-gcc

Do not install the target's python3 through dpkg's multiarch to run the
result: on Debian 12, python3.11:arm64 replaces the host's interpreter.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
# Packed floating-point arithmetic on 128-bit NEON registers (v0.4s, v1.2d).
NEON_PACKED = re.compile(r"\bf(?:add|sub|mul|mla|mls|div|max|min|neg|abs)\s+v\d+\.(?:4s|2d)")
LIBM = re.compile(r"\b(?:exp|expm1|log|log1p|tanh|erf|erfc|pow|fma)f?\b")


def common_flags() -> list[str]:
    """FA_COMMON_FLAGS and FA_WARN_FLAGS of CMakeLists.txt (one source of truth)."""
    text = (REPO / "CMakeLists.txt").read_text()
    flags = []
    for name in ("FA_COMMON_FLAGS", "FA_WARN_FLAGS"):
        match = re.search(rf"set\({name}\s+([^)]*)\)", text)
        if match:
            flags += match.group(1).split()
    return flags


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or "warning:" in proc.stderr:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def compile_objects(cc: str, out: Path) -> list[Path]:
    """Every C source of the module compiled with cc into out (loops.c as the
    baseline level); exits on an error or a warning."""
    includes = ["-I", str(SRC), "-I", np.get_include(), "-I", sysconfig.get_paths()["include"]]
    flags = common_flags() + ["-fPIC"] + includes
    defines = ["-DFA_HAVE_BASELINE=1", "-DFA_HAVE_PTHREADS=1",
               "-DNPY_NO_DEPRECATED_API=NPY_2_0_API_VERSION",
               f'-DFA_COMPILER="{cc}"', '-DFA_BUILD_FLAGS="cross check"']
    core_c = out / "_core.c"
    run([sys.executable, "-m", "cython", "-3", "--fast-fail", "-I", str(SRC),
         str(SRC / "_core.pyx"), "-o", str(core_c)])
    objects = []
    for source, extra in [(SRC / "loops.c", ["-DFA_ISA=baseline"]), (SRC / "dispatch.c", defines),
                          (SRC / "threads.c", defines), (SRC / "table.c", defines)]:
        obj = out / (source.stem + ".o")
        run([cc, *flags, *extra, "-c", str(source), "-o", str(obj)])
        objects.append(obj)
    # The generated file is not ours to lint: its warnings do not count.
    obj = out / "_core.o"
    proc = subprocess.run([cc, *[f for f in flags if not f.startswith("-W")], *defines,
                           "-c", str(core_c), "-o", str(obj)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAILED: the Cython module\n{proc.stderr}")
    objects.append(obj)
    return objects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", default="aarch64-linux-gnu-gcc", help="the cross C compiler")
    args = parser.parse_args()
    if not shutil.which(args.cc):
        sys.exit(f"{args.cc} not found (e.g. apt-get install gcc-aarch64-linux-gnu)")
    prefix = args.cc[: -len("gcc")] if args.cc.endswith("gcc") else ""
    objdump, nm = prefix + "objdump", prefix + "nm"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        objects = compile_objects(args.cc, out)
        lib = out / "_core.so"
        run([args.cc, "-shared", "-o", str(lib), *map(str, objects), "-lm", "-lpthread"])
        exported = run([nm, "-D", "--defined-only", str(lib)])
        undefined = run([nm, "-D", "--undefined-only", str(lib)])
        disasm = run([objdump, "-d", str(out / "loops.o")])
    libm = sorted({m.group(0) for m in LIBM.finditer(undefined)})
    packed = len(NEON_PACKED.findall(disasm))
    print(f"{args.cc}: 5 sources compiled without warnings, linked")
    print(f"PyInit__core exported: {'PyInit__core' in exported}")
    print(f"libm transcendental calls: {', '.join(libm) or 'none'}")
    if "aarch64" in args.cc:
        print(f"packed NEON arithmetic instructions in the kernels: {packed}")
    ok = "PyInit__core" in exported and not libm and (packed > 0 or "aarch64" not in args.cc)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
