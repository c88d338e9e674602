"""Runtime SIMD dispatch: FASTACT_SIMD forces a level, a bad one is a clear
ImportError, and the accuracy and parity tests pass at every level this CPU
supports.

This run covers the default (best) level in-process; every other supported
level gets a child pytest run with FASTACT_SIMD set, over the files in
LEVEL_SUITE. The children start together (one per level) and run while the
rest of this file does, to keep the whole suite quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastact
from fastact import _core

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
# What differs between levels is the generated code: accuracy, parity
# (layouts, dtypes, threads), special values, and the vector math itself.
LEVEL_SUITE = ("test_accuracy.py", "test_parity.py", "test_special_values.py", "test_vmath.py",
               "test_rowwise.py", "test_losses.py")
# Deselected in the children: tests that start their own per-level runs.
CHILD_DESELECT = "not every_simd_level"
CHILD_TIMEOUT = 600

OTHER_LEVELS = [level for level in _core.SUPPORTED_LEVELS if level != fastact.simd_level()]


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FASTACT_SIMD"}
    env.update(overrides)
    return env


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    # cwd: the tests directory, never the source tree (which has an uncompiled fastact/).
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_env(**env), cwd=TESTS
    )


def test_default_is_the_best_supported_level() -> None:
    assert fastact.simd_level() == _core.SUPPORTED_LEVELS[-1]
    assert set(_core.SUPPORTED_LEVELS) <= set(_core.COMPILED_LEVELS)
    assert _core.SUPPORTED_LEVELS[0] == "baseline"


@pytest.mark.parametrize("level", _core.SUPPORTED_LEVELS)
def test_forcing_each_supported_level(level: str) -> None:
    proc = _python(
        "import numpy as np, fastact; "
        "print(fastact.simd_level(), fastact.sigmoid(np.float32(0.0)), fastact.relu(np.float64(-1.0)))",
        FASTACT_SIMD=level,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [level, "0.5", "0.0"]


@pytest.mark.parametrize("spelling", [" AVX2 ", "Baseline"])
def test_level_names_ignore_case_and_blanks(spelling: str) -> None:
    level = spelling.strip().lower()
    if level not in _core.SUPPORTED_LEVELS:
        pytest.skip(f"this CPU lacks {level}")
    proc = _python("import fastact; print(fastact.simd_level())", FASTACT_SIMD=spelling)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == level


def test_empty_means_automatic() -> None:
    proc = _python("import fastact; print(fastact.simd_level())", FASTACT_SIMD="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == fastact.simd_level()


@pytest.mark.parametrize("name", ["sse9", "avx1024", "native"])
def test_unknown_level_is_a_clear_import_error(name: str) -> None:
    proc = _python("import fastact", FASTACT_SIMD=name)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: fastact: FASTACT_SIMD="), last
    assert repr(name) in last
    assert "not a SIMD level of this build" in last
    assert ", ".join(_core.COMPILED_LEVELS) in last  # what to choose from
    assert ", ".join(_core.SUPPORTED_LEVELS) in last
    assert "unset it" in last


def test_unsupported_level_is_a_clear_import_error() -> None:
    missing = [level for level in _core.COMPILED_LEVELS if level not in _core.SUPPORTED_LEVELS]
    if not missing:
        pytest.skip("this CPU supports every compiled level")
    proc = _python("import fastact", FASTACT_SIMD=missing[0])
    assert proc.returncode != 0
    assert "this CPU does not support that level" in proc.stderr


# --------------------------------------------------------------------------
# The accuracy and parity suites at every other level, in child processes
# --------------------------------------------------------------------------


def _suite_files() -> list[str]:
    return [str(TESTS / name) for name in LEVEL_SUITE if (TESTS / name).exists()]


@pytest.fixture(scope="module")
def children():
    """One child pytest per other level, all started at once."""
    config = ["-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO)] if (REPO / "pyproject.toml").exists() else []
    procs = {}
    for level in OTHER_LEVELS:
        procs[level] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider",
             "--import-mode=importlib", *config, "-k", CHILD_DESELECT, *_suite_files()],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(FASTACT_SIMD=level, FASTACT_VMATH_CHILD="1", FASTACT_SIMD_CHILD="1"),
            cwd=TESTS,
        )
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(os.environ.get("FASTACT_SIMD_CHILD") == "1", reason="inside a per-level run")
@pytest.mark.parametrize("level", OTHER_LEVELS or [pytest.param(None, marks=pytest.mark.skip("one level only"))])
def test_accuracy_and_parity_at_level(level: str, children) -> None:
    proc = children[level]
    try:
        output, _ = proc.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"FASTACT_SIMD={level}: the child run took over {CHILD_TIMEOUT} s\n{output[-3000:]}")
    assert proc.returncode == 0, f"FASTACT_SIMD={level}:\n{output[-6000:]}"
    assert " passed" in output and f"simd_level()={level}" in output


@pytest.mark.skipif(not (REPO / "CMakeLists.txt").exists(), reason="not run from a checkout")
def test_build_is_portable() -> None:
    """No -march=native (or -mtune/-mcpu=native) in the build: wheels run on
    any x86-64, and the SIMD levels are chosen at run time instead."""
    import re

    for path in (REPO / "CMakeLists.txt", REPO / "pyproject.toml"):
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
        assert not re.search(r"-m(arch|tune|cpu)=native", code), path.name
    cmake = (REPO / "CMakeLists.txt").read_text()
    for level in ("avx2", "avx512"):
        assert f"FA_ISA_FLAGS_{level}" in cmake  # the per-level flags live there
