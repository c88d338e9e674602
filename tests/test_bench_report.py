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
HEADER = "| function | direction | dtype | n | ns/element | GB/s | vs copy | speedup |"  # + "vs <peer>" columns


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
        "--peers",
        "none",
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
    "args",
    [
        ("--functions", "nope"),
        ("--dtypes", "int8"),
        ("--dtypes", "nope"),
        ("--sizes", "x"),
        ("--threads", "0"),
        ("--peers", "numba"),
    ],
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


def test_peer_columns_when_installed(tmp_path) -> None:
    """A column per installed peer, '-' where the peer has no such kernel
    (scipy has expit for sigmoid, nothing for relu or any backward)."""
    from fastact import _peers

    peers = [p.name for p in _peers.load()]
    if not peers:
        pytest.skip("neither scipy nor torch is installed")
    proc = _fastact(
        "bench", "--functions", "relu,sigmoid", "--dtypes", "float32", "--sizes", "1e3", "--budget", "0.002",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    head = HEADER + "".join(f" vs {p} |" for p in peers)
    lines = proc.stdout.splitlines()
    assert head in lines
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line.split("|")[9:-1]
            for line in lines[lines.index(head) + 2 :] if line.startswith("| ")}
    assert len(rows) == 4
    if "scipy" in peers:
        col = peers.index("scipy")
        assert rows[("sigmoid", "forward")][col].strip().endswith("x")
        assert rows[("relu", "forward")][col].strip() == "-"
        assert rows[("sigmoid", "backward")][col].strip() == "-"
    if "torch" in peers:
        col = peers.index("torch")
        assert all(cells[col].strip().endswith("x") for cells in rows.values())
    assert "peers: " in proc.stdout and "(torch.get_num_threads() = 1, CPU capability " in proc.stdout or "torch" not in peers


def test_every_peer_kernel_runs_on_the_bench_inputs() -> None:
    """Each peer entry of an existing fastact function accepts the bench's
    arguments and gives fastact's result (a wrong peer would time nonsense)."""
    import numpy as np

    from fastact import _peers

    peers = _peers.load()
    if not peers:
        pytest.skip("neither scipy nor torch is installed")
    rng = np.random.default_rng(1)
    checked = 0
    for act in bench.ACTIVATIONS:
        for direction in bench.DIRECTIONS:
            args = bench.make_inputs(act, direction, "float64", 3000, rng)
            fast = getattr(act, direction)
            expected = fast(*args, **act.params)
            for peer in peers:
                out = bench._out_like(expected)
                call = peer.bind(act.name, direction, args, out, act.params)
                if call is None:
                    continue
                got = call()
                got = tuple(np.asarray(g) for g in got) if isinstance(got, tuple) else np.asarray(got)
                for g, e in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple) else (expected,)):
                    np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-12, err_msg=f"{peer.name} {act.name} {direction}")
                checked += 1
    assert checked > 0


def test_targets_mode(tmp_path) -> None:
    report = tmp_path / "targets.md"
    proc = _fastact(
        "bench", "--targets", "--functions", "relu,tanh", "--budget", "0.002", "--peers", "none",
        "--repeat", "2", "--out", str(report), cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines() if line.startswith("| ") and line[2].isdigit()]
    targets = {int(r[0]) for r in rows}
    assert targets == {1, 2, 3, 4}
    assert all(r[6].strip() in ("PASS", "MISS", "n/a") for r in rows)
    assert {(r[1].strip(), r[2].strip()) for r in rows if r[0].strip() == "4"} == {("tanh", "forward"), ("tanh", "backward")}
    text = report.read_text()
    assert "## Targets" in text and "- target 1:" in text and "- target 4:" in text
    # the file holds the merged rows: each measured one the median of 2 runs
    merged = [line for line in text.splitlines() if line.startswith("| 1 | ")]
    assert len(merged) == 4 and all("median of 2: " in line for line in merged)


def test_target_1_names_a_yardstick_other_than_its_own() -> None:
    """A call with more inputs than the target's text (copyto forward, add
    backward) is timed against NumPy's ufunc of as many inputs, and its row
    says which; the others say nothing."""
    rows = bench.targets(["relu", "bce_with_logits"], budget=0.002, which=(1,))
    notes = {(r.function, r.direction): r.note for r in rows}
    assert notes == {
        ("relu", "forward"): "",
        ("relu", "backward"): "",
        ("bce_with_logits", "forward"): "against np.add(a, b, out=out)",
        ("bce_with_logits", "backward"): "against np.clip(a, b, c, out=out)",
    }


def test_repeated_targets_take_each_rows_median(monkeypatch) -> None:
    """targets_repeated: per row, the median of its runs' ratios (not of
    the whole run), n/a rows stay n/a, the median run's note is kept."""
    runs = iter([
        [bench.TargetRow(1, "relu", "forward", "float32", 1.4, 1.3, True),
         bench.TargetRow(2, "relu", "forward", "float32", None, 1.0, True, "no torch kernel"),
         bench.TargetRow(4, "tanh", "forward", "float32", 1.5, 1.6, False, "cores a")],
        [bench.TargetRow(1, "relu", "forward", "float32", 1.0, 1.3, True),
         bench.TargetRow(2, "relu", "forward", "float32", None, 1.0, True, "no torch kernel"),
         bench.TargetRow(4, "tanh", "forward", "float32", 1.9, 1.6, False, "cores b")],
        [bench.TargetRow(1, "relu", "forward", "float32", 1.2, 1.3, True),
         bench.TargetRow(2, "relu", "forward", "float32", None, 1.0, True, "no torch kernel"),
         bench.TargetRow(4, "tanh", "forward", "float32", 1.7, 1.6, False, "cores c")],
    ])
    monkeypatch.setattr(bench, "targets", lambda *args, **kwargs: next(runs))
    first, na, threads = bench.targets_repeated(["relu", "tanh"], repeats=3)
    assert first.ratio == 1.2 and first.verdict == "PASS" and first.note == "median of 3: 1.40 1.00 1.20"
    assert na.ratio is None and na.verdict == "n/a" and na.note == "no torch kernel"
    assert threads.ratio == 1.7 and threads.note == "cores c; median of 3: 1.50 1.90 1.70"


def test_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    proc = _fastact(
        "bench", "--functions", "relu", "--dtypes", "float32", "--sizes", "1e3,1e4", "--budget", "0.002",
        "--peers", "none", "--plot", str(png), cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
