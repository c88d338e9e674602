"""Typed code a user would write against fastact; mypy must accept it
(tests/test_stubs.py runs mypy on this file)."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import fastact as fa


def layer(x: NDArray[np.float32], grad: NDArray[np.float32]) -> tuple[NDArray[np.float32], ...]:
    y = fa.sigmoid(x)
    gx = fa.sigmoid_backward(grad, y)
    h = fa.leaky_relu(x, alpha=0.2)
    gh = fa.leaky_relu_backward(grad, x, alpha=0.2, out=np.empty_like(x))
    fa.relu(x, out=x)
    return y, gx, h, gh


def settings() -> str:
    fa.set_num_threads(2)
    n: int = fa.get_num_threads()
    return f"{fa.simd_level()} x{n} {fa.__version__}"
