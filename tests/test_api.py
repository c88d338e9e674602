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

from function_cases import activation_params, numeric_params, parity_budget
from inputs import (
    DIRECTIONS,
    arguments,
    dtype_id,
    float_positions,
    output_shape,
    reference_of,
    result_dtype,
    simple_args,
)
from ulp import assert_ulp_close


@pytest.mark.parametrize("act", activation_params())
def test_parameterless_functions_are_ufuncs(act: Activation) -> None:
    for fn in (act.forward, act.backward):
        if act.params or act.rowwise or act.kind != "elementwise":
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
    args = simple_args(act, x)
    assert first(act.forward(*args)).dtype == result_dtype(dtype)
    grad = np.ones(output_shape(act, x.shape), dtype)
    assert first(act.backward(grad, *args)).dtype == result_dtype(dtype)


def first(result):
    """The result, or grad_x of prelu_backward's (grad_x, grad_weight)."""
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("act", activation_params(lambda act: bool(numeric_params(act))))
def test_parameters_never_change_the_dtype(act: Activation) -> None:
    x = np.linspace(-2, 2, 4, dtype=np.float32)
    for value in (0.2, np.float64(0.2), np.float32(0.2), np.array(0.2), np.array([0.1, 0.2, 0.3, 0.4]), 1):
        params = dict.fromkeys(numeric_params(act), value)
        assert act.forward(*simple_args(act, x), **params).dtype == np.float32, repr(value)
        assert act.backward(x, *simple_args(act, x), **params).dtype == np.float32, repr(value)


@pytest.mark.parametrize("act", activation_params(lambda act: not act.rowwise))
def test_python_scalars_and_lists(act: Activation) -> None:
    """Python numbers are float64 (like np.exp(1.0)); 0-d in, NumPy scalar out."""
    others = (0.25,) * (len(act.args) - 1)  # bce's target, prelu's weight
    y = act.forward(0.5, *others)
    assert isinstance(y, np.float64)
    assert act.forward([0.5, -0.5], *others).dtype == np.float64
    assert isinstance(first(act.backward(1.0, 0.5, *others)), np.float64)
    # a Python float is "weak"
    assert first(act.backward(1.0, np.float32([0.5]), *others)).dtype == np.float32


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params())
def test_dtype_keyword_selects_the_loop(act: Activation, direction, rng) -> None:
    if act.kind == "channelwise" and direction == "backward":
        pytest.skip("prelu_backward returns two arrays and takes no ufunc keywords")
    args = arguments(act, direction, np.float32, (9,), rng, act.params)
    result = getattr(act, direction)(*args, **act.params, dtype=np.float64)
    assert result.dtype == np.float64
    floats = float_positions(act, direction)
    wide = [a.astype(np.float64) if k in floats else a for k, a in enumerate(args)]
    expected = reference_of(act, direction)(*wide, **act.params)
    assert_ulp_close(result, expected, parity_budget(act.name, direction, np.float64))


@pytest.mark.parametrize("act", activation_params())
def test_casting_keyword_is_forwarded(act: Activation, rng) -> None:
    args = arguments(act, "forward", np.float64, (5,), rng, act.params)
    out = np.zeros(output_shape(act, (5,)), np.float32)
    act.forward(*args, **act.params, out=out, casting="same_kind")
    expected = np.asarray(reference_of(act, "forward")(*args, **act.params)).astype(np.float32)
    assert_ulp_close(out, expected, max(1, parity_budget(act.name, "forward", np.float32)))
    with pytest.raises(TypeError):
        act.forward(*args, **act.params, out=out, casting="safe")


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
    assert first(act.backward(1.0, duck, *[1.0] * (len(act.args) - 1), **act.params)) == "dispatched"
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
    for a, b in zip(*(r if isinstance(r, tuple) else (r,) for r in (one, many)), strict=True):
        np.testing.assert_array_equal(a, b)


# Every SIMD level compiled in, each in a fresh interpreter (the level is
# chosen at import): parity with the reference on random and special values.
_LEVEL_CHECK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    import numpy as np, fastact
    from fastact._registry import ACTIVATIONS
    from function_cases import cancellation_scale, param_sets, parity_budget
    from inputs import arguments, backward_args, reference_of, special_values
    from ulp import assert_ulp_close
    assert fastact.simd_level() == {level!r}, fastact.simd_level()
    failures = []

    def check(act, direction, dtype, args, params):
        got = getattr(act, direction)(*args, **params)
        want = reference_of(act, direction)(*args, **params)
        pairs = zip(got, want) if isinstance(want, tuple) else [(got, want)]
        for g, w in pairs:
            if dtype == np.float64:  # (the reference's float64 subnormals are not exact)
                tiny = np.abs(np.asarray(w)) < np.finfo(dtype).smallest_normal
                g, w = np.where(tiny, 0, g), np.where(tiny, 0, w)
            try:
                assert_ulp_close(g, w, parity_budget(act.name, direction, dtype),
                                 scale=cancellation_scale(act, direction, args, params))
            except AssertionError as exc:
                failures.append(f"{{act.name}} {{direction}} {{np.dtype(dtype)}} {{params}}: {{exc}}")

    for dtype in (np.float16, np.float32, np.float64):
        rng = np.random.default_rng(0)
        x = np.concatenate([rng.uniform(-30, 30, 1000), special_values(dtype)]).astype(dtype)
        g = rng.uniform(-2, 2, x.size).astype(dtype)
        for act in ACTIVATIONS:
            for params in param_sets(act):
                for direction in ("forward", "backward"):
                    # random inputs of every function, rows of 41 for the row-wise ones
                    check(act, direction, dtype, arguments(act, direction, dtype, (23, 41), rng, params), params)
                    if act.kind == "elementwise" and len(act.args) == 1:
                        args = (x,) if direction == "forward" else backward_args(act, g, (x,), params)
                        check(act, direction, dtype, args, params)
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
