"""The public functions, generated from the compiled kernel table.

Every public row of the C tables (src/tables.h) becomes a function here:
the ufunc itself when it has no parameters, otherwise a thin wrapper that
passes keyword parameters to the ufunc as extra broadcast inputs (and
``axis`` to a row-wise gufunc). ``ACTIVATIONS`` pairs each forward with its
backward: it is the list that tests and benchmarks iterate over.
"""
from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

import numpy as np

from . import _core


class Activation(NamedTuple):
    """One activation: its public forward and backward and what they take."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    params: dict[str, float]  # keyword parameters and their defaults
    saved: str  # "input" or "output": backward's second argument
    args: tuple[str, ...]  # the forward's array arguments, e.g. ("x",)
    rowwise: bool  # a gufunc over one axis (softmax, ...) rather than element-wise


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


def _check_source(func: str, checks: str, params: dict[str, float]) -> str:
    """Python lines enforcing "beta>0,min_val<=max_val" (ValueError)."""
    lines = []
    for cond in filter(None, checks.split(",")):
        if not set(re.findall(r"[A-Za-z_]\w*", cond)) <= set(params):
            raise RuntimeError(f"{func}: check {cond!r} names an unknown parameter")
        shown = " ".join(f"{p}={{{p}!r}}" for p in params if re.search(rf"\b{p}\b", cond))
        lines.append(f"    if not _all({cond}):\n"
                     f"        raise ValueError(f\"{func}: requires {cond}, got {shown}\")\n")
    return "".join(lines)


def _all(cond: Any) -> bool:
    return cond if cond is True or cond is False else bool(np.all(cond))


def _wrap(ufunc: np.ufunc, args: tuple[str, ...], params: dict[str, float],
          checks: str, rowwise: bool) -> Callable[..., Any]:
    """A function ``name(*args, [axis=-1,] **params, *, out=None, **ufunc_kwargs)``.

    Generated as source (like collections.namedtuple) so that the signature
    is the real one and a call costs one Python frame and a dict lookup per
    parameter; ``out`` is explicit so that the common call passes no
    ``**kwargs`` (a measurable cost at small sizes)."""
    name = ufunc.__name__
    data = ", ".join(args)
    sig = ", ".join([data] + (["axis=-1"] if rowwise else [])
                    + [f"{p}={d!r}" for p, d in params.items()] + ["*", "out=None", "**kwargs"])
    # Python scalars are "weak" (NEP 50): next to an array they take its
    # dtype, as in NumPy. But when every datum is one, the float64
    # parameters would make them take the first (float16) loop; give them
    # what np.exp gives: float -> float64, int -> float64, bool -> float16.
    all_scalars = " and ".join(f"type({a}) in _PY_SCALARS" for a in args)
    body = (f"    if {all_scalars}:\n"
            + "".join(f"        {a} = _np.asarray({a})\n" for a in args))
    body += "".join(f"    _{p} = _cache.get({p}) if type({p}) is float else None\n"
                   f"    if _{p} is None:\n"
                   f"        _{p} = _coerce({name!r}, {p!r}, {p})\n" for p in params)
    body += _check_source(name, checks, params)
    call = ", ".join([data, *(f"_{p}" for p in params), "out=out"]
                     + (["axis=axis"] if rowwise else []))
    body += (f"    if kwargs:\n        return _ufunc({call}, **kwargs)\n"
             f"    return _ufunc({call})\n")
    namespace: dict[str, Any] = {"_ufunc": ufunc, "_coerce": _coerce_param, "_all": _all,
                                 "_cache": _PARAM_CACHE, "_np": np, "_PY_SCALARS": _PY_SCALARS}
    exec(f"def {name}({sig}):\n{body}", namespace)  # noqa: S102 - built from the kernel table only
    fn = namespace[name]
    doc = ufunc.__doc__ or ""
    fn.__doc__ = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc  # drop NumPy's x1, x2 line
    fn.__module__ = "fastact"
    fn.__qualname__ = name
    fn.ufunc = ufunc  # the underlying ufunc (what Dask and __array_ufunc__ see)
    return fn


def _build() -> tuple[dict[str, Any], tuple[Activation, ...]]:
    rows = {row["name"]: row for row in _core.KERNEL_TABLE if row["group"] == "activation"}
    public: dict[str, Any] = {}
    for name, row in rows.items():
        args, params = _parse_params(row["params"])
        if row["backward"]:
            args = ("grad", "y" if row["saved"] == "output" else args[0]) + args[1:]
        uf = getattr(_core, name)
        rowwise = row["signature"] is not None
        public[name] = _wrap(uf, args, params, row["checks"], rowwise) if params or rowwise else uf
    activations = []
    for name, row in rows.items():
        if row["backward"]:
            continue
        if name + "_backward" not in rows:
            raise RuntimeError(f"fastact: {name} has no {name}_backward row")
        args, params = _parse_params(row["params"])
        activations.append(Activation(name, public[name], public[name + "_backward"], params,
                                      row["saved"], args, row["signature"] is not None))
    return public, tuple(activations)


PUBLIC, ACTIVATIONS = _build()
