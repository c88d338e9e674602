"""A complete NumPy MLP with fastact layers, next to the same net in plain NumPy.

What a NumPy user writes -- a Linear layer, an optimizer (SGD with momentum
and Adam), a Sequential container, a training loop -- with the activations
and losses taken from fastact.nn. The same network is also built from the
NumPy one-liners people usually write (np.maximum, 1 / (1 + np.exp(-x)),
a hand-written softmax cross-entropy), trained from the same initial weights
on the same batches, and the two are compared: loss per epoch, test accuracy
and time per epoch.

Data: two data sets that ship inside scikit-learn (no download):
breast cancer (569 samples, 30 features, binary) and digits (1797 8x8
images, 10 classes).

Then the relu -> sigmoid trap, with numbers: a net whose output is
sigmoid(relu(z)) (here the fused nn.ReLUSigmoid) can never predict a
probability below 0.5, every example with z <= 0 sits at exactly 0.5 with
zero gradient, and the loss cannot go below log 2 for each negative example.
fastact.diagnostics.lint flags the net before training, activation_stats
shows the dead output after.

    pip install "fastact[examples]"      # scikit-learn
    python examples/train_mlp.py         # ~10 s
    python examples/train_mlp.py --epochs 10 --dtype float64 --threads 1
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any, Callable

import numpy as np

import fastact
from fastact import diagnostics, nn

try:
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
except ImportError:  # pragma: no cover
    raise SystemExit("this example needs scikit-learn: pip install 'fastact[examples]'")


# --------------------------------------------------------------------------
# The model code a NumPy user writes
# --------------------------------------------------------------------------


class Linear:
    """y = x @ w + b, He-initialised. Gradients are written into arrays that
    live as long as the layer, so an optimizer can hold on to them."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, dtype: Any) -> None:
        self.w = (rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(dtype)
        self.b = np.zeros(n_out, dtype)
        self.gw = np.zeros_like(self.w)
        self.gb = np.zeros_like(self.b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.w + self.b

    def backward(self, g: np.ndarray) -> np.ndarray:
        np.matmul(self.x.T, g, out=self.gw)
        np.sum(g, axis=0, out=self.gb)
        return g @ self.w.T

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.w, self.gw), (self.b, self.gb)]


class Sequential:
    """Layers in order; times the activation layers separately."""

    def __init__(self, *layers: Any) -> None:
        self.layers = list(layers)
        self.activation_seconds = 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            if isinstance(layer, Linear):
                x = layer.forward(x)
            else:
                t0 = time.perf_counter()
                x = layer.forward(x)
                self.activation_seconds += time.perf_counter() - t0
        return x

    def backward(self, g: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            if isinstance(layer, Linear):
                g = layer.backward(g)
            else:
                t0 = time.perf_counter()
                g = layer.backward(g)
                self.activation_seconds += time.perf_counter() - t0
        return g

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [p for layer in self.layers if hasattr(layer, "parameters")
                for p in layer.parameters()]


class SGD:
    """SGD with momentum."""

    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], lr: float = 0.05,
                 momentum: float = 0.9) -> None:
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [np.zeros_like(p) for p, _ in params]

    def step(self) -> None:
        for (p, g), v in zip(self.params, self.velocity):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma & Ba), bias-corrected."""

    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.eps = params, lr, eps
        self.b1, self.b2 = betas
        self.m = [np.zeros_like(p) for p, _ in params]
        self.v = [np.zeros_like(p) for p, _ in params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for (p, g), m, v in zip(self.params, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)


# --------------------------------------------------------------------------
# The same activations and losses as NumPy one-liners
# --------------------------------------------------------------------------


class NpReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, g):
        return g * (self.x > 0)


class NpTanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


class NpSigmoid:
    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, g):
        return g * self.y * (1 - self.y)


class NpBCEWithLogits:
    def forward(self, z, t):
        self.z, self.t = z, t
        return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))

    def backward(self):
        return (1 / (1 + np.exp(-self.z)) - self.t) / self.z.size


class NpSoftmaxCrossEntropy:
    def forward(self, z, labels):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        self.labels = labels
        n = len(labels)
        return -np.mean(np.log(self.p[np.arange(n), labels]))

    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.labels)), self.labels] -= 1
        return g / len(self.labels)


class ProbabilityBCE:
    """Binary cross-entropy on PROBABILITIES, as written next to a sigmoid
    output layer (here: the trap's relu_sigmoid output)."""

    def forward(self, p, t):
        self.p, self.t = p, t
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))

    def backward(self):
        q = np.clip(self.p, 1e-7, 1 - 1e-7)
        return (q - self.t) / (q * (1 - q)) / self.p.size


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


def epochs(model: Sequential, loss: Any, optimizer: Any, x: np.ndarray, y: np.ndarray,
           n_epochs: int, batch: int, seed: int):
    """Mini-batch training; yields (mean loss, seconds) after each epoch."""
    order_rng = np.random.default_rng(seed)
    for _ in range(n_epochs):
        t0 = time.perf_counter()
        order = order_rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            out = model.forward(x[idx])
            t1 = time.perf_counter()
            total += float(loss.forward(out, y[idx])) * len(idx)
            g = loss.backward()
            model.activation_seconds += time.perf_counter() - t1
            model.backward(g)
            optimizer.step()
        yield total / len(x), time.perf_counter() - t0


def train(*args: Any) -> tuple[list[float], list[float]]:
    losses, seconds = zip(*epochs(*args))
    return list(losses), list(seconds)


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    if logits.shape[1] == 1:
        return float(np.mean((logits[:, 0] > 0) == (y[:, 0] > 0.5)))
    return float(np.mean(np.argmax(logits, axis=1) == y))


def _row(label: str, values: list[float], fmt: str = "{:6.3f}") -> str:
    return f"  {label:<9}" + " ".join(fmt.format(v) for v in values)


def compare(title: str, build: Callable[[bool], tuple[Sequential, Any]], data: tuple,
            args: argparse.Namespace, make_optimizer: Callable) -> None:
    xtr, xte, ytr, yte = data
    runs = {}
    for name, use_fastact in (("fastact", True), ("numpy", False)):
        model, loss = build(use_fastact)
        runs[name] = (model, loss, epochs(model, loss, make_optimizer(model.parameters()),
                                          xtr, ytr, args.epochs, args.batch, args.seed))
    # Epochs alternate between the two nets, so that both see the same machine load.
    history: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(args.epochs):
        for name, (_, _, run) in runs.items():
            history[name].append(next(run))
    results = {}
    for name, (model, loss, _) in runs.items():
        losses, seconds = (list(v) for v in zip(*history[name]))
        act_ms = model.activation_seconds / args.epochs * 1e3
        results[name] = (losses, float(np.median(seconds)) * 1e3, act_ms,
                         accuracy(model.forward(xte), yte), model.layers + [loss])
    print(f"\n{title}")
    step = max(1, args.epochs // 15)
    shown = list(range(0, args.epochs, step))
    print(_row("epoch", [i + 1 for i in shown], "{:6d}"))
    for name, (losses, *_rest) in results.items():
        print(_row(name, [losses[i] for i in shown]))
    fa, npy = results["fastact"], results["numpy"]
    print(f"  final train loss: fastact {fa[0][-1]:.4f}, numpy {npy[0][-1]:.4f} "
          f"(max difference over epochs {max(abs(a - b) for a, b in zip(fa[0], npy[0])):.1e})")
    print(f"  test accuracy:    fastact {fa[3]:.1%}, numpy {npy[3]:.1%}")
    print(f"  time per epoch:   fastact {fa[1]:.2f} ms, numpy {npy[1]:.2f} ms (median); of which "
          f"activations + loss: fastact {fa[2]:.2f} ms, numpy {npy[2]:.2f} ms")
    findings = diagnostics.lint(fa[4])
    print(f"  lint: {'no findings' if not findings else findings}")


# --------------------------------------------------------------------------
# The relu -> sigmoid trap
# --------------------------------------------------------------------------


def trap(data: tuple, args: argparse.Namespace, dtype: Any) -> None:
    xtr, xte, ytr, yte = data
    rng = np.random.default_rng(args.seed)
    first, last = Linear(xtr.shape[1], 64, rng, dtype), Linear(64, 1, rng, dtype)
    model = Sequential(first, nn.ReLU(), last, nn.ReLUSigmoid())
    loss = ProbabilityBCE()
    print("\nThe relu -> sigmoid trap (breast cancer): Linear-ReLU-Linear-ReLUSigmoid + BCE on "
          "probabilities")
    print("  lint before training:")
    for f in diagnostics.lint(model.layers):
        print(f"    {f}")
    for f in diagnostics.lint([first, nn.ReLU(), last, nn.ReLU(), nn.BCEWithLogits()]):
        print(f"    (the same net written as ...-ReLU-BCEWithLogits) {f.code} at {f.index}")
    losses, _ = train(model, loss, Adam(model.parameters(), lr=args.lr), xtr, ytr,
                      args.epochs, args.batch, args.seed)
    step = max(1, args.epochs // 15)
    print(_row("loss", losses[::step]))

    z = last.forward(nn.ReLU().forward(first.forward(xtr)))  # the output pre-activation
    p = fastact.relu_sigmoid(z)
    neg = ytr[:, 0] == 0
    stuck = z[:, 0] <= 0
    n = len(xtr)
    per_example = -(ytr * np.log(np.clip(p, 1e-7, 1)) + (1 - ytr) * np.log(np.clip(1 - p, 1e-7, 1)))
    floor = neg.sum() * math.log(2) / n
    print(f"  smallest predicted probability: {p.min():.6f} (it can never go below 0.5)")
    print(f"  negatives stuck at z <= 0: {int((neg & stuck).sum())} of {int(neg.sum())}, each at "
          f"p = 0.5, loss log 2 = {math.log(2):.4f}, gradient 0; positives stuck there too: "
          f"{int((~neg & stuck).sum())} of {int((~neg).sum())}")
    print(f"  loss floor = negatives x log 2 / n = {int(neg.sum())} x 0.6931 / {n} = {floor:.4f};"
          f" final train loss {losses[-1]:.4f} (of which the stuck examples: "
          f"{per_example[stuck].sum() / n:.4f})")
    stats = diagnostics.activation_stats(z, "relu_sigmoid")
    print(f"  activation_stats(z, 'relu_sigmoid'): dead {stats.dead[0]:.1%}, saturated "
          f"{stats.saturated[0]:.1%}, mean output {stats.mean_output[0]:.3f}, "
          f"mean derivative {stats.mean_derivative[0]:.4f}")
    hidden = diagnostics.activation_stats(first.forward(xtr), "relu")
    print(f"  hidden ReLU: {diagnostics.dead_fraction(nn.ReLU()(first.forward(xtr))):.1%} of "
          f"units dead on every sample; mean dead fraction per unit {hidden.dead.mean():.1%}")
    z_test = last.forward(nn.ReLU().forward(first.forward(xte)))
    print(f"  test accuracy (p > 0.5): {accuracy(z_test, yte):.1%} -- the classes still "
          "separate, but no negative is ever predicted with any confidence")

    # The fix: no activation after the last Linear; the loss applies the sigmoid.
    rng = np.random.default_rng(args.seed)
    first, last = Linear(xtr.shape[1], 64, rng, dtype), Linear(64, 1, rng, dtype)
    fixed = Sequential(first, nn.ReLU(), last)
    losses, _ = train(fixed, nn.BCEWithLogits(), Adam(fixed.parameters(), lr=args.lr), xtr, ytr,
                      args.epochs, args.batch, args.seed)
    p = fastact.sigmoid(fixed.forward(xtr))
    print(f"  fixed (Linear-ReLU-Linear + BCEWithLogits, same start): final train loss "
          f"{losses[-1]:.4f}, median probability on negatives {np.median(p[neg]):.2e}, test "
          f"accuracy {accuracy(fixed.forward(xte), yte):.1%}; lint: "
          f"{diagnostics.lint(fixed.layers + [nn.BCEWithLogits()]) or 'no findings'}")


# --------------------------------------------------------------------------
# Where fastact's time goes: one large batch, forward + backward
# --------------------------------------------------------------------------


def micro(args: argparse.Namespace, dtype: Any) -> None:
    rng = np.random.default_rng(args.seed)
    n, h = 4096, 512
    x = rng.standard_normal((n, h)).astype(dtype)
    g = rng.standard_normal((n, h)).astype(dtype)
    target = (rng.random((n, h)) < 0.5).astype(dtype)
    labels = rng.integers(0, h, n)

    def act(layer):
        return lambda: layer.backward(g) if layer.forward(x) is not None else None

    def loss(layer, t):
        return lambda: layer.backward() if layer.forward(x, t) is not None else None

    cases = [("ReLU", act(nn.ReLU()), act(NpReLU())),
             ("Tanh", act(nn.Tanh()), act(NpTanh())),
             ("Sigmoid", act(nn.Sigmoid()), act(NpSigmoid())),
             ("BCEWithLogits", loss(nn.BCEWithLogits(), target), loss(NpBCEWithLogits(), target)),
             ("SoftmaxCrossEntropy", loss(nn.SoftmaxCrossEntropy(), labels),
              loss(NpSoftmaxCrossEntropy(), labels))]
    print(f"\nForward + backward on one ({n}, {h}) {dtype} batch (median of 15, interleaved):")
    for name, fa, npy in cases:
        times: dict[str, list[float]] = {"fa": [], "np": []}
        for _ in range(15):
            for key, fn in (("fa", fa), ("np", npy)):
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
        t_fa, t_np = (float(np.median(times[k])) * 1e3 for k in ("fa", "np"))
        print(f"  {name:<20} fastact {t_fa:7.2f} ms   numpy {t_np:7.2f} ms   "
              f"{t_np / t_fa:5.1f}x")


# --------------------------------------------------------------------------


def _standardise(xtr: np.ndarray, xte: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = xtr.mean(axis=0), xtr.std(axis=0) + 1e-8
    return ((xtr - mu) / sd).astype(dtype), ((xte - mu) / sd).astype(dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="fastact.set_num_threads (default: fastact's own choice)")
    args = parser.parse_args()
    if args.threads is not None:
        fastact.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    print(f"fastact {fastact.__version__}, SIMD {fastact.simd_level()}, "
          f"{fastact.get_num_threads()} thread(s); NumPy {np.__version__}; {dtype}; "
          f"{args.epochs} epochs, batch {args.batch}, hidden {args.hidden}")

    # Binary: breast cancer. 30 -> H -> H -> 1, ReLU, BCEWithLogits, Adam.
    x, y = load_breast_cancer(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=args.seed, stratify=y)
    xtr, xte = _standardise(xtr, xte, dtype)
    ytr, yte = ytr[:, None].astype(dtype), yte[:, None].astype(dtype)
    h = args.hidden

    def binary(use_fastact: bool) -> tuple[Sequential, Any]:
        rng = np.random.default_rng(args.seed)
        act = nn.ReLU if use_fastact else NpReLU
        model = Sequential(Linear(30, h, rng, dtype), act(), Linear(h, h, rng, dtype), act(),
                           Linear(h, 1, rng, dtype))
        return model, (nn.BCEWithLogits() if use_fastact else NpBCEWithLogits())

    compare(f"Breast cancer, binary: {len(xtr)} train / {len(xte)} test, 30-{h}-{h}-1 ReLU, "
            f"BCEWithLogits, Adam lr={args.lr}", binary, (xtr, xte, ytr, yte), args,
            lambda params: Adam(params, lr=args.lr))
    cancer = (xtr, xte, ytr, yte)

    # Multi-class: digits. 64 -> H -> H -> 10, Tanh then ReLU, SoftmaxCrossEntropy, SGD.
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=args.seed, stratify=y)
    xtr, xte = _standardise(xtr, xte, dtype)

    def multiclass(use_fastact: bool) -> tuple[Sequential, Any]:
        rng = np.random.default_rng(args.seed)
        tanh, relu = (nn.Tanh, nn.ReLU) if use_fastact else (NpTanh, NpReLU)
        model = Sequential(Linear(64, h, rng, dtype), tanh(), Linear(h, h, rng, dtype), relu(),
                           Linear(h, 10, rng, dtype))
        return model, (nn.SoftmaxCrossEntropy() if use_fastact else NpSoftmaxCrossEntropy())

    compare(f"Digits, 10 classes: {len(xtr)} train / {len(xte)} test, 64-{h}-{h}-10 Tanh/ReLU, "
            "SoftmaxCrossEntropy, SGD lr=0.01 momentum 0.9", multiclass,
            (xtr, xte, ytr, yte), args, lambda params: SGD(params, lr=0.01))

    trap(cancer, args, dtype)
    micro(args, dtype)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
