"""The public API behaves as NumPy users expect: ufuncs, keyword parameters,
dtype rules, ufunc keyword arguments, pickling, __array_ufunc__ dispatch,
threads and SIMD levels."""

from __future__ import annotations

import inspect
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastact
from fastact._registry import Activation

from function_cases import activation_params, parity_budget
from inputs import DIRECTIONS, arguments, dtype_id, reference_of, result_dtype
from ulp import assert_ulp_close


@pytest.mark.parametrize("act", activation_params())
def test_parameterless_functions_are_ufuncs(act: Activation) -> None:
    for fn in (act.forward, act.backward):
        if act.params or act.rowwise:
            assert callable(fn) and not isinstance(fn, np.ufunc)
            assert isinstance(fn.ufunc, np.ufunc)
        else:
            assert isinstance(fn, np.ufunc)


@pytest.mark.parametrize("act", activation_params(lambda act: bool(act.params)))
def test_parameters_are_keywords_with_defaults(act: Activation) -> None:
    for fn in (act.forward, act.backward):
        signature = inspect.signature(fn)
        for name, default in act.params.items():
            assert signature.parameters[name].default == default


@pytest.mark.parametrize("act", activation_params())
def test_docstrings_name_the_saved_tensor(act: Activation) -> None:
    assert act.forward.__doc__ and act.backward.__doc__
    doc = act.backward.__doc__.lower()
    assert "saved" in doc and act.saved in doc


def test_relu_sigmoid_docstring_explains_the_trap() -> None:
    doc = fastact.relu_sigmoid.__doc__
    assert "0.5" in doc and "gradient" in doc.lower()


@pytest.mark.parametrize("act", activation_params())
def test_functions_pickle_by_name(act: Activation) -> None:
    for fn in (act.forward, act.backward):
        assert pickle.loads(pickle.dumps(fn)) is fn


ALL_DTYPES = (
    np.float16,
    np.float32,
    np.float64,
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("act", activation_params())
def test_result_dtype_is_that_of_np_exp(act: Activation, dtype) -> None:
    x = np.ones(3, dtype)
    assert act.forward(*[x] * len(act.args)).dtype == result_dtype(dtype)
    assert act.backward(x, *[x] * len(act.args)).dtype == result_dtype(dtype)


@pytest.mark.parametrize("act", activation_params(lambda act: bool(act.params)))
def test_parameters_never_change_the_dtype(act: Activation) -> None:
    x = np.linspace(-2, 2, 4, dtype=np.float32)
    for value in (0.2, np.float64(0.2), np.float32(0.2), np.array(0.2), np.array([0.1, 0.2, 0.3, 0.4]), 1):
        params = dict.fromkeys(act.params, value)
        assert act.forward(x, **params).dtype == np.float32, repr(value)
        assert act.backward(x, x, **params).dtype == np.float32, repr(value)


@pytest.mark.parametrize("act", activation_params())
def test_python_scalars_and_lists(act: Activation) -> None:
    """Python numbers are float64 (like np.exp(1.0)); 0-d in, NumPy scalar out."""
    y = act.forward(0.5)
    assert isinstance(y, np.float64)
    assert act.forward([0.5, -0.5]).dtype == np.float64
    assert isinstance(act.backward(1.0, 0.5), np.float64)
    assert act.backward(1.0, np.float32([0.5])).dtype == np.float32  # a Python float is "weak"


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_dtype_keyword_selects_the_loop(act: Activation, direction, rng) -> None:
    args = arguments(act, direction, np.float32, (9,), rng, act.params)
    result = getattr(act, direction)(*args, **act.params, dtype=np.float64)
    assert result.dtype == np.float64
    expected = reference_of(act, direction)(*(a.astype(np.float64) for a in args), **act.params)
    assert_ulp_close(result, expected, parity_budget(act.name, direction, np.float64))


@pytest.mark.parametrize("act", activation_params())
def test_casting_keyword_is_forwarded(act: Activation, rng) -> None:
    (x,) = arguments(act, "forward", np.float64, (5,), rng, act.params)[:1]
    out = np.zeros(5, np.float32)
    act.forward(x, **act.params, out=out, casting="same_kind")
    expected = reference_of(act, "forward")(x, **act.params).astype(np.float32)
    assert_ulp_close(out, expected, max(1, parity_budget(act.name, "forward", np.float32)))
    with pytest.raises(TypeError):
        act.forward(x, **act.params, out=out, casting="safe")


class Recorder:
    """A duck array that records the ufunc NumPy hands to __array_ufunc__."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self.seen.append(ufunc.__name__)
        return "dispatched"


@pytest.mark.parametrize("act", activation_params())
def test_array_ufunc_dispatch(act: Activation) -> None:
    """Dask, xarray and friends see fastact's ufuncs through __array_ufunc__."""
    duck = Recorder()
    assert act.forward(duck, *[1.0] * (len(act.args) - 1), **act.params) == "dispatched"
    assert act.backward(1.0, duck, *[1.0] * (len(act.args) - 1), **act.params) == "dispatched"
    assert duck.seen == [act.name, f"{act.name}_backward"]


def test_simd_level_and_threads() -> None:
    assert isinstance(fastact.simd_level(), str) and fastact.simd_level()
    before = fastact.get_num_threads()
    try:
        fastact.set_num_threads(1)
        assert fastact.get_num_threads() == 1
        for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)):
            with pytest.raises(error):
                fastact.set_num_threads(bad)
        assert fastact.get_num_threads() == 1
    finally:
        fastact.set_num_threads(before)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_results_do_not_depend_on_the_thread_count(act: Activation, direction, rng) -> None:
    args = arguments(act, direction, np.float32, (1 << 20,), rng, act.params)
    fn = getattr(act, direction)
    before = fastact.get_num_threads()
    try:
        fastact.set_num_threads(1)
        one = fn(*args, **act.params)
        fastact.set_num_threads(max(2, before))
        many = fn(*args, **act.params)
    finally:
        fastact.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


# Every SIMD level compiled in, each in a fresh interpreter (the level is
# chosen at import): parity with the reference on random and special values.
_LEVEL_CHECK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    import numpy as np, fastact
    from fastact._registry import ACTIVATIONS
    from function_cases import parity_budget
    from inputs import backward_args, reference_of, special_values
    from ulp import ulp_distance
    assert fastact.simd_level() == {level!r}, fastact.simd_level()
    rng = np.random.default_rng(0)
    failures = []
    for dtype in (np.float16, np.float32, np.float64):
        x = np.concatenate([rng.uniform(-30, 30, 1000), special_values(dtype)]).astype(dtype)
        g = rng.uniform(-2, 2, x.size).astype(dtype)
        for act in (a for a in ACTIVATIONS if len(a.args) == 1):
            for direction, args in (("forward", (x,)), ("backward", backward_args(act, g, (x,), act.params))):
                got = getattr(act, direction)(*args, **act.params)
                want = reference_of(act, direction)(*args, **act.params)
                worst = ulp_distance(got, want).max()
                if worst > parity_budget(act.name, direction, dtype):
                    failures.append(f"{{act.name}} {{direction}} {{np.dtype(dtype)}}: {{worst}} ULP")
    print(json.dumps(failures))
    """
)


def _compiled_levels() -> tuple[str, ...]:
    return tuple(getattr(fastact._core, "COMPILED_LEVELS", ()))


def _run_python(code: str, cwd, **env: str) -> subprocess.CompletedProcess:
    """A fresh interpreter outside the source tree (which would shadow the installed fastact)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("level", _compiled_levels() or ["baseline"])
def test_every_simd_level(level: str, tmp_path) -> None:
    tests = os.path.dirname(os.path.abspath(__file__))
    proc = _run_python(_LEVEL_CHECK.format(tests=tests, level=level), tmp_path, FASTACT_SIMD=level)
    if proc.returncode and "does not support" in proc.stderr:
        pytest.skip(f"this CPU cannot run {level}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_unknown_simd_level_is_a_clear_import_error(tmp_path) -> None:
    proc = _run_python("import fastact", tmp_path, FASTACT_SIMD="no-such-level")
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "no-such-level" in proc.stderr
