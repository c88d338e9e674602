"""Layers for neural networks written in plain NumPy.

Each class wraps one fastact activation (or fused loss) in the protocol that
hand-written NumPy models use::

    y = layer.forward(x)          # also layer(x)
    gx = layer.backward(gy)       # vector-Jacobian product, dL/dx from dL/dy

so that it drops in next to your own ``Linear`` class and SGD loop:

>>> import numpy as np
>>> from fastact import nn
>>> act = nn.LeakyReLU(alpha=0.1)
>>> x = np.array([[-2.0, 3.0]])
>>> act(x)
array([[-0.2,  3. ]])
>>> act.backward(np.ones_like(x))
array([[0.1, 1. ]])

Rules common to every layer
---------------------------
* **What is cached.** A layer keeps exactly the tensor its backward needs,
  by reference (no copy): the OUTPUT for ReLU, Sigmoid, Tanh, Softmax and
  LogSoftmax (their derivative is a function of the output; relu_backward
  gives the same result from the output as from the input), the INPUT for
  every other layer. Do not modify that array before calling ``backward``.
  The cache is kept until the next ``forward`` (``backward`` may be called
  more than once).
* **inplace=True** writes the output into ``x`` (``out=x``: no allocation).
  It is allowed only for the layers that cache their output, and ``x`` must
  be a writeable floating-point ndarray; a layer whose backward needs the
  input (everything else) raises ``ValueError`` at construction, because
  overwriting the input would destroy what backward needs. As in PyTorch,
  an in-place layer must not follow a layer that cached the same array
  (``fastact.diagnostics.lint`` reports that).
* ``backward`` before ``forward`` raises ``RuntimeError``; a ``grad`` whose
  shape differs from the forward's output raises ``ValueError`` (NumPy
  broadcasting would otherwise hide the mistake).
* Any shape works: element-wise layers take any number of dimensions;
  Softmax/LogSoftmax work along ``axis``; PReLU's weight runs along axis 1.
* dtypes follow fastact: float32 stays float32, float64 stays float64.
* The fastact function is looked up when the layer runs, so every layer is
  defined even in a build that lacks its function; calling it then raises
  ``NotImplementedError`` naming the missing function.

Parameters live as attributes with the constructor's names (``act.alpha``)
and may be changed between calls.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, NamedTuple

import numpy as np

import fastact

__all__ = [
    "ActivationLayer",
    "LossLayer",
    "PReLU",
    "BCEWithLogits",
    "SoftmaxCrossEntropy",
    "LAYERS",
    "LayerSpec",
]  # the activation classes are appended below, from the table


def _function(name: str) -> Callable[..., Any]:
    """fastact.<name>, or a clear error if this build does not have it."""
    fn = getattr(fastact, name, None)
    if fn is None:
        raise NotImplementedError(
            f"fastact.{name} is not available in this build of fastact "
            f"{fastact.__version__}; the layer needs it")
    return fn


def _check_grad(layer: str, grad: Any, shape: tuple[int, ...]) -> None:
    if np.shape(grad) != shape:
        raise ValueError(
            f"{layer}.backward: grad has shape {np.shape(grad)}, but the forward's output "
            f"has shape {shape}")


def _not_called(layer: str) -> RuntimeError:
    return RuntimeError(f"{layer}.backward called before forward: nothing is cached to "
                        "differentiate; call forward(x) first")


# --------------------------------------------------------------------------
# The table: one row per activation layer
# --------------------------------------------------------------------------


class LayerSpec(NamedTuple):
    """One activation layer: the fastact function it wraps and how."""

    function: str  # fastact function name; the backward is <function>_backward
    params: tuple[tuple[str, Any], ...]  # constructor parameters and defaults, in order
    saved: str  # "output" or "input": the tensor the layer caches for backward
    summary: str  # first line(s) of the docstring
    rowwise: bool = False  # works along `axis` (Softmax, LogSoftmax)


_A = (("alpha", 0.01),)
LAYERS: dict[str, LayerSpec] = {
    "ReLU": LayerSpec("relu", (), "output",
                      "max(x, 0). Caches the output (relu_backward is the same from it)."),
    "ReLU6": LayerSpec("relu6", (), "input", "min(max(x, 0), 6)."),
    "LeakyReLU": LayerSpec("leaky_relu", _A, "input", "x if x > 0 else alpha * x."),
    "ELU": LayerSpec("elu", (("alpha", 1.0),), "input",
                     "x if x > 0 else alpha * (exp(x) - 1)."),
    "SELU": LayerSpec("selu", (), "input",
                      "scale * (x if x > 0 else alpha * (exp(x) - 1)), the self-normalising "
                      "constants."),
    "CELU": LayerSpec("celu", (("alpha", 1.0),), "input",
                      "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."),
    "GELU": LayerSpec("gelu", (("approximate", "none"),), "input",
                      "x * Phi(x) (approximate='none', erf form) or its tanh approximation "
                      "(approximate='tanh')."),
    "SiLU": LayerSpec("silu", (), "input", "x * sigmoid(x) (swish)."),
    "Mish": LayerSpec("mish", (), "input", "x * tanh(softplus(x))."),
    "Sigmoid": LayerSpec("sigmoid", (), "output",
                         "1 / (1 + exp(-x)). Caches the output: backward is g * y * (1 - y)."),
    "LogSigmoid": LayerSpec("log_sigmoid", (), "input", "log(sigmoid(x)), stable."),
    "Tanh": LayerSpec("tanh", (), "output",
                      "tanh(x). Caches the output: backward is g * (1 - y) * (1 + y)."),
    "Softplus": LayerSpec("softplus", (("beta", 1.0), ("threshold", 20.0)), "input",
                          "log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."),
    "Softsign": LayerSpec("softsign", (), "input", "x / (1 + |x|)."),
    "Hardsigmoid": LayerSpec("hardsigmoid", (), "input", "clip(x / 6 + 1/2, 0, 1)."),
    "Hardswish": LayerSpec("hardswish", (), "input", "x * hardsigmoid(x)."),
    "Hardtanh": LayerSpec("hardtanh", (("min_val", -1.0), ("max_val", 1.0)), "input",
                          "clip(x, min_val, max_val)."),
    "ReLUSigmoid": LayerSpec(
        "relu_sigmoid", (), "input",
        "Fused sigmoid(relu(z)). THE TRAP: the output is never below 0.5 and the gradient is "
        "0 for every z <= 0; fastact.diagnostics.lint reports it. Use it only when that is "
        "what you mean."),
    "LeakyReLUSigmoid": LayerSpec("leaky_relu_sigmoid", _A, "input",
                                  "Fused sigmoid(leaky_relu(z, alpha))."),
    "Softmax": LayerSpec("softmax", (("axis", -1), ("temperature", 1.0)), "output",
                         "exp(x / T) / sum(exp(x / T)) along axis. Caches the output.",
                         rowwise=True),
    "LogSoftmax": LayerSpec("log_softmax", (("axis", -1), ("temperature", 1.0)), "output",
                            "log(softmax(x / T)) along axis, without forming softmax. Caches "
                            "the output.", rowwise=True),
}
del _A

_GELU_APPROXIMATIONS = ("none", "tanh")


# --------------------------------------------------------------------------
# Activation layers
# --------------------------------------------------------------------------


class ActivationLayer:
    """Base class of the activation layers generated from :data:`LAYERS`.

    Subclasses set ``spec``; the constructor takes the spec's parameters
    (positional or keyword) and the keyword-only ``inplace``.
    """

    spec: LayerSpec
    __signature__: inspect.Signature

    def __init__(self, *args: Any, inplace: bool = False, **kwargs: Any) -> None:
        name = type(self).__name__
        sig = inspect.Signature([p for p in type(self).__signature__.parameters.values()
                                 if p.name != "inplace"])
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}: {exc}") from None
        bound.apply_defaults()
        for key, value in bound.arguments.items():
            setattr(self, key, value)
        if inplace and self.spec.saved != "output":
            raise ValueError(
                f"{name}(inplace=True): {name}'s backward needs the layer's INPUT, which an "
                "in-place forward would overwrite; in-place is only possible for layers that "
                "cache their output (ReLU, Sigmoid, Tanh, Softmax, LogSoftmax)")
        self.inplace = bool(inplace)
        self._cache: np.ndarray | None = None
        self._validate()

    # ---- parameters -------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p, _ in self.spec.params}

    def _validate(self) -> None:
        """Surface bad parameters at construction: check the ones we know
        and, when the function exists, let it check the rest on a tiny array."""
        params = self._params()
        if "approximate" in params and params["approximate"] not in _GELU_APPROXIMATIONS:
            raise ValueError(f"{type(self).__name__}: approximate must be one of "
                             f"{_GELU_APPROXIMATIONS}, got {params['approximate']!r}")
        if "axis" in params:
            if isinstance(params["axis"], bool) or not isinstance(params["axis"], (int, np.integer)):
                raise TypeError(f"{type(self).__name__}: axis must be an integer, "
                                f"got {params['axis']!r}")
            params.pop("axis")
        fn = getattr(fastact, self.spec.function, None)
        if fn is not None:
            try:
                fn(np.zeros(1), **params)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{type(self).__name__}: {exc}") from None

    # ---- the protocol -----------------------------------------------------
    def forward(self, x: Any) -> np.ndarray:
        """y = f(x); caches what backward needs (see the class docstring)."""
        params = self._params()
        if self.inplace:
            if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}(inplace=True) needs a floating-point ndarray to "
                    f"write into, got {type(x).__name__}"
                    + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
            if not x.flags.writeable:
                raise ValueError(f"{type(self).__name__}(inplace=True): x is read-only")
            y = _function(self.spec.function)(x, **params, out=x)
        else:
            x = np.asarray(x)
            y = _function(self.spec.function)(x, **params)
        y = np.asarray(y)
        self._cache = y if self.spec.saved == "output" else x
        self._shape = y.shape
        return y

    def __call__(self, x: Any) -> np.ndarray:
        return self.forward(x)

    def backward(self, grad: Any) -> np.ndarray:
        """dL/dx = grad * f'(x), from the cached tensor."""
        if self._cache is None:
            raise _not_called(type(self).__name__)
        _check_grad(type(self).__name__, grad, self._shape)
        fn = _function(self.spec.function + "_backward")
        return np.asarray(fn(grad, self._cache, **self._params()))

    def __repr__(self) -> str:
        args = [f"{p}={getattr(self, p)!r}" for p, _ in self.spec.params]
        if self.inplace:
            args.append("inplace=True")
        return f"{type(self).__name__}({', '.join(args)})"


def _docstring(name: str, spec: LayerSpec) -> str:
    params = "".join(f"\n    {p}: default {d!r}" for p, d in spec.params)
    saved = ("the OUTPUT y (backward works from it); inplace=True allowed"
             if spec.saved == "output" else
             "the INPUT x; inplace=True is refused (ValueError)")
    shape = ("any shape; normalised along `axis`" if spec.rowwise else "any shape, element-wise")
    return (f"{spec.summary}\n\n"
            f"Wraps fastact.{spec.function} and fastact.{spec.function}_backward.\n"
            f"Parameters:{params or ' none'}\n"
            f"Caches: {saved}.\n"
            f"Input: {shape}.")


def _make_layer(name: str, spec: LayerSpec) -> type[ActivationLayer]:
    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
              for p, d in spec.params]
    params.append(inspect.Parameter("inplace", inspect.Parameter.KEYWORD_ONLY, default=False))
    cls = type(name, (ActivationLayer,), {
        "spec": spec,
        "__doc__": _docstring(name, spec),
        "__module__": __name__,
        "__signature__": inspect.Signature(params),
    })
    return cls


# One class per row of LAYERS (spelled out so that tools and readers see them).
ReLU = _make_layer("ReLU", LAYERS["ReLU"])
ReLU6 = _make_layer("ReLU6", LAYERS["ReLU6"])
LeakyReLU = _make_layer("LeakyReLU", LAYERS["LeakyReLU"])
ELU = _make_layer("ELU", LAYERS["ELU"])
SELU = _make_layer("SELU", LAYERS["SELU"])
CELU = _make_layer("CELU", LAYERS["CELU"])
GELU = _make_layer("GELU", LAYERS["GELU"])
SiLU = _make_layer("SiLU", LAYERS["SiLU"])
Mish = _make_layer("Mish", LAYERS["Mish"])
Sigmoid = _make_layer("Sigmoid", LAYERS["Sigmoid"])
LogSigmoid = _make_layer("LogSigmoid", LAYERS["LogSigmoid"])
Tanh = _make_layer("Tanh", LAYERS["Tanh"])
Softplus = _make_layer("Softplus", LAYERS["Softplus"])
Softsign = _make_layer("Softsign", LAYERS["Softsign"])
Hardsigmoid = _make_layer("Hardsigmoid", LAYERS["Hardsigmoid"])
Hardswish = _make_layer("Hardswish", LAYERS["Hardswish"])
Hardtanh = _make_layer("Hardtanh", LAYERS["Hardtanh"])
ReLUSigmoid = _make_layer("ReLUSigmoid", LAYERS["ReLUSigmoid"])
LeakyReLUSigmoid = _make_layer("LeakyReLUSigmoid", LAYERS["LeakyReLUSigmoid"])
Softmax = _make_layer("Softmax", LAYERS["Softmax"])
LogSoftmax = _make_layer("LogSoftmax", LAYERS["LogSoftmax"])
__all__ += list(LAYERS)
assert all(globals()[n].spec is LAYERS[n] for n in LAYERS), "a LAYERS row has no class"


# --------------------------------------------------------------------------
# PReLU: an activation with a learnable weight
# --------------------------------------------------------------------------


class PReLU:
    """x if x > 0 else weight * x, with a learnable weight along axis 1.

    PReLU(num_parameters=1, init=0.25): ``num_parameters`` is 1 (one slope
    shared by every unit) or the size of axis 1 of the input (one slope per
    channel/unit, PyTorch's layout). Wraps fastact.prelu and
    fastact.prelu_backward. Caches the INPUT; inplace is not supported.

    Gradient convention: ``backward`` SETS ``grad_weight`` (overwrites it in
    place), it does not accumulate as PyTorch's ``.grad`` does. A layer
    caches one forward, so one backward per forward is the whole gradient,
    and a NumPy SGD step wants exactly that, without a ``zero_grad``.
    ``grad_weight`` is the same array object for the layer's lifetime (an
    optimizer may keep a reference), as is ``weight`` unless you replace it.
    ``parameters()`` returns [(weight, grad_weight)].

    ``weight`` is float64 (``dtype=`` to change); the forward casts it to
    the input's float dtype so that float32 stays float32.
    """

    spec = LayerSpec("prelu", (("num_parameters", 1), ("init", 0.25)), "input",
                     "x if x > 0 else weight * x, weight learnable along axis 1.")

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *,
                 dtype: Any = np.float64) -> None:
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, "
                             f"got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = np.full(self.num_parameters, init, dtype=dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self.inplace = False
        self._cache: np.ndarray | None = None

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(weight, grad_weight)]: the array to update and its gradient."""
        return [(self.weight, self.grad_weight)]

    def _weight_for(self, x: np.ndarray) -> np.ndarray:
        if self.weight.shape != (self.num_parameters,):
            raise ValueError(f"PReLU: weight has shape {self.weight.shape}, expected "
                             f"({self.num_parameters},)")
        if self.num_parameters > 1 and (x.ndim < 2 or x.shape[1] != self.num_parameters):
            raise ValueError(
                f"PReLU(num_parameters={self.num_parameters}): the input needs axis 1 of "
                f"size {self.num_parameters}, got shape {x.shape}")
        if x.dtype.kind == "f" and self.weight.dtype != x.dtype:
            return self.weight.astype(x.dtype)
        return self.weight

    def forward(self, x: Any) -> np.ndarray:
        """y = prelu(x, weight); caches x."""
        fn = _function("prelu")
        x = np.asarray(x)
        y = np.asarray(fn(x, self._weight_for(x)))
        self._cache = x
        self._shape = y.shape
        return y

    def __call__(self, x: Any) -> np.ndarray:
        return self.forward(x)

    def backward(self, grad: Any) -> np.ndarray:
        """Returns dL/dx and sets ``grad_weight`` to dL/dweight."""
        if self._cache is None:
            raise _not_called("PReLU")
        _check_grad("PReLU", grad, self._shape)
        fn = _function("prelu_backward")
        x = self._cache
        grad_x, grad_w = fn(grad, x, self._weight_for(x))
        grad_w = np.asarray(grad_w)
        if grad_w.size == self.grad_weight.size:
            self.grad_weight[...] = grad_w.reshape(self.grad_weight.shape)
        else:  # a build whose prelu_backward does not reduce the shared weight
            self.grad_weight[...] = np.sum(grad_w)
        return np.asarray(grad_x)

    def __repr__(self) -> str:
        return f"PReLU(num_parameters={self.num_parameters}, init={self.init!r})"



# --------------------------------------------------------------------------
# Losses on logits, built on the fused kernels
# --------------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum", "none")


class LossLayer:
    """Base of the loss layers: ``forward(logits, target) -> loss`` and
    ``backward(grad=1.0) -> dloss/dlogits``.

    reduction: "mean" (default) averages the per-sample losses, "sum" adds
    them, "none" returns them unreduced. backward's ``grad`` is dL/dloss: a
    scalar for "mean"/"sum", for "none" a scalar or an array of the loss's
    shape.
    """

    function: str = ""

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self._count = 0
        self._loss_shape: tuple[int, ...] = ()

    def __call__(self, logits: Any, target: Any) -> Any:
        return self.forward(logits, target)

    def forward(self, logits: Any, target: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reduce(self, losses: np.ndarray) -> Any:
        self._loss_shape = losses.shape
        self._count = losses.size
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        if losses.size == 0:  # the mean of no samples, without NumPy's warning
            return losses.dtype.type(np.nan)
        return losses.mean()

    def _upstream(self, grad: Any, dtype: np.dtype) -> Any:
        """dL/d(per-sample loss), broadcastable to the per-sample losses."""
        if self.reduction == "none":
            if np.ndim(grad) and np.shape(grad) != self._loss_shape:
                raise ValueError(f"{type(self).__name__}.backward: grad has shape "
                                 f"{np.shape(grad)}, the losses have shape {self._loss_shape}")
            return np.asarray(grad, dtype=dtype) if np.ndim(grad) == 0 else grad
        if np.ndim(grad) != 0:
            raise ValueError(f"{type(self).__name__}.backward: with reduction="
                             f"{self.reduction!r} the loss is a scalar, so grad must be one, "
                             f"got shape {np.shape(grad)}")
        scale = 1.0 / self._count if self.reduction == "mean" and self._count else 1.0
        return np.asarray(float(grad) * scale, dtype=dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


def _float_logits(logits: Any) -> np.ndarray:
    z = np.asarray(logits)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    return z


class BCEWithLogits(LossLayer):
    """Binary cross-entropy on logits: sigmoid and log-loss fused, stable.

    loss_i = softplus(z_i) - target_i * z_i = -[t log sigmoid(z) + (1 - t)
    log(1 - sigmoid(z))], never through a probability (no log(0), no
    overflow). forward(logits, target): target has the logits' shape (a
    label 0/1 or a probability per logit; integer/bool targets are converted
    to the logits' dtype). Shapes must match exactly: (N, 1) logits against
    (N,) targets would broadcast to (N, N), so it is an error.
    "mean" averages over every element (PyTorch's BCEWithLogitsLoss).
    backward: (sigmoid(z) - target) * grad / N, from the fused kernel.
    Do not put a Sigmoid in front: the loss applies it (lint reports it).

    Wraps fastact.bce_with_logits and fastact.bce_with_logits_backward.
    """

    function = "bce_with_logits"

    def forward(self, logits: Any, target: Any) -> Any:
        fn = _function(self.function)
        z = _float_logits(logits)
        t = np.asarray(target)
        if t.shape != z.shape:
            raise ValueError(
                f"BCEWithLogits: target has shape {t.shape}, logits have shape {z.shape}; "
                "they must match (reshape the target, e.g. target.reshape(logits.shape))")
        if t.dtype != z.dtype:
            t = t.astype(z.dtype)
        self._cache = (z, t)
        return self._reduce(np.asarray(fn(z, t)))

    def backward(self, grad: Any = 1.0) -> np.ndarray:
        """dL/dlogits."""
        if self._cache is None:
            raise _not_called("BCEWithLogits")
        z, t = self._cache
        fn = _function(self.function + "_backward")
        return np.asarray(fn(self._upstream(grad, z.dtype), z, t))


class SoftmaxCrossEntropy(LossLayer):
    """Softmax + cross-entropy on logits with integer class labels, fused.

    loss = logsumexp(z) - z[label] along ``axis`` (the class axis), one loss
    per sample; forward(logits, labels): labels are integers in [0, C) with
    the logits' shape minus ``axis`` (e.g. logits (N, C), labels (N,)).
    One-hot or float labels are a TypeError (use labels.argmax(axis)); a
    label out of range is a ValueError. "mean" averages over samples
    (PyTorch's CrossEntropyLoss). backward: (softmax(z) - onehot(label)) *
    grad / N. Do not put Softmax/LogSoftmax in front: the loss applies it.

    Wraps fastact.softmax_cross_entropy and its _backward.
    """

    function = "softmax_cross_entropy"

    def __init__(self, axis: int = -1, reduction: str = "mean") -> None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"SoftmaxCrossEntropy: axis must be an integer, got {axis!r}")
        super().__init__(reduction)
        self.axis = int(axis)

    def forward(self, logits: Any, labels: Any) -> Any:
        fn = _function(self.function)
        z = _float_logits(logits)
        if z.ndim == 0:
            raise ValueError("SoftmaxCrossEntropy: logits need a class axis, got a scalar")
        axis = self.axis
        if not -z.ndim <= axis < z.ndim:
            raise ValueError(f"SoftmaxCrossEntropy: axis {axis} is out of range for logits "
                             f"of shape {z.shape}")
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"SoftmaxCrossEntropy: labels must be integer class indices, got dtype "
                f"{labels.dtype}; for one-hot targets pass target.argmax(axis={axis})")
        expected = z.shape[:axis % z.ndim] + z.shape[axis % z.ndim + 1:]
        if labels.shape != expected:
            raise ValueError(f"SoftmaxCrossEntropy: labels have shape {labels.shape}, "
                             f"expected {expected} (the logits' shape {z.shape} without "
                             f"axis {axis})")
        classes = z.shape[axis]
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"SoftmaxCrossEntropy: labels must be in [0, {classes}), got "
                             f"values in [{labels.min()}, {labels.max()}]")
        self._cache = (z, labels)
        return self._reduce(np.asarray(fn(z, labels, axis=axis)))

    def backward(self, grad: Any = 1.0) -> np.ndarray:
        """dL/dlogits."""
        if self._cache is None:
            raise _not_called("SoftmaxCrossEntropy")
        z, labels = self._cache
        fn = _function(self.function + "_backward")
        return np.asarray(fn(self._upstream(grad, z.dtype), z, labels, axis=self.axis))

    def __repr__(self) -> str:
        return f"SoftmaxCrossEntropy(axis={self.axis}, reduction={self.reduction!r})"
