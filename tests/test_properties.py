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
@pytest.mark.parametrize(
    ("act", "params"),
    # a negative leaky slope makes x <= 0 decreasing (celu's alpha < 0 does not)
    with_param_sets(
        lambda act: act.name in NONDECREASING,
        lambda act, params: not (act.name.startswith("leaky") and params["alpha"] < 0),
    ),
)
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
    @given(finite_arrays(dtype, allow_infinity=True), st.floats(-1.0, 1.0))
    def check(z, alpha):
        fused = fastact.leaky_relu_sigmoid(z, alpha=alpha)
        composed = fastact.sigmoid(fastact.leaky_relu(z, alpha=alpha))
        assert ulp_distance(fused, composed).max() <= 1

    check()


@pytest.mark.parametrize("approximate", ("none", "tanh"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_odd_part_is_x(dtype, approximate) -> None:
    """gelu(x) - gelu(-x) = x (Phi(x) + Phi(-x) = 1; sigmoid(w) + sigmoid(-w) = 1),
    within a few ULP of the larger of the two terms."""

    @given(finite_arrays(dtype, min_value=-1e6, max_value=1e6))
    def check(x):
        a, b = fastact.gelu(x, approximate=approximate), fastact.gelu(-x, approximate=approximate)
        scale = np.maximum(np.abs(a), np.abs(b))
        err = np.abs((a.astype(np.float64) - b) - x)
        assert np.all(err <= 8 * np.spacing(scale.astype(dtype)) + np.finfo(dtype).smallest_subnormal), x

    check()


@pytest.mark.parametrize("beta", (1.0, 0.5, 3.0))
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_odd_part_is_x(dtype, beta) -> None:
    """softplus(x) - softplus(-x) = x for the exact function (threshold=inf)."""

    @given(finite_arrays(dtype, min_value=-1e6, max_value=1e6))
    def check(x):
        a = fastact.softplus(x, beta=beta, threshold=np.inf)
        b = fastact.softplus(-x, beta=beta, threshold=np.inf)
        scale = np.maximum(np.abs(a), np.abs(b))
        err = np.abs((a.astype(np.float64) - b) - x)
        assert np.all(err <= 8 * np.spacing(scale.astype(dtype)) + np.finfo(dtype).smallest_subnormal), x

    check()


def rows(dtype, **kwargs) -> st.SearchStrategy[np.ndarray]:
    """2-d arrays of finite values: rows of 1 to 40 elements."""
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8,
                           **kwargs),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one(dtype) -> None:
    @given(rows(dtype), st.sampled_from([1.0, 0.5, 3.0]), st.sampled_from([0, 1, -1]))
    def check(x, temperature, axis):
        p = fastact.softmax(x, axis=axis, temperature=temperature)
        assert np.all(p >= 0) and np.all(p <= 1)
        total = np.sum(p.astype(np.float64), axis=axis)
        n = x.shape[axis]
        assert np.all(np.abs(total - 1) <= (4 + n) * np.finfo(dtype).eps), (x, total)

    check()


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_is_log_of_softmax_where_finite(dtype) -> None:
    """Where softmax is a normal number its log agrees with log_softmax (and
    log_softmax stays finite, accurate, where softmax underflows to 0)."""

    @given(rows(dtype, min_value=-1e4, max_value=1e4), st.sampled_from([1.0, 0.5, 3.0]))
    def check(x, temperature):
        logp = fastact.log_softmax(x, temperature=temperature)
        p = fastact.softmax(x, temperature=temperature)
        assert np.all(np.isfinite(logp))
        normal = p >= np.finfo(dtype).smallest_normal
        direct = np.log(p[normal].astype(np.float64))
        eps = np.finfo(dtype).eps
        tol = 8 * eps * (1 + np.abs(direct))
        assert np.all(np.abs(logp[normal] - direct) <= tol), (x, logp, p)

    check()


@pytest.mark.parametrize("beta", (1.0, 0.5, 3.0))
@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_softplus_is_increasing(dtype, beta) -> None:
    """softplus with threshold=inf (the exact function) is non-decreasing and its
    derivative lies in [0, 1]."""

    @given(finite_arrays(dtype, allow_infinity=True))
    def check(x):
        x = np.sort(x)
        y = fastact.softplus(x, beta=beta, threshold=np.inf)
        assert np.all(y[1:] >= y[:-1]), (x, y)
        d = fastact.softplus_backward(np.ones_like(x), x, beta=beta, threshold=np.inf)
        assert np.all((d >= 0) & (d <= 1))

    check()
