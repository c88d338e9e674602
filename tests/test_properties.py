"""Property tests (hypothesis): identities and shapes that hold for any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastact
from fastact._registry import Activation

from function_cases import NONDECREASING, with_param_sets
from ulp import ulp_distance

DTYPES = (np.float32, np.float64)


def finite_arrays(dtype, **kwargs) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=64),
        elements=st.floats(allow_nan=False, width=np.dtype(dtype).itemsize * 8, **kwargs),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_symmetry(dtype) -> None:
    """sigmoid(x) + sigmoid(-x) = 1 within a few ULP of 1."""

    @given(finite_arrays(dtype))
    def check(x):
        total = fastact.sigmoid(x) + fastact.sigmoid(-x)
        assert np.all(np.abs(total - 1) <= 4 * np.finfo(dtype).eps), x[np.argmax(np.abs(total - 1))]

    check()


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_is_odd(dtype) -> None:
    @given(finite_arrays(dtype))
    def check(x):
        np.testing.assert_array_equal(fastact.tanh(-x), -fastact.tanh(x))

    check()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: act.name in NONDECREASING))
def test_monotone(act: Activation, params, dtype) -> None:
    """f(sorted x) is sorted, and backward has the sign of grad."""

    @given(finite_arrays(dtype, allow_infinity=True))
    def check(x):
        x = np.sort(x)
        y = act.forward(x, **params)
        assert np.all(y[1:] >= y[:-1]), (x, y)
        saved = y if act.saved == "output" else x
        g = np.ones_like(x)
        assert np.all(act.backward(g, saved, **params) >= 0)
        assert np.all(act.backward(-g, saved, **params) <= 0)

    check()


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_sigmoid_is_sigmoid_of_relu(dtype) -> None:
    """The fused kernel is the composition, to the ULP (the trap: >= 0.5)."""

    @given(finite_arrays(dtype, allow_infinity=True))
    def check(z):
        fused = fastact.relu_sigmoid(z)
        assert np.all(fused >= 0.5)
        assert ulp_distance(fused, fastact.sigmoid(fastact.relu(z))).max() <= 1

    check()


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_sigmoid_is_sigmoid_of_leaky_relu(dtype) -> None:
    @given(finite_arrays(dtype, allow_infinity=True), st.floats(0.0, 1.0))
    def check(z, alpha):
        fused = fastact.leaky_relu_sigmoid(z, alpha=alpha)
        composed = fastact.sigmoid(fastact.leaky_relu(z, alpha=alpha))
        assert ulp_distance(fused, composed).max() <= 1

    check()
