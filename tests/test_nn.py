"""fastact.nn: the layers' backward against finite differences, caching and
in-place rules, errors, and training runs that match plain NumPy.

Tests are parametrised over the layer table (fastact.nn.LAYERS); a layer
whose fastact function is not in this build is skipped with a reason that
names the missing function.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import fastact
from fastact import nn
from fastact._registry import ACTIVATIONS

# --------------------------------------------------------------------------
# The cases: every layer, its parameter sets, its kinks
# --------------------------------------------------------------------------

#: Parameter sets to test per layer (defaults first) and the points where
#: the derivative jumps (samples keep away from them).
LAYER_CASES: dict[str, tuple[tuple[dict[str, Any], ...], Any]] = {
    "ReLU": (({},), lambda p: (0.0,)),
    "ReLU6": (({},), lambda p: (0.0, 6.0)),
    "LeakyReLU": (({}, {"alpha": 0.2}), lambda p: (0.0,)),
    "ELU": (({}, {"alpha": 0.5}), lambda p: (0.0,)),
    "SELU": (({},), lambda p: (0.0,)),
    "CELU": (({}, {"alpha": 2.0}), lambda p: (0.0,)),
    "GELU": (({}, {"approximate": "tanh"}), lambda p: ()),
    "SiLU": (({},), lambda p: ()),
    "Mish": (({},), lambda p: ()),
    "Sigmoid": (({},), lambda p: ()),
    "LogSigmoid": (({},), lambda p: ()),
    "Tanh": (({},), lambda p: ()),
    "Softplus": (({}, {"beta": 2.0, "threshold": 5.0}),
                 lambda p: (p.get("threshold", 20.0) / p.get("beta", 1.0),)),
    "Softsign": (({},), lambda p: ()),
    "Hardsigmoid": (({},), lambda p: (-3.0, 3.0)),
    "Hardswish": (({},), lambda p: (-3.0, 3.0)),
    "Hardtanh": (({}, {"min_val": -2.0, "max_val": 0.5}),
                 lambda p: (p.get("min_val", -1.0), p.get("max_val", 1.0))),
    "ReLUSigmoid": (({},), lambda p: (0.0,)),
    "LeakyReLUSigmoid": (({}, {"alpha": 0.3}), lambda p: (0.0,)),
    "Softmax": (({}, {"axis": 0, "temperature": 0.5}), lambda p: ()),
    "LogSoftmax": (({}, {"axis": 0, "temperature": 2.0}), lambda p: ()),
}

OUTPUT_CACHING = {"ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"}
SHAPES = [(7,), (4, 5), (2, 3, 4)]


def _missing(*functions: str) -> list[str]:
    return [f for f in functions if not hasattr(fastact, f)]


def _needs(*functions: str) -> pytest.MarkDecorator:
    missing = _missing(*functions)
    return pytest.mark.skipif(
        bool(missing),
        reason=f"fastact.{', fastact.'.join(missing)} not in this build (the catalogue adds it)")


def _layer_params(with_params: bool = True) -> list[Any]:
    out = []
    for name, spec in nn.LAYERS.items():
        sets = LAYER_CASES[name][0] if with_params else ({},)
        for params in sets:
            pid = name + ("" if not params else "-" + "-".join(f"{k}={v}" for k, v in params.items()))
            out.append(pytest.param(name, params, id=pid,
                                    marks=_needs(spec.function, spec.function + "_backward")))
    return out


def test_cases_cover_the_layer_table() -> None:
    assert set(LAYER_CASES) == set(nn.LAYERS)
    issue = ("ReLU ReLU6 LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Sigmoid LogSigmoid Tanh "
             "Softplus Softsign Hardsigmoid Hardswish Hardtanh ReLUSigmoid LeakyReLUSigmoid "
             "Softmax LogSoftmax").split()
    for name in issue + ["BCEWithLogits", "SoftmaxCrossEntropy"]:
        assert isinstance(getattr(nn, name), type), name
        assert name in nn.__all__
        assert getattr(nn, name).__doc__, name


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], kinks: tuple[float, ...],
            low: float = -4.0, high: float = 4.0, gap: float = 1e-3) -> np.ndarray:
    """Uniform samples that keep `gap` away from every kink."""
    x = rng.uniform(low, high, size=shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap) * 2
    return x


def _numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar function f at x."""
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f(x)
        flat[i] = keep - eps
        down = f(x)
        flat[i] = keep
        gflat[i] = (up - down) / (2 * eps)
    return g


# --------------------------------------------------------------------------
# Gradient checks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, params", _layer_params())
def test_backward_matches_finite_differences(name: str, params: dict, shape, rng) -> None:
    layer = getattr(nn, name)(**params)
    x = _inputs(rng, shape, LAYER_CASES[name][1](params))
    w = rng.standard_normal(shape)
    layer.forward(x.copy())
    analytic = layer.backward(w)
    probe = getattr(nn, name)(**params)
    numeric = _numeric_grad(lambda v: float(np.sum(w * probe.forward(v))), x.copy())
    assert analytic.shape == x.shape and analytic.dtype == np.float64
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(1,), (3,), (4, 3), (2, 3, 5)], ids=str)
@_needs("prelu", "prelu_backward")
def test_prelu_backward_matches_finite_differences(shape, rng) -> None:
    for num in {1, shape[1] if len(shape) > 1 else 1}:
        layer = nn.PReLU(num, init=0.25)
        layer.weight[...] = rng.uniform(0.05, 0.6, size=num)
        x = _inputs(rng, shape, (0.0,))
        w = rng.standard_normal(shape)
        layer.forward(x)
        gx = layer.backward(w)
        weight = layer.weight.copy()

        def loss_x(v: np.ndarray) -> float:
            probe = nn.PReLU(num)
            probe.weight[...] = weight
            return float(np.sum(w * probe.forward(v)))

        def loss_w(v: np.ndarray) -> float:
            probe = nn.PReLU(num)
            probe.weight[...] = v
            return float(np.sum(w * probe.forward(x)))

        np.testing.assert_allclose(gx, _numeric_grad(loss_x, x.copy()), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.grad_weight, _numeric_grad(loss_w, weight.copy()),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)], ids=str)
@_needs("bce_with_logits", "bce_with_logits_backward")
def test_bce_with_logits_backward(reduction: str, shape, rng) -> None:
    z = rng.uniform(-6, 6, size=shape)
    t = rng.uniform(0, 1, size=shape)
    t.reshape(-1)[::2] = np.round(t.reshape(-1)[::2])
    loss = nn.BCEWithLogits(reduction)
    weight = rng.standard_normal(shape) if reduction == "none" else 1.7
    out = loss.forward(z, t)
    g = loss.backward(weight)

    def total(v: np.ndarray) -> float:
        return float(np.sum(weight * nn.BCEWithLogits(reduction).forward(v, t)))

    np.testing.assert_allclose(g, _numeric_grad(total, z.copy()), rtol=1e-5, atol=1e-7)
    # and the value itself, from the textbook formula
    p = 1 / (1 + np.exp(-z))
    per = -(t * np.log(p) + (1 - t) * np.log1p(-p))
    expect = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(out, expect, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape, axis", [((5, 3), -1), ((3, 4), 0), ((2, 4, 3), 1)], ids=str)
@_needs("softmax_cross_entropy", "softmax_cross_entropy_backward")
def test_softmax_cross_entropy_backward(reduction: str, shape, axis: int, rng) -> None:
    z = rng.uniform(-5, 5, size=shape)
    ax = axis % len(shape)
    label_shape = shape[:ax] + shape[ax + 1:]
    labels = rng.integers(0, shape[ax], size=label_shape)
    loss = nn.SoftmaxCrossEntropy(axis=axis, reduction=reduction)
    weight = rng.standard_normal(label_shape) if reduction == "none" else 0.6
    out = loss.forward(z, labels)
    g = loss.backward(weight)

    def total(v: np.ndarray) -> float:
        return float(np.sum(weight * nn.SoftmaxCrossEntropy(axis, reduction).forward(v, labels)))

    np.testing.assert_allclose(g, _numeric_grad(total, z.copy()), rtol=1e-5, atol=1e-7)
    lse = np.log(np.sum(np.exp(z), axis=ax))
    picked = np.take_along_axis(z, np.expand_dims(labels, ax), axis=ax).squeeze(ax)
    per = lse - picked
    expect = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(out, expect, rtol=1e-12)


# --------------------------------------------------------------------------
# Forward = the fastact function; what is cached; shapes and dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, params", _layer_params())
def test_forward_is_the_fastact_function_and_caches_one_tensor(name: str, params: dict,
                                                             rng) -> None:
    spec = nn.LAYERS[name]
    layer = getattr(nn, name)(**params)
    x = rng.uniform(-3, 3, size=(6, 4))
    y = layer(x)
    np.testing.assert_array_equal(y, getattr(fastact, spec.function)(x, **params))
    expected = "output" if name in OUTPUT_CACHING else "input"
    assert spec.saved == expected
    assert layer._cache is (y if expected == "output" else x)
    # the registry agrees on what backward takes (ReLU works from either)
    act = {a.name: a for a in ACTIVATIONS}[spec.function]
    assert spec.saved == act.saved or name == "ReLU"
    defaults = {p: d for p, d in spec.params if p != "axis"}
    assert defaults == {p: d for p, d in act.params.items() if p in defaults}


@pytest.mark.parametrize("name, params", _layer_params(with_params=False))
def test_layer_defaults_match_the_function(name: str, params: dict) -> None:
    spec = nn.LAYERS[name]
    act = {a.name: a for a in ACTIVATIONS}[spec.function]
    for p, default in act.params.items():
        assert dict(spec.params)[p] == default, (name, p)


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("name, params", _layer_params(with_params=False))
def test_any_batch_shape(name: str, params: dict, shape, rng) -> None:
    layer = getattr(nn, name)()
    x = rng.uniform(-3, 3, size=shape)
    if nn.LAYERS[name].rowwise and shape == ():
        with pytest.raises(ValueError):  # a row-wise function needs an axis
            layer(x)
        return
    y = layer(x)
    assert np.shape(y) == shape
    g = layer.backward(np.ones(shape))
    assert np.shape(g) == shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, params", _layer_params(with_params=False))
def test_dtype_is_kept(name: str, params: dict, dtype, rng) -> None:
    layer = getattr(nn, name)()
    x = rng.uniform(-3, 3, size=(3, 4)).astype(dtype)
    assert layer(x).dtype == dtype
    assert layer.backward(np.ones((3, 4), dtype)).dtype == dtype


@_needs("relu", "relu_backward")
def test_forward_accepts_lists_and_backward_can_repeat() -> None:
    layer = nn.ReLU()
    y = layer([[-1.0, 2.0]])
    np.testing.assert_array_equal(y, [[0.0, 2.0]])
    first = layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), first)


def test_relu_backward_from_output_equals_from_input(rng) -> None:
    x = np.concatenate([rng.standard_normal(100), [0.0, -0.0, np.nan, np.inf, -np.inf]])
    g = rng.standard_normal(x.shape)
    layer = nn.ReLU()
    layer(x)
    np.testing.assert_array_equal(layer.backward(g), fastact.relu_backward(g, x))


# --------------------------------------------------------------------------
# In place
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, params", _layer_params())
def test_inplace_rules(name: str, params: dict, rng) -> None:
    cls = getattr(nn, name)
    if name not in OUTPUT_CACHING:
        with pytest.raises(ValueError, match="INPUT"):
            cls(**params, inplace=True)
        return
    x = rng.uniform(-3, 3, size=(5, 4))
    g = rng.standard_normal((5, 4))
    ref = cls(**params)
    y_ref = ref(x.copy())
    gx_ref = ref.backward(g)
    layer = cls(**params, inplace=True)
    buf = x.copy()
    y = layer(buf)
    assert np.shares_memory(y, buf) and y.shape == buf.shape
    np.testing.assert_array_equal(buf, y_ref)
    np.testing.assert_array_equal(layer.backward(g), gx_ref)
    assert "inplace=True" in repr(layer)


@pytest.mark.parametrize("name", sorted(OUTPUT_CACHING))
def test_inplace_needs_a_writeable_float_array(name: str) -> None:
    layer = getattr(nn, name)(inplace=True)
    with pytest.raises(TypeError, match="floating-point ndarray"):
        layer(np.arange(4))
    with pytest.raises(TypeError, match="floating-point ndarray"):
        layer([1.0, 2.0])
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        layer(ro)


def test_prelu_and_fused_refuse_inplace() -> None:
    with pytest.raises(TypeError):
        nn.PReLU(inplace=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="INPUT"):
        nn.ReLUSigmoid(inplace=True)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(nn.LAYERS))
def test_backward_before_forward(name: str) -> None:
    with pytest.raises(RuntimeError, match="before forward"):
        getattr(nn, name)().backward(np.ones(3))


def test_backward_before_forward_prelu_and_losses() -> None:
    with pytest.raises(RuntimeError, match="before forward"):
        nn.PReLU().backward(np.ones(2))
    for loss in (nn.BCEWithLogits(), nn.SoftmaxCrossEntropy()):
        with pytest.raises(RuntimeError, match="before forward"):
            loss.backward()


@_needs("sigmoid", "sigmoid_backward")
def test_grad_of_the_wrong_shape() -> None:
    layer = nn.Sigmoid()
    layer(np.zeros((4,)))
    with pytest.raises(ValueError, match=r"shape \(4, 1\)"):
        layer.backward(np.ones((4, 1)))


def test_constructor_errors() -> None:
    with pytest.raises(TypeError, match="LeakyReLU"):
        nn.LeakyReLU(beta=2.0)
    with pytest.raises(TypeError, match="LeakyReLU"):
        nn.LeakyReLU(0.1, 0.2)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="erf")
    with pytest.raises(TypeError, match="axis"):
        nn.Softmax(axis=1.5)
    for reduction in ("avg", "MEAN", None):
        with pytest.raises(ValueError, match="reduction"):
            nn.BCEWithLogits(reduction)
        with pytest.raises(ValueError, match="reduction"):
            nn.SoftmaxCrossEntropy(reduction=reduction)
    for num in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="num_parameters"):
            nn.PReLU(num)


def test_parameters_positional_and_keyword() -> None:
    assert nn.LeakyReLU(0.3).alpha == 0.3
    assert nn.Hardtanh(-2.0, max_val=3.0).max_val == 3.0
    assert nn.Softmax(0, 2.0).temperature == 2.0
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"


@_needs("leaky_relu")
def test_parameter_checks_surface_at_construction() -> None:
    with pytest.raises(TypeError, match="LeakyReLU"):
        nn.LeakyReLU(alpha="big")


def test_missing_function_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delattr(fastact, "relu")
    with pytest.raises(NotImplementedError, match=r"fastact\.relu is not available"):
        nn.ReLU()(np.ones(2))


@_needs("bce_with_logits", "bce_with_logits_backward")
def test_bce_errors_and_conversions() -> None:
    loss = nn.BCEWithLogits()
    with pytest.raises(ValueError, match="must match"):
        loss(np.zeros((4, 1)), np.zeros(4))
    z32 = np.zeros(4, np.float32)
    out = loss(z32, np.array([0, 1, 1, 0]))  # integer labels become float32
    assert np.asarray(out).dtype == np.float32
    assert math.isclose(float(out), math.log(2), rel_tol=1e-6)
    assert loss.backward().dtype == np.float32
    with pytest.raises(ValueError, match="scalar"):
        loss.backward(np.ones(4))
    empty = nn.BCEWithLogits()
    assert math.isnan(empty(np.zeros(0), np.zeros(0)))
    assert empty.backward().shape == (0,)


@_needs("softmax_cross_entropy", "softmax_cross_entropy_backward")
def test_softmax_cross_entropy_errors() -> None:
    loss = nn.SoftmaxCrossEntropy()
    z = np.zeros((3, 4))
    with pytest.raises(TypeError, match="integer class indices"):
        loss(z, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="expected"):
        loss(z, np.zeros(4, int))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        loss(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        loss(z, np.array([0, -1, 2]))
    with pytest.raises(ValueError, match="out of range"):
        nn.SoftmaxCrossEntropy(axis=2)(z, np.zeros(3, int))
    assert math.isclose(float(loss(z, np.array([0, 1, 2]))), math.log(4), rel_tol=1e-12)


@_needs("prelu", "prelu_backward")
def test_prelu_shapes_and_gradient_convention(rng) -> None:
    layer = nn.PReLU(3)
    with pytest.raises(ValueError, match="axis 1 of size 3"):
        layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="axis 1 of size 3"):
        layer(np.ones(3))
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    grad_buffer = layer.grad_weight
    layer.backward(np.ones_like(y))
    first = layer.grad_weight.copy()
    layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(layer.grad_weight, first)  # set, not accumulated
    assert layer.grad_weight is grad_buffer  # the same array for the layer's life
    expect = np.where(x > 0, 0, x).sum(axis=(0, 2))
    np.testing.assert_allclose(first, expect, rtol=1e-5)
    assert layer.parameters() == [(layer.weight, layer.grad_weight)]


# --------------------------------------------------------------------------
# Training runs: fastact layers == the same net in plain NumPy, to 1e-9
# --------------------------------------------------------------------------


class Linear:
    """The Linear layer a NumPy user writes (also used by the plain nets)."""

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = w.copy(), b.copy()

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.w + self.b

    def backward(self, g: np.ndarray) -> np.ndarray:
        self.gw = self.x.T @ g
        self.gb = g.sum(axis=0)
        return g @ self.w.T

    def step(self, lr: float) -> None:
        self.w -= lr * self.gw
        self.b -= lr * self.gb


def _init(rng: np.random.Generator, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.standard_normal((a, b)) / np.sqrt(a), rng.uniform(-0.1, 0.1, b))
            for a, b in zip(sizes[:-1], sizes[1:])]


def _train(layers: list[Any], loss_and_grad, x: np.ndarray, steps: int, lr: float):
    losses = []
    for _ in range(steps):
        h = x
        for layer in layers:
            h = layer.forward(h)
        loss, g = loss_and_grad(h)
        losses.append(loss)
        for layer in reversed(layers):
            g = layer.backward(g)
        for layer in layers:
            if isinstance(layer, Linear):
                layer.step(lr)
    return np.array(losses), [(l.w, l.b) for l in layers if isinstance(l, Linear)]


class _Plain:
    """Activations as a NumPy user writes them by hand."""

    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, g):
            return g * (1 - self.y ** 2)

    class LeakyReLU:
        def __init__(self, alpha):
            self.alpha = alpha

        def forward(self, x):
            self.x = x
            return np.where(x > 0, x, self.alpha * x)

        def backward(self, g):
            return np.where(self.x > 0, g, self.alpha * g)

    class ReLU:
        def forward(self, x):
            self.x = x
            return np.maximum(x, 0)

        def backward(self, g):
            return g * (self.x > 0)

    class Sigmoid:
        def forward(self, x):
            self.y = 1 / (1 + np.exp(-x))
            return self.y

        def backward(self, g):
            return g * self.y * (1 - self.y)


def _mse(target):
    def loss_and_grad(out):
        diff = out - target
        return float(np.mean(diff ** 2)), 2 * diff / diff.size
    return loss_and_grad


@_needs("tanh", "leaky_relu", "sigmoid", "relu")
def test_training_matches_plain_numpy_mse(rng) -> None:
    x = rng.standard_normal((32, 6))
    target = 1 / (1 + np.exp(-2 * x[:, :2] * x[:, 2:4]))
    params = _init(rng, [6, 8, 8, 7, 2])

    def net(acts):
        layers = []
        for (w, b), act in zip(params, acts + [None]):
            layers.append(Linear(w, b))
            if act is not None:
                layers.append(act)
        return layers

    fa_layers = net([nn.Tanh(), nn.LeakyReLU(0.1), nn.ReLU(inplace=True)]) + [nn.Sigmoid()]
    np_layers = net([_Plain.Tanh(), _Plain.LeakyReLU(0.1), _Plain.ReLU()]) + [_Plain.Sigmoid()]
    fa_loss, fa_params = _train(fa_layers, _mse(target), x, 60, 2.0)
    np_loss, np_params = _train(np_layers, _mse(target), x, 60, 2.0)
    assert fa_loss[-1] < 0.8 * fa_loss[0]  # it does learn
    np.testing.assert_allclose(fa_loss, np_loss, rtol=0, atol=1e-9)
    for (fw, fb), (pw, pb) in zip(fa_params, np_params):
        np.testing.assert_allclose(fw, pw, rtol=0, atol=1e-9)
        np.testing.assert_allclose(fb, pb, rtol=0, atol=1e-9)


def _plain_bce(target):
    def loss_and_grad(z):
        loss = np.mean(np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z))))
        return float(loss), (1 / (1 + np.exp(-z)) - target) / z.size
    return loss_and_grad


def _plain_ce(labels):
    def loss_and_grad(z):
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = z.shape[0]
        loss = -logp[np.arange(n), labels].mean()
        g = np.exp(logp)
        g[np.arange(n), labels] -= 1
        return float(loss), g / n
    return loss_and_grad


def _fastact_loss(layer, target):
    def loss_and_grad(z):
        loss = layer.forward(z, target)
        return float(loss), layer.backward()
    return loss_and_grad


@_needs("relu", "bce_with_logits", "bce_with_logits_backward")
def test_training_matches_plain_numpy_bce(rng) -> None:
    x = rng.standard_normal((40, 5))
    target = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(float)
    params = _init(rng, [5, 12, 1])
    fa = [Linear(*params[0]), nn.ReLU(), Linear(*params[1])]
    ref = [Linear(*params[0]), _Plain.ReLU(), Linear(*params[1])]
    fa_loss, fa_params = _train(fa, _fastact_loss(nn.BCEWithLogits(), target), x, 50, 0.5)
    np_loss, np_params = _train(ref, _plain_bce(target), x, 50, 0.5)
    assert fa_loss[-1] < 0.7 * fa_loss[0]
    np.testing.assert_allclose(fa_loss, np_loss, rtol=0, atol=1e-9)
    for a, b in zip(fa_params, np_params):
        np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-9)


@_needs("leaky_relu", "softmax_cross_entropy", "softmax_cross_entropy_backward")
def test_training_matches_plain_numpy_softmax_cross_entropy(rng) -> None:
    x = rng.standard_normal((60, 4))
    labels = np.argmax(x[:, :3] + 0.3 * rng.standard_normal((60, 3)), axis=1)
    params = _init(rng, [4, 10, 3])
    fa = [Linear(*params[0]), nn.LeakyReLU(0.05), Linear(*params[1])]
    ref = [Linear(*params[0]), _Plain.LeakyReLU(0.05), Linear(*params[1])]
    fa_loss, fa_params = _train(fa, _fastact_loss(nn.SoftmaxCrossEntropy(), labels), x, 50, 0.5)
    np_loss, np_params = _train(ref, _plain_ce(labels), x, 50, 0.5)
    assert fa_loss[-1] < 0.7 * fa_loss[0]
    np.testing.assert_allclose(fa_loss, np_loss, rtol=0, atol=1e-9)
    for a, b in zip(fa_params, np_params):
        np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-9)


@_needs("prelu", "prelu_backward", "gelu", "gelu_backward", "log_softmax",
        "log_softmax_backward")
def test_training_matches_plain_numpy_prelu_gelu_log_softmax(rng) -> None:
    """PReLU's weight learns too; GELU (erf) and LogSoftmax + hand-written NLL."""
    erf = np.vectorize(math.erf)
    x = rng.standard_normal((30, 4))
    labels = rng.integers(0, 3, 30)
    params = _init(rng, [4, 6, 3])

    class PlainPReLU:
        def __init__(self):
            self.weight = np.full(6, 0.25)

        def forward(self, v):
            self.x = v
            return np.where(v > 0, v, self.weight * v)

        def backward(self, g):
            self.grad_weight = np.sum(np.where(self.x > 0, 0, g * self.x), axis=0)
            return np.where(self.x > 0, g, self.weight * g)

    class PlainGELU:
        def forward(self, v):
            self.x = v
            return 0.5 * v * (1 + erf(v / math.sqrt(2)))

        def backward(self, g):
            v = self.x
            return g * (0.5 * (1 + erf(v / math.sqrt(2)))
                        + v * np.exp(-v * v / 2) / math.sqrt(2 * math.pi))

    class PlainLogSoftmax:
        def forward(self, v):
            s = v - v.max(axis=1, keepdims=True)
            self.y = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            return self.y

        def backward(self, g):
            return g - np.exp(self.y) * g.sum(axis=1, keepdims=True)

    def nll(logp):
        n = logp.shape[0]
        g = np.zeros_like(logp)
        g[np.arange(n), labels] = -1 / n
        return float(-logp[np.arange(n), labels].mean()), g

    def run(prelu, gelu, logsm):
        layers = [Linear(*params[0]), prelu, Linear(*params[1]), gelu, logsm]
        losses = []
        for _ in range(30):
            h = x
            for layer in layers:
                h = layer.forward(h)
            loss, g = nll(h)
            losses.append(loss)
            for layer in reversed(layers):
                g = layer.backward(g)
            for layer in layers:
                if isinstance(layer, Linear):
                    layer.step(0.3)
            prelu.weight -= 0.3 * prelu.grad_weight
        return np.array(losses), prelu.weight

    fa_loss, fa_w = run(nn.PReLU(6), nn.GELU(), nn.LogSoftmax(axis=1))
    np_loss, np_w = run(PlainPReLU(), PlainGELU(), PlainLogSoftmax())
    np.testing.assert_allclose(fa_loss, np_loss, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fa_w, np_w, rtol=0, atol=1e-9)


@_needs("relu", "relu_backward")
def test_call_goes_through_a_subclass_forward() -> None:
    class Counting(nn.ReLU):
        calls = 0

        def forward(self, x):
            Counting.calls += 1
            return super().forward(x)

    layer = Counting()
    layer(np.ones(3))
    assert Counting.calls == 1
    assert repr(layer) == "Counting()"
