"""Every public function has its reference, gradient check, budgets and benchmark.

These tests iterate over the registry, so a function added to the kernel
table fails here until its reference, its rows in function_cases.py and its
benchmark inputs exist.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import fastact
import fastact._bench
import fastact.reference as reference
from fastact._registry import ACTIVATIONS, Activation

from function_cases import (
    ACCURACY,
    GRADCHECK,
    PARAM_VALUES,
    PARITY_ULP,
    activation_params,
    ndata,
)

BENCH_SUITE = Path(__file__).resolve().parents[1] / "bench" / "test_bench_activations.py"


def _load_bench_suite() -> ModuleType:
    """The pytest-benchmark suite, imported by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("fastact_bench_suite", BENCH_SUITE)
    assert spec is not None and spec.loader is not None, BENCH_SUITE
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _keyword_defaults(fn) -> dict[str, float]:
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("act", activation_params())
def test_reference_exists_with_the_same_parameters(act: Activation) -> None:
    for name in (act.name, f"{act.name}_backward"):
        assert hasattr(reference, name), f"fastact.reference.{name} is missing"
        assert name in reference.__all__
        axis = {"axis": -1} if act.rowwise else {}  # NumPy's gufunc axis, a keyword of the wrappers
        assert _keyword_defaults(getattr(reference, name)) == {**axis, **act.params}, name


@pytest.mark.parametrize("act", activation_params())
def test_public_names_are_the_registry_functions(act: Activation) -> None:
    assert getattr(fastact, act.name) is act.forward
    assert getattr(fastact, f"{act.name}_backward") is act.backward
    assert act.saved in ("input", "output")
    assert ndata(act) >= 1


@pytest.mark.parametrize("act", activation_params())
def test_test_tables_have_a_row(act: Activation) -> None:
    assert act.name in GRADCHECK, "add a GradCheck row to tests/function_cases.py"
    assert len(GRADCHECK[act.name].domains) == ndata(act)
    assert act.name in PARITY_ULP, "add a parity budget to tests/function_cases.py"
    assert act.name in ACCURACY, "add an Accuracy row to tests/function_cases.py"
    if act.params:
        sets = PARAM_VALUES.get(act.name)
        assert sets, "add the parameter values to test to PARAM_VALUES"
        assert sets[0] == act.params, "the first parameter set must be the defaults"
        assert all(set(s) == set(act.params) for s in sets)


@pytest.mark.parametrize("act", activation_params())
def test_benchmark_cases_exist(act: Activation) -> None:
    assert act.name in fastact._bench.INPUT_RANGES, "add bench inputs to fastact/_bench.py"
    assert len(fastact._bench.INPUT_RANGES[act.name]) == ndata(act)
    cases = {(case.name, case.direction) for case in _load_bench_suite().CASES}
    assert {(act.name, "forward"), (act.name, "backward")} <= cases


def test_reference_has_nothing_the_registry_lacks() -> None:
    public = {n for act in ACTIVATIONS for n in (act.name, f"{act.name}_backward")}
    assert set(reference.__all__) == public
