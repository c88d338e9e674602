"""What a NumPy user would otherwise call, for the benchmarks: scipy.special
where it has the function, and PyTorch's CPU kernels (``torch.from_numpy``
views, ``out=`` where the op has an out variant, the ``torch.ops.aten``
backward kernels that autograd runs).

One table per peer, keyed by fastact function name, looked up at run time:
a fastact function that does not exist (yet) is never asked for, and a
function without an entry has no peer column. Each entry is a pair
(forward, backward) of functions taking the peer's arrays -- the same
positional arguments as fastact's forward / backward, converted -- then
``out`` (the preallocated result, or a tuple of them), then fastact's
keyword parameters; ``None`` where the peer has no such kernel.

Nothing here imports scipy or torch until ``load()`` is called.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PEERS = ("scipy", "torch")

# PyTorch's selu constants (torch/nn/functional.py), as aten.elu takes them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _scipy_table(sc: Any) -> dict[str, tuple[Callable | None, Callable | None]]:
    return {
        "sigmoid": (lambda x, o: sc.expit(x, out=o), None),
        "log_sigmoid": (lambda x, o: sc.log_expit(x, out=o), None),
        "softmax": (lambda x, o, temperature=1.0: sc.softmax(x / temperature if temperature != 1.0 else x, axis=-1), None),
        "log_softmax": (
            lambda x, o, temperature=1.0: sc.log_softmax(x / temperature if temperature != 1.0 else x, axis=-1),
            None,
        ),
    }


def _torch_table(torch: Any) -> dict[str, tuple[Callable | None, Callable | None]]:
    a = torch.ops.aten

    def gelu_approx(p: dict) -> str:
        return "tanh" if p.get("approximate") in ("tanh", 1.0) else "none"

    def log_sigmoid_backward(g, x, o):
        # autograd keeps the buffer of log_sigmoid_forward; computed here,
        # outside the timing, once per input (see _Bound).
        return a.log_sigmoid_backward.grad_input(g, x, _buffer(torch, x), grad_input=o)

    def cross_entropy(z, labels, o):
        return a.nll_loss_forward(a._log_softmax(z, -1, False), labels, None, 0, -100)[0]

    def cross_entropy_backward(g, z, labels, o):
        # What autograd runs after F.cross_entropy(reduction="none"): the
        # saved log_softmax output (recomputed here) and two kernels.
        ls = _saved_log_softmax(torch, z)
        total = torch.tensor(1.0, dtype=z.dtype)
        gl = a.nll_loss_backward(g, ls, labels, None, 0, -100, total)
        return a._log_softmax_backward_data.out(gl, ls, -1, z.dtype, out=o)

    return {
        "relu": (
            lambda x, o: a.clamp_min.out(x, 0, out=o),  # torch.relu is clamp_min(x, 0), which has out=
            lambda g, x, o: a.threshold_backward.grad_input(g, x, 0, grad_input=o),
        ),
        "leaky_relu": (
            lambda x, o, alpha=0.01: a.leaky_relu.out(x, alpha, out=o),
            lambda g, x, o, alpha=0.01: a.leaky_relu_backward.grad_input(g, x, alpha, False, grad_input=o),
        ),
        "sigmoid": (
            lambda x, o: a.sigmoid.out(x, out=o),
            lambda g, y, o: a.sigmoid_backward.grad_input(g, y, grad_input=o),
        ),
        "tanh": (
            lambda x, o: a.tanh.out(x, out=o),
            lambda g, y, o: a.tanh_backward.grad_input(g, y, grad_input=o),
        ),
        "relu6": (
            lambda x, o: a.hardtanh.out(x, 0.0, 6.0, out=o),
            lambda g, x, o: a.hardtanh_backward.grad_input(g, x, 0.0, 6.0, grad_input=o),
        ),
        "hardtanh": (
            lambda x, o, min_val=-1.0, max_val=1.0: a.hardtanh.out(x, min_val, max_val, out=o),
            lambda g, x, o, min_val=-1.0, max_val=1.0: a.hardtanh_backward.grad_input(
                g, x, min_val, max_val, grad_input=o
            ),
        ),
        "elu": (
            lambda x, o, alpha=1.0: a.elu.out(x, alpha, 1.0, 1.0, out=o),
            lambda g, x, o, alpha=1.0: a.elu_backward.grad_input(g, alpha, 1.0, 1.0, False, x, grad_input=o),
        ),
        "selu": (
            lambda x, o: a.elu.out(x, _SELU_ALPHA, _SELU_SCALE, 1.0, out=o),
            lambda g, x, o: a.elu_backward.grad_input(g, _SELU_ALPHA, _SELU_SCALE, 1.0, False, x, grad_input=o),
        ),
        "celu": (
            lambda x, o, alpha=1.0: a.elu.out(x, alpha, 1.0, 1.0 / alpha, out=o),
            lambda g, x, o, alpha=1.0: a.elu_backward.grad_input(g, alpha, 1.0, 1.0 / alpha, False, x, grad_input=o),
        ),
        "gelu": (
            lambda x, o, **p: a.gelu.out(x, approximate=gelu_approx(p), out=o),
            lambda g, x, o, **p: a.gelu_backward.grad_input(g, x, approximate=gelu_approx(p), grad_input=o),
        ),
        "gelu_tanh": (
            lambda x, o: a.gelu.out(x, approximate="tanh", out=o),
            lambda g, x, o: a.gelu_backward.grad_input(g, x, approximate="tanh", grad_input=o),
        ),
        "silu": (
            lambda x, o: a.silu.out(x, out=o),
            lambda g, x, o: a.silu_backward.grad_input(g, x, grad_input=o),
        ),
        "mish": (
            lambda x, o: a.mish.out(x, out=o),
            lambda g, x, o: a.mish_backward(g, x),  # no out variant
        ),
        "log_sigmoid": (lambda x, o: a.log_sigmoid.out(x, out=o), log_sigmoid_backward),
        "softplus": (
            lambda x, o, beta=1.0, threshold=20.0: a.softplus.out(x, beta, threshold, out=o),
            lambda g, x, o, beta=1.0, threshold=20.0: a.softplus_backward.grad_input(
                g, x, beta, threshold, grad_input=o
            ),
        ),
        # torch has no softsign kernel: F.softsign is x / (1 + |x|), three ops.
        "softsign": (lambda x, o: torch.div(x, torch.abs(x).add_(1), out=o), None),
        "hardsigmoid": (
            lambda x, o: a.hardsigmoid.out(x, out=o),
            lambda g, x, o: a.hardsigmoid_backward.grad_input(g, x, grad_input=o),
        ),
        "hardswish": (
            lambda x, o: a.hardswish.out(x, out=o),
            lambda g, x, o: a.hardswish_backward.out(g, x, out=o),
        ),
        "prelu": (
            lambda x, w, o: a._prelu_kernel(x, w),  # no out variant
            # The kernel's weight gradient is per element; autograd then sums
            # it to the weight's shape (sum_to_size), as here.
            lambda g, x, w, o: _prelu_backward(a, g, x, w),
        ),
        "softmax": (
            lambda x, o, temperature=1.0: a._softmax.out(x if temperature == 1.0 else x / temperature, -1, False, out=o),
            lambda g, y, o, temperature=1.0: a._softmax_backward_data.out(g, y, -1, y.dtype, grad_input=o),
        ),
        "log_softmax": (
            lambda x, o, temperature=1.0: a._log_softmax.out(
                x if temperature == 1.0 else x / temperature, -1, False, out=o
            ),
            lambda g, y, o, temperature=1.0: a._log_softmax_backward_data.out(g, y, -1, y.dtype, out=o),
        ),
        "bce_with_logits": (
            lambda z, t, o: a.binary_cross_entropy_with_logits.out(z, t, None, None, 0, out=o),
            # No aten kernel: autograd's formula, grad * (sigmoid(z) - target).
            lambda g, z, t, o: torch.mul(torch.sigmoid(z).sub_(t), g, out=o),
        ),
        "softmax_cross_entropy": (cross_entropy, cross_entropy_backward),
    }


def _prelu_backward(a: Any, g: Any, x: Any, w: Any) -> tuple[Any, Any]:
    gx, gw = a._prelu_kernel_backward(g, x, w)
    return gx, gw.sum_to_size(w.shape)


_BUFFERS: dict[int, Any] = {}


def _buffer(torch: Any, x: Any) -> Any:
    key = id(x)
    if key not in _BUFFERS:
        _BUFFERS.clear()
        _BUFFERS[key] = (x, torch.ops.aten.log_sigmoid_forward(x)[1])
    return _BUFFERS[key][1]


def _saved_log_softmax(torch: Any, z: Any) -> Any:
    key = id(z)
    if key not in _BUFFERS:
        _BUFFERS.clear()
        _BUFFERS[key] = (z, torch.ops.aten._log_softmax(z, -1, False))
    return _BUFFERS[key][1]


@dataclass
class Peer:
    """One installed peer library."""

    name: str  # "scipy" or "torch"
    version: str
    table: dict[str, tuple[Callable | None, Callable | None]]
    to_peer: Callable[[np.ndarray], Any]  # numpy array -> what the peer takes

    def has(self, function: str, direction: str) -> bool:
        entry = self.table.get(function)
        return entry is not None and entry[0 if direction == "forward" else 1] is not None

    def bind(
        self, function: str, direction: str, args: Sequence[np.ndarray], out: Any, params: dict[str, Any]
    ) -> Callable[[], Any] | None:
        """A no-argument callable running the peer on these arrays, or None."""
        if not self.has(function, direction):
            return None
        fn = self.table[function][0 if direction == "forward" else 1]
        peer_args = [self.to_peer(a) for a in args]
        peer_out = tuple(self.to_peer(o) for o in out) if isinstance(out, tuple) else self.to_peer(out)
        call = functools.partial(fn, *peer_args, peer_out, **params)  # no extra Python frame
        call()  # fails here, not in the middle of the timing, if the arguments do not fit
        return call


def load(names: Sequence[str] = PEERS, threads: int = 1) -> list[Peer]:
    """The installed peers among `names` (torch limited to `threads` threads)."""
    peers = []
    for name in names:
        if name == "scipy":
            try:
                import scipy
                import scipy.special as sc
            except ImportError:
                continue
            peers.append(Peer("scipy", scipy.__version__, _scipy_table(sc), lambda a: a))
        elif name == "torch":
            try:
                import torch
            except ImportError:
                continue
            torch.set_num_threads(max(1, threads))
            # Some kernels run at two speeds in a process: float64 gelu at
            # 1M took 21-22 ns per element until the first `tensor + 1`
            # (or relu, clamp_min, where...), 5.4-5.6 after (torch 2.13,
            # AMD EPYC; mul and maximum leave it slow). Every real model
            # has made such a call, so the peer is timed in that state,
            # whatever the benchmark's order.
            torch.ones(1, dtype=torch.float64).add(1)
            peers.append(Peer("torch", torch.__version__.split("+")[0], _torch_table(torch), torch.from_numpy))
        else:
            raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    return peers


def coverage(functions: Sequence[str]) -> dict[str, list[str]]:
    """For each peer, the functions of `functions` it has (for the report)."""
    table_keys = {"scipy": _scipy_table(_Any()).keys(), "torch": _torch_table(_Any()).keys()}
    return {peer: [f for f in functions if f in keys] for peer, keys in table_keys.items()}


class _Any:
    """Stands in for a module when only the table's keys are wanted."""

    def __getattr__(self, name: str) -> "_Any":
        return self
