"""The public functions, generated from the compiled kernel table.

Every public row of the C tables (src/tables.h) becomes a function here:
the ufunc itself when it has no parameters, otherwise a thin wrapper that
passes keyword parameters to the ufunc as extra broadcast inputs (and
``axis`` to a row-wise gufunc). ``ACTIVATIONS`` pairs each forward with its
backward: it is the list that tests and benchmarks iterate over.

Two things the table cannot express are small tables here:

* ``CHOICES``: a string parameter that picks one of several kernel rows
  (``gelu(x, approximate="none" | "tanh")`` -> rows gelu, gelu_tanh);
* ``CHANNELWISE``: an element-wise kernel whose second input is a weight
  along axis 1, and whose backward also returns the weight's gradient,
  reduced to the weight's shape (``prelu``).

Integer operands (type ``p`` in the table, the class labels of
softmax_cross_entropy) are validated by the wrapper: integer dtype, the
shape of the logits without ``axis``, values in [0, n).
"""
from __future__ import annotations

import math
import operator
import re
from typing import Any, Callable, NamedTuple

import numpy as np

from . import _core


class Activation(NamedTuple):
    """One activation: its public forward and backward and what they take."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    params: dict[str, Any]  # keyword parameters and their defaults
    saved: str  # "input" or "output": backward's second argument
    args: tuple[str, ...]  # the forward's array arguments, e.g. ("x",)
    rowwise: bool  # a gufunc over one axis (softmax, ...) rather than element-wise
    kind: str = "elementwise"  # "elementwise", "rowwise" or "channelwise" (prelu)
    int_args: tuple[str, ...] = ()  # integer arguments (class labels), of args


def _parse_params(spec: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """"z,target,beta=1.0" -> (("z", "target"), {"beta": 1.0}); data names
    default to ("x",)."""
    names, params = [], {}
    for item in filter(None, spec.split(",")):
        key, eq, value = item.partition("=")
        if eq:
            params[key] = float(value)
        else:
            names.append(key)
    return tuple(names) or ("x",), params


# Parameters reach the ufunc as read-only 0-d float64 arrays: NumPy takes
# those several hundred ns faster than a Python float, and float64 (the
# loops' parameter type) never changes the output dtype. Common values are
# cached; the cache is bounded so that a stream of distinct values costs
# nothing more than the conversion.
_PARAM_CACHE: dict[float, np.ndarray] = {}
_PARAM_CACHE_MAX = 1024


def _coerce_param(func: str, name: str, value: Any) -> np.ndarray:
    """A parameter as the loops want it: float64, 0-d for a scalar, an array
    that broadcasts otherwise. Anything non-real is a TypeError."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{func}: parameter {name!r} must be a real number, got {value!r}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: parameter {name!r} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)  # a copy: the caller's array is never aliased
    if arr.ndim == 0 and type(value) is float and len(_PARAM_CACHE) < _PARAM_CACHE_MAX:
        arr.flags.writeable = False
        _PARAM_CACHE[value] = arr
    return arr


_PY_SCALARS = frozenset({float, int, bool})


def _check_source(func: str, checks: str, params: dict[str, float], indent: str = "    ",
                  floats: bool = False) -> str:
    """Python lines enforcing "beta>0,min_val<=max_val" (ValueError). With
    floats (every parameter known to be a Python float) a check is the bare
    comparison, which is False for NaN just as np.all is."""
    lines = []
    for cond in filter(None, checks.split(",")):
        if not set(re.findall(r"[A-Za-z_]\w*", cond)) <= set(params):
            raise RuntimeError(f"{func}: check {cond!r} names an unknown parameter")
        shown = " ".join(f"{p}={{{p}!r}}" for p in params if re.search(rf"\b{p}\b", cond))
        test = f"({cond})" if floats else f"_all({cond})"
        lines.append(f"{indent}if not {test}:\n"
                     f"{indent}    raise ValueError(f\"{func}: requires {cond}, got {shown}\")\n")
    return "".join(lines)


def _all(cond: Any) -> bool:
    return cond if cond is True or cond is False else bool(np.all(cond))


def _check_labels(func: str, z: Any, labels: Any, axis: Any) -> tuple[Any, Any]:
    """Class labels of a row-wise loss: integers, shaped like z without
    `axis`, in [0, n). One vectorised pass (min and max) over the labels,
    which are n times smaller than z. Duck arrays (Dask...) are left to
    their own __array_ufunc__ (the loop gives NaN for a bad label)."""
    if not isinstance(z, np.ndarray) and hasattr(z, "__array_ufunc__"):
        return z, labels
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":  # the ufunc's TypeError names the function and the dtype
        return z, labels
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"{func}: labels must be integer class indices, got dtype {lab.dtype}")
    if z.ndim == 0:
        raise ValueError(f"{func}: z must have at least one dimension (the classes)")
    ax = _normalize_axis(operator.index(axis), z.ndim)
    batch = z.shape[:ax] + z.shape[ax + 1:]
    if lab.shape != batch:
        raise ValueError(f"{func}: labels must have the shape of z without axis {axis}, "
                         f"{batch}, got {lab.shape}")
    n = z.shape[ax]
    if lab.size:
        low, high = lab.min(), lab.max()
        if low < 0 or high >= n:
            raise ValueError(f"{func}: labels must be in [0, {n}) (axis {axis} of z has {n} "
                             f"classes), got values in [{low}, {high}]")
    return z, lab.astype(np.intp, copy=False)


def _normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


# Row-wise signatures the fast path of _core._rows knows, by its "kind".
_ROW_KINDS = {"(n),()->(n)": 0, "(n),(n),()->(n)": 1, "(n),()->()": 2, "(),(n),()->(n)": 3}


def _fast_source(name: str, args: tuple[str, ...], params: dict[str, float], checks: str,
                 rowwise: bool) -> str:
    """The first lines of a wrapper: when every parameter is a Python float
    (the common call), check them with plain comparisons and, without extra
    ufunc keywords (and along the last axis), try the loop directly
    (_core._elementwise / _core._rows: None unless the arrays are the plain
    contiguous case). Anything else falls through to the general path,
    which checks everything again."""
    row = _core.KERNEL_INDEX[name]
    if rowwise:
        kind = _ROW_KINDS.get(_core.KERNEL_TABLE[row]["signature"])
        if kind is None or len(params) > 1:
            return ""
        ops = (list(args) + ["None"] * 3)[:3]
        call = f"_rows({row}, {kind}, {', '.join(ops)}, out{''.join(f', {p}' for p in params)})"
        cond = "not kwargs and type(axis) is int and axis == -1"
    else:
        if len(args) > 2 or len(params) > 2:
            return ""
        ops = (list(args) + ["None"])[:2]
        call = (f"_elementwise({row}, {len(args)}, {len(params)}, {', '.join(ops)}, out"
                + "".join(f", {p}" for p in params) + ")")
        cond = "not kwargs"
    floats = " and ".join(f"type({p}) is float" for p in params) or "True"
    return (f"    if {floats}:\n"
            + _check_source(name, checks, params, indent="        ", floats=True)
            + f"        if {cond}:\n"
            f"            _r = {call}\n"
            f"            if _r is not None:\n"
            f"                return _r\n")


def _wrap(ufunc: np.ufunc, args: tuple[str, ...], params: dict[str, float],
          checks: str, rowwise: bool, labels: tuple[str, str] | None = None) -> Callable[..., Any]:
    """A function ``name(*args, [axis=-1,] **params, *, out=None, **ufunc_kwargs)``.

    Generated as source (like collections.namedtuple) so that the signature
    is the real one and a call costs one Python frame and a dict lookup per
    parameter; ``out`` is explicit so that the common call passes no
    ``**kwargs`` (a measurable cost at small sizes)."""
    name = ufunc.__name__
    data = ", ".join(args)
    sig = ", ".join([data] + (["axis=-1"] if rowwise else [])
                    + [f"{p}={d!r}" for p, d in params.items()] + ["*", "out=None", "**kwargs"])
    fast = _fast_source(name, args, params, checks, rowwise)
    # Python scalars are "weak" (NEP 50): next to an array they take its
    # dtype, as in NumPy. But when every datum is one, the float64
    # parameters would make them take the first (float16) loop; give them
    # what np.exp gives: float -> float64, int -> float64, bool -> float16.
    all_scalars = " and ".join(f"type({a}) in _PY_SCALARS" for a in args)
    body = fast + (f"    if {all_scalars}:\n"
                   + "".join(f"        {a} = _np.asarray({a})\n" for a in args))
    body += "".join(f"    _{p} = _cache.get({p}) if type({p}) is float else None\n"
                   f"    if _{p} is None:\n"
                   f"        _{p} = _coerce({name!r}, {p!r}, {p})\n" for p in params)
    body += _check_source(name, checks, params)
    if labels is not None:  # (logits, labels) argument names
        body += f"    {labels[0]}, {labels[1]} = _labels({name!r}, {labels[0]}, {labels[1]}, axis)\n"
    call = ", ".join([data, *(f"_{p}" for p in params), "out=out"]
                     + (["axis=axis"] if rowwise else []))
    body += (f"    if kwargs:\n        return _ufunc({call}, **kwargs)\n"
             f"    return _ufunc({call})\n")
    namespace: dict[str, Any] = {"_ufunc": ufunc, "_coerce": _coerce_param, "_all": _all,
                                 "_cache": _PARAM_CACHE, "_np": np, "_PY_SCALARS": _PY_SCALARS,
                                 "_labels": _check_labels, "_elementwise": _core._elementwise,
                                 "_rows": _core._rows}
    exec(f"def {name}({sig}):\n{body}", namespace)  # noqa: S102 - built from the kernel table only
    fn = namespace[name]
    doc = ufunc.__doc__ or ""
    fn.__doc__ = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc  # drop NumPy's x1, x2 line
    fn.__module__ = "fastact"
    fn.__qualname__ = name
    fn.ufunc = ufunc  # the underlying ufunc (what Dask and __array_ufunc__ see)
    return fn


# --------------------------------------------------------------------------
# What the table cannot express
# --------------------------------------------------------------------------

# public function: (string parameter, {value: kernel row}); the first value
# is the default. The other rows are reached only through the parameter.
CHOICES: dict[str, tuple[str, dict[str, str]]] = {
    "gelu": ("approximate", {"none": "gelu", "tanh": "gelu_tanh"}),
}

# Element-wise kernels whose parameter is a weight along axis 1 of x (one
# value per channel, or one for all), as torch.nn.functional.prelu: the table
# row declares it as a parameter (float64, hoisted when it broadcasts); the
# public function takes it as a required second argument.
CHANNELWISE: frozenset[str] = frozenset({"prelu"})


def _choice(name: str, param: str, table: dict[str, str], rows: dict[str, dict],
            backward: bool) -> Callable[..., Any]:
    """``name(*data, param=default, *, out=None, **ufunc_kwargs)`` calling the
    ufunc of the row that `param` names."""
    suffix = "_backward" if backward else ""
    ufuncs = {value: getattr(_core, row + suffix) for value, row in table.items()}
    default = next(iter(table))
    args, _ = _parse_params(rows[table[default] + suffix]["params"])
    if backward:
        args = ("grad", "x")
    func = name + suffix
    data = ", ".join(args)

    def pick(value: Any) -> np.ufunc:
        if not isinstance(value, str):
            raise TypeError(f"{func}: {param} must be a string, one of "
                            f"{', '.join(map(repr, table))}; got {value!r}")
        try:
            return ufuncs[value]
        except KeyError:
            raise ValueError(f"{func}: {param} must be one of {', '.join(map(repr, table))}; "
                             f"got {value!r}") from None

    # A valid string goes straight to its row's loop (a dict lookup); any
    # other value, and any other layout, to _pick and the ufunc.
    rows_of = {value: _core.KERNEL_INDEX[row + suffix] for value, row in table.items()}
    ops = (list(args) + ["None"])[:2]
    all_scalars = " and ".join(f"type({a}) in _PY_SCALARS" for a in args)
    source = (f"def {func}({data}, {param}={default!r}, *, out=None, **kwargs):\n"
              f"    if type({param}) is str and not kwargs:\n"
              f"        _row = _rows_of.get({param})\n"
              f"        if _row is not None:\n"
              f"            _r = _elementwise(_row, {len(args)}, 0, {', '.join(ops)}, out)\n"
              f"            if _r is not None:\n"
              f"                return _r\n"
              f"    uf = _pick({param})\n"
              f"    if {all_scalars}:\n"
              + "".join(f"        {a} = _np.asarray({a})\n" for a in args)
              + f"    return uf({data}, out=out, **kwargs) if kwargs else uf({data}, out=out)\n")
    namespace: dict[str, Any] = {"_pick": pick, "_np": np, "_PY_SCALARS": _PY_SCALARS,
                                 "_rows_of": rows_of, "_elementwise": _core._elementwise}
    exec(source, namespace)  # noqa: S102 - built from the tables only
    fn = namespace[func]
    docs = []
    for value, uf in ufuncs.items():
        doc = uf.__doc__ or ""
        docs.append((value, doc.split("\n\n", 1)[1] if "\n\n" in doc else doc))
    fn.__doc__ = docs[0][1] + "".join(f"\n\nWith {param}={value!r}: {doc}" for value, doc in docs[1:])
    fn.__module__ = "fastact"
    fn.__qualname__ = func
    fn.ufunc = ufuncs[default]
    return fn


def _channel_weight(func: str, x: Any, weight: Any) -> np.ndarray:
    """weight as a broadcastable float64 operand: one value, or one per
    channel of x (axis 1; a 0-d or 1-d x has one channel)."""
    w = np.asarray(weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{func}: weight must be real, got dtype {w.dtype}")
    ndim = getattr(x, "ndim", None)
    if ndim is None:  # a duck array without a shape: leave it to the ufunc
        return w
    if w.ndim > 1:
        raise ValueError(f"{func}: weight must be a scalar or 1-d (one value per channel), "
                         f"got shape {w.shape}")
    channels = x.shape[1] if ndim >= 2 else 1
    if w.size not in (1, channels):
        raise ValueError(f"{func}: weight has {w.size} values; x has {channels} channel(s) "
                         f"along axis 1, so weight must have 1 or {channels}")
    w = w.astype(np.float64)
    return w.reshape(()) if w.size == 1 else w.reshape((channels,) + (1,) * (ndim - 2))


def _as_array(a: Any) -> Any:
    return a if isinstance(a, np.ndarray) or hasattr(a, "__array_ufunc__") else np.asarray(a)


def _channelwise(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """prelu(x, weight) and prelu_backward(grad, x, weight) -> (grad_x, grad_weight).

    The common case (contiguous float arrays, a float or float32/64 weight)
    runs the loops of src/prelu.def directly (_core._prelu*): the forward
    with the weight per channel, the backward with grad_weight reduced in
    the same pass. Anything else takes the broadcasting ufunc for the result
    and the same reduction (through its gufunc) for grad_weight, so the two
    paths agree bit for bit."""
    forward_uf, backward_uf = getattr(_core, name), getattr(_core, name + "_backward")
    fast_forward, fast_backward = _core._prelu, _core._prelu_backward
    reduce_uf = getattr(_core, f"_{name}_channels_backward")

    def forward(x: Any, weight: Any, *, out: Any = None, **kwargs: Any) -> Any:
        if not kwargs:
            y = fast_forward(x, weight, out)
            if y is not None:
                return y
        x = _as_array(x)
        return forward_uf(x, _channel_weight(name, x, weight), out=out, **kwargs)

    def backward(grad: Any, x: Any, weight: Any, *, out: Any = None) -> tuple[Any, Any]:
        if out is None or not isinstance(out, tuple):  # an array: grad_x's out
            out_x, out_w = out, None
        elif len(out) == 2:
            out_x, out_w = out
        else:
            raise TypeError(f"{name}_backward: out must be an array (for grad_x) or a pair "
                            f"(out for grad_x, out for grad_weight), either may be None; "
                            f"got a tuple of {len(out)}")
        both = fast_backward(grad, x, weight, out_x, out_w)
        if both is not None:
            return both
        x = _as_array(x)
        if type(grad) not in _PY_SCALARS:  # a Python number stays "weak", as in a ufunc
            grad = _as_array(grad)
        arrays = isinstance(x, np.ndarray) and (isinstance(grad, np.ndarray) or type(grad) in _PY_SCALARS)
        w = _channel_weight(name + "_backward", x, weight)
        grad_x = backward_uf(grad, x, w, out=out_x)
        if not arrays:
            return grad_x, None
        grad_w = _reduce_weight(name, reduce_uf, grad, x, weight, np.asarray(grad_x).dtype)
        if out_w is not None:
            np.copyto(out_w, grad_w, casting="same_kind")
            grad_w = out_w
        return grad_x, grad_w

    for fn, uf, suffix in ((forward, forward_uf, ""), (backward, backward_uf, "_backward")):
        doc = uf.__doc__ or ""
        fn.__doc__ = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc
        fn.__name__ = fn.__qualname__ = name + suffix
        fn.__module__ = "fastact"
        fn.ufunc = uf  # type: ignore[attr-defined]
    return forward, backward


def _reduce_weight(name: str, reduce_uf: np.ufunc, grad: Any, x: np.ndarray, weight: Any,
                   dtype: np.dtype) -> np.ndarray:
    """grad_weight = sum of grad * x over x <= 0, over every axis but 1 (all
    of them for a single weight), by the (m, c, k) gufunc of src/prelu.def on
    grad and x as `dtype` (what the ufunc computed grad_x from): the order of
    the sum, so the bits, depend on the shape only. Rounded once to dtype."""
    shape = np.broadcast_shapes(np.shape(grad), x.shape)
    channels = np.size(weight)
    if channels != 1 and (len(shape) < 2 or shape[1] != channels):
        raise ValueError(f"{name}_backward: grad and x broadcast to {shape}, whose axis 1 "
                         f"does not have the weight's {channels} channels")
    m = shape[0] if len(shape) >= 2 else 1
    k = math.prod(shape[2:]) if channels != 1 else math.prod(shape[1:] if len(shape) >= 2 else shape)
    if m * channels * k == 0:
        return np.zeros(np.shape(weight), dtype)
    g = np.broadcast_to(np.asarray(grad, dtype), shape).reshape(m, channels, k)
    xs = np.broadcast_to(np.asarray(x, dtype), shape).reshape(m, channels, k)
    w = np.asarray(weight, np.float64).reshape(-1)
    _, total = reduce_uf(g, xs, w)
    return total.astype(dtype).reshape(np.shape(weight))


def _core_dims(signature: str) -> list[str]:
    """ "(n),()->()" -> ["n", ""]: the core dimensions of each input."""
    inputs = signature.split("->")[0]
    return re.findall(r"\(([^)]*)\)", inputs)


def _build() -> tuple[dict[str, Any], tuple[Activation, ...]]:
    # Rows named "_..." are internal loops behind a public function (prelu.def).
    rows = {row["name"]: row for row in _core.KERNEL_TABLE
            if row["group"] == "activation" and not row["name"].startswith("_")}
    hidden = {row for _, table in CHOICES.values() for row in list(table.values())[1:]}
    hidden |= {name + "_backward" for name in hidden}
    public: dict[str, Any] = {}
    for name, row in rows.items():
        if name in hidden:
            continue
        args, params = _parse_params(row["params"])
        if row["backward"]:
            args = ("grad", "y" if row["saved"] == "output" else args[0]) + args[1:]
        uf = getattr(_core, name)
        rowwise = row["signature"] is not None
        labels = None
        if rowwise and "p" in row["types"]:
            cores = _core_dims(row["signature"])
            inputs = row["types"].split("->")[0]
            labels = (args[next(k for k, c in enumerate(cores) if c)], args[inputs.index("p")])
        public[name] = (_wrap(uf, args, params, row["checks"], rowwise, labels)
                        if params or rowwise else uf)
    for name, (param, table) in CHOICES.items():
        public[name] = _choice(name, param, table, rows, backward=False)
        public[name + "_backward"] = _choice(name, param, table, rows, backward=True)
    for name in CHANNELWISE:
        public[name], public[name + "_backward"] = _channelwise(name)

    activations = []
    for name, row in rows.items():
        if row["backward"] or name in hidden:
            continue
        if name + "_backward" not in rows:
            raise RuntimeError(f"fastact: {name} has no {name}_backward row")
        args, params = _parse_params(row["params"])
        rowwise = row["signature"] is not None
        kind = "rowwise" if rowwise else "channelwise" if name in CHANNELWISE else "elementwise"
        if kind == "channelwise":  # the weight: a required argument, not a keyword
            args, params = args + tuple(params), {}
        if name in CHOICES:
            param, table = CHOICES[name]
            params = {param: next(iter(table)), **params}
        inputs = row["types"].split("->")[0]
        int_args = tuple(a for a, t in zip(args, inputs) if t == "p")
        activations.append(Activation(name, public[name], public[name + "_backward"], params,
                                      row["saved"], args, rowwise, kind, int_args))
    return public, tuple(activations)


PUBLIC, ACTIVATIONS = _build()
