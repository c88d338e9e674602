"""pytest configuration for the fastact test suite.

The suite tests the INSTALLED fastact (pytest runs with --import-mode=importlib,
set in pyproject.toml): the source tree is never put on sys.path. Only this
directory is, so that the test modules can share the small helper modules
next to them (function_cases, inputs, ulp).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# Deterministic and quick enough for the ~2 minute budget of the whole suite.
settings.register_profile(
    "fastact",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fastact")


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test id: reproducible, different per test."""
    return np.random.default_rng(list(request.node.nodeid.encode()))


def pytest_report_header(config: pytest.Config) -> list[str]:
    import fastact

    return [
        f"fastact {fastact.__version__} from {Path(fastact.__file__).parent}",
        f"fastact.simd_level()={fastact.simd_level()} get_num_threads()={fastact.get_num_threads()}",
    ]
