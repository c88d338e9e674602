"""The installed type stub (fastact/__init__.pyi) spells out exactly the
public API, and mypy accepts typed code that uses it."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fastact

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from gen_stubs import stub_source  # noqa: E402

sys.path.pop(0)


def test_installed_stub_matches_the_public_api() -> None:
    stub = Path(fastact.__file__).with_name("__init__.pyi")
    assert stub.is_file(), "fastact/__init__.pyi is missing from the installed package"
    assert stub.read_text() == stub_source(), "stub out of date: run python tools/gen_stubs.py"


def test_stub_names_every_public_function() -> None:
    text = Path(fastact.__file__).with_name("__init__.pyi").read_text()
    for name in fastact.__all__:
        assert f"def {name}(" in text or f"{name}:" in text, name


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_mypy_accepts_typed_usage(tmp_path) -> None:
    usage = tmp_path / "usage.py"
    shutil.copy(REPO / "tests" / "typing" / "usage.py", usage)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         str(usage)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
