"""gelu(x, approximate="none" | "tanh"): one public function over two kernel
rows (gelu: x Phi(x) via erfc; gelu_tanh: x sigmoid(2 sqrt(2/pi)(x + 0.044715
x^3))), chosen by a string as in PyTorch."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

import fastact
import fastact.reference as reference
from fastact import _core
from fastact._registry import ACTIVATIONS

GELU = next(act for act in ACTIVATIONS if act.name == "gelu")


@pytest.mark.parametrize("bad", ("Tanh", "erf", "", "none "), ids=repr)
@pytest.mark.parametrize("impl", ("fastact", "reference"))
def test_unknown_approximation_is_a_value_error(bad, impl) -> None:
    module = fastact if impl == "fastact" else reference
    with pytest.raises(ValueError, match="approximate"):
        module.gelu(np.ones(3), approximate=bad)
    with pytest.raises(ValueError, match="approximate"):
        module.gelu_backward(np.ones(3), np.ones(3), approximate=bad)


@pytest.mark.parametrize("bad", (None, 1, True, b"tanh"), ids=repr)
def test_non_string_approximation_is_a_type_error(bad) -> None:
    with pytest.raises(TypeError, match="gelu"):
        fastact.gelu(np.ones(3), approximate=bad)
    with pytest.raises(TypeError, match="gelu_backward"):
        fastact.gelu_backward(np.ones(3), np.ones(3), approximate=bad)


def test_each_value_runs_its_kernel(rng) -> None:
    x = rng.normal(0, 3, 100).astype(np.float32)
    g = rng.normal(0, 1, 100).astype(np.float32)
    np.testing.assert_array_equal(fastact.gelu(x), _core.gelu(x))
    np.testing.assert_array_equal(fastact.gelu(x, approximate="none"), _core.gelu(x))
    np.testing.assert_array_equal(fastact.gelu(x, approximate="tanh"), _core.gelu_tanh(x))
    np.testing.assert_array_equal(fastact.gelu_backward(g, x), _core.gelu_backward(g, x))
    np.testing.assert_array_equal(fastact.gelu_backward(g, x, approximate="tanh"), _core.gelu_tanh_backward(g, x))
    # positional, as torch.nn.functional.gelu(x, approximate) is not -- but a keyword with a default
    assert inspect.signature(fastact.gelu).parameters["approximate"].default == "none"


def test_the_two_forms_are_close_but_not_equal(rng) -> None:
    x = np.linspace(-6, 6, 1001)
    diff = np.abs(fastact.gelu(x) - fastact.gelu(x, approximate="tanh"))
    assert 0 < diff.max() < 1e-3


def test_ufunc_keywords_pass_through(rng) -> None:
    x = rng.normal(0, 2, (3, 4))
    out = np.empty_like(x)
    for approximate in ("none", "tanh"):
        assert fastact.gelu(x, approximate=approximate, out=out) is out
        np.testing.assert_array_equal(out, fastact.gelu(x, approximate=approximate))
        mask = x > 0
        out[:] = 7
        fastact.gelu(x, approximate=approximate, out=out, where=mask)
        assert np.all(out[~mask] == 7)
        assert fastact.gelu(x.astype(np.float32), approximate=approximate, dtype=np.float64).dtype == np.float64


def test_only_gelu_is_public() -> None:
    """The tanh form is reached through approximate="tanh": no second name."""
    assert not hasattr(fastact, "gelu_tanh") and "gelu_tanh" not in fastact.__all__
    assert GELU.params == {"approximate": "none"}
    assert fastact.gelu.ufunc is _core.gelu


def test_docstrings_describe_both_forms() -> None:
    for fn in (fastact.gelu, fastact.gelu_backward):
        doc = fn.__doc__
        assert "approximate='tanh'" in doc and "erfc" in doc and "ULP" in doc
    assert "saved" in fastact.gelu_backward.__doc__.lower()


def test_pickles_by_name() -> None:
    for fn in (fastact.gelu, fastact.gelu_backward):
        assert pickle.loads(pickle.dumps(fn)) is fn


def test_python_scalars() -> None:
    assert isinstance(fastact.gelu(1.0), np.float64)
    assert isinstance(fastact.gelu(1.0, approximate="tanh"), np.float64)
    assert fastact.gelu(np.float32(1.0), approximate="tanh").dtype == np.float32


@pytest.mark.parametrize("approximate", ("none", "tanh"))
def test_negative_tail_is_not_zero(approximate) -> None:
    """float32 gelu(-10) ~ -7.6e-23 (erf form), not 0 (1 + erf cancels at -5.5);
    the tanh form is still a normal number at -10 and a subnormal at -10.4."""
    for x in (-6.0, -10.0):
        assert fastact.gelu(np.float32(x), approximate=approximate) < 0
    assert 0 < -fastact.gelu(np.float32(-10.4), approximate="tanh") < np.finfo(np.float32).smallest_normal
