"""fastact.diagnostics against values worked out by hand, the one-pass C
statistics against an independent NumPy computation, and lint on trap and
healthy nets."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastact
from fastact import _core, nn
from fastact import diagnostics as D
from fastact._registry import ACTIVATIONS

NAN = math.nan


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# --------------------------------------------------------------------------
# dead_units / dead_fraction
# --------------------------------------------------------------------------


def test_dead_units_by_hand() -> None:
    a = np.array([[0.0, 1.0, -2.0, 0.5],
                  [0.0, -1.0, -3.0, NAN],
                  [-0.0, 0.0, -1e-300, -1.0]])
    # unit 0: all <= 0 (0, 0, -0) -> dead; 1: has 1.0 -> alive; 2: all negative -> dead;
    # 3: 0.5 > 0 -> alive (and a NaN never counts as <= 0)
    np.testing.assert_array_equal(D.dead_units(a), [True, False, True, False])
    assert D.dead_fraction(a) == 0.5
    # over axis 1: row 0 has 1.0; row 1 has a NaN (not <= 0); row 2 all <= 0
    np.testing.assert_array_equal(D.dead_units(a, axis=1), [False, False, True])
    np.testing.assert_array_equal(D.dead_units(np.array([[NAN, -1.0]])), [False, True])


def test_dead_units_axes_and_types() -> None:
    a = np.zeros((2, 3, 4))
    a[1, 2, 0] = 1.0  # channel 2 has one live sample
    np.testing.assert_array_equal(D.dead_units(a, axis=(0, 2)), [True, True, False])
    assert D.dead_units(a, axis=None) == np.False_
    assert D.dead_units([[-1.0], [2.0]]).tolist() == [False]
    assert D.dead_units(np.float32([[-1, 0]])).dtype == bool
    assert D.dead_fraction(np.array([[-1.0, 1.0, 0.0]])) == pytest.approx(2 / 3)


def test_dead_units_errors() -> None:
    with pytest.raises(ValueError, match="no samples"):
        D.dead_units(np.zeros((0, 5)))
    with pytest.raises(np.exceptions.AxisError):
        D.dead_units(np.zeros((2, 5)), axis=2)


# --------------------------------------------------------------------------
# saturation
# --------------------------------------------------------------------------


def test_default_thresholds_by_hand() -> None:
    # 1% of the largest derivative: sigmoid' <= 1/4 (at 0), tanh' <= 1, relu' = 1
    assert D.default_threshold("sigmoid") == pytest.approx(0.0025, rel=1e-9)
    assert D.default_threshold("tanh") == pytest.approx(0.01, rel=1e-9)
    assert D.default_threshold("relu") == pytest.approx(0.01, rel=1e-12)
    assert D.default_threshold("leaky_relu", alpha=3.0) == pytest.approx(0.03, rel=1e-12)
    assert D.default_threshold(fastact.sigmoid) == D.default_threshold("sigmoid")


def test_saturation_by_hand() -> None:
    # sigmoid'(x) = s(1-s): 0.25 at 0, 0.197 at 1, 3.35e-4 at +-8 -> 2 of 4 below 0.0025
    assert D.saturation(np.array([0.0, 1.0, 8.0, -8.0]), "sigmoid") == 0.5
    # the 0.0025 boundary: |x| = log(1/0.0025 - 1)-ish = 5.99
    assert D.saturation(np.array([5.9, 6.1, -5.9, -6.1])) == 0.5
    # tanh'(x) = 1 - tanh^2: 1, 0.0707, 0.00364, 1.8e-4
    x = np.array([0.0, 2.0, 3.5, -5.0])
    assert D.saturation(x, "tanh") == 0.5
    assert D.saturation(x, "tanh", threshold=0.1) == 0.75
    assert D.saturation(x, "tanh", threshold=0.0) == 0.0
    # float32 input, 2-D, a NaN (counted, never saturated)
    x32 = np.float32([[10.0, NAN], [0.0, -10.0]])
    assert D.saturation(x32) == 0.5


# --------------------------------------------------------------------------
# activation_stats by hand
# --------------------------------------------------------------------------


def test_relu_stats_by_hand() -> None:
    z = np.array([[-1.0, 2.0, 0.0],
                  [3.0, -4.0, 0.0],
                  [5.0, 6.0, 0.0],
                  [-7.0, 8.0, 1.0]])
    s = D.activation_stats(z, "relu")
    # unit 0: -1 3 5 -7 -> relu 0 3 5 0, relu' 0 1 1 0
    # unit 1: 2 -4 6 8  -> relu 2 0 6 8, relu' 1 0 1 1
    # unit 2: 0 0 0 1   -> relu 0 0 0 1, relu' 0 0 0 1 (relu'(0) = 0: dead)
    np.testing.assert_array_equal(s.dead, [0.5, 0.25, 0.75])
    np.testing.assert_array_equal(s.saturated, [0.5, 0.25, 0.75])
    np.testing.assert_array_equal(s.mean_output, [2.0, 4.0, 0.25])
    np.testing.assert_array_equal(s.mean_derivative, [0.5, 0.75, 0.25])
    # over axis 1 (per sample)
    t = D.activation_stats(z, "relu", axis=1)
    np.testing.assert_allclose(t.dead, [2 / 3, 2 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(t.mean_output, [2 / 3, 1.0, 11 / 3, 3.0])
    # everything: 6 of 12 dead, mean output 25/12
    u = D.activation_stats(z, "relu", axis=None)
    assert u.dead == 0.5 and u.mean_output == pytest.approx(25 / 12, rel=1e-15)
    assert isinstance(u.dead, np.float64)


def test_sigmoid_and_tanh_stats_by_hand() -> None:
    z = np.array([0.0, math.log(3.0), 10.0, -10.0])
    s = D.activation_stats(z, "sigmoid")
    # sigmoid: 0.5, 0.75, s(10), 1 - s(10); derivatives 0.25, 0.1875, 2 x s(10)(1-s(10))
    e = math.exp(-10.0)
    d10 = e / (1 + e) ** 2
    assert s.mean_output == pytest.approx((0.5 + 0.75 + 1.0) / 4, rel=1e-14)
    assert s.mean_derivative == pytest.approx((0.25 + 0.1875 + 2 * d10) / 4, rel=1e-14)
    assert s.saturated == 0.5  # |z| = 10: 4.5e-5 < 0.0025
    assert s.dead == 0.0
    t = D.activation_stats(np.array([0.0, math.atanh(0.5), -math.atanh(0.5)]), "tanh")
    assert t.mean_output == pytest.approx(0.0, abs=1e-16)
    assert t.mean_derivative == pytest.approx((1 + 0.75 + 0.75) / 3, rel=1e-14)
    assert (t.dead, t.saturated) == (0.0, 0.0)


def test_parameterised_and_fused_stats_by_hand() -> None:
    s = D.activation_stats(np.array([-2.0, 3.0]), "leaky_relu", alpha=0.2)
    assert s.mean_output == pytest.approx((-0.4 + 3.0) / 2, rel=1e-15)
    assert s.mean_derivative == pytest.approx(0.6, rel=1e-15)
    assert (s.dead, s.saturated) == (0.0, 0.0)
    # alpha = 0: the negative side is flat at 0 -> dead
    assert D.activation_stats(np.array([-2.0, 3.0]), "leaky_relu", alpha=0.0).dead == 0.5
    # relu_sigmoid: z <= 0 -> 0.5 with zero gradient (dead); z = 2 -> s(2), s(2)(1 - s(2))
    r = D.activation_stats(np.array([-1.0, 0.0, 2.0]), "relu_sigmoid")
    assert r.dead == pytest.approx(2 / 3, rel=1e-15)
    assert r.mean_output == pytest.approx((0.5 + 0.5 + _sig(2)) / 3, rel=1e-15)
    assert r.mean_derivative == pytest.approx(_sig(2) * (1 - _sig(2)) / 3, rel=1e-14)
    # a fastact.nn layer brings its parameters
    lay = D.activation_stats(np.array([-2.0, 3.0]), nn.LeakyReLU(0.2))
    assert lay.mean_output == s.mean_output


def test_nan_convention() -> None:
    s = D.activation_stats(np.array([[NAN, 1.0], [-1.0, 2.0], [1.0, -3.0]]), "relu")
    # unit 0: NaN is neither dead nor saturated, its means are NaN
    assert s.dead[0] == pytest.approx(1 / 3) and s.saturated[0] == pytest.approx(1 / 3)
    assert math.isnan(s.mean_output[0]) and math.isnan(s.mean_derivative[0])
    assert s.mean_output[1] == 1.0


def test_per_unit_parameters_and_thresholds() -> None:
    z = np.array([[-1.0, -1.0], [1.0, 1.0]])
    s = D.activation_stats(z, "leaky_relu", alpha=np.array([0.0, 0.5]))
    # unit 0: -1 -> 0 (flat: dead), 1 -> 1; unit 1: -1 -> -0.5, 1 -> 1
    np.testing.assert_array_equal(s.mean_output, [0.5, 0.25])
    np.testing.assert_array_equal(s.mean_derivative, [0.5, 0.75])
    np.testing.assert_array_equal(s.dead, [0.5, 0.0])
    # one threshold per unit: 0.6 saturates unit 1's 0.5 slope, 0.1 does not
    t = D.activation_stats(z, "leaky_relu", alpha=0.5,
                           saturation_threshold=np.array([0.1, 0.6]))
    np.testing.assert_array_equal(t.saturated, [0.0, 0.5])
    # default per-unit thresholds: 1% of each unit's largest slope (max(1, alpha))
    np.testing.assert_allclose(D.default_threshold("leaky_relu", alpha=np.array([0.5, 3.0])),
                               [0.01, 0.03], rtol=1e-12)
    # channels of an (N, C, H, W) array: one alpha per channel, axes (0, 2, 3)
    x = np.zeros((2, 3, 4, 5)) - 1.0
    c = D.activation_stats(x, "leaky_relu", axis=(0, 2, 3), alpha=np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(c.mean_output, [-0.1, -0.2, -0.3], rtol=1e-15)
    with pytest.raises(ValueError, match="broadcast"):
        D.activation_stats(x, "leaky_relu", axis=(0, 2, 3), alpha=np.ones(4))
    with pytest.raises(ValueError, match="broadcast"):
        D.activation_stats(z, "relu", saturation_threshold=np.ones(3))


def test_stats_errors() -> None:
    with pytest.raises(ValueError, match="not a fastact activation"):
        D.activation_stats(np.ones(3), "swishy")
    with pytest.raises(ValueError, match="element-wise"):
        D.activation_stats(np.ones(3), "sigmoid_backward")
    with pytest.raises(TypeError, match="no parameter 'alpha'"):
        D.activation_stats(np.ones(3), "relu", alpha=0.1)
    with pytest.raises(ValueError, match="no samples"):
        D.activation_stats(np.ones((0, 3)), "relu")
    with pytest.raises(TypeError, match="real"):
        D.activation_stats(np.ones(3, complex), "relu")
    with pytest.raises(ValueError, match="threshold"):
        D.activation_stats(np.ones(3), "relu", saturation_threshold="big")
    with pytest.raises(ValueError, match="threshold"):
        D.activation_stats(np.ones(3), "relu", saturation_threshold=NAN)
    with pytest.raises(TypeError, match="fn must be"):
        D.activation_stats(np.ones(3), 42)


@pytest.mark.skipif(not hasattr(fastact, "softmax"),
                    reason="fastact.softmax not in this build (the catalogue adds it)")
def test_rowwise_functions_have_no_elementwise_stats() -> None:
    with pytest.raises(ValueError, match="row-wise"):
        D.activation_stats(np.ones((2, 3)), "softmax")


# --------------------------------------------------------------------------
# The one C pass against NumPy, every activation, every path
# --------------------------------------------------------------------------

ELEMENTWISE = [a for a in ACTIVATIONS if not a.rowwise and len(a.args) == 1]


def _numpy_stats(z: np.ndarray, name: str, axis, sat: float, **params):
    """The definition, written out with NumPy and fastact's public
    forward/backward (float64 accumulation; float16 evaluated in float32)."""
    if z.dtype == np.float16:
        z = z.astype(np.float32)
    act = {a.name: a for a in ACTIVATIONS}[name]
    y = np.asarray(act.forward(z, **params))
    d = np.asarray(act.backward(np.ones((), y.dtype), y if act.saved == "output" else z, **params))
    t = np.asarray(sat).astype(d.dtype)
    return (np.mean((d == 0) & (z <= 0), axis=axis), np.mean(np.abs(d) < t, axis=axis),
            np.mean(y, axis=axis, dtype=np.float64), np.mean(d, axis=axis, dtype=np.float64))


def test_every_elementwise_activation_has_a_stats_kernel() -> None:
    table = {row["name"]: row for row in _core.KERNEL_TABLE}
    for act in ELEMENTWISE:
        row = table["_stats_" + act.name]
        assert row["group"] == "internal" and row["saved"] == act.saved
        assert not hasattr(fastact, "_stats_" + act.name)
    public = {row["name"] for row in _core.KERNEL_TABLE if row["group"] == "activation"}
    assert not any(name.startswith("_stats") for name in public)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("act", ELEMENTWISE, ids=lambda a: a.name)
def test_stats_match_numpy_for_every_activation(act, dtype, rng) -> None:
    params = {k: (v if v else 0.3) for k, v in act.params.items()}
    z = (rng.standard_normal((300, 70)) * 4).astype(dtype)
    z[::7, 3] = 0
    z[5, :] = np.float16(10.5)
    thr = 0.05
    for axis in (0, 1, None):
        got = D.activation_stats(z, act.name, axis=axis, saturation_threshold=thr, **params)
        want = _numpy_stats(z, act.name, axis, thr, **params)
        np.testing.assert_array_equal(got.dead, want[0])
        np.testing.assert_array_equal(got.saturated, want[1])
        np.testing.assert_allclose(got.mean_output, want[2], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got.mean_derivative, want[3], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layout", ["c", "f", "strided", "negative", "3d-tuple", "3d-mid"])
def test_stats_every_memory_layout(layout: str, rng) -> None:
    base = rng.standard_normal((257, 131))
    axis: object = 0
    if layout == "c":
        z = base
    elif layout == "f":
        z = np.asfortranarray(base)
    elif layout == "strided":
        z = base[::2, ::3]
    elif layout == "negative":
        z = base[::-1, ::-2]
    elif layout == "3d-tuple":
        z, axis = base[:256].reshape(4, 64, 131), (0, 2)
    else:
        z, axis = base[:256].reshape(4, 64, 131), 1
    for name in ("relu", "sigmoid"):
        got = D.activation_stats(z, name, axis=axis, saturation_threshold=0.1)
        want = _numpy_stats(z, name, axis, 0.1)
        np.testing.assert_array_equal(got.dead, want[0])
        np.testing.assert_array_equal(got.saturated, want[1])
        np.testing.assert_allclose(got.mean_output, want[2], rtol=1e-12)
        np.testing.assert_allclose(got.mean_derivative, want[3], rtol=1e-12, atol=1e-15)


def test_stats_do_not_depend_on_threads(rng) -> None:
    z = rng.standard_normal((2000, 300)).astype(np.float32)
    before = fastact.get_num_threads()
    try:
        fastact.set_num_threads(1)
        one = [D.activation_stats(z, "sigmoid", axis=a) for a in (0, 1)]
        fastact.set_num_threads(4)
        four = [D.activation_stats(z, "sigmoid", axis=a) for a in (0, 1)]
    finally:
        fastact.set_num_threads(before)
    for a, b in zip(one, four):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_stats_fallback_matches_the_c_pass(dtype, rng, monkeypatch) -> None:
    """The NumPy path (for parameters the C loops cannot take, e.g. a
    string) agrees with the compiled one, array parameters included."""
    z = (rng.standard_normal((2, 3, 40, 500)) * 3).astype(dtype)
    cases = [("relu", 0, {}), ("sigmoid", (0, 2), {}), ("leaky_relu", 1, {"alpha": 0.1}),
             ("leaky_relu", (0, 2, 3), {"alpha": np.array([0.0, 0.2, 0.5])})]
    fast = [D.activation_stats(z, name, axis=axis, **p) for name, axis, p in cases]
    for name, _, _ in cases:
        monkeypatch.delattr(_core, "_stats_" + name, raising=False)
    slow = [D.activation_stats(z, name, axis=axis, **p) for name, axis, p in cases]
    for a, b in zip(fast, slow):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------


class Linear:
    """A user's own layer: lint does not know it."""

    def __init__(self, n_in: int, n_out: int) -> None:
        self.w = np.zeros((n_in, n_out))

    def forward(self, x):
        return x @ self.w


class Dropout:
    inplace = False


def _codes(layers, **kw):
    return [(f.code, f.index) for f in D.lint(layers, **kw)]


def test_lint_relu_sigmoid_traps() -> None:
    assert _codes([Linear(4, 1), nn.ReLU(), nn.Sigmoid()]) == [("relu-before-sigmoid", 1)]
    assert _codes([Linear(4, 1), nn.ReLU6(), nn.BCEWithLogits()]) == [("relu-before-sigmoid", 1)]
    assert _codes([Linear(4, 1), nn.ReLU(), nn.LogSigmoid()]) == [("relu-before-sigmoid", 1)]
    assert _codes([Linear(4, 1), nn.ReLUSigmoid()]) == [("relu-sigmoid", 1)]
    # the fused layer before a logits loss: the trap and the double sigmoid
    assert _codes([Linear(4, 1), nn.ReLUSigmoid(), nn.BCEWithLogits()]) == [
        ("relu-sigmoid", 1), ("activation-before-logits-loss", 1)]
    msg = D.lint([nn.ReLU(), nn.Sigmoid()])[0].message
    assert "0.5" in msg and "log 2" in msg


def test_lint_relu_before_softmax() -> None:
    for head in (nn.Softmax(), nn.LogSoftmax(), nn.SoftmaxCrossEntropy()):
        found = D.lint([Linear(4, 3), nn.ReLU(), head])
        assert [(f.code, f.index, f.severity) for f in found] == [
            ("relu-before-softmax", 1, "warning")]


def test_lint_activation_applied_twice() -> None:
    found = D.lint([Linear(4, 1), nn.Sigmoid(), nn.BCEWithLogits()])
    assert [(f.code, f.index) for f in found] == [("activation-before-logits-loss", 1)]
    assert "twice" in found[0].message and "0.731" in found[0].message  # sigmoid(1)
    found = D.lint([Linear(4, 3), nn.Softmax(), nn.SoftmaxCrossEntropy()])
    assert [(f.code, f.index) for f in found] == [("activation-before-logits-loss", 1)]
    assert "twice" in found[0].message
    # a bounded activation caps the probability: tanh -> [s(-1), s(1)] = [0.269, 0.731]
    found = D.lint([Linear(4, 1), nn.Tanh(), nn.BCEWithLogits()])
    assert found[0].code == "activation-before-logits-loss"
    assert "0.269" in found[0].message and "0.731" in found[0].message
    # log_softmax is idempotent: only an info
    found = D.lint([Linear(4, 3), nn.LogSoftmax(), nn.SoftmaxCrossEntropy()])
    assert [(f.code, f.severity) for f in found] == [("redundant-log-softmax", "info")]


def test_lint_vanishing_gradients_in_a_deep_stack() -> None:
    def stack(acts):
        out = []
        for act in acts:
            out += [Linear(8, 8), act]
        return out + [Linear(8, 1), nn.BCEWithLogits()]

    deep_sigmoid = stack([nn.Sigmoid() for _ in range(4)])
    found = D.lint(deep_sigmoid)
    assert [(f.code, f.index) for f in found] == [("vanishing-gradients", 1)]
    assert "0.25^4" in found[0].message
    mixed = stack([nn.ReLU(), nn.Tanh(), nn.ReLU(), nn.ReLU()])
    assert _codes(mixed) == [("vanishing-gradients", 3)]
    # "deep" = at least 4 hidden activation layers (tunable)
    assert _codes(stack([nn.Tanh() for _ in range(3)])) == []
    assert _codes(stack([nn.Tanh() for _ in range(3)]), deep=3) == [("vanishing-gradients", 1)]
    # the output activation is not hidden
    assert _codes(stack([nn.ReLU()] * 4)[:-1] + [nn.Sigmoid()]) == []


def test_lint_inplace_after_a_layer_that_saved_its_output() -> None:
    found = D.lint([Linear(4, 4), nn.Tanh(), nn.ReLU(inplace=True), Linear(4, 1)])
    assert [(f.code, f.index) for f in found] == [("inplace-overwrites-saved-output", 2)]
    # after the user's Linear (which keeps its input, not its output) it is fine
    assert D.lint([Linear(4, 4), nn.ReLU(inplace=True), Linear(4, 1)]) == []


def test_lint_healthy_nets_give_nothing() -> None:
    healthy = [
        [Linear(4, 8), nn.ReLU(), Linear(8, 8), nn.ReLU(), Linear(8, 1), nn.BCEWithLogits()],
        [Linear(4, 8), nn.Tanh(), Linear(8, 1), nn.Sigmoid()],
        [Linear(4, 8), nn.ReLU(inplace=True), Linear(8, 3), nn.Softmax()],
        [Linear(4, 8), nn.LeakyReLU(), Linear(8, 3), nn.LogSoftmax()],
        [Linear(4, 8), nn.GELU(), Dropout(), Linear(8, 3), nn.SoftmaxCrossEntropy()],
        [Linear(4, 8), nn.PReLU(8), Linear(8, 8), nn.SiLU(), Linear(8, 8), nn.Mish(),
         Linear(8, 8), nn.ELU(), Linear(8, 8), nn.SELU(), Linear(8, 1)],
        [Linear(8, 8), nn.ReLU()] * 10 + [Linear(8, 1), nn.BCEWithLogits()],
        [],
        [Linear(4, 1)],
    ]
    for net in healthy:
        assert D.lint(net) == [], net


def test_lint_accepts_anything_and_skips_what_it_does_not_know() -> None:
    class MySigmoid:  # the user's own: not recognised, not reported
        pass

    assert D.lint([nn.ReLU(), MySigmoid()]) == []
    assert D.lint([None, 3, "relu", nn.ReLU, Linear(2, 2)]) == []
    assert D.lint(iter([nn.ReLU(), nn.Sigmoid()]))[0].code == "relu-before-sigmoid"
    # something between the two breaks "directly before"
    assert D.lint([nn.ReLU(), Linear(2, 2), nn.Sigmoid()]) == []

    class MyReLU(nn.ReLU):  # a subclass of a fastact layer is recognised
        pass

    assert _codes([MyReLU(), nn.Sigmoid()]) == [("relu-before-sigmoid", 0)]


def test_finding_fields() -> None:
    f = D.lint([nn.ReLUSigmoid()])[0]
    assert (f.code, f.index, f.severity) == ("relu-sigmoid", 0, "error")
    assert str(f).startswith("[error] layer 0: relu-sigmoid:")
    with pytest.raises(AttributeError):
        f.code = "x"  # type: ignore[misc]


@pytest.mark.skipif(not hasattr(fastact, "gelu"),
                    reason="fastact.gelu not in this build (the catalogue adds it)")
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_approximations(approximate: str, rng) -> None:
    z = rng.standard_normal((200, 5)) * 3
    got = D.activation_stats(z, "gelu", approximate=approximate, saturation_threshold=0.05)
    y = fastact.gelu(z, approximate=approximate)
    d = fastact.gelu_backward(np.ones_like(z), z, approximate=approximate)
    np.testing.assert_array_equal(got.saturated, np.mean(np.abs(d) < 0.05, axis=0))
    np.testing.assert_allclose(got.mean_output, y.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got.mean_derivative, d.mean(axis=0), rtol=1e-12, atol=1e-15)
    assert D.activation_stats(z, nn.GELU(approximate)).mean_output.tolist() == \
        D.activation_stats(z, "gelu", approximate=approximate).mean_output.tolist()


@pytest.mark.skipif(not hasattr(fastact, "softplus"),
                    reason="fastact.softplus not in this build (the catalogue adds it)")
def test_softplus_threshold_parameter_is_not_the_saturation_threshold() -> None:
    z = np.array([-30.0, 0.0, 5.0, 30.0])
    # softplus'(z) = sigmoid(beta z): 9.4e-14, 0.5, 0.993, 1 (linear above threshold)
    s = D.activation_stats(z, "softplus", threshold=20.0, saturation_threshold=0.01)
    assert s.saturated == 0.25
    assert s.mean_derivative == pytest.approx((_sig(-30) + 0.5 + _sig(5) + 1.0) / 4, rel=1e-12)
    assert D.saturation(z, nn.Softplus(beta=1.0, threshold=4.0)) == 0.25
    assert D.saturation(z, "softplus", threshold=0.6) == 0.5


def test_prelu_layer_stats_use_its_weight_per_channel() -> None:
    layer = nn.PReLU(3)
    layer.weight[...] = [0.0, 0.5, 2.0]
    z = -np.ones((4, 3, 5))
    z[0] = 1.0  # one positive sample per channel and position
    s = D.activation_stats(z, layer, axis=(0, 2))
    # per channel: 1 of 4 samples -> 1 (slope 1); 3 of 4 -> -w (slope w)
    np.testing.assert_allclose(s.mean_output, [0.25, 0.25 - 0.375, 0.25 - 1.5], rtol=1e-15)
    np.testing.assert_allclose(s.mean_derivative, [0.25, 0.25 + 0.375, 0.25 + 1.5], rtol=1e-15)
    np.testing.assert_array_equal(s.dead, [0.75, 0.0, 0.0])  # weight 0: flat below 0
    t = D.activation_stats(z, layer, axis=0)  # units (3, 5): the weight runs along axis 0
    np.testing.assert_allclose(t.mean_output[:, 0], s.mean_output, rtol=1e-15)
    with pytest.raises(ValueError, match="axis 1"):
        D.activation_stats(z, layer, axis=1)
    with pytest.raises(TypeError, match="own weight"):
        D.activation_stats(z, layer, alpha=0.1)
    shared = nn.PReLU()  # one weight, any shape
    assert D.activation_stats(np.array([-2.0, 2.0]), shared).mean_output == pytest.approx(0.75)
