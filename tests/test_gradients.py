"""Backward is the derivative of forward: central finite differences in
float64 away from kinks (PyTorch's gradcheck tolerances), for fastact and for
the reference alike, with every parameter value of PARAM_VALUES.

Element-wise functions here (bce_with_logits: the gradient with respect to
the logits); the row-wise functions' Jacobians are checked in
test_rowwise.py and test_losses.py, prelu's weight gradient in test_prelu.py."""

from __future__ import annotations

import numpy as np
import pytest

import fastact.reference as reference
from fastact._registry import Activation

from function_cases import GRADCHECK, with_param_sets

ELEMENTWISE = lambda act: act.kind == "elementwise"  # noqa: E731

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
KINK_MARGIN = 1e-3  # samples closer than this to a kink are dropped
N = 4000


def _pair(act: Activation, impl: str):
    if impl == "fastact":
        return act.forward, act.backward
    return getattr(reference, act.name), getattr(reference, f"{act.name}_backward")


@pytest.mark.parametrize("impl", ("fastact", "reference"))
@pytest.mark.parametrize(("act", "params"), with_param_sets(ELEMENTWISE))
def test_backward_matches_finite_differences(act: Activation, params: dict, impl: str, rng) -> None:
    forward, backward = _pair(act, impl)
    case = GRADCHECK[act.name]
    data = [rng.uniform(low, high, N) for low, high in case.domains]
    keep = np.ones(N, bool)
    for kink, _ in case.kink_points(params):
        keep &= np.abs(data[0] - kink) > KINK_MARGIN
    x, *rest = (d[keep] for d in data)
    grad = rng.uniform(-2.0, 2.0, x.shape)

    numeric = (forward(x + EPS, *rest, **params) - forward(x - EPS, *rest, **params)) / (2 * EPS)
    saved = forward(x, *rest, **params) if act.saved == "output" else x
    analytic = backward(grad, saved, *rest, **params)
    np.testing.assert_allclose(analytic, grad * numeric, rtol=RTOL, atol=ATOL)


def _has_kinks(act) -> bool:
    return act.kind != "rowwise" and bool(GRADCHECK[act.name].kinks)


@pytest.mark.parametrize(("act", "params"), with_param_sets(_has_kinks))
def test_kinks_use_pytorchs_one_sided_derivative(act: Activation, params: dict) -> None:
    """At a kink the derivative is the left-hand one (PyTorch's `x > 0` test),
    or the right-hand one where PyTorch takes it (relu6 at 6, hardtanh at
    max_val, hardsigmoid at 3, hardswish at -3); next to the kink, the one of
    that side. Checked by one-sided differences."""
    rest = tuple(np.array([0.25]) for _ in act.args[1:])  # prelu's weight, bce's target
    for kink, side in GRADCHECK[act.name].kink_points(params):
        h = 1e-7
        at = np.array([kink])

        def f(x):
            return act.forward(x, *rest, **params)

        def df(x):
            saved = f(x) if act.saved == "output" else x
            result = act.backward(np.ones(1), saved, *rest, **params)
            return result[0] if isinstance(result, tuple) else result

        left = (f(at) - f(at - h)) / h
        right = (f(at + 2 * h) - f(at + h)) / h
        np.testing.assert_allclose(df(at), left if side == "left" else right, rtol=1e-4, atol=1e-6,
                                   err_msg=f"at the kink {kink} ({side}-hand)")
        np.testing.assert_allclose(df(at + h), right, rtol=1e-4, atol=1e-6, err_msg=f"right of {kink}")
        np.testing.assert_allclose(df(at - h), left, rtol=1e-4, atol=1e-6, err_msg=f"left of {kink}")
