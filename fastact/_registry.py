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


def _coerce_param(func: str, name: str, value: Any) -> Any:
    """A parameter as the ufunc wants it: a Python float for a scalar (so it
    never changes the output dtype, NumPy scalars included), a float64 array
    to broadcast otherwise. Anything non-real is a TypeError."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{func}: parameter {name!r} must be a real number, got {value!r}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: parameter {name!r} must be real, got dtype {arr.dtype}")
    return float(arr) if arr.ndim == 0 else arr.astype(np.float64, copy=False)


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
    """A function ``name(*args, [axis=-1,] **params, **ufunc_kwargs)`` calling ufunc.

    Generated as source (like collections.namedtuple) so that the signature
    is the real one and a call costs one Python frame: a float parameter is
    passed straight through, anything else is coerced first."""
    name = ufunc.__name__
    data = ", ".join(args)
    sig = ", ".join([data] + (["axis=-1"] if rowwise else [])
                    + [f"{p}={d!r}" for p, d in params.items()] + ["**kwargs"])
    coerce = "".join(f"    if type({p}) is not float:\n"
                     f"        {p} = _coerce({name!r}, {p!r}, {p})\n" for p in params)
    call = ", ".join([data, *params] + (["axis=axis"] if rowwise else []) + ["**kwargs"])
    src = (f"def {name}({sig}):\n{coerce}{_check_source(name, checks, params)}"
           f"    return _ufunc({call})\n")
    namespace: dict[str, Any] = {"_ufunc": ufunc, "_coerce": _coerce_param, "_all": _all}
    exec(src, namespace)  # noqa: S102 - source built from the kernel table only
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
