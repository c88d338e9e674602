"""Hostile and unusual input, thread and process safety, reference leaks.

The parity tests cover dtypes, layouts, byte order, overlap and out=; this
file covers what a fuzzer or a production service would throw at fastact:
None and datetimes, nested lists, misaligned buffers, bad thread counts,
many Python threads at once with internal threading on, fork() after the
internal pool ran, and a million calls that must not leak.
"""
from __future__ import annotations

import gc
import multiprocessing
import sys
import threading

import numpy as np
import pytest

import fastact
from fastact._registry import ACTIVATIONS

from function_cases import activation_params, parity_budget
from inputs import DIRECTIONS, arguments, call, grad_x, reference_of
from ulp import assert_ulp_close

ELEMENTWISE = [act for act in ACTIVATIONS if not act.rowwise]


def _fn_name(act, direction: str) -> str:
    return act.name if direction == "forward" else f"{act.name}_backward"


@pytest.mark.parametrize(
    "bad",
    [None, np.array(["2020-01-01"], dtype="M8[D]"), np.array([1], dtype="m8[s]"),
     np.array([b"ab"]), np.array([1 + 2j], np.complex64)],
    ids=["None", "datetime64", "timedelta64", "bytes", "complex64"])
@pytest.mark.parametrize("act", activation_params())
def test_non_numeric_input_is_a_type_error_naming_the_function(act, bad, rng) -> None:
    good = arguments(act, "forward", np.float64, (1,), rng, act.params)
    with pytest.raises(TypeError, match=act.name):
        act.forward(bad, *good[1:])
    if bad is not None:  # NumPy names a dtype; None has none, only its type
        with pytest.raises(TypeError, match=str(bad.dtype).replace("[", r"\[").replace("]", r"\]")):
            act.forward(bad, *good[1:])


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda a: not a.rowwise))
def test_nested_lists_work_as_in_numpy(act, direction, rng) -> None:
    args = arguments(act, direction, np.float64, (3, 2), rng, act.params)
    as_lists = [a.tolist() for a in args]
    expected = reference_of(act, direction)(*args, **act.params)
    assert_ulp_close(grad_x(call(getattr(act, direction), *as_lists, **act.params)), grad_x(expected),
                     parity_budget(act.name, direction, np.float64), what=act.name)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda a: not a.rowwise))
def test_misaligned_buffers(act, direction, dtype, rng) -> None:
    """Operands at an odd byte offset (e.g. read from a packed file)."""
    args = arguments(act, direction, dtype, (257,), rng, act.params)
    itemsize = np.dtype(dtype).itemsize
    misaligned = []
    for a in args:
        raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
        view = raw.view(a.dtype)
        view[...] = a
        assert not view.flags.aligned or itemsize == 1
        misaligned.append(view)
    out = np.zeros(257 * itemsize + 1, np.uint8)[1:].view(dtype)
    fn = getattr(act, direction)
    call(fn, *misaligned, **act.params, out=out)
    expected = grad_x(reference_of(act, direction)(*args, **act.params))
    assert_ulp_close(out, np.asarray(expected), parity_budget(act.name, direction, dtype), what=act.name)


@pytest.mark.parametrize("act", activation_params())
def test_float16_in_float16_out(act, rng) -> None:
    for direction in DIRECTIONS:
        args = arguments(act, direction, np.float16, (9,), rng, act.params)
        assert grad_x(getattr(act, direction)(*args, **act.params)).dtype == np.float16


@pytest.mark.parametrize("n", [0, -1, -(2**40)])
def test_set_num_threads_rejects_non_positive(n) -> None:
    before = fastact.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads"):
        fastact.set_num_threads(n)
    assert fastact.get_num_threads() == before


@pytest.mark.parametrize("n", [1.5, "2", None, True])
def test_set_num_threads_rejects_non_integers(n) -> None:
    with pytest.raises(TypeError):
        fastact.set_num_threads(n)


@pytest.fixture
def two_threads():
    before = fastact.get_num_threads()
    fastact.set_num_threads(2)
    yield
    fastact.set_num_threads(before)


def test_concurrent_python_threads_give_identical_results(two_threads, rng) -> None:
    """Four Python threads (the GIL is released inside the loops) hammer
    every function on arrays large enough for internal threading."""
    n = 1 << 18
    jobs = [(act, direction, arguments(act, direction, np.float32, (n,), rng, act.params))
            for act in ELEMENTWISE for direction in DIRECTIONS]
    expected = [getattr(act, d)(*args, **act.params) for act, d, args in jobs]
    failures: list[str] = []

    def worker(seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(jobs))
        for _ in range(3):
            for i in order:
                act, direction, args = jobs[i]
                got = getattr(act, direction)(*args, **act.params)
                pairs = zip(got, expected[i]) if isinstance(got, tuple) else [(got, expected[i])]
                if not all(np.array_equal(a, b, equal_nan=True) for a, b in pairs):
                    failures.append(f"{act.name} {direction}")

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not failures, failures


def _child_computes(queue) -> None:
    x = np.linspace(-5, 5, 1 << 20, dtype=np.float32)
    queue.put(float(fastact.sigmoid(x).sum()) + float(fastact.relu(x).sum()))


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="fork() is POSIX-only")
def test_fork_after_the_thread_pool_ran_does_not_hang(two_threads) -> None:
    x = np.linspace(-5, 5, 1 << 20, dtype=np.float32)
    expected = float(fastact.sigmoid(x).sum()) + float(fastact.relu(x).sum())  # pool runs here
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_computes, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in fastact")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected


@pytest.mark.parametrize("act", activation_params())
def test_repeated_calls_do_not_leak(act, rng) -> None:
    """Reference counts of inputs, outputs, parameters and the ufunc, and the
    number of live objects, stay flat over many calls."""
    args = arguments(act, "backward", np.float32, (64,), rng, act.params)
    out = np.empty(64, np.float32)
    fn = act.backward
    watched = [*args, out, fn, *act.params.values()]

    def run(times: int) -> None:
        for _ in range(times):
            fn(*args, **act.params, out=out)
            fn(*args, **act.params)

    run(200)  # warm caches (parameter cache, NumPy's dispatch cache)
    gc.collect()
    refs = [sys.getrefcount(w) for w in watched]
    objects = len(gc.get_objects())
    run(5000)
    gc.collect()
    assert [sys.getrefcount(w) for w in watched] == refs
    assert len(gc.get_objects()) - objects < 50


INVALID_PARAMETERS = [
    ("softplus", {"beta": 0.0}, "beta>0"),
    ("softplus", {"beta": -1.0}, "beta>0"),
    ("softplus", {"beta": np.array([1.0, -2.0, 1.0])}, "beta>0"),
    ("hardtanh", {"min_val": 2.0, "max_val": 1.0}, "min_val<=max_val"),
    ("softmax", {"temperature": 0.0}, "temperature"),
    ("log_softmax", {"temperature": -1.0}, "temperature"),
]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(("name", "params", "message"), INVALID_PARAMETERS,
                         ids=[f"{n}-{'-'.join(p)}" for n, p, _ in INVALID_PARAMETERS])
def test_invalid_parameter_values_are_value_errors(name, params, message, direction, rng) -> None:
    act = next(a for a in ACTIVATIONS if a.name == name)
    args = arguments(act, direction, np.float64, (3,), rng, act.params)
    with pytest.raises(ValueError, match=message):
        call(getattr(act, direction), *args, **{**act.params, **params})


@pytest.mark.parametrize("axis", [2, -3, 7])
@pytest.mark.parametrize("act", activation_params(lambda a: a.rowwise))
def test_axis_out_of_range_is_an_axis_error(act, axis, rng) -> None:
    """numpy.exceptions.AxisError: both a ValueError and an IndexError."""
    args = arguments(act, "forward", np.float64, (4, 5), rng, act.params)
    with pytest.raises(ValueError, match="axis"):
        call(act.forward, *args, axis=axis)
