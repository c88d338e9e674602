"""Backward is the derivative of forward: central finite differences in
float64 away from kinks (PyTorch's gradcheck tolerances), for fastact and for
the reference alike, with every parameter value of PARAM_VALUES."""

from __future__ import annotations

import numpy as np
import pytest

import fastact.reference as reference
from fastact._registry import Activation

from function_cases import GRADCHECK, with_param_sets

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
KINK_MARGIN = 1e-3  # samples closer than this to a kink are dropped
N = 4000


def _pair(act: Activation, impl: str):
    if impl == "fastact":
        return act.forward, act.backward
    return getattr(reference, act.name), getattr(reference, f"{act.name}_backward")


@pytest.mark.parametrize("impl", ("fastact", "reference"))
@pytest.mark.parametrize(("act", "params"), with_param_sets())
def test_backward_matches_finite_differences(act: Activation, params: dict, impl: str, rng) -> None:
    forward, backward = _pair(act, impl)
    case = GRADCHECK[act.name]
    data = [rng.uniform(low, high, N) for low, high in case.domains]
    keep = np.ones(N, bool)
    for kink in case.kinks:
        keep &= np.abs(data[0] - kink) > KINK_MARGIN
    x, *rest = (d[keep] for d in data)
    grad = rng.uniform(-2.0, 2.0, x.shape)

    numeric = (forward(x + EPS, *rest, **params) - forward(x - EPS, *rest, **params)) / (2 * EPS)
    saved = forward(x, *rest, **params) if act.saved == "output" else x
    analytic = backward(grad, saved, *rest, **params)
    np.testing.assert_allclose(analytic, grad * numeric, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("act", "params"), with_param_sets(lambda act: bool(GRADCHECK[act.name].kinks)))
def test_kinks_use_the_one_sided_derivative_of_x_gt_0(act: Activation, params: dict) -> None:
    """At a kink the derivative is the right-hand one for x > 0 and the left-hand
    one at the kink itself (PyTorch's `x > 0` test), checked by one-sided
    differences on each side."""
    for kink in GRADCHECK[act.name].kinks:
        h = 1e-7
        at = np.array([kink])
        left = (act.forward(at, **params) - act.forward(at - h, **params)) / h
        right = (act.forward(at + 2 * h, **params) - act.forward(at + h, **params)) / h
        saved = act.forward(at, **params) if act.saved == "output" else at
        np.testing.assert_allclose(act.backward(np.ones(1), saved, **params), left, rtol=1e-4, atol=1e-6)
        saved_right = at + h if act.saved == "input" else act.forward(at + h, **params)
        np.testing.assert_allclose(
            act.backward(np.ones(1), saved_right, **params), right, rtol=1e-4, atol=1e-6
        )
