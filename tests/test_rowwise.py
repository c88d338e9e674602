"""Row-wise functions: softmax and log_softmax (forward and backward, from the
output), as NumPy gufuncs over any axis.

Every axis and temperature, rows of all -inf (NaN, as PyTorch), temperature
<= 0 (ValueError), log_softmax accurate where softmax underflows (it never
goes through log(softmax)), accuracy against mpmath and against the float64
reference on dense rows, the Jacobian against finite differences on every
axis, strided and float16 rows, out= and in place, threads, special rows.
(softmax_cross_entropy: test_losses.py.)
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import fastact
import fastact.reference as reference

from function_cases import ACCURACY, by_name, cancellation_scale, parity_budget
from inputs import FLOAT_DTYPES, dtype_id
from exact import PRECISION, correctly_rounded, rounder
from ulp import assert_ulp_close

NAMES = ("softmax", "log_softmax")
AXES = (0, 1, 2, -1, -2, -3)
TEMPERATURES = (1.0, 0.7, 3.0)


def fwd(name):
    return getattr(fastact, name)


def bwd(name):
    return getattr(fastact, name + "_backward")


def ref(name, direction="forward"):
    return getattr(reference, name if direction == "forward" else name + "_backward")


# --------------------------------------------------------------------------
# Axes and temperatures
# --------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("name", NAMES)
def test_every_axis(name, dtype, axis, temperature, rng) -> None:
    """Any axis: the same as moving that axis last (bit for bit -- a strided row
    is gathered, computed the same way, and scattered), and as the reference."""
    x = rng.normal(0, 4, (3, 4, 5)).astype(dtype)
    y = fwd(name)(x, axis=axis, temperature=temperature)
    moved = np.moveaxis(fwd(name)(np.ascontiguousarray(np.moveaxis(x, axis, -1)), temperature=temperature), -1, axis)
    np.testing.assert_array_equal(y, moved)
    assert_ulp_close(y, ref(name)(x, axis=axis, temperature=temperature), parity_budget(name, "forward", dtype),
                     what=f"{name} axis={axis}")
    g = rng.normal(0, 1, x.shape).astype(dtype)
    gx = bwd(name)(g, y, axis=axis, temperature=temperature)
    moved = np.moveaxis(
        bwd(name)(*(np.ascontiguousarray(np.moveaxis(a, axis, -1)) for a in (g, y)), temperature=temperature), -1, axis
    )
    np.testing.assert_array_equal(gx, moved)
    args = (g, y)
    expected = ref(name, "backward")(*args, axis=axis, temperature=temperature)
    scale = cancellation_scale(
        by_name(name), "backward", tuple(np.moveaxis(a, axis, -1) for a in args), {"temperature": temperature}
    )
    assert_ulp_close(gx, expected, parity_budget(name, "backward", dtype), what=f"{name}_backward axis={axis}",
                     scale=None if scale is None else np.moveaxis(scale, -1, axis))


@pytest.mark.parametrize("name", NAMES)
def test_temperature_divides_x(name, rng) -> None:
    x = rng.normal(0, 3, (4, 9))
    for t in (0.25, 0.7, 3.0, 1e3):
        # (x / t rounds: exp amplifies that |x / t| times -- hence a relative tolerance)
        np.testing.assert_allclose(fwd(name)(x, temperature=t), fwd(name)(x / t), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_temperature_per_row(name, rng) -> None:
    """temperature broadcasts against the batch dimensions: one per row."""
    x = rng.normal(0, 3, (4, 9)).astype(np.float32)
    t = np.array([0.5, 1.0, 2.0, 7.0])
    y = fwd(name)(x, temperature=t)
    assert y.dtype == np.float32, "a float64 temperature does not change the dtype"
    for k in range(4):
        np.testing.assert_array_equal(y[k], fwd(name)(x[k], temperature=t[k]))
    g = rng.normal(0, 1, x.shape).astype(np.float32)
    gx = bwd(name)(g, y, temperature=t)
    for k in range(4):
        np.testing.assert_array_equal(gx[k], bwd(name)(g[k], y[k], temperature=t[k]))


@pytest.mark.parametrize("bad", (0.0, -1.0, np.nan, -np.inf, np.array([1.0, 0.0])), ids=repr)
@pytest.mark.parametrize("name", NAMES)
def test_temperature_must_be_positive(name, bad) -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="temperature"):
        fwd(name)(x, temperature=bad)
    with pytest.raises(ValueError, match="temperature"):
        bwd(name)(x, x, temperature=bad)
    with pytest.raises(ValueError, match="temperature"):
        ref(name)(x, temperature=bad)


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults(name) -> None:
    import inspect

    for fn in (fwd(name), bwd(name)):
        params = inspect.signature(fn).parameters
        assert params["axis"].default == -1
        assert params["temperature"].default == 1.0
        assert isinstance(fn.ufunc, np.ufunc) and fn.ufunc.signature is not None


# --------------------------------------------------------------------------
# Special rows
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("name", NAMES)
def test_special_rows(name, dtype) -> None:
    """A row of all -inf, with a NaN or with +inf gives NaN (PyTorch); -inf
    entries of an ordinary row give 0 (softmax) and -inf (log_softmax); the
    other rows are untouched; nothing warns, even under errstate(all=raise)."""
    inf, nan = np.inf, np.nan
    x = np.array(
        [[-inf, -inf, -inf], [0.0, nan, 1.0], [inf, 0.0, 1.0], [0.0, -inf, 1.0], [1.0, 2.0, 3.0],
         [-inf, -inf, 5.0], [3e38 if dtype != np.float16 else 6e4] * 3],
        dtype,
    )
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = fwd(name)(x)
        gx = bwd(name)(np.ones_like(y), y)
    assert np.all(np.isnan(y[:3]))
    assert np.all(np.isnan(gx[:3]))
    if name == "softmax":
        assert y[3, 1] == 0 and y[5, 0] == y[5, 1] == 0 and y[5, 2] == 1
        np.testing.assert_allclose(y[6], 1 / 3, rtol=1e-3)
    else:
        assert y[3, 1] == -inf and y[5, 0] == -inf and y[5, 2] == 0
        np.testing.assert_allclose(y[6], -np.log(3), rtol=1e-3)
    assert_ulp_close(y[3:], ref(name)(x[3:]), parity_budget(name, "forward", dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(np.isnan(ref(name)(x)), np.isnan(y))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=dtype_id)
@pytest.mark.parametrize("name", NAMES)
def test_backward_with_an_infinite_grad(name, dtype) -> None:
    """An inf in grad makes the row's sum inf, not NaN: the other entries
    are -+inf (inf - inf = NaN only at the inf itself), as the reference;
    the compensated sum must not turn inf into NaN through its low part."""
    x = np.array([[0.1, 0.5, -1.0, 2.0], [0.3, -0.2, 0.0, 1.0]], dtype)
    g = np.array([[1.0, np.inf, 0.5, -2.0], [1.0, -np.inf, 0.5, np.inf]], dtype)
    y = fwd(name)(x)
    with np.errstate(invalid="ignore"):
        want = ref(name, "backward")(g, y)
    got = bwd(name)(g, y)
    assert np.isinf(want[0]).sum() == 3  # the case this test is about
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_empty_rows_and_batches(name) -> None:
    for shape in ((0, 5), (3, 0), (0,), (2, 0, 4)):
        x = np.zeros(shape, np.float32)
        assert fwd(name)(x).shape == shape
        assert bwd(name)(x, x).shape == shape


@pytest.mark.parametrize("name", NAMES)
def test_one_element_rows(name) -> None:
    x = np.array([[3.0], [-1e30], [0.0]])
    y = fwd(name)(x)
    np.testing.assert_array_equal(y, np.ones_like(x) if name == "softmax" else np.zeros_like(x))


@pytest.mark.parametrize("name", NAMES)
def test_python_lists_and_dtypes(name) -> None:
    assert fwd(name)([1.0, 2.0, 3.0]).dtype == np.float64
    assert fwd(name)(np.array([1, 2, 3], np.int8)).dtype == np.float16
    assert fwd(name)(np.array([1, 2, 3], np.int32)).dtype == np.float64
    assert fwd(name)(np.array([1, 2, 3], np.float16)).dtype == np.float16
    assert bwd(name)([1.0, 0.0], np.float32([0.5, 0.5])).dtype == np.float64  # a list is float64
    assert bwd(name)(np.float32([1.0, 0.0]), [0.5, 0.5]).dtype == np.float64
    with pytest.raises(ValueError):
        fwd(name)(1.0)  # no axis


# --------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------


def test_log_softmax_never_goes_through_log_of_softmax() -> None:
    """Where softmax rounds to 1 (or underflows to 0), log_softmax keeps its
    relative accuracy: log_softmax([0, -30])[0] = -log1p(exp(-30)) ~ -9.4e-14,
    not log(1.0) = 0, and log_softmax([0, -200])[1] = -200, not log(0) = -inf."""
    for dtype in (np.float32, np.float64):
        for x in ([0.0, -30.0], [0.0, -200.0], [5.0, -80.0, -90.0], [0.0, -17.0, -17.0]):
            x = np.array(x, dtype)
            got = fastact.log_softmax(x)
            with mpmath.workprec(PRECISION):
                exact = ACCURACY["log_softmax"].forward([mpmath.mpf(float(v)) for v in x], rounder(dtype),
                                                        temperature=mpmath.mpf(1))
                want = np.array([correctly_rounded(v, dtype) for v in exact], dtype)
            assert np.all(np.isfinite(got))
            assert_ulp_close(got, want, 2, inputs={"x": x}, what="log_softmax where softmax -> 1")


def mp_rows(dtype, rng) -> list[np.ndarray]:
    """Rows for the mpmath tests: short and long, narrow and wide spreads,
    one dominant element, ties at the max, the tails of exp."""
    rows = [
        rng.normal(0, 1, 7),
        rng.normal(0, 10, 33),
        rng.uniform(-80, 80, 64),
        np.concatenate([[40.0], rng.uniform(-40, 0, 15)]),
        np.array([3.0, 3.0, 3.0, -5.0]),
        rng.uniform(-1e-3, 1e-3, 9),
        np.array([2.5]),
    ]
    if dtype == np.float64:
        rows.append(rng.uniform(-700, 700, 48))
    return [r.astype(dtype) for r in rows]


@pytest.mark.parametrize("temperature", (1.0, 0.7))
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
@pytest.mark.parametrize("name", NAMES)
def test_accuracy_against_mpmath(name, dtype, temperature, rng) -> None:
    """Forward within the budget of ACCURACY (ULPs of the correctly rounded
    result); backward within the budget of the result or, where g - sum(g y)
    (resp. g - exp(y) sum(g)) cancels, of the terms' size."""
    accuracy = ACCURACY[name]
    rnd = rounder(dtype)
    t = mpmath.mpf(float(dtype(temperature)))
    for x in mp_rows(dtype, rng):
        with mpmath.workprec(PRECISION):
            exact = accuracy.forward([mpmath.mpf(float(v)) for v in x], rnd, temperature=t)
            want = np.array([correctly_rounded(v, dtype) for v in exact], dtype)
        y = fwd(name)(x, temperature=temperature)
        assert_ulp_close(y, want, accuracy.budget.forward, inputs={"x": x}, what=f"{name} vs mpmath")
        g = rng.uniform(-2, 2, x.shape).astype(dtype)
        with mpmath.workprec(PRECISION):
            exact = accuracy.derivative([mpmath.mpf(float(v)) for v in g], [mpmath.mpf(float(v)) for v in y],
                                        rnd, temperature=t)
            want = np.array([correctly_rounded(v, dtype) for v in exact], dtype)
        gx = bwd(name)(g, y, temperature=temperature)
        scale = cancellation_scale(by_name(name), "backward", (g, y), {"temperature": temperature})
        assert_ulp_close(gx, want, accuracy.budget.backward, inputs={"g": g, "y": y},
                         what=f"{name}_backward vs mpmath", scale=scale if dtype == np.float64 else None)


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("name", NAMES)
def test_float32_dense_rows_against_float64(name, temperature, rng) -> None:
    """400 rows of 257 float32 values (normal, wide uniform, log-spread
    magnitudes) against the float64 reference: the forward budget, and the
    backward budget of ULPs of the result (float rows compute in double)."""
    budget = ACCURACY[name].budget
    t32 = float(np.float32(temperature))
    parts = [rng.normal(0, 3, (150, 257)), rng.uniform(-100, 100, (150, 257)),
             np.sign(rng.uniform(-1, 1, (100, 257))) * np.exp(rng.uniform(-90, 4.5, (100, 257)))]
    x = np.concatenate(parts).astype(np.float32)
    y = fwd(name)(x, temperature=temperature)
    assert_ulp_close(y, ref(name)(x.astype(np.float64), temperature=t32).astype(np.float32), budget.forward,
                     what=f"{name} float32 rows")
    g = rng.uniform(-2, 2, x.shape).astype(np.float32)
    gx = bwd(name)(g, y, temperature=temperature)
    want = ref(name, "backward")(g.astype(np.float64), y.astype(np.float64), temperature=t32)
    assert_ulp_close(gx, want.astype(np.float32), budget.backward, what=f"{name}_backward float32 rows")


def test_log_softmax_backward_float32_saved_values_beyond_exp_range() -> None:
    """The saved y is the caller's, so exp(y) may be far outside a float's
    range: where exp(y) sum(g) overflows a float, or is below the least one,
    float32 rows still give the float64 result rounded once (NaN stays NaN)."""
    # (not above 709: there the float64 reference's e * 0 low part is NaN)
    y = np.array([-np.inf, -1e30, -800, -700.5, -104, -90, -1e-3, 0, 50, 88, 89, 700, np.nan], np.float32)
    g = np.linspace(0.5, 1.5, y.size).astype(np.float32)
    for row_g in (g, -g):
        with np.errstate(all="ignore"):
            want = reference.log_softmax_backward(row_g.astype(np.float64), y.astype(np.float64))
            want = want.astype(np.float32)
        got = fastact.log_softmax_backward(row_g, y)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        finite = np.isfinite(want)
        np.testing.assert_array_equal(got[~finite], want[~finite])
        assert_ulp_close(got[finite], want[finite], 1, what="log_softmax_backward, saved y beyond exp's range")


def _exact_softmax_vjp_float32(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(g - sum(g y)) y for one float32 row, exact in rationals, rounded once."""
    gs, ys = [Fraction(float(v)) for v in g], [Fraction(float(v)) for v in y]
    dot = sum(a * b for a, b in zip(gs, ys))
    with mpmath.workdps(80):
        exact = [mpmath.mpf(r.numerator) / r.denominator for r in ((a - dot) * b for a, b in zip(gs, ys))]
    return np.array([correctly_rounded(v, np.float32) for v in exact], np.float32)


def test_softmax_backward_float32_where_grad_meets_the_dot(rng) -> None:
    """Rows where g - sum(g y) cancels to its last digits: a constant grad
    (the result is c (1 - sum(y)) y, a few ULP of c; with x spread out, one
    y ~ 1, or all y ~ 1/n), a grad a few float
    steps from a constant, and grads at the float neighbours of the dot and
    at the power of 2 below it (a binade edge). The float32 result stays
    within an ULP of the exact one (rational arithmetic) at every SIMD level."""
    n = 257
    for case in [k for k in range(9) for _ in range(3)]:
        x = rng.uniform(-1 if case == 2 else -8, 1 if case == 2 else 8, n).astype(np.float32)
        if case == 1:
            x[0] = 30.0  # one y ~ 1: sum(g y) ~ g there
        y = fastact.softmax(x)
        c = np.float32(rng.uniform(0.25, 2) * (-1) ** case)
        if case < 3:
            g = np.full(n, c, np.float32)
        elif case < 5:
            g = (c + rng.integers(-3, 4, n) * np.spacing(c)).astype(np.float32)
        else:
            g = rng.uniform(-1, 1, n).astype(np.float32)
            dot = np.float32(float(sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(g, y))))
            g[::3] = dot + (np.arange(0, n, 3) % 7 - 3) * np.spacing(dot)
            if case >= 7:
                g[1::3] = np.copysign(np.float32(2.0) ** np.floor(np.log2(abs(dot))), dot)
        assert_ulp_close(fastact.softmax_backward(g, y), _exact_softmax_vjp_float32(g, y), 1,
                         inputs={"g": g, "y": y}, what=f"softmax_backward float32, cancelling row {case}")


# --------------------------------------------------------------------------
# The Jacobian: finite differences on every axis
# --------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("axis", (0, 1, 2))
@pytest.mark.parametrize("impl", ("fastact", "reference"))
@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name, impl, axis, temperature, rng) -> None:
    """The vector-Jacobian product g^T J, J by central differences column by
    column (float64, PyTorch's gradcheck tolerances)."""
    module = fastact if impl == "fastact" else reference
    f, b = getattr(module, name), getattr(module, name + "_backward")
    x = rng.normal(0, 2, (2, 3, 4))
    g = rng.normal(0, 1, x.shape)
    eps = 1e-6
    numeric = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        dx = np.zeros_like(x)
        dx[k] = eps
        column = (f(x + dx, axis=axis, temperature=temperature) - f(x - dx, axis=axis, temperature=temperature))
        numeric[k] = np.sum(g * column) / (2 * eps)
    y = f(x, axis=axis, temperature=temperature)
    analytic = b(g, y, axis=axis, temperature=temperature)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-5)


# --------------------------------------------------------------------------
# Memory layouts, out=, threads
# --------------------------------------------------------------------------

LAYOUTS = {
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
    "step2": lambda a: np.repeat(a, 2, axis=-1)[:, ::2],
    "negative": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "rows_step3": lambda a: np.repeat(a, 3, axis=0)[::3],
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("name", NAMES)
def test_layouts_give_the_contiguous_result(name, dtype, layout, rng) -> None:
    x = rng.normal(0, 3, (5, 600)).astype(dtype)  # rows longer than a chunk (256)
    g = rng.normal(0, 1, x.shape).astype(dtype)
    y = fwd(name)(x)
    strided = LAYOUTS[layout](x)
    np.testing.assert_array_equal(strided, x)
    np.testing.assert_array_equal(fwd(name)(strided), y)
    np.testing.assert_array_equal(bwd(name)(LAYOUTS[layout](g), LAYOUTS[layout](y)), bwd(name)(g, y))


@pytest.mark.parametrize("name", NAMES)
def test_out_in_place_and_strided_out(name, rng) -> None:
    x = rng.normal(0, 3, (6, 300))
    y = fwd(name)(x)
    out = np.full_like(x, 7.0)
    assert fwd(name)(x, out=out) is out
    np.testing.assert_array_equal(out, y)
    inplace = x.copy()
    assert fwd(name)(inplace, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, y)
    buffer = np.full((12, 600), 7.0)
    view = buffer[::2, ::2]
    fwd(name)(x, out=view)
    np.testing.assert_array_equal(view, y)
    assert np.all(buffer[1::2] == 7.0) and np.all(buffer[::2, 1::2] == 7.0)
    g = rng.normal(0, 1, x.shape)
    gx = bwd(name)(g, y)
    for k, operand in enumerate((g.copy(), y.copy())):
        args = [g.copy(), y.copy()]
        args[k] = operand
        np.testing.assert_array_equal(bwd(name)(*args, out=operand), gx)
    with pytest.raises(ValueError):
        fwd(name)(x, out=np.zeros((6, 299)))


@pytest.mark.parametrize("name", NAMES)
def test_batch_broadcasting(name, rng) -> None:
    y = fwd(name)(rng.normal(0, 1, (4, 1, 7)))
    g = rng.normal(0, 1, (3, 7))
    gx = bwd(name)(g, y)
    assert gx.shape == (4, 3, 7)
    np.testing.assert_array_equal(gx[2, 1], bwd(name)(g[1], y[2, 0]))


@pytest.mark.parametrize("axis", (-1, 0))
@pytest.mark.parametrize("name", NAMES)
def test_threads_give_identical_results(name, axis, rng) -> None:
    """Large batches split across threads by rows; any thread count, same bits."""
    x = rng.normal(0, 3, (3000, 64)).astype(np.float32)
    g = rng.normal(0, 1, x.shape).astype(np.float32)
    if axis == 0:
        x, g = x.T, g.T
    before = fastact.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            fastact.set_num_threads(threads)
            y = fwd(name)(x, axis=axis)
            results.append((y, bwd(name)(g, y, axis=axis)))
    finally:
        fastact.set_num_threads(before)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    assert_ulp_close(results[0][0], ref(name)(x, axis=axis), parity_budget(name, "forward", np.float32))


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=dtype_id)
@pytest.mark.parametrize("temperature", [1e-40, 3e-25, 1e39, 1e300])
def test_extreme_temperature_in_a_narrow_dtype(dtype, temperature) -> None:
    """A temperature that float32 cannot hold (or whose reciprocal it cannot)
    still gives the float64 reference rounded to the dtype, not NaN rows."""
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1e-44], [-5.0, 5.0, 0.0]]).astype(dtype)
    g = np.array([[0.5, -1.0, 2.0]] * 3, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        y = fastact.softmax(x, temperature=temperature)
        ly = fastact.log_softmax(x, temperature=temperature)
        gy = fastact.softmax_backward(g, y, temperature=temperature)
    with np.errstate(all="ignore"):
        x64, g64 = x.astype(np.float64), g.astype(np.float64)
        want = reference.softmax(x64, temperature=temperature)
        want_log = reference.log_softmax(x64, temperature=temperature)
        want_g = reference.softmax_backward(g64, y.astype(np.float64), temperature=temperature)
        cast = [w.astype(dtype) for w in (want, want_log, want_g)]
    for got, w in zip((y, ly, gy), cast):
        assert got.dtype == dtype and not np.isnan(got).any()
        assert_ulp_close(got, w, 2, what=f"softmax family at temperature {temperature}")
    # the mechanism is in the gufunc loop: the bare ufunc (what Dask calls) agrees
    np.testing.assert_array_equal(fastact.softmax.ufunc(x, temperature), y)
    out = np.empty_like(x)
    assert fastact.softmax(x, temperature=temperature, out=out) is out
    np.testing.assert_array_equal(out, y)
