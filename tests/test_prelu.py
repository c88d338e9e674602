"""prelu(x, weight): a leaky relu whose slope is learned, one per channel
(axis 1 of x, as torch.nn.PReLU) or one for all; prelu_backward(grad, x,
weight) returns (grad_x, grad_weight), grad_weight reduced to weight's shape.
"""

from __future__ import annotations

import pickle
import warnings
from fractions import Fraction

import numpy as np
import pytest

import fastact
import fastact.reference as reference

from inputs import FLOAT_DTYPES, dtype_id, special_values
from ulp import assert_ulp_close

SHAPES = {"1d": (7,), "2d": (4, 3), "4d": (2, 3, 4, 5), "0d": ()}


def weights_for(shape, rng):
    """The weight shapes prelu accepts for x of `shape`."""
    channels = shape[1] if len(shape) >= 2 else 1
    return {"scalar": np.float64(0.25), "one": rng.uniform(0, 0.5, 1), "per_channel": rng.uniform(0, 0.5, channels)}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_matches_the_reference(shape, dtype, rng) -> None:
    x = rng.uniform(-5, 5, shape).astype(dtype)
    g = rng.uniform(-2, 2, shape).astype(dtype)
    for kind, w in weights_for(shape, rng).items():
        y = fastact.prelu(x, w)
        assert np.asarray(y).dtype == dtype, "a float64 weight does not change the dtype"
        assert_ulp_close(y, reference.prelu(x, w), 0, what=f"prelu {kind}")
        gx, gw = fastact.prelu_backward(g, x, w)
        rx, rw = reference.prelu_backward(g, x, w)
        assert np.shape(gw) == np.shape(w), "grad_weight has the weight's shape"
        assert_ulp_close(gx, rx, 0, what=f"prelu_backward grad_x {kind}")
        if dtype == np.float64:  # compensated: closer to the exact sum than NumPy's float64 sum
            assert_ulp_close(gw, exact_weight_gradient(g, x, w), 1, what=f"grad_weight {kind}")
        else:  # exact products summed in double, rounded once: as the reference
            assert_ulp_close(gw, rw, 0, what=f"prelu_backward grad_weight {kind}")


def exact_weight_gradient(g, x, w) -> np.ndarray:
    """sum of g * x over x <= 0 per channel (axis 1; all for one weight),
    exactly (fractions), rounded once to float64."""
    x = np.asarray(x, np.float64)
    g = np.broadcast_to(np.asarray(g, np.float64), x.shape)
    per_channel = np.size(w) != 1
    axes = (1,) if per_channel else ()
    xs = np.moveaxis(x.reshape(x.shape or (1,)), axes, tuple(range(len(axes))))
    gs = np.moveaxis(g.reshape(x.shape or (1,)), axes, tuple(range(len(axes))))
    rows = np.size(w) if per_channel else 1
    xs, gs = xs.reshape(rows, -1), gs.reshape(rows, -1)
    sums = [float(sum((Fraction(float(a)) * Fraction(float(b)) for a, b in zip(gr, xr) if b <= 0),
                      Fraction(0))) for gr, xr in zip(gs, xs)]
    return np.asarray(sums).reshape(np.shape(w))


@pytest.mark.parametrize("layout", ("contiguous", "rows_apart"))
@pytest.mark.parametrize("weight_kind", ("scalar", "per_channel"))
def test_float64_weight_gradient_is_compensated(weight_kind, layout, rng) -> None:
    """float64 data: the products' rounding errors and the sum's are carried
    (TwoSum, FMA), so grad_weight is within an ULP of the exact sum -- also
    over many blocks (rows beyond one block of the reduction) and terms of
    very different sizes; a single weight sums x as one flat sequence
    (rows of 17: lanes do not restart with a row; rows apart in memory are
    summed a row at a time, each from the lane its first element falls in)."""
    shape = (3000, 3, 17) if weight_kind == "per_channel" else (9000, 17)
    x = rng.uniform(-1, 1, shape) * np.exp2(rng.integers(-30, 30, shape))
    if layout == "rows_apart":  # a view of every row's first 17 of 19
        x = np.concatenate([x, x[..., :2]], axis=-1)[..., :17]
    g = rng.uniform(-1, 1, x.shape)
    w = np.float64(0.25) if weight_kind == "scalar" else np.array([0.1, 0.2, 0.3])
    _, gw = fastact.prelu_backward(g, x, w)
    assert_ulp_close(gw, exact_weight_gradient(g, x, w), 1, what="grad_weight")


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
@pytest.mark.parametrize(
    ("shape", "weight_kind"),
    # one weight for all: x as one flat sequence cut into blocks, rows of 72
    # (not a multiple of the 16 lanes) and a 1-d x over several blocks
    [((4000, 8, 9), "per_channel"), ((4000, 8, 9), "scalar"), ((300001,), "scalar")],
)
def test_weight_gradient_is_the_same_for_any_layout_and_thread_count(shape, weight_kind, dtype, rng) -> None:
    """One order of summation, fixed by the shape: strided or broadcast
    inputs (the general path) and any thread count give the same bits as
    the contiguous fast path. (The sums are compensated or exact-term
    double sums, so another order would rarely show in the bits either:
    this checks that every path sums every term once, in any layout.)"""
    x = (rng.uniform(-2, 2, shape) * np.exp2(rng.integers(-20, 20, shape))).astype(dtype)
    g = rng.uniform(-1, 1, x.shape).astype(dtype)
    w = np.linspace(0.1, 0.4, 8) if weight_kind == "per_channel" else np.array([0.25])
    want_x, want_w = fastact.prelu_backward(g, x, w)
    before = fastact.get_num_threads()
    try:
        for threads in (1, 2, 3):
            fastact.set_num_threads(threads)
            got_x, got_w = fastact.prelu_backward(g, x, w)
            np.testing.assert_array_equal(got_w, want_w)
            np.testing.assert_array_equal(got_x, want_x)
    finally:
        fastact.set_num_threads(before)
    xf = np.asfortranarray(x)
    got_x, got_w = fastact.prelu_backward(g, xf, w)  # the general (strided) path
    np.testing.assert_array_equal(got_w, want_w)
    np.testing.assert_array_equal(got_x, want_x)
    # rows apart in memory (and, 1-d, elements apart): a row at a time, each
    # starting mid-way through the lanes
    xs = np.empty(shape[:-1] + (shape[-1] + 3,), dtype)[..., : shape[-1]] if len(shape) > 1 else np.empty(2 * shape[0], dtype)[::2]
    xs[...] = x
    got_x, got_w = fastact.prelu_backward(g, xs, w)
    np.testing.assert_array_equal(got_w, want_w)
    np.testing.assert_array_equal(got_x, want_x)
    ones_x, ones_w = fastact.prelu_backward(np.float32(1), x, w)  # broadcast grad
    ref_x, ref_w = fastact.prelu_backward(np.ones_like(x), x, w)
    np.testing.assert_array_equal(ones_w, ref_w)
    np.testing.assert_array_equal(ones_x, ref_x)


def test_per_channel_slope_is_along_axis_1(rng) -> None:
    x = -np.ones((2, 3, 4))
    w = np.array([0.1, 0.2, 0.3])
    y = fastact.prelu(x, w)
    for c in range(3):
        np.testing.assert_array_equal(y[:, c], -w[c])
    np.testing.assert_array_equal(fastact.prelu(np.array([2.0, -2.0]), 0.5), [2.0, -1.0])


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((4, 3), (4,)), ((4, 3), (2,)), ((7,), (3,)), ((2, 3, 4), (4,)), ((4, 3), (3, 1)), ((4, 3), (1, 3))],
)
def test_weight_shape_rules(x_shape, w_shape) -> None:
    """weight: a scalar, one value, or one per channel (axis 1); a 0-d or 1-d x
    has one channel. Anything else is a ValueError, in both directions."""
    x, w = np.ones(x_shape), np.full(w_shape, 0.25)
    with pytest.raises(ValueError, match="weight"):
        fastact.prelu(x, w)
    with pytest.raises(ValueError, match="weight"):
        fastact.prelu_backward(x, x, w)
    with pytest.raises(ValueError):
        reference.prelu(x, w)


def test_weight_must_be_real() -> None:
    with pytest.raises(TypeError, match="prelu"):
        fastact.prelu(np.ones(3), np.array([1j]))
    with pytest.raises(TypeError, match="prelu"):
        fastact.prelu(np.ones(3), "0.25")


@pytest.mark.parametrize("weight_kind", ("scalar", "one", "per_channel"))
@pytest.mark.parametrize("impl", ("fastact", "reference"))
def test_weight_gradient_matches_finite_differences(impl, weight_kind, rng) -> None:
    """d/dw sum(g * prelu(x, w)), by central differences in every weight."""
    module = fastact if impl == "fastact" else reference
    x = rng.uniform(-3, 3, (5, 4, 6))
    g = rng.uniform(-2, 2, x.shape)
    w = np.asarray(weights_for(x.shape, rng)[weight_kind], np.float64)
    eps = 1e-6
    numeric = np.zeros(w.shape)
    for k in np.ndindex(w.shape):
        dw = np.zeros(w.shape)
        dw[k] = eps
        numeric[k] = np.sum(g * (module.prelu(x, w + dw) - module.prelu(x, w - dw))) / (2 * eps)
    grad_x, grad_w = module.prelu_backward(g, x, w)
    np.testing.assert_allclose(grad_w, numeric, rtol=1e-6, atol=1e-6)
    keep = np.abs(x) > 1e-3  # away from the kink
    numeric_x = (module.prelu(x + eps, w) - module.prelu(x - eps, w)) / (2 * eps)
    np.testing.assert_allclose(grad_x[keep], (g * numeric_x)[keep], rtol=1e-6, atol=1e-6)


def test_weight_gradient_is_accumulated_accurately(rng) -> None:
    """float32 data: exact products, summed in float64, rounded once."""
    x = -rng.uniform(0, 1, (1000, 3, 50)).astype(np.float32)
    g = rng.uniform(-1, 1, x.shape).astype(np.float32)
    _, gw = fastact.prelu_backward(g, x, np.ones(3, np.float32))
    exact = [np.sum(g[:, c].astype(np.float64) * x[:, c].astype(np.float64)) for c in range(3)]
    assert gw.dtype == np.float32
    np.testing.assert_allclose(gw, exact, rtol=2**-23)


def test_out_is_a_pair(rng) -> None:
    x = rng.uniform(-2, 2, (4, 3))
    g = rng.uniform(-1, 1, x.shape)
    w = np.array([0.1, 0.2, 0.3])
    want_x, want_w = fastact.prelu_backward(g, x, w)
    out_x, out_w = np.empty_like(x), np.empty(3)
    got_x, got_w = fastact.prelu_backward(g, x, w, out=(out_x, out_w))
    assert got_x is out_x and got_w is out_w
    np.testing.assert_array_equal(out_x, want_x)
    np.testing.assert_array_equal(out_w, want_w)
    got_x, got_w = fastact.prelu_backward(g, x, w, out=(None, out_w))
    np.testing.assert_array_equal(got_x, want_x)
    got_x, got_w = fastact.prelu_backward(g, x, w, out=out_x)  # an array: grad_x's out
    assert got_x is out_x
    np.testing.assert_array_equal(got_w, want_w)
    with pytest.raises(TypeError, match="out must be"):
        fastact.prelu_backward(g, x, w, out=(out_x, out_w, None))
    y = np.empty_like(x)
    assert fastact.prelu(x, w, out=y) is y
    xx = x.copy()
    fastact.prelu(xx, w, out=xx)
    np.testing.assert_array_equal(xx, y)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_special_values(dtype) -> None:
    """NaN propagates (into grad_weight's sum too); no warning on any input."""
    v = special_values(dtype)
    x = np.stack([v, v[::-1]], axis=1)  # two channels
    w = np.array([0.25, 0.5])
    g = np.ones_like(x)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = fastact.prelu(x, w)
        gx, gw = fastact.prelu_backward(g, x, w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ry = reference.prelu(x, w)
        rx, rw = reference.prelu_backward(g, x, w)
    assert_ulp_close(y, ry, 0)
    assert_ulp_close(gx, rx, 0)
    assert np.all(np.isnan(gw)), "a NaN in x makes the weight gradient NaN"
    assert fastact.prelu(dtype(-np.inf), 0.25) == -np.inf
    assert fastact.prelu(dtype(np.inf), 0.25) == np.inf


def test_layouts_and_dtypes(rng) -> None:
    x = rng.uniform(-2, 2, (6, 3, 5))
    w = np.array([0.1, 0.2, 0.3])
    want = fastact.prelu(x, w)
    np.testing.assert_array_equal(fastact.prelu(np.asfortranarray(x), w), want)
    np.testing.assert_array_equal(fastact.prelu(x[::-1], w), want[::-1])
    assert fastact.prelu(np.ones((2, 3), np.int8), w).dtype == np.float16
    assert fastact.prelu(np.ones((2, 3), np.int32), w.astype(np.float32)).dtype == np.float64
    assert fastact.prelu([1.0, -1.0], 0.5).dtype == np.float64
    gx, gw = fastact.prelu_backward(np.float32(1.0), np.ones((2, 3), np.float32), w)
    assert gx.dtype == np.float32 and gw.dtype == np.float32


def test_pickles_by_name() -> None:
    for fn in (fastact.prelu, fastact.prelu_backward):
        assert pickle.loads(pickle.dumps(fn)) is fn
