"""The public functions, generated from the compiled kernel table.

Every row of src/kernels.def becomes a forward and a backward function
here: the ufunc itself when it has no parameters, otherwise a thin wrapper
that passes the keyword parameters to the ufunc as extra broadcast inputs.
``ACTIVATIONS`` is the list that tests and benchmarks iterate over.
"""
from __future__ import annotations

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
    ndata: int  # array inputs of the forward


def _parse_params(spec: str) -> dict[str, float]:
    if not spec:
        return {}
    return {k: float(v) for k, v in (item.split("=") for item in spec.split(","))}


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


def _wrap(ufunc: np.ufunc, data_args: tuple[str, ...], params: dict[str, float]) -> Callable[..., Any]:
    """A function ``name(*data_args, *params, **ufunc_kwargs)`` calling ufunc.

    Generated as source (like collections.namedtuple) so that the signature
    is the real one and the common call costs one Python frame: a float
    parameter is passed straight through, anything else is coerced."""
    name = ufunc.__name__
    data = ", ".join(data_args)
    sig = ", ".join(f"{p}={d!r}" for p, d in params.items())
    passed = ", ".join(
        f"{p} if type({p}) is float else _coerce({name!r}, {p!r}, {p})" for p in params)
    src = (f"def {name}({data}, {sig}, **kwargs):\n"
           f"    return _ufunc({data}, {passed}, **kwargs)\n")
    namespace: dict[str, Any] = {"_ufunc": ufunc, "_coerce": _coerce_param}
    exec(src, namespace)  # noqa: S102 - source built from the kernel table only
    fn = namespace[name]
    fn.__doc__ = ufunc.__doc__.split("\n\n", 1)[1] if "\n\n" in ufunc.__doc__ else ufunc.__doc__
    fn.__module__ = "fastact"
    fn.__qualname__ = name
    fn.ufunc = ufunc  # the underlying ufunc, for .at/.reduce-style use and Dask
    return fn


_DATA_NAMES = {1: ("x",), 2: ("x", "target")}


def _build() -> tuple[dict[str, Any], tuple[Activation, ...]]:
    public: dict[str, Any] = {}
    rows = {row["name"]: row for row in _core.KERNEL_TABLE}
    activations = []
    for row in _core.KERNEL_TABLE:
        if row["backward"]:
            continue
        name, params = row["name"], _parse_params(row["params"])
        nd = row["ndata"]
        saved = row["saved"]
        fwd_args = _DATA_NAMES[nd]
        bwd_args = ("grad", "y" if saved == "output" else fwd_args[0]) + fwd_args[1:]
        for fname, args in ((name, fwd_args), (name + "_backward", bwd_args)):
            uf = getattr(_core, fname)
            public[fname] = _wrap(uf, args, params) if params else uf
        assert rows[name + "_backward"]["ndata"] == nd + 1
        activations.append(Activation(name, public[name], public[name + "_backward"],
                                      params, saved, nd))
    return public, tuple(activations)


PUBLIC, ACTIVATIONS = _build()
