"""Why does my net not train? Dead units, saturation, and composition traps.

* :func:`dead_units` / :func:`dead_fraction` -- units whose activation is
  <= 0 for every sample of a batch (dead ReLUs).
* :func:`saturation` -- the fraction of pre-activations where the local
  derivative of sigmoid, tanh (or any element-wise activation) is tiny.
* :func:`activation_stats` -- per-unit dead fraction, saturated fraction,
  mean output and mean derivative, from ONE compiled pass over the
  pre-activations (no temporary the size of the input).
* :func:`lint` -- findings about a list of layers: a ReLU feeding a sigmoid
  or softmax, the fused ``ReLUSigmoid`` trap, a sigmoid/softmax in front of
  a loss that applies it again, sigmoid/tanh hidden layers in a deep stack,
  an in-place layer overwriting a tensor saved for backward.

Conventions
-----------
* ``z`` is a PRE-activation (what your Linear layer returns); ``a`` an
  activation (what the activation layer returns). Statistics are taken over
  ``axis`` (the batch axis, 0 by default), one value per unit.
* A sample is **dead** when the derivative there is exactly 0 and z <= 0:
  it sits on a flat piece at or below zero, so no gradient flows back
  through it -- z <= 0 for relu and relu_sigmoid, z <= -3 for hardsigmoid
  and hardswish, z <= min_val for hardtanh; leaky_relu (alpha > 0) and the
  smooth functions are dead only where their derivative underflows to 0.
  A flat piece above zero (relu6 at z >= 6) is saturated, not dead.
* A sample is **saturated** when |f'(z)| < threshold. The default threshold
  is 1 % of the function's largest |derivative| with the given parameters
  (found numerically, :func:`default_threshold`): 0.0025 for sigmoid
  (|z| > 5.99), 0.01 for tanh (|z| > 2.99), 0.01 for relu (so for relu
  saturated = dead). Dead samples are also saturated.
* **NaN** in z: the unit's mean output and mean derivative are NaN (as
  np.mean), and the NaN sample counts as neither dead nor saturated (it is
  evidence of neither); in :func:`dead_units` a unit with a NaN activation
  is not dead (NaN <= 0 is false). Fractions are over all samples, NaN
  ones included.
* An empty sample axis is a ``ValueError`` (there is no evidence either
  way).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

import numpy as np

from fastact import _core, nn
from fastact._registry import ACTIVATIONS, Activation

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy 1.26
    from numpy.core.numeric import normalize_axis_tuple  # type: ignore[no-redef]

__all__ = [
    "ActivationStats",
    "Finding",
    "activation_stats",
    "dead_fraction",
    "dead_units",
    "default_threshold",
    "lint",
    "saturation",
]

#: Fraction of the largest |derivative| below which a sample is saturated.
SATURATION_FRACTION = 0.01


# --------------------------------------------------------------------------
# dead units
# --------------------------------------------------------------------------


def _axes(func: str, a: np.ndarray, axis: Any) -> tuple[int, ...]:
    axes = tuple(range(a.ndim)) if axis is None else normalize_axis_tuple(axis, a.ndim)
    if any(a.shape[r] == 0 for r in axes):
        raise ValueError(f"{func}: no samples along axis {axis} of an array of shape "
                         f"{a.shape}")
    return axes


def dead_units(a: Any, axis: Any = 0) -> np.ndarray:
    """Boolean mask of the units whose activation is <= 0 for every sample.

    ``a``: activations (or relu pre-activations: relu(z) <= 0 iff z <= 0),
    samples along ``axis`` (an int, a tuple, or None for all). Returns the
    mask with ``axis`` removed, e.g. shape (units,) for a (batch, units)
    array. One pass (np.max), no temporary. A unit with a NaN is not dead.

    >>> dead_units(np.array([[0.0, 1.0, -2.0], [0.0, -1.0, -3.0]]))
    array([ True, False,  True])
    """
    a = np.asarray(a)
    axes = _axes("dead_units", a, axis)
    if a.ndim == 0:
        return np.bool_(a <= 0)
    return np.max(a, axis=axes) <= 0


def dead_fraction(a: Any, axis: Any = 0) -> float:
    """Fraction of units that are dead (<= 0 for every sample along axis)."""
    return float(np.mean(dead_units(a, axis)))


# --------------------------------------------------------------------------
# one-pass statistics
# --------------------------------------------------------------------------


class ActivationStats(NamedTuple):
    """Per-unit statistics of an activation over a batch (float64 arrays,
    or scalars when every axis is reduced)."""

    dead: Any  # fraction of samples with f'(z) == 0 and z <= 0
    saturated: Any  # fraction of samples with |f'(z)| < threshold
    mean_output: Any  # mean of f(z)
    mean_derivative: Any  # mean of f'(z)


_BY_NAME: dict[str, Activation] = {act.name: act for act in ACTIVATIONS}


def _elementwise(func: str, name: str) -> Activation:
    act = _BY_NAME.get(name)
    if act is None or act.rowwise or len(act.args) != 1:
        usable = sorted(a.name for a in ACTIVATIONS if not a.rowwise and len(a.args) == 1)
        why = ("is row-wise" if act is not None and act.rowwise else
               "takes more than one array" if act is not None else
               "is not a fastact activation")
        raise ValueError(f"{func}: {name!r} {why}; statistics are for the element-wise "
                         f"activations: {', '.join(usable)}")
    return act


def _resolve(func: str, fn: Any, params: dict[str, Any]) -> tuple[Activation, dict[str, Any]]:
    """(registry record, every parameter) from a name, a fastact function or
    a fastact.nn layer, plus keyword parameters."""
    if isinstance(fn, nn.ActivationLayer):
        params = {**fn._params(), **params}
        fn = fn.spec.function
    elif not isinstance(fn, str):
        fn = getattr(fn, "__name__", fn)
        if not isinstance(fn, str):
            raise TypeError(f"{func}: fn must be an activation name, a fastact function or a "
                            f"fastact.nn layer, got {fn!r}")
    act = _elementwise(func, fn)
    unknown = set(params) - set(act.params) - ({"approximate"} if fn == "gelu" else set())
    if unknown:
        raise TypeError(f"{func}: {fn} has no parameter {', '.join(map(repr, sorted(unknown)))}"
                        f" (its parameters: {', '.join(act.params) or 'none'})")
    return act, {**act.params, **params}


def _grid() -> np.ndarray:
    """Dense on [-20, 20], then out to +-1e4: where activations bend."""
    tail = np.geomspace(20.0, 1e4, 200)
    return np.concatenate([-tail[::-1], np.linspace(-20.0, 20.0, 40001), tail])


def _derivative(act: Activation, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """f'(x) through the public backward (saved input or output)."""
    y = act.forward(x, **params)
    saved = y if act.saved == "output" else x
    return np.asarray(act.backward(np.ones((), x.dtype), saved, **params))


@functools.lru_cache(maxsize=256)
def _max_slope(name: str, items: tuple[tuple[str, Any], ...]) -> float:
    d = _derivative(_BY_NAME[name], _grid(), dict(items))
    return float(np.nanmax(np.abs(d)))


def _scalar_key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v if isinstance(v, str) else float(v)) for k, v in params.items()))


def _threshold_for(act: Activation, params: dict[str, Any],
                   shape: tuple[int, ...] = ()) -> Any:
    """1 % of the largest |f'| -- a float, or an array of ``shape`` (the
    units) when some parameter is an array (one threshold per unit)."""
    arrays = {k: v for k, v in params.items() if not isinstance(v, str) and np.ndim(v) > 0}
    if not arrays:
        return SATURATION_FRACTION * _max_slope(act.name, _scalar_key(params))
    names = list(arrays)
    grid = np.stack([np.broadcast_to(np.asarray(arrays[k], dtype=np.float64), shape).ravel()
                     for k in names], axis=1)
    combos, inverse = np.unique(grid, axis=0, return_inverse=True)
    slopes = np.array([_max_slope(act.name, _scalar_key({**params, **dict(zip(names, c))}))
                       for c in combos])
    return SATURATION_FRACTION * slopes[inverse.ravel()].reshape(shape)


def default_threshold(fn: Any, **params: Any) -> Any:
    """The default saturation threshold of ``fn``: 1 % of its largest
    |derivative| with these parameters (on a dense grid of [-20, 20] and a
    geometric one out to +-1e4). sigmoid: 0.0025; tanh, relu: 0.01.

    With array-valued parameters (one per unit) the result is an array:
    each unit's threshold from its own parameters."""
    act, params = _resolve("default_threshold", fn, params)
    shape = np.broadcast_shapes(*(np.shape(v) for v in params.values()
                                  if not isinstance(v, str)))
    return _threshold_for(act, params, shape)


def _real(value: Any) -> bool:
    if isinstance(value, (str, bytes)):
        return False
    return isinstance(value, numbers.Real) or np.asarray(value).dtype.kind in "biuf"


def _per_unit(value: Any, z_shape: tuple[int, ...], axes: tuple[int, ...], units: tuple[int, ...],
              along: int | None) -> np.ndarray:
    """A per-unit value (broadcastable to the result shape ``units``) laid
    out against z's dimensions: size 1 at the reduced axes, the ``along``
    axis (the gufunc's core axis) dropped. Scalars stay 0-d."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return value
    value = np.broadcast_to(value, units)
    shape = [1 if i in axes else z_shape[i] for i in range(len(z_shape)) if i != along]
    return value.reshape(shape)


def activation_stats(z: Any, fn: Any, axis: Any = 0, *, saturation_threshold: Any = None,
                     **params: Any) -> ActivationStats:
    """Per-unit dead fraction, saturated fraction, mean output and mean
    derivative of ``fn`` applied to the pre-activations ``z``.

    z: pre-activations, samples along ``axis`` (int, tuple or None = all;
      default 0, the batch axis of a (batch, units) array). float16 is
      evaluated in float32, as fastact computes it.
    fn: an element-wise activation -- its name ("relu", "sigmoid", ...), the
      fastact function, or a fastact.nn layer (its parameters are used; a
      PReLU layer is leaky_relu with its weight as alpha along axis 1).
    saturation_threshold: a sample is saturated where |f'(z)| is below it;
      a number or one per unit; default :func:`default_threshold` (1 % of
      the largest |f'|).
    params: the activation's parameters (alpha=..., beta=..., softplus's
      threshold=...): numbers, or arrays with one value per unit
      (broadcasting against the result).

    Returns :class:`ActivationStats` of float64 arrays with ``axis``
    removed (scalars for axis=None). "Dead" and "saturated" are defined in
    the module docstring.

    One compiled pass over z, reading each element once, with no
    temporary of z's size: the internal gufunc ``fastact._core._stats_<fn>``
    (generated for every element-wise activation) reduces along the axis.
    For several axes it reduces along the longest and sums the smaller
    partial results. Functions without a compiled statistics loop (a
    parameter that is not a number) fall back to NumPy on chunks of about
    64k elements.

    >>> s = activation_stats(np.array([[-1.0, 2.0], [3.0, -4.0]]), "relu")
    >>> s.dead, s.mean_output
    (array([0.5, 0.5]), array([1.5, 1. ]))
    """
    prelu = fn if isinstance(fn, nn.PReLU) else None
    if prelu is not None:  # prelu is leaky_relu with a learned alpha per channel
        if params:
            raise TypeError("activation_stats: a PReLU layer brings its own weight; pass no "
                            "parameters")
        fn = "leaky_relu"
    act, params = _resolve("activation_stats", fn, params)
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":
        raise TypeError(f"activation_stats: z must be real, got dtype {z.dtype}")
    if z.ndim == 0:
        z = z.reshape(1)
        axis = 0
    axes = _axes("activation_stats", z, axis)
    units = tuple(z.shape[i] for i in range(z.ndim) if i not in axes)
    if prelu is not None:
        params["alpha"] = _prelu_alpha(prelu, z.shape, axes, units)
    for name, value in params.items():
        if not isinstance(value, str) and np.ndim(value) and \
                np.broadcast_shapes(np.shape(value), units) != units:
            raise ValueError(f"activation_stats: parameter {name!r} of shape {np.shape(value)} "
                             f"does not broadcast to the units' shape {units}")
    threshold = saturation_threshold
    if threshold is None:
        threshold = _threshold_for(act, params, units)
    elif not _real(threshold) or np.any(np.isnan(threshold)):
        raise ValueError(f"activation_stats: saturation_threshold must be a real number (or one per "
                         f"unit), got {threshold!r}")
    elif np.broadcast_shapes(np.shape(threshold), units) != units:
        raise ValueError(f"activation_stats: saturation_threshold of shape {np.shape(threshold)} does not "
                         f"broadcast to the units' shape {units}")
    m = math.prod(z.shape[r] for r in axes)
    kernel, numeric = _kernel(act, params)
    ufunc = getattr(_core, "_stats_" + kernel, None)
    if ufunc is not None and all(_real(v) for v in numeric.values()):
        along = max(axes, key=lambda r: z.shape[r])
        values = [_per_unit(numeric[p], z.shape, axes, units, along) for p in numeric]
        parts = ufunc(z, *values, _per_unit(threshold, z.shape, axes, units, along), axis=along)
        rest = tuple(r - (r > along) for r in axes if r != along)
        if rest:
            parts = tuple(np.sum(p, axis=rest) for p in parts)
    else:
        laid_out = {k: v if isinstance(v, str) else _per_unit(v, z.shape, axes, units, None)
                    for k, v in params.items()}
        parts = _stats_numpy(z, act, laid_out, _per_unit(threshold, z.shape, axes, units, None),
                             axes)
    dead, sat, sum_y, sum_d = (np.asarray(p, dtype=np.float64) / m for p in parts)
    if dead.ndim == 0:
        return ActivationStats(dead[()], sat[()], sum_y[()], sum_d[()])
    return ActivationStats(dead, sat, sum_y, sum_d)


def _prelu_alpha(layer: Any, z_shape: tuple[int, ...], axes: tuple[int, ...],
                 units: tuple[int, ...]) -> Any:
    """A PReLU layer's weight (along z's axis 1) as a per-unit alpha."""
    w = np.asarray(layer.weight, dtype=np.float64).reshape(-1)
    if w.size == 1:
        return float(w[0])
    if len(z_shape) < 2 or z_shape[1] != w.size or 1 in axes:
        raise ValueError(f"activation_stats: PReLU(num_parameters={w.size}) needs axis 1 of z "
                         f"(size {w.size}) among the units, got z of shape {z_shape} and "
                         f"axis {axes}")
    shape = [1] * len(units)
    shape[1 - sum(r < 1 for r in axes)] = w.size
    return w.reshape(shape)


#: Functions whose string parameter selects another kernel row:
#: (function, parameter) -> {value: row}.
_VARIANTS = {("gelu", "approximate"): {"none": "gelu", "tanh": "gelu_tanh"}}


def _kernel(act: Activation, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kernels.def row that computes ``act`` with these parameters and
    its numeric parameters in kernel order (gelu(approximate="tanh") is row
    gelu_tanh)."""
    name, numeric = act.name, dict(params)
    for (fn, key), rows in _VARIANTS.items():
        if fn == name and isinstance(numeric.get(key), str) and numeric[key] in rows:
            name = rows[numeric.pop(key)]
    row = _BY_NAME.get(name)
    if row is not None and name != act.name:
        numeric = {k: numeric.get(k, d) for k, d in row.params.items()}
    return name, numeric


def _stats_numpy(z: np.ndarray, act: Activation, params: dict[str, Any], threshold: Any,
                 axes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """The same counts and sums with NumPy, chunk by chunk along axes[0]
    (parameters and threshold laid out against z by _per_unit)."""
    first = axes[0]
    per_row = max(1, z.size // max(1, z.shape[first]))
    step = max(1, 65536 // per_row)
    totals = None
    for start in range(0, z.shape[first], step):
        chunk = z[(slice(None),) * first + (slice(start, start + step),)]
        if chunk.dtype == np.float16:
            chunk = chunk.astype(np.float32)  # as fastact computes float16
        y = np.asarray(act.forward(chunk, **params))
        saved = y if act.saved == "output" else chunk
        d = np.asarray(act.backward(np.ones((), y.dtype), saved, **params))
        t = np.asarray(threshold).astype(d.dtype)
        part = (np.sum((d == 0) & (chunk <= 0), axis=axes, dtype=np.float64),
                np.sum(np.abs(d) < t, axis=axes, dtype=np.float64),
                np.sum(y, axis=axes, dtype=np.float64),
                np.sum(d, axis=axes, dtype=np.float64))
        totals = part if totals is None else tuple(a + b for a, b in zip(totals, part))
    assert totals is not None
    return totals


def saturation(x: Any, fn: Any = "sigmoid", threshold: float | None = None,
               **params: Any) -> float:
    """Fraction of the elements of ``x`` (pre-activations) where |f'(x)| <
    threshold: how much of a sigmoid/tanh layer passes (almost) no gradient.

    fn: "sigmoid" (default), "tanh", or any element-wise activation, as in
    :func:`activation_stats` (a name, a fastact function or a fastact.nn
    layer; softplus's own ``threshold`` parameter is given through the
    layer, ``saturation(x, nn.Softplus(threshold=10))``, since ``threshold``
    here is the saturation threshold). threshold: default 1 % of the
    function's largest derivative -- 0.0025 for sigmoid (|x| > 5.99), 0.01
    for tanh (|x| > 2.99). One compiled pass over x. NaN elements count as
    not saturated (but are in the denominator).

    >>> saturation(np.array([0.0, 1.0, 8.0, -8.0]), "sigmoid")
    0.5
    """
    stats = activation_stats(x, fn, axis=None, saturation_threshold=threshold, **params)
    return float(stats.saturated)


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem :func:`lint` found in a list of layers.

    code: a stable identifier (see :func:`lint`); message: what is wrong,
    the numbers, and what to do; index: the position in the list of the
    layer to change; severity: "error" (the net cannot learn what it is
    meant to), "warning" (it trains badly), "info" (harmless but wasteful).
    """

    code: str
    message: str
    index: int
    severity: str = "error"

    def __str__(self) -> str:
        return f"[{self.severity}] layer {self.index}: {self.code}: {self.message}"


_INF = math.inf
#: Output range (lo, hi) of each fastact layer, given the layer.
_RANGES: dict[str, Any] = {
    "ReLU": lambda l: (0.0, _INF),
    "ReLU6": lambda l: (0.0, 6.0),
    "LeakyReLU": lambda l: (-_INF, _INF),
    "ELU": lambda l: (-float(l.alpha), _INF),
    "SELU": lambda l: (-1.0507009873554805 * 1.6732632423543772, _INF),
    "CELU": lambda l: (-float(l.alpha), _INF),
    "GELU": lambda l: (-0.16997, _INF),
    "SiLU": lambda l: (-0.27846, _INF),
    "Mish": lambda l: (-0.30884, _INF),
    "Sigmoid": lambda l: (0.0, 1.0),
    "LogSigmoid": lambda l: (-_INF, 0.0),
    "Tanh": lambda l: (-1.0, 1.0),
    "Softplus": lambda l: (0.0, _INF),
    "Softsign": lambda l: (-1.0, 1.0),
    "Hardsigmoid": lambda l: (0.0, 1.0),
    "Hardswish": lambda l: (-0.375, _INF),
    "Hardtanh": lambda l: (float(l.min_val), float(l.max_val)),
    "ReLUSigmoid": lambda l: (0.5, 1.0),
    "LeakyReLUSigmoid": lambda l: (0.0, 1.0),
    "Softmax": lambda l: (0.0, 1.0),
    "LogSoftmax": lambda l: (-_INF, 0.0),
    "PReLU": lambda l: (-_INF, _INF),
}
#: zero output and zero gradient for z <= 0
_RELU_FAMILY = ("ReLU", "ReLU6")
#: bounded, saturating: their derivative vanishes on both sides
_SATURATING = ("Sigmoid", "Tanh", "Hardsigmoid", "Hardtanh", "Softsign", "ReLUSigmoid",
               "LeakyReLUSigmoid")
#: layers that apply a sigmoid (or its log) to their input
_SIGMOID_CONSUMERS = ("Sigmoid", "LogSigmoid", "BCEWithLogits")
_SOFTMAX_CONSUMERS = ("Softmax", "LogSoftmax", "SoftmaxCrossEntropy")
_LOGIT_LOSSES = ("BCEWithLogits", "SoftmaxCrossEntropy")
#: a stack is deep from this many hidden activation layers on
DEEP = 4


def _kind(layer: Any) -> str | None:
    """The fastact.nn class a layer is (or derives from), or None for
    anything else."""
    for cls in type(layer).__mro__:
        if cls.__module__ == nn.__name__ and (cls.__name__ in _RANGES
                                              or cls.__name__ in _LOGIT_LOSSES):
            return cls.__name__
    return None


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def lint(layers: Iterable[Any], *, deep: int = DEEP) -> list[Finding]:
    """Check a sequence of layers (input to output) for composition traps.

    ``layers`` may mix fastact.nn layers with anything else (your Linear,
    Dropout, ...). fastact's layers (and subclasses of them) are recognised;
    any other object is treated as an opaque layer -- a weight layer, as far
    as "hidden" is concerned -- and is never itself reported. "Directly
    before" means adjacent in the sequence: a Linear between two layers
    breaks the pattern. Findings come in layer order; a healthy net gives an
    empty list.

    Codes:

    * ``relu-sigmoid`` (error): a fused ReLUSigmoid layer. Its output is
      never below 0.5 and its gradient is 0 for every z <= 0: negative
      examples sit at probability 0.5 with a loss of log 2 and no gradient.
    * ``relu-before-sigmoid`` (error): ReLU/ReLU6 directly before Sigmoid,
      LogSigmoid or BCEWithLogits (which applies a sigmoid): the same trap,
      built from two layers.
    * ``relu-before-softmax`` (warning): ReLU/ReLU6 directly before Softmax,
      LogSoftmax or SoftmaxCrossEntropy: the logits cannot go below 0, and
      a logit stuck at 0 gets no gradient, so a class can only be pushed
      down by pushing all the others up.
    * ``activation-before-logits-loss`` (error): an activation directly
      before BCEWithLogits or SoftmaxCrossEntropy, which expect raw logits:
      a Sigmoid/Softmax is applied twice, and any bounded activation caps
      the probability the loss can reach (the message gives the bounds).
    * ``redundant-log-softmax`` (info): LogSoftmax before
      SoftmaxCrossEntropy; log_softmax is idempotent, so it is harmless,
      but a wasted pass.
    * ``vanishing-gradients`` (warning): sigmoid/tanh-like hidden layers
      (Sigmoid, Tanh, Hardsigmoid, Hardtanh, Softsign, ReLUSigmoid,
      LeakyReLUSigmoid) in a DEEP stack: at least ``deep`` (default 4)
      hidden activation layers, a hidden activation being an element-wise
      fastact activation with some non-fastact layer (taken to be a weight
      layer) after it. Each such layer scales the gradient by its
      derivative -- at most 0.25 for sigmoid, < 0.01 in saturation -- so
      the first layers of a deep stack barely learn. One finding, at the
      first such layer, listing all of them.
    * ``inplace-overwrites-saved-output`` (error): a layer with
      inplace=True directly after a layer that cached its output (ReLU,
      Sigmoid, Tanh, Softmax, LogSoftmax): it overwrites the array the
      previous layer's backward reads.
    """
    seq = list(layers)
    kinds = [_kind(layer) for layer in seq]
    findings: list[Finding] = []

    for i, (layer, kind) in enumerate(zip(seq, kinds)):
        nxt = kinds[i + 1] if i + 1 < len(seq) else None
        if kind == "ReLUSigmoid":
            findings.append(Finding(
                "relu-sigmoid",
                "ReLUSigmoid computes sigmoid(max(z, 0)): its output is never below 0.5 (every "
                "z <= 0 gives exactly 0.5) and its gradient is 0 for z <= 0, so a negative "
                "example stuck there has loss log 2 = 0.693 and never moves. For a "
                "probability, end with a Linear layer and use BCEWithLogits (or Sigmoid "
                "directly on the logits).", i))
        if kind in _RELU_FAMILY and nxt in _SIGMOID_CONSUMERS:
            what = ("applies a sigmoid to its input" if nxt == "BCEWithLogits" else
                    "follows it")
            findings.append(Finding(
                "relu-before-sigmoid",
                f"{kind} at {i} feeds {nxt} at {i + 1}, which {what}: the logits are >= 0, "
                "so the probability is never below 0.5, and every z <= 0 gives probability "
                "0.5 with zero gradient (loss log 2 = 0.693 for a negative example, stuck). "
                f"Remove the {kind} (the layer before a sigmoid should output raw logits, "
                "e.g. a Linear layer).", i))
        if kind in _RELU_FAMILY and nxt in _SOFTMAX_CONSUMERS:
            findings.append(Finding(
                "relu-before-softmax",
                f"{kind} at {i} feeds {nxt} at {i + 1}: the logits are clipped at 0 and a "
                "logit stuck at 0 gets no gradient, so a class can only be made unlikely by "
                f"making every other class likelier. Remove the {kind} (feed raw logits).",
                i, "warning"))
        if (kind is not None and kind in _RANGES and kind not in _RELU_FAMILY
                and nxt in _LOGIT_LOSSES):
            if kind == "LogSoftmax" and nxt == "SoftmaxCrossEntropy":
                findings.append(Finding(
                    "redundant-log-softmax",
                    f"LogSoftmax at {i} before SoftmaxCrossEntropy: the loss applies "
                    "log_softmax itself; log_softmax is idempotent, so this is harmless but "
                    "a wasted pass. Remove it.", i, "info"))
            else:
                findings.append(Finding("activation-before-logits-loss",
                                        _before_loss(kind, seq[i], nxt), i))
        if nxt is not None and getattr(seq[i + 1], "inplace", False) is True and \
                isinstance(layer, nn.ActivationLayer) and layer.spec.saved == "output":
            findings.append(Finding(
                "inplace-overwrites-saved-output",
                f"{kinds[i + 1]}(inplace=True) at {i + 1} overwrites the output of {kind} at "
                f"{i}, which {kind} keeps for its backward: the gradient through {kind} would "
                f"be computed from the wrong values. Use inplace=False at {i + 1}.", i + 1))

    findings.extend(_vanishing(seq, kinds, deep))
    findings.sort(key=lambda f: f.index)
    return findings


def _before_loss(kind: str, layer: Any, loss: str) -> str:
    lo, hi = _RANGES[kind](layer)
    if loss == "BCEWithLogits":
        if kind in ("Sigmoid", "ReLUSigmoid", "LeakyReLUSigmoid", "Hardsigmoid"):
            head = (f"{kind} before BCEWithLogits applies a sigmoid twice: the loss sees "
                    f"probabilities in [{_fmt(lo)}, {_fmt(hi)}] as logits")
        else:
            head = f"{kind} before BCEWithLogits: the logits are confined to [{_fmt(lo)}, {_fmt(hi)}]"
        bound = (f", so the predicted probability stays within [{_fmt(_sigmoid(lo))}, "
                 f"{_fmt(_sigmoid(hi))}]")
        if lo == -_INF and hi == _INF:
            bound = ", which distorts them"
        return (f"{head}{bound}. BCEWithLogits applies the sigmoid itself: remove the {kind} "
                "(use Sigmoid only to report probabilities).")
    if kind == "Softmax":
        head = ("Softmax before SoftmaxCrossEntropy applies softmax twice: the loss sees "
                "probabilities in [0, 1] as logits, so no class can get a probability above "
                "e/(e + C - 1) for C classes and the gradient is squashed")
    else:
        head = (f"{kind} before SoftmaxCrossEntropy: the logits are confined to "
                f"[{_fmt(lo)}, {_fmt(hi)}]")
        if lo > -_INF and hi < _INF:
            head += (f", so no class can get a probability above "
                     f"e^{_fmt(hi - lo)}/(e^{_fmt(hi - lo)} + C - 1) for C classes")
    return (f"{head}. SoftmaxCrossEntropy applies log_softmax itself: remove the {kind} "
            "(use Softmax only to report probabilities).")


def _vanishing(seq: list[Any], kinds: list[str | None], deep: int) -> list[Finding]:
    opaque = [k is None for k in kinds]
    hidden = [i for i, k in enumerate(kinds)
              if k is not None and k in _RANGES and k not in ("Softmax", "LogSoftmax")
              and any(opaque[i + 1:])]
    if len(hidden) < deep:
        return []
    bad = [i for i in hidden if kinds[i] in _SATURATING]
    if not bad:
        return []
    names = ", ".join(f"{kinds[i]} at {i}" for i in bad)
    n_sig = sum(kinds[i] in ("Sigmoid", "ReLUSigmoid", "LeakyReLUSigmoid") for i in bad)
    bound = (f"; through the {n_sig} sigmoid layers alone at most 0.25^{n_sig} = "
             f"{0.25 ** n_sig:.2g} of the gradient reaches the first layer" if n_sig else "")
    return [Finding(
        "vanishing-gradients",
        f"{len(bad)} of the {len(hidden)} hidden activation layers are sigmoid/tanh-like "
        f"({names}). Each scales the backward gradient by its derivative (at most 0.25 for "
        f"sigmoid, 1 for tanh and < 0.01 once saturated){bound}, so the first layers of a "
        f"stack this deep (>= {deep} hidden layers) barely learn. Prefer ReLU/LeakyReLU/"
        "GELU/SiLU for hidden layers; check with diagnostics.saturation or "
        "activation_stats.", bad[0], "warning")]
