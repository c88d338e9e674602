"""The fused losses: bce_with_logits (element-wise, logits and targets) and
softmax_cross_entropy (a per-sample loss over the class axis, integer labels).

Labels are validated (integer dtype, the shape of z without the class axis,
values in [0, n): ValueError/TypeError before any work), every integer dtype
works, gradients match finite differences, the losses keep their relative
accuracy where they are tiny (a confident, correct prediction), and the
limits at +-inf are those of the exact functions.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import fastact
import fastact.reference as reference

from function_cases import ACCURACY, parity_budget
from inputs import FLOAT_DTYPES, dtype_id
from exact import PRECISION, correctly_rounded, rounder
from ulp import assert_ulp_close

sce = fastact.softmax_cross_entropy
sce_backward = fastact.softmax_cross_entropy_backward


# --------------------------------------------------------------------------
# softmax_cross_entropy: labels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("impl", ("fastact", "reference"))
@pytest.mark.parametrize("bad", ([0, 5, 1], [0, -1, 1], [0, 1, 2**40]), ids=("n", "negative", "huge"))
def test_labels_out_of_range_are_a_value_error(bad, impl) -> None:
    module = fastact if impl == "fastact" else reference
    z = np.zeros((3, 5))
    labels = np.array(bad)
    with pytest.raises(ValueError, match="labels"):
        module.softmax_cross_entropy(z, labels)
    with pytest.raises(ValueError, match="labels"):
        module.softmax_cross_entropy_backward(np.ones(3), z, labels)


@pytest.mark.parametrize("impl", ("fastact", "reference"))
@pytest.mark.parametrize(
    ("z_shape", "labels_shape", "axis"),
    [((3, 5), (5,), -1), ((3, 5), (1,), -1), ((3, 5), (3, 1), -1), ((3, 5), (), -1), ((3, 5), (3,), 0),
     ((2, 3, 5), (3,), -1), ((2, 3, 5), (2, 5), -1)],
)
def test_labels_of_the_wrong_shape_are_a_value_error(z_shape, labels_shape, axis, impl) -> None:
    """Exactly the shape of z without `axis` -- no broadcasting of labels."""
    module = fastact if impl == "fastact" else reference
    z = np.zeros(z_shape)
    labels = np.zeros(labels_shape, np.int64)
    with pytest.raises(ValueError):
        module.softmax_cross_entropy(z, labels, axis=axis)
    with pytest.raises(ValueError):
        module.softmax_cross_entropy_backward(np.ones(labels_shape), z, labels, axis=axis)


@pytest.mark.parametrize("bad", (np.array([0.0, 1.0]), np.array([True, False]), np.array(["0", "1"])), ids=repr)
def test_labels_must_be_integers(bad) -> None:
    z = np.zeros((2, 3))
    with pytest.raises(TypeError, match="softmax_cross_entropy: labels"):
        sce(z, bad)
    with pytest.raises(TypeError, match="softmax_cross_entropy_backward: labels"):
        sce_backward(np.ones(2), z, bad)


def test_inputs_unchanged_by_a_rejected_call() -> None:
    z = np.arange(6.0).reshape(2, 3)
    labels = np.array([0, 3])
    before = (z.copy(), labels.copy())
    with pytest.raises(ValueError):
        sce(z, labels)
    np.testing.assert_array_equal(z, before[0])
    np.testing.assert_array_equal(labels, before[1])


@pytest.mark.parametrize("int_dtype", (np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint32, np.uint64, np.intp))
def test_every_integer_label_dtype(int_dtype, rng) -> None:
    z = rng.normal(0, 2, (6, 7)).astype(np.float32)
    labels = rng.integers(0, 7, 6)
    want = sce(z, labels.astype(np.intp))
    np.testing.assert_array_equal(sce(z, labels.astype(int_dtype)), want)
    np.testing.assert_array_equal(sce(z, labels.tolist()), want)  # a list of Python ints
    g = rng.normal(0, 1, 6).astype(np.float32)
    np.testing.assert_array_equal(sce_backward(g, z, labels.astype(int_dtype)), sce_backward(g, z, labels))


def test_a_single_sample() -> None:
    z = np.array([1.0, 2.0, 3.0])
    loss = sce(z, 2)
    assert isinstance(loss, np.float64)
    np.testing.assert_allclose(loss, -np.log(np.exp(3) / np.exp([1, 2, 3]).sum()), rtol=1e-15)
    assert sce_backward(1.0, z, 2).shape == (3,)


# --------------------------------------------------------------------------
# softmax_cross_entropy: values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", (0, 1, 2, -1))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_every_axis(dtype, axis, rng) -> None:
    z = rng.normal(0, 3, (3, 4, 5)).astype(dtype)
    n = z.shape[axis]
    batch = z.shape[:axis % 3] + z.shape[axis % 3 + 1:]
    labels = rng.integers(0, n, batch)
    loss = sce(z, labels, axis=axis)
    assert loss.shape == batch and loss.dtype == dtype
    moved = sce(np.ascontiguousarray(np.moveaxis(z, axis, -1)), labels)
    np.testing.assert_array_equal(loss, moved)
    assert_ulp_close(loss, reference.softmax_cross_entropy(z, labels, axis=axis),
                     parity_budget("softmax_cross_entropy", "forward", dtype))
    g = rng.uniform(0.5, 2, batch).astype(dtype)
    gz = sce_backward(g, z, labels, axis=axis)
    assert gz.shape == z.shape
    moved = np.moveaxis(sce_backward(g, np.ascontiguousarray(np.moveaxis(z, axis, -1)), labels), -1, axis)
    np.testing.assert_array_equal(gz, moved)
    assert_ulp_close(gz, reference.softmax_cross_entropy_backward(g, z, labels, axis=axis),
                     parity_budget("softmax_cross_entropy", "backward", dtype))


def test_is_minus_log_softmax_at_the_label_and_its_gradient(rng) -> None:
    z = rng.normal(0, 3, (20, 9))
    labels = rng.integers(0, 9, 20)
    logp = fastact.log_softmax(z)
    np.testing.assert_allclose(sce(z, labels), -logp[np.arange(20), labels], rtol=1e-14)
    g = rng.uniform(0.5, 2, 20)
    onehot = np.eye(9)[labels]
    np.testing.assert_allclose(sce_backward(g, z, labels), g[:, None] * (fastact.softmax(z) - onehot),
                               rtol=1e-12, atol=1e-15)


def test_grad_broadcasts_over_the_batch(rng) -> None:
    """A scalar grad (the 1/N of a mean) broadcasts to every sample."""
    z = rng.normal(0, 1, (5, 4))
    labels = rng.integers(0, 4, 5)
    np.testing.assert_array_equal(sce_backward(0.2, z, labels), sce_backward(np.full(5, 0.2), z, labels))


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
def test_confident_correct_prediction_keeps_its_digits(dtype) -> None:
    """loss = log1p(sum of the tiny others), not log(1 + ...) rounded to 0; the
    gradient at the label -(sum of the others)/S, not p - 1 rounded to 0."""
    rows = np.array([[30.0, 0.0, 0.0], [60.0, -10.0, 3.0], [5.0, 5.0, -40.0], [100.0, 20.0, 20.0]], dtype)
    labels = np.array([0, 0, 1, 0])
    rnd = rounder(dtype)
    accuracy = ACCURACY["softmax_cross_entropy"]
    with mpmath.workprec(PRECISION):
        want = []
        want_grad = []
        for row, label in zip(rows, labels, strict=True):
            r = [mpmath.mpf(float(v)) for v in row]
            want.append(correctly_rounded(accuracy.forward(r, int(label), rnd), dtype))
            want_grad.append([correctly_rounded(v, dtype) for v in accuracy.derivative(mpmath.mpf(1), r, int(label), rnd)])
    loss = sce(rows, labels)
    assert np.all(loss > 0)
    assert_ulp_close(loss, np.array(want, dtype), accuracy.budget.forward, inputs={"z": rows})
    assert_ulp_close(sce_backward(np.ones(4, dtype), rows, labels), np.array(want_grad, dtype),
                     accuracy.budget.backward, inputs={"z": rows})


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
def test_accuracy_against_mpmath(dtype, rng) -> None:
    accuracy = ACCURACY["softmax_cross_entropy"]
    rnd = rounder(dtype)
    rows = [rng.normal(0, 1, 7), rng.normal(0, 10, 33), rng.uniform(-80, 80, 64), np.array([3.0, 3.0, -5.0]),
            np.concatenate([[40.0], rng.uniform(-40, 0, 15)])]
    for row in rows:
        z = row.astype(dtype)
        for label in {0, len(z) - 1, int(np.argmax(z)), int(rng.integers(len(z)))}:
            r = [mpmath.mpf(float(v)) for v in z]
            with mpmath.workprec(PRECISION):
                loss = correctly_rounded(accuracy.forward(r, label, rnd), dtype)
                grad = [correctly_rounded(v, dtype) for v in accuracy.derivative(mpmath.mpf(1.5), r, label, rnd)]
            assert_ulp_close(sce(z, label), loss, accuracy.budget.forward, inputs={"z": z})
            assert_ulp_close(sce_backward(dtype(1.5), z, label), np.array(grad, dtype), accuracy.budget.backward,
                             inputs={"z": z})


def test_special_rows_give_nan_and_never_warn() -> None:
    """A row of all -inf, with a NaN or with +inf: NaN (as PyTorch); a -inf at
    the label (probability 0): an infinite loss; -inf elsewhere: ignored."""
    inf, nan = np.inf, np.nan
    z = np.array([[-inf, -inf, -inf], [0.0, nan, 1.0], [inf, 0.0, 1.0], [-inf, 0.0, 1.0], [0.0, -inf, 1.0]])
    labels = np.array([0, 0, 1, 0, 0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = sce(z, labels)
        grad = sce_backward(np.ones(5), z, labels)
    assert np.all(np.isnan(loss[:3])) and np.all(np.isnan(grad[:3]))
    assert loss[3] == inf
    np.testing.assert_allclose(loss[4], np.log1p(np.exp(1.0)), rtol=1e-15)
    assert grad[4, 1] == 0


# --------------------------------------------------------------------------
# Gradients: finite differences
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", (0, 1, -1))
@pytest.mark.parametrize("impl", ("fastact", "reference"))
def test_cross_entropy_gradient_matches_finite_differences(impl, axis, rng) -> None:
    module = fastact if impl == "fastact" else reference
    z = rng.normal(0, 2, (3, 4))
    n = z.shape[axis]
    labels = rng.integers(0, n, z.shape[1 - axis % 2])
    g = rng.uniform(0.5, 2, labels.shape)
    eps = 1e-6
    numeric = np.zeros_like(z)
    for k in np.ndindex(z.shape):
        dz = np.zeros_like(z)
        dz[k] = eps
        up = module.softmax_cross_entropy(z + dz, labels, axis=axis)
        down = module.softmax_cross_entropy(z - dz, labels, axis=axis)
        numeric[k] = np.sum(g * (up - down)) / (2 * eps)
    analytic = module.softmax_cross_entropy_backward(g, z, labels, axis=axis)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("target", (0.0, 1.0, 0.3, "random"))
@pytest.mark.parametrize("impl", ("fastact", "reference"))
def test_bce_gradient_matches_finite_differences(impl, target, rng) -> None:
    module = fastact if impl == "fastact" else reference
    z = rng.uniform(-30, 30, 2000)
    t = rng.uniform(0, 1, z.shape) if target == "random" else np.full(z.shape, target)
    g = rng.uniform(-2, 2, z.shape)
    eps = 1e-6
    numeric = (module.bce_with_logits(z + eps, t) - module.bce_with_logits(z - eps, t)) / (2 * eps)
    np.testing.assert_allclose(module.bce_with_logits_backward(g, z, t), g * numeric, rtol=1e-3, atol=1e-5)


# --------------------------------------------------------------------------
# bce_with_logits
# --------------------------------------------------------------------------


def test_bce_is_the_binary_cross_entropy_of_the_sigmoid(rng) -> None:
    z = rng.uniform(-10, 10, 500)
    t = rng.uniform(0, 1, 500)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(fastact.bce_with_logits(z, t), -(t * np.log(s) + (1 - t) * np.log1p(-s)), rtol=1e-12)
    np.testing.assert_allclose(fastact.bce_with_logits_backward(np.ones(500), z, t), s - t, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
def test_bce_keeps_its_digits_in_the_tails(dtype) -> None:
    """Confident correct predictions: loss exp(-|z|) (a subnormal at the end),
    gradient -sigmoid(-|z|) -- not 0 -- and the target broadcasts."""
    z = np.array([20.0, 80.0, -80.0, 100.0], dtype)
    t = np.array([1.0, 1.0, 0.0, 1.0], dtype)
    with mpmath.workprec(PRECISION):
        want = [correctly_rounded(mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(float(v))))), dtype) for v in z]
        want_grad = [correctly_rounded(1 / (1 + mpmath.exp(-mpmath.mpf(float(v)))) - float(w), dtype)
                     for v, w in zip(z, t, strict=True)]
    assert_ulp_close(fastact.bce_with_logits(z, t), np.array(want, dtype), 3)
    assert_ulp_close(fastact.bce_with_logits_backward(np.ones_like(z), z, t), np.array(want_grad, dtype), 3)
    assert fastact.bce_with_logits(z, dtype(1)).shape == (4,)


def test_bce_soft_targets_near_the_sigmoid() -> None:
    """sigmoid(z) - t where they nearly cancel: float32 is exact to an ULP (it
    computes in double), e.g. z = 1e-7, t = 0.5: sigmoid(z) - t = z/4."""
    z = np.array([1e-7, -3e-9, 1e-20], np.float32)
    got = fastact.bce_with_logits_backward(np.ones(3, np.float32), z, np.float32(0.5))
    np.testing.assert_allclose(got, z.astype(np.float64) / 4, rtol=1e-6)
    got64 = fastact.bce_with_logits_backward(np.ones(3), z.astype(np.float64), 0.5)
    np.testing.assert_allclose(got64, z.astype(np.float64) / 4, rtol=1e-12)
