"""`python -m fastact bench` runs and prints a readable Markdown table.

Only the report's shape is tested: timings never appear in assertions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fastact._bench as bench

REPO = Path(__file__).resolve().parents[1]
HEADER = "| function | direction | dtype | n | ns/element | GB/s | vs copy | speedup |"


def _fastact(*args: str, cwd) -> subprocess.CompletedProcess:
    # cwd outside the source tree, which would shadow the installed package.
    return subprocess.run(
        [sys.executable, "-m", "fastact", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_report_table_and_file(tmp_path) -> None:
    report = tmp_path / "report.md"
    proc = _fastact(
        "bench",
        "--functions",
        "relu,leaky_relu",
        "--dtypes",
        "float32,float64",
        "--sizes",
        "1e3",
        "--budget",
        "0.002",
        "--out",
        str(report),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert HEADER in lines
    rows = [line for line in lines[lines.index(HEADER) + 2 :] if line.startswith("| ")]
    assert len(rows) == 2 * 2 * 2  # functions x directions x dtypes
    assert all(len(row.split("|")) == 10 for row in rows)
    assert any(line.startswith("- CPU:") for line in lines)
    assert any("simd_level()" in line and "get_num_threads()" in line for line in lines)
    assert report.read_text() == proc.stdout


@pytest.mark.parametrize(
    "args", [("--functions", "nope"), ("--dtypes", "int8"), ("--dtypes", "nope"), ("--sizes", "x")]
)
def test_bad_arguments_are_usage_errors(args, tmp_path) -> None:
    proc = _fastact("bench", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert args[1] in proc.stderr


def test_rows_are_consistent() -> None:
    rows = bench.run(["sigmoid"], ["float32"], [2000], budget=0.002)
    assert [(r.function, r.direction) for r in rows] == [("sigmoid", "forward"), ("sigmoid", "backward")]
    for row in rows:
        assert row.seconds > 0 and row.baseline_seconds > 0 and row.reference_seconds > 0
        reads = 1 if row.direction == "forward" else 2
        assert row.bytes_moved == (reads + 1) * 2000 * 4


@pytest.mark.skipif(not (REPO / "fastact" / "__init__.py").exists(), reason="not run from a checkout")
def test_readme_bench_command_runs_inside_the_checkout() -> None:
    """README's first command, `pip install . && python -m fastact bench --quick`,
    runs in the clone, where `python -m` puts the source tree (without the
    compiled core) first on sys.path: the package must still work there."""
    proc = _fastact(
        "bench", "--functions", "relu", "--dtypes", "float32", "--sizes", "1e3", "--budget", "0.002", cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
