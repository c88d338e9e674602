"""fastact on Dask arrays: ufuncs (and the wrappers over them) dispatch
through __array_ufunc__, stay lazy, pickle by name to worker processes, and
compute the same values as on NumPy arrays. Row-wise gufuncs work when the
row axis is a single chunk. Skipped when Dask is not installed."""
from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from fastact._registry import ACTIVATIONS  # noqa: E402

from function_cases import activation_params  # noqa: E402
from inputs import DIRECTIONS, arguments  # noqa: E402


def _to_dask(args: tuple, chunks) -> tuple:
    """Dask arrays of the arrays in args: 2-D ones chunked as given, others
    (prelu's per-channel weight) in one chunk."""
    return tuple(da.from_array(a, chunks=chunks if np.ndim(a) == 2 else -1) for a in args)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda a: not a.rowwise))
def test_elementwise_stays_lazy_and_matches_numpy(act, direction, rng) -> None:
    args = arguments(act, direction, np.float32, (64, 30), rng, act.params)
    fn = getattr(act, direction)
    lazy = fn(*_to_dask(args, (16, 10)), **act.params)
    expected = fn(*args, **act.params)
    if isinstance(expected, tuple):  # prelu_backward: (grad_x, grad_weight)
        lazy, expected = lazy[0], expected[0]
    assert isinstance(lazy, da.Array), type(lazy)
    assert lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), expected)


@pytest.mark.parametrize("act", activation_params(lambda a: a.rowwise and a.args == ("x",)))
def test_rowwise_with_single_chunk_rows(act, rng) -> None:
    x = rng.standard_normal((40, 12)).astype(np.float64)
    for axis, chunks in ((-1, (10, 12)), (0, (40, 4))):
        lazy = act.forward(da.from_array(x, chunks=chunks), axis=axis)
        assert isinstance(lazy, da.Array)
        np.testing.assert_array_equal(lazy.compute(scheduler="sync"), act.forward(x, axis=axis))


@pytest.fixture(scope="module")
def process_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_worker_processes_compute_the_same_result(process_cluster, rng) -> None:
    """Each task ships the ufunc to another process by pickle (by name)."""
    x = rng.standard_normal((2000, 50)).astype(np.float32)
    dx = da.from_array(x, chunks=(500, 50))
    for act in ACTIVATIONS:
        if act.rowwise or len(act.args) != 1:
            continue
        got = process_cluster.compute(act.forward(dx, **act.params)).result()
        np.testing.assert_array_equal(got, act.forward(x, **act.params), err_msg=act.name)


def test_extreme_temperature_stays_lazy() -> None:
    """The float64 detour for a temperature float32 cannot hold keeps a Dask
    array lazy and gives what the NumPy call gives."""
    import fastact

    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1e-44]], np.float32)
    lazy = fastact.softmax(da.from_array(x, chunks=(1, 3)), temperature=1e-40)
    assert isinstance(lazy, da.Array) and lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy.compute(), fastact.softmax(x, temperature=1e-40))
    g = [[1.0, 0.0, -1.0]] * 2  # a list beside a float32 array: float64, as NumPy promotes it
    got = fastact.softmax_backward(g, x, temperature=1e39)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, fastact.softmax_backward(np.asarray(g), x.astype(np.float64),
                                                                temperature=1e39))
