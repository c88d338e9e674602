"""What the tests know about each function, as small explicit tables.

Every function of ``fastact._registry.ACTIVATIONS`` must have a row in
GRADCHECK, PARITY_ULP and ACCURACY, and every parameterised one a row in
PARAM_VALUES; test_coverage.py enforces it, so a function added later cannot
skip its gradient check, its parity budget or its accuracy test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest

from fastact._registry import ACTIVATIONS, Activation

# --------------------------------------------------------------------------
# Gradient checks (central finite differences in float64)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GradCheck:
    """Where to sample for finite differences.

    domains: (low, high) per data input; the gradient is taken with respect
      to the first one. Ranges reach the tails where the derivative is tiny.
    kinks: points where the derivative jumps; samples keep away from them.
    """

    domains: tuple[tuple[float, float], ...]
    kinks: tuple[float, ...] = ()


GRADCHECK: dict[str, GradCheck] = {
    "relu": GradCheck(((-5.0, 5.0),), kinks=(0.0,)),
    "leaky_relu": GradCheck(((-5.0, 5.0),), kinks=(0.0,)),
    "sigmoid": GradCheck(((-30.0, 30.0),)),
    "tanh": GradCheck(((-12.0, 12.0),)),
    "relu_sigmoid": GradCheck(((-30.0, 30.0),), kinks=(0.0,)),
    "leaky_relu_sigmoid": GradCheck(((-30.0, 30.0),), kinks=(0.0,)),
}

# --------------------------------------------------------------------------
# Parameter values every parameterised test runs with (the default first)
# --------------------------------------------------------------------------

_ALPHAS = ({"alpha": 0.01}, {"alpha": 0.2}, {"alpha": 0.75})

PARAM_VALUES: dict[str, tuple[dict[str, float], ...]] = {
    "leaky_relu": _ALPHAS,
    "leaky_relu_sigmoid": _ALPHAS,
}


def ndata(act: Activation) -> int:
    """Number of array inputs of the forward (x; or z and target for a loss)."""
    return len(act.args)


def param_sets(act: Activation) -> tuple[dict[str, float], ...]:
    """The parameter dicts to test `act` with: ({},) when it has none."""
    return PARAM_VALUES[act.name] if act.params else ({},)


# --------------------------------------------------------------------------
# Parity with fastact.reference: largest ULP distance allowed
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """ULP budgets of the forward and the backward."""

    forward: int
    backward: int


# fastact vs the NumPy reference, in ULPs of the result dtype. 0 where both
# do the same correctly rounded operations; transcendental functions allow
# for two different exp/tanh implementations (each within a few ULP).
PARITY_ULP: dict[str, Budget] = {
    "relu": Budget(0, 0),
    "leaky_relu": Budget(0, 0),
    "sigmoid": Budget(4, 2),
    "tanh": Budget(4, 2),
    "relu_sigmoid": Budget(4, 6),
    "leaky_relu_sigmoid": Budget(4, 6),
}


def parity_budget(name: str, direction: str, dtype: np.dtype) -> int:
    """The parity budget for a result of `dtype`.

    float16 is computed in float32 and rounded once, so two float32 results a
    few ULP apart round to float16 values at most 1 ULP apart.
    """
    budget = getattr(PARITY_ULP[name], direction)
    return min(budget, 1) if np.dtype(dtype) == np.float16 else budget


# --------------------------------------------------------------------------
# Accuracy against mpmath (correctly rounded results)
# --------------------------------------------------------------------------

Rounder = Callable[[mpmath.mpf], mpmath.mpf]  # rounds to the working precision


def _mp_sigmoid(x: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-x))


def _mp_dsigmoid(x: mpmath.mpf) -> mpmath.mpf:
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


def _mp_leaky(z: mpmath.mpf, rnd: Rounder, alpha: float) -> mpmath.mpf:
    """leaky_relu as the fused kernels see it: alpha*z is one rounded product.

    A fused sigmoid(leaky_relu(z)) is held to the accuracy of composing two
    correctly rounded functions; amplifying the rounding of alpha*z by
    |sigmoid'/sigmoid| is inherent, not an error of the kernel.
    """
    return z if z > 0 else rnd(alpha * z)


@dataclass(frozen=True)
class Accuracy:
    """Exact forward and local derivative (of the saved tensor), and budgets.

    forward(x, rnd, **params) and derivative(saved, rnd, **params) return
    mpmath numbers; backward's exact value is grad * derivative(saved).
    Budgets are ULP distances to the correctly rounded result (float32,
    float64).
    """

    forward: Callable[..., mpmath.mpf]
    derivative: Callable[..., mpmath.mpf]
    budget: Budget


def _step(x: mpmath.mpf, inside: mpmath.mpf | float, outside: mpmath.mpf | float) -> mpmath.mpf:
    return mpmath.mpf(inside if x > 0 else outside)


ACCURACY: dict[str, Accuracy] = {
    "relu": Accuracy(
        forward=lambda x, rnd: _step(x, x, 0),
        derivative=lambda x, rnd: _step(x, 1, 0),
        budget=Budget(0, 0),
    ),
    "leaky_relu": Accuracy(
        forward=lambda x, rnd, alpha: _step(x, x, alpha * x),
        derivative=lambda x, rnd, alpha: _step(x, 1, alpha),
        budget=Budget(0, 0),
    ),
    "sigmoid": Accuracy(
        forward=lambda x, rnd: _mp_sigmoid(x),
        derivative=lambda y, rnd: y * (1 - y),
        budget=Budget(4, 2),
    ),
    "tanh": Accuracy(
        forward=lambda x, rnd: mpmath.tanh(x),
        derivative=lambda y, rnd: 1 - y * y,
        budget=Budget(4, 2),
    ),
    "relu_sigmoid": Accuracy(
        forward=lambda z, rnd: _mp_sigmoid(max(z, 0)),
        derivative=lambda z, rnd: _step(z, _mp_dsigmoid(z), 0),
        budget=Budget(4, 6),
    ),
    "leaky_relu_sigmoid": Accuracy(
        forward=lambda z, rnd, alpha: _mp_sigmoid(_mp_leaky(z, rnd, alpha)),
        derivative=lambda z, rnd, alpha: _mp_dsigmoid(_mp_leaky(z, rnd, alpha)) * _step(z, 1, alpha),
        budget=Budget(4, 6),
    ),
}

# Non-decreasing functions (with every parameter set of PARAM_VALUES), for
# the monotonicity property test. Not every activation is (gelu, silu, mish).
NONDECREASING: frozenset[str] = frozenset(
    {"relu", "leaky_relu", "sigmoid", "tanh", "relu_sigmoid", "leaky_relu_sigmoid"}
)


def activation_params(
    select: Callable[[Activation], bool] = lambda act: True,
) -> list[pytest.param]:
    """ACTIVATIONS as pytest parameters with readable ids."""
    return [pytest.param(act, id=act.name) for act in ACTIVATIONS if select(act)]


def with_param_sets(
    select: Callable[[Activation], bool] = lambda act: True,
) -> list[pytest.param]:
    """(activation, params) for every activation and each of its parameter sets."""
    return [
        pytest.param(act, params, id="-".join([act.name, *(f"{k}={v}" for k, v in params.items())]))
        for act in ACTIVATIONS
        if select(act)
        for params in param_sets(act)
    ]
