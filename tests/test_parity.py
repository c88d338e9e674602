"""fastact agrees with fastact.reference across dtypes, shapes, layouts,
broadcasting, out=, in place and where=, within the ULP budgets of
function_cases.PARITY_ULP, and never modifies its inputs."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import fastact
from fastact._registry import Activation

from function_cases import (
    ACCURACY,
    activation_params,
    by_name,
    cancellation_scale,
    correctly_rounded_values,
    is_plain,
    ndata,
    numeric_params,
    param_sets,
    parity_budget,
    with_param_sets,
)
from inputs import (
    DATA_DTYPES,
    DIRECTIONS,
    FLOAT_DTYPES,
    LAYOUT_SHAPE,
    LAYOUTS,
    SHAPES,
    arguments,
    backward_args,
    call,
    dtype_id,
    float_positions,
    grad_x,
    reference_of,
    result_dtype,
    sample,
    sample_grad,
)
from tables import SATURATION, SRC, TABLED, table_edges
from ulp import assert_ulp_close


def check_parity(act: Activation, direction: str, args: tuple, params: dict, **kwargs: Any) -> Any:
    """Call fastact and the reference on the same arguments and compare them.
    (prelu_backward returns (grad_x, grad_weight): both are compared.)"""
    expected = reference_of(act, direction)(*args, **params)
    actual = call(getattr(act, direction), *args, **params, **kwargs)
    pairs = zip(actual, expected, strict=True) if isinstance(expected, tuple) else [(actual, expected)]
    floats = [np.asarray(args[k]).dtype for k in float_positions(act, direction)]
    scale = cancellation_scale(act, direction, args, params)
    for k, (got, want) in enumerate(pairs):
        assert type(got) is type(want), "0-d results are scalars, others arrays (as ufuncs)"
        assert np.asarray(got).dtype == result_dtype(*floats)
        assert_ulp_close(
            got,
            want,
            parity_budget(act.name, direction, np.asarray(want).dtype),
            inputs=dict(enumerate(args)) if k == 0 else None,
            what=f"{act.name} {direction}" + (f" output {k}" if k else ""),
            scale=scale,
        )
    return actual


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", DATA_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("act", activation_params())
def test_dtypes_and_shapes(act, shape, dtype, direction, rng) -> None:
    if act.rowwise and not shape:
        pytest.skip("a row-wise function needs an axis")
    if act.int_args and shape[-1] == 0:
        pytest.skip("no valid class label for rows of length 0")
    args = arguments(act, direction, dtype, shape, rng, act.params)
    check_parity(act, direction, args, act.params)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), with_param_sets())
def test_every_parameter_value(act, params, dtype, direction, rng) -> None:
    args = arguments(act, direction, dtype, (3, 257), rng, params)
    check_parity(act, direction, args, params)


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_forward_layouts(act, layout, dtype, rng) -> None:
    data = tuple(
        LAYOUTS[layout](lambda shape, k=k: sample(act, dtype, shape, rng)[k]) for k in range(ndata(act))
    )
    assert check_parity(act, "forward", data, act.params).shape == LAYOUT_SHAPE


@pytest.mark.parametrize("strided", ("grad", "saved"))
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=dtype_id)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_backward_layouts(act, layout, dtype, strided, rng) -> None:
    """One of grad / saved tensor in `layout`, the other contiguous."""
    contiguous = LAYOUTS["contiguous"]

    def grad(shape):
        return sample_grad(dtype, shape, rng)

    def saved(shape):
        return backward_args(act, grad(shape), sample(act, dtype, shape, rng), act.params)[1]

    g = (LAYOUTS[layout] if strided == "grad" else contiguous)(grad)
    s = (LAYOUTS[layout] if strided == "saved" else contiguous)(saved)
    rest = sample(act, dtype, LAYOUT_SHAPE, rng)[1:]
    assert check_parity(act, "backward", (g, s, *rest), act.params).shape == LAYOUT_SHAPE


@pytest.mark.parametrize("act", activation_params(is_plain))
def test_backward_operands_broadcast(act, rng) -> None:
    """grad of shape (4, 1, 6) and saved tensor(s) of shape (3, 1) give (4, 3, 6)."""
    grad = sample_grad(np.float32, (4, 1, 6), rng)
    data = sample(act, np.float32, (3, 1), rng)
    args = backward_args(act, grad, data, act.params)
    assert check_parity(act, "backward", args, act.params).shape == (4, 3, 6)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda act: is_plain(act) and bool(numeric_params(act))))
def test_parameter_array_broadcasts(act, direction, rng) -> None:
    """A parameter given as an array (one value per row) broadcasts against the data."""
    sets = param_sets(act)
    params = {name: np.array([[s[name]] for s in sets]) for name in act.params}  # (k, 1) float64
    args = arguments(act, direction, np.float32, (7,), rng, act.params)
    result = check_parity(act, direction, args, params)
    assert result.shape == (len(sets), 7)
    assert result.dtype == np.float32, "a float64 parameter array must not change the dtype"
    # Row k is the function with the k-th parameter set.
    for k, scalar_params in enumerate(sets):
        row = getattr(act, direction)(*args, **scalar_params)
        np.testing.assert_array_equal(result[k], row)


# Kernels with loops specialised on a parameter's value (src/param_loops.h),
# with every parameter set (celu's include an alpha < 0, its other form).
PARAM_LOOP_CASES = with_param_sets(lambda act: act.name in ("celu", "softplus"))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("act", "params"), PARAM_LOOP_CASES)
def test_parameter_loops_agree_bitwise(act, params, dtype, direction, rng) -> None:
    """A scalar parameter runs the loop specialised on its value (strided
    data too, through buffers); a parameter array as large as the data runs
    the per-element kernel (float32 softplus: its general form, and its beta
    = 1 form where beta is 1), and strided data with one the kernel element
    by element. Each picks its form by the same test: the same bits."""
    n = 2000
    args = arguments(act, direction, dtype, (n,), rng, params)
    fn = getattr(act, direction)
    hoisted = fn(*args, **params)
    per_element = fn(*args, **{k: np.full(n, v) for k, v in params.items()})
    strided = fn(*(np.repeat(a, 2)[::2] for a in args), **params)
    strided_per_element = fn(*(np.repeat(a, 2)[::2] for a in args),
                             **{k: np.full(2 * n, v)[::2] for k, v in params.items()})
    np.testing.assert_array_equal(per_element, hoisted)
    np.testing.assert_array_equal(strided, hoisted)
    np.testing.assert_array_equal(strided_per_element, hoisted)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("act", activation_params(lambda act: act.name in ("celu", "softplus")))
def test_mixed_parameter_arrays_agree_bitwise(act, dtype, direction, rng) -> None:
    """Parameter arrays that mix every parameter set element by element (so
    the forms of the specialised loops) give each element the bits of the
    loop for its set."""
    sets = param_sets(act)
    n = 2000
    args = arguments(act, direction, dtype, (n,), rng, act.params)
    which = rng.integers(0, len(sets), n)
    fn = getattr(act, direction)
    mixed = fn(*args, **{k: np.array([s[k] for s in sets])[which] for k in act.params})
    for j, params in enumerate(sets):
        np.testing.assert_array_equal(mixed[which == j], fn(*args, **params)[which == j])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("name", "params"), [("relu", {}), ("relu6", {}),
                                              ("hardtanh", {"min_val": -2.0, "max_val": 0.5})])
def test_mask_grad_loops_agree_bitwise(name, params, dtype, rng) -> None:
    """relu, relu6 and hardtanh backwards have hand-written AVX-512 loops
    (src/mask_grads.h) on the contiguous path; strided data runs the scalar
    kernel. Both give the same bits, edges, zeros, infinities and NaN
    included."""
    edges = [0.0, -0.0, 6.0, -2.0, 0.5, np.inf, -np.inf, np.nan, 1e-45, -1e-45]
    x = np.concatenate([rng.uniform(-8, 8, 997), np.repeat(edges, 7)]).astype(dtype)
    g = np.concatenate([rng.uniform(-2, 2, x.size - 3), [np.inf, -np.inf, np.nan]]).astype(dtype)
    rng.shuffle(x)
    fn = getattr(fastact, name + "_backward")
    contiguous = fn(g, x, **params)
    strided = fn(np.repeat(g, 2)[::2], np.repeat(x, 2)[::2], **params)
    np.testing.assert_array_equal(np.signbit(contiguous), np.signbit(strided))
    np.testing.assert_array_equal(contiguous, strided)


# The table kernels with each numeric parameter set: softplus reads
# log_sigmoid's table where beta is 1, and a threshold inside the table's
# range cuts whole vectors of it.
TABLE_CASES = [
    pytest.param(name, direction, params, id="-".join([name, direction, *(f"{k}={v}" for k, v in params.items())]))
    for name, direction in sorted(TABLED)
    for params in (param_sets(by_name(name)) if numeric_params(by_name(name)) else ({},))
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda a: not a.rowwise))
def test_an_element_gets_the_same_bytes_wherever_it_sits(act, direction, dtype, rng) -> None:
    """Calls that start 1..15 elements into the same data, into outputs at
    every 4-byte offset of a cache line, give each element the bytes of the
    call on the whole array (NaN payloads and signed zeros included). The
    loops split a block where the output reaches a 64-byte boundary, so the
    same element runs through the hand-written loops, the generic vector
    loop or an epilogue depending on where the call starts."""
    n = 700
    args = arguments(act, direction, dtype, (n + 16,), rng, act.params)
    fn = getattr(act, direction)
    whole = grad_x(fn(*args, **act.params))
    itemsize = np.dtype(dtype).itemsize
    room = np.zeros((n + 64) * itemsize + 64, np.uint8)
    base = -room.ctypes.data % 64
    for start in range(1, 16):
        view = tuple(a[start : start + n] if len(a) == n + 16 else a for a in args)
        expected = whole[start : start + n].tobytes()
        got = fn(*view, **act.params)
        assert grad_x(got).tobytes() == expected, f"start {start}"
        if isinstance(got, tuple):
            continue  # prelu_backward: out= is a pair
        offset = base + (start * 4) % 64 // itemsize * itemsize
        out = room[offset : offset + n * itemsize].view(dtype)
        call(fn, *view, **act.params, out=out)
        assert out.tobytes() == expected, f"start {start}, out at byte {(start * 4) % 64} of a line"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda a: not a.rowwise))
def test_a_large_call_gives_the_bytes_of_small_ones(act, direction, dtype, rng) -> None:
    """A call writing over 1 MiB runs the generic loop a cache line at a
    time with prefetches (loops.c, FA_LINES); calls on 1000 elements at a
    time run it as one loop. Each element gets the same bytes either way."""
    n = 2**20 // np.dtype(dtype).itemsize + 37
    args = arguments(act, direction, dtype, (n,), rng, act.params)
    fn = getattr(act, direction)
    whole = grad_x(fn(*args, **act.params))
    pieces = [grad_x(fn(*(a[k : k + 1000] if len(a) == n else a for a in args), **act.params))
              for k in range(0, n, 1000)]
    assert whole.tobytes() == np.concatenate(pieces).tobytes()


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=dtype_id)
@pytest.mark.parametrize(("name", "direction", "params"), TABLE_CASES)
def test_table_loops_agree_bitwise(name, direction, params, dtype, rng) -> None:
    """float32 kernels that read a table on part of their range (gelu, mish,
    log_sigmoid, silu's backward, softplus at -x, tanh at |x|: src/act_tables.h): on
    AVX-512 the contiguous path is a hand loop (src/act_loops.h) that falls
    back to the closed form per vector of 16 with a lane outside, and
    strided data is copied through buffers into it (softplus: strided data
    runs the scalar kernel); a call on one element runs the scalar kernel.
    All give the same bits: whole vectors inside, vectors with lanes
    outside, every interval boundary and its neighbours, zeros, infinities
    and NaN, at every start offset (the elements before the output's first
    64-byte boundary run the generic loop, the rest the hand loop)."""
    lo, hi, width = TABLED[(name, direction)]
    edges = table_edges(lo, hi, width)
    near = np.concatenate([edges, np.nextafter(edges, np.float32(-np.inf)), np.nextafter(edges, np.float32(np.inf))])
    bounds = np.float32([bound for _, bound, _ in SATURATION.get((name, direction), [])])
    near = np.concatenate([near, bounds, np.nextafter(bounds, np.float32(-np.inf)),
                           np.nextafter(bounds, np.float32(np.inf))])
    big = float(np.finfo(dtype).max)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, -0.75179, -1.2785, -1.1924, 2 * hi, 2 * lo, big, -big]
    inside = rng.uniform(lo, hi, 16 * 64)  # whole vectors: the table alone
    mixed = np.concatenate([rng.uniform(1.4 * lo, 1.4 * hi, 997), near, np.repeat(specials, 5)])
    rng.shuffle(mixed)
    x = np.concatenate([inside, mixed]).astype(dtype)
    x[[5, 9]] = [np.nan, 1.3 * hi]  # outside lanes before the first boundary (or in the first vector)
    g = rng.uniform(-2, 2, x.size).astype(dtype)
    g[-3:] = [np.inf, -np.inf, np.nan]
    fn = getattr(fastact, name if direction == "forward" else name + "_backward")
    args = (x,) if direction == "forward" else (g, x)
    strided = fn(*(np.repeat(a, 2)[::2] for a in args), **params)
    one_by_one = np.concatenate([fn(*(a[i:i + 1] for a in args), **params) for i in range(x.size)])
    np.testing.assert_array_equal(np.signbit(strided), np.signbit(one_by_one))
    np.testing.assert_array_equal(strided, one_by_one)
    for k in range(17):
        contiguous = fn(*(a[k:] for a in args), **params)
        np.testing.assert_array_equal(np.signbit(contiguous), np.signbit(strided[k:]))
        np.testing.assert_array_equal(contiguous, strided[k:])


@pytest.mark.parametrize(("name", "direction"), sorted(TABLED))
def test_table_loop_blocks_agree_bitwise(name, direction, rng) -> None:
    """The AVX-512 table loops defer the lanes past a table (and its
    saturation bounds) to a closed-form pass over 16 of them at a time,
    block by block (1024 elements), and run a block after a dense one (over
    half its lanes outside) with the closed form vector by vector. Long
    arrays of blocks inside, dense, sparse, dense again and sparse with
    runs, contiguous at several offsets and in place: each element has the
    bits of the scalar kernel (one element per call)."""
    lo, hi, _ = TABLED[(name, direction)]
    block = 1024

    def sparse(k: int) -> np.ndarray:
        v = rng.uniform(lo, hi, block)
        v[rng.integers(0, block, k)] = rng.uniform(2 * lo, 2 * hi, k)
        return v

    dense = lambda: rng.uniform(4 * lo, 4 * hi, block)  # noqa: E731
    x = np.concatenate([rng.uniform(lo, hi, block), dense(), sparse(40), dense(), dense(), sparse(3),
                        np.repeat(np.float32([np.nan, 3 * hi, -0.0, 3 * lo, np.inf]), 60), sparse(200),
                        rng.uniform(3 * lo, 3 * hi, 37)]).astype(np.float32)
    g = rng.uniform(-2, 2, x.size).astype(np.float32)
    fn = getattr(fastact, name if direction == "forward" else name + "_backward")
    outside = np.nonzero(~((x >= lo) & (x < hi)))[0]
    picks = np.unique(np.concatenate([outside, rng.integers(0, x.size, 500)]))
    for k in (0, 1, 7):
        args = (x[k:],) if direction == "forward" else (g[k:], x[k:])
        got = fn(*args)
        at = picks[picks >= k]
        one = np.concatenate([fn(*(a[i - k:i - k + 1] for a in args)) for i in at])
        np.testing.assert_array_equal(got[at - k], one)
        np.testing.assert_array_equal(np.signbit(got[at - k]), np.signbit(one))
        inplace = args[-1].copy()
        fn(*args[:-1], inplace, out=inplace)
        np.testing.assert_array_equal(inplace, got)


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=dtype_id)
def test_bce_table_loop_agrees_bitwise(dtype, rng) -> None:
    """float32 bce_with_logits reads its log term, -log_sigmoid(|z|), from
    log_sigmoid's table; on AVX-512 through a loop of its own
    (src/act_loops.h) that takes the closed term in the lanes of a vector
    outside the table and z itself where z is NaN. Contiguous at every
    start offset, strided and one element at a time: the same bits, at the
    table's interval edges (read at |z|), beyond it, for hard, soft and NaN
    targets."""
    lo, hi, width = TABLED[("log_sigmoid", "forward")]
    edges = table_edges(0.0, hi, width)
    edges = np.concatenate([edges, -edges])
    near = np.concatenate([edges, np.nextafter(edges, np.float32(-np.inf)), np.nextafter(edges, np.float32(np.inf))])
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 2 * hi, -2 * hi, 1e-30, -1e-30, 200.0, -200.0]
    inside = rng.uniform(-hi, hi, 16 * 64)
    mixed = np.concatenate([rng.uniform(-1.4 * hi, 1.4 * hi, 997), near, np.repeat(specials, 5)])
    rng.shuffle(mixed)
    z = np.concatenate([inside, mixed]).astype(dtype)
    z[[5, 9]] = [np.nan, 1.3 * hi]
    t = rng.uniform(0, 1, z.size).astype(dtype)
    t[::7], t[::11], t[::101] = 0, 1, np.nan
    strided = fastact.bce_with_logits(np.repeat(z, 2)[::2], np.repeat(t, 2)[::2])
    one_by_one = np.concatenate([fastact.bce_with_logits(z[i:i + 1], t[i:i + 1]) for i in range(z.size)])
    np.testing.assert_array_equal(np.signbit(strided), np.signbit(one_by_one))
    np.testing.assert_array_equal(strided, one_by_one)
    for k in range(17):
        contiguous = fastact.bce_with_logits(z[k:], t[k:])
        np.testing.assert_array_equal(np.signbit(contiguous), np.signbit(strided[k:]))
        np.testing.assert_array_equal(contiguous, strided[k:])
    assert np.isnan(one_by_one[np.isnan(z)]).all()


# The core range of float64 gelu's range loops (src/range_loops.h), as the
# source defines it: |x| < GELU_CORE.
GELU_CORE = float(re.search(r"#define FA_PHI_CORE_F64 (\S+)", (SRC / "vmath_erf.h").read_text()).group(1))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_range_loops_agree_bitwise(direction, rng) -> None:
    """float64 gelu and its backward run a core form (no clamp, one
    polynomial piece, no exp tiers) on blocks whose every x is inside
    |x| < GELU_CORE, and the per-element kernel on other blocks. The same
    values give the same bits in a block inside, in blocks with a value
    outside every 8 elements, strided (copied through the same loops) and
    one element at a time: edges of the range, zeros, subnormals, the root
    of the derivative, and grads of every kind."""
    c = GELU_CORE
    edges = [np.nextafter(c, 0), -np.nextafter(c, 0), 0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300,
             -0.7517915246935645, -1.25, -0.25, 1e-8, -1e-8]
    inside = np.concatenate([rng.uniform(-c, c, 4000), np.repeat(edges, 3)])
    rng.shuffle(inside)
    outside = np.array([c, -c, 2 * c, -40.0, -54.2, 60.0, np.inf, -np.inf, np.nan, 1e300])
    grad = rng.uniform(-2, 2, inside.size)
    grad[:4] = [np.inf, -np.inf, np.nan, 0.0]
    # every 8 values one from outside, so that no block is inside
    pos = np.arange(inside.size) + np.arange(inside.size) // 8 + 1
    mixed = np.resize(outside, inside.size + inside.size // 8 + 1)
    mixed[pos] = inside
    mixed_grad = np.resize(grad[::-1], mixed.size)
    mixed_grad[pos] = grad
    fn = fastact.gelu if direction == "forward" else fastact.gelu_backward
    args = (inside,) if direction == "forward" else (grad, inside)
    margs = (mixed,) if direction == "forward" else (mixed_grad, mixed)
    core = fn(*args)
    np.testing.assert_array_equal(np.signbit(fn(*margs)[pos]), np.signbit(core))
    np.testing.assert_array_equal(fn(*margs)[pos], core)
    np.testing.assert_array_equal(fn(*(np.repeat(a, 2)[::2] for a in margs)), fn(*margs))
    one_by_one = np.concatenate([fn(*(a[i:i + 1] for a in margs)) for i in range(0, mixed.size, 7)])
    np.testing.assert_array_equal(one_by_one, fn(*margs)[::7])
    # Every path above runs the range loops, so they would agree even if
    # the block test never failed: the finite values outside against mpmath.
    out_at = np.setdiff1d(np.arange(mixed.size), pos)
    out_at = out_at[np.isfinite(mixed[out_at]) & np.isfinite(mixed_grad[out_at])][:60]
    outside_args = tuple(a[out_at] for a in margs)
    want = correctly_rounded_values(by_name("gelu"), direction, outside_args, {"approximate": "none"}, np.float64)
    assert_ulp_close(fn(*margs)[out_at], want, getattr(ACCURACY["gelu"].budget, direction),
                     what=f"gelu {direction} outside the core range vs mpmath")


# FA_TAIL, below which exp_shifted's tiers act (src/activation_defs.h), per
# precision, as the source defines it.
_DEFS = (SRC / "activation_defs.h").read_text()
TAIL = {np.dtype(dt): float(re.search(rf"#define FA_TAIL_{suffix} (\S+)", _DEFS).group(1))
        for dt, suffix in ((np.float32, "F32"), (np.float64, "F64"))}


def _leaky_u(x: np.ndarray, alpha: float) -> np.ndarray:
    """leaky_relu(x) rounded in x's dtype, as the kernel forms it."""
    with np.errstate(invalid="ignore", over="ignore"):
        return x * np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha))


# Backwards (and leaky_relu_sigmoid's forward) with the FA_TAIL range loops
# (src/range_loops.h), their parameters, and the tier variable t as each
# kernel forms it from x.
TAIL_FORWARDS = ("leaky_relu_sigmoid",)
TAIL_LOOP_CASES = [
    ("elu", {"alpha": 1.0}, lambda x, p: x),
    ("elu", {"alpha": 0.3}, lambda x, p: x),
    ("selu", {}, lambda x, p: x),
    ("celu", {"alpha": 1.0}, lambda x, p: x),  # elu's form at alpha = 1
    ("relu_sigmoid", {}, lambda x, p: -np.abs(x)),
    ("leaky_relu_sigmoid", {"alpha": 0.01}, lambda x, p: -np.abs(_leaky_u(x, p["alpha"]))),
    ("leaky_relu_sigmoid", {"alpha": 3.0}, lambda x, p: -np.abs(_leaky_u(x, p["alpha"]))),
    ("silu", {}, lambda x, p: x),
    ("mish", {}, lambda x, p: x),
    ("log_sigmoid", {}, lambda x, p: -x),
    ("bce_with_logits", {}, lambda x, p: -np.abs(x)),  # float64 (float32 runs in double)
]
# bce's target, broadcast: hard (the shifted e alone) and soft
TAIL_TARGETS = {"bce_with_logits": (1.0, 0.0, 0.3)}
TAIL_CASES = [pytest.param(name, params, tier, target, direction, id=f"{name}-{direction}-{params}-{target}")
              for name, params, tier in TAIL_LOOP_CASES for target in TAIL_TARGETS.get(name, (None,))
              for direction in ("backward", "forward") if direction == "backward" or name in TAIL_FORWARDS]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=dtype_id)  # float16: float32's loops
@pytest.mark.parametrize(("name", "params", "tier", "target", "direction"), TAIL_CASES)
def test_tail_range_loops_agree_bitwise(name, params, tier, target, direction, dtype, rng) -> None:
    """These kernels run a form without the FA_TAIL tiers on blocks where
    every tier variable t >= FA_TAIL, and redo a block with the full kernel
    where one is below (or NaN). Values with t >= FA_TAIL (its edge, zeros,
    subnormals, +inf; grads of every size, NaN) give the same bits in a
    block of their own, in blocks with a value beyond the tail every 8
    elements, one element at a time, strided, and in place (out= the grad
    or x, through the loops' buffer); a value beyond the tail among values
    inside gets the full kernel's bits."""
    dt = np.dtype(dtype)
    tail = TAIL[dt]
    tgt = () if target is None else (dt.type(target),)
    reach = abs(tail) / min(1.0, params.get("alpha", 1.0)) if name == "leaky_relu_sigmoid" else abs(tail)
    edges = [tail, -tail, np.nextafter(dt.type(tail), dt.type(0)), np.nextafter(dt.type(tail), dt.type(-np.inf)),
             np.nextafter(dt.type(-tail), dt.type(0)), np.nextafter(dt.type(-tail), dt.type(np.inf)),
             0.0, -0.0, np.finfo(dt).smallest_subnormal, -np.finfo(dt).smallest_subnormal,
             1e-30, -1e-30, np.nan, np.inf, -np.inf, -1.2785, -1.1924, 2.0 * tail, reach, -reach,
             np.nextafter(dt.type(-reach), dt.type(0)), np.nextafter(dt.type(-reach), dt.type(-np.inf))]
    x = np.concatenate([rng.uniform(-1.5 * reach, 1.5 * reach, 6000), np.repeat(edges, 4)]).astype(dt)
    rng.shuffle(x)
    with np.errstate(invalid="ignore"):
        below = ~(tier(x, params) >= tail)  # a NaN t: the full kernel
    inside, outside = x[~below], x[below]
    assert inside.size > 1500 and outside.size > 100  # several blocks each
    grad = rng.uniform(-2, 2, inside.size).astype(dt)
    big = np.finfo(dt).max
    grad[:12] = [np.inf, -np.inf, np.nan, 0.0, -0.0, big, -big, big / 3, 1e-30, np.finfo(dt).smallest_subnormal,
                 1e30, -1e30]
    rng.shuffle(grad)
    kernel = getattr(fastact, name if direction == "forward" else f"{name}_backward")

    def fn(g, v, **kw):  # a forward ignores the grad
        return kernel(v, **kw) if direction == "forward" else kernel(g, v, *tgt, **kw)

    core = fn(grad, inside, **params)
    # every 8 values one beyond the tail, so that every block redoes itself
    pos = np.arange(inside.size) + np.arange(inside.size) // 8 + 1
    mixed = np.resize(outside, inside.size + inside.size // 8 + 1)
    mixed[pos] = inside
    mixed_grad = np.resize(grad[::-1], mixed.size)
    mixed_grad[pos] = grad
    full = fn(mixed_grad, mixed, **params)
    np.testing.assert_array_equal(np.signbit(full[pos]), np.signbit(core))
    np.testing.assert_array_equal(full[pos], core)
    one_by_one = np.concatenate([fn(mixed_grad[i:i + 1], mixed[i:i + 1], **params)
                                 for i in range(0, mixed.size, 7)])
    np.testing.assert_array_equal(one_by_one, full[::7])
    np.testing.assert_array_equal(fn(np.repeat(mixed_grad, 2)[::2], np.repeat(mixed, 2)[::2], **params), full)
    # one value beyond the tail in a block of values inside: the block is
    # redone, and that value gets the bits it gets among its kind
    beyond = np.resize(outside, inside.size // 300)
    beyond_grad = rng.uniform(-2, 2, beyond.size).astype(dt)
    sparse, sparse_grad = inside.copy(), grad.copy()
    at = np.arange(beyond.size) * 300 + 150
    sparse[at], sparse_grad[at] = beyond, beyond_grad
    got = fn(sparse_grad, sparse, **params)
    np.testing.assert_array_equal(got[at], fn(beyond_grad, beyond, **params))
    # Every call above runs the range loops (strided and single elements
    # too), so they agree even if the block test never failed and the
    # no-tier form ran beyond the tail (NaN, 0 or garbage there): those
    # values against mpmath, correctly rounded, within the accuracy budget
    # (finite ones: test_special_values has the limits at +-inf and NaN).
    finite = np.isfinite(beyond)
    args = (beyond[finite],) if direction == "forward" else (beyond_grad[finite], beyond[finite])
    want = correctly_rounded_values(by_name(name), direction, (*args, *(np.full(finite.sum(), v) for v in tgt)),
                                    params, dtype)
    assert_ulp_close(got[at][finite], want, getattr(ACCURACY[name].budget, direction),
                     what=f"{name} {direction} beyond the tail vs mpmath")
    rest = np.ones(sparse.size, bool)
    rest[at] = False
    np.testing.assert_array_equal(got[rest], core[rest])
    for k in (0, 1) if direction == "backward" else (1,):  # out= the grad, then x: the block is kept apart
        for g, v, want in ((grad, inside, core), (mixed_grad, mixed, full)):
            ops = [g.copy(), v.copy()]
            got = fn(*ops, **params, out=ops[k])
            assert got is ops[k]
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_out(act, dtype, direction, rng) -> None:
    args = arguments(act, direction, dtype, (5, 7), rng, act.params)
    out = np.full((5, 7), 7, dtype)
    assert check_parity(act, direction, args, act.params, out=out) is out


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_in_place(act, dtype, direction, rng) -> None:
    """out= any of the array arguments (out=x, out=grad, out=saved)."""
    args = arguments(act, direction, dtype, (5, 7), rng, act.params)
    expected = reference_of(act, direction)(*args, **act.params)
    for k in range(len(args)):
        operands = [a.copy() for a in args]
        result = getattr(act, direction)(*operands, **act.params, out=operands[k])
        assert result is operands[k]
        budget = parity_budget(act.name, direction, dtype)
        assert_ulp_close(result, expected, budget, what=f"{act.name} {direction} out=arg{k}")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_where(act, direction, rng) -> None:
    """where=False leaves the prior contents of out alone."""
    args = arguments(act, direction, np.float64, (6, 9), rng, act.params)
    mask = rng.integers(0, 2, size=(6, 9)).astype(bool)
    out = np.full((6, 9), -7.0)
    call(getattr(act, direction), *args, **act.params, out=out, where=mask)
    expected = np.where(mask, reference_of(act, direction)(*args, **act.params), -7.0)
    assert_ulp_close(out, expected, parity_budget(act.name, direction, np.float64))


LARGE = 100_003  # above the threading threshold, odd
LARGE_LAYOUTS = {
    "contiguous": lambda a: a,
    "step2": lambda a: np.repeat(a, 2)[::2],
    "reversed": lambda a: a[::-1],
    "stride0": lambda a: np.broadcast_to(a[:1], a.shape),
}


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_large_arrays_on_every_thread_count(act, direction, layout, rng) -> None:
    """Threaded ranges of strided / broadcast operands, into a strided out."""
    contiguous = arguments(act, direction, np.float32, (LARGE,), rng, act.params)
    args = tuple(LARGE_LAYOUTS[layout](a) for a in contiguous)
    before = fastact.get_num_threads()
    try:
        for threads in (1, 2):
            fastact.set_num_threads(threads)
            out = np.full(2 * LARGE, 7, np.float32)[::-2]
            check_parity(act, direction, args, act.params, out=out)
    finally:
        fastact.set_num_threads(before)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_strided_out(act, direction, rng) -> None:
    args = arguments(act, direction, np.float64, (5, 7), rng, act.params)
    buffer = np.full((10, 21), 7.0)
    out = buffer[::2, ::3]
    assert check_parity(act, direction, args, act.params, out=out) is out
    untouched = np.ones_like(buffer, bool)
    untouched[::2, ::3] = False
    assert np.all(buffer[untouched] == 7.0), "wrote outside the out view"


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda act: act.kind != "channelwise"))
def test_non_native_byte_order(act, direction, rng) -> None:
    args = arguments(act, direction, np.float64, (9,), rng, act.params)
    swapped = tuple(a.astype(a.dtype.newbyteorder()) for a in args)
    expected = getattr(act, direction)(*args, **act.params)
    np.testing.assert_array_equal(getattr(act, direction)(*swapped, **act.params), expected)


@pytest.mark.parametrize("shift", (1, -1), ids=("out_before_input", "out_after_input"))
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(is_plain))
def test_out_partially_overlapping_an_input(act, direction, shift, rng) -> None:
    """out and an input share memory shifted by one element. NumPy hands a
    forward-safe overlap (out before input) to the loop unbuffered, assuming
    in-order processing; the result must be that of separate arrays, on every
    thread count. (A race between threads shows up only when they run at the
    same time, hence the repeats.)"""
    args = arguments(act, direction, np.float32, (LARGE + 1,), rng, act.params)
    before = fastact.get_num_threads()
    try:
        for threads in (1, 2, 2, 2):
            fastact.set_num_threads(threads)
            buffer = args[-1].copy()  # the last array argument shares memory with out
            others = tuple(a[:-1] for a in args[:-1])
            inputs = (*others, buffer[1:] if shift == 1 else buffer[:-1])
            out = buffer[:-1] if shift == 1 else buffer[1:]
            expected = getattr(act, direction)(*(a.copy() for a in inputs), **act.params)
            getattr(act, direction)(*inputs, **act.params, out=out)
            np.testing.assert_array_equal(out, expected, err_msg=f"{threads} threads")
    finally:
        fastact.set_num_threads(before)
