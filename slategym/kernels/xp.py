"""Elementwise maths shared by the general (numpy) path and the compiled kernels.

The formulas of the built-in models (``slategym.users.default.buy_probability``, ...) are written
once, as plain Python functions of scalars *or* numpy arrays built from arithmetic and the functions
below. The general path calls them with ``(N, K)`` arrays; the compiled path compiles the very same
functions and calls them with scalars (``slategym.kernels._npmath`` teaches numba what each function
below means: numpy's own inner loop, so that both paths round alike, bit for bit).

Only what this module offers (and ``+ - * /``, comparisons, ``np.minimum``/``np.maximum`` of two
values) may appear in a shared formula: ``np.exp`` would compile to the C library's ``exp``, whose
last bit differs from numpy's vectorised one on about 5 % of inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cos", "exp", "expm1", "log", "log1p", "sigmoid", "sin", "tanh"]


def exp(x: Any) -> Any:
    """``np.exp``."""
    return np.exp(x)


def log(x: Any) -> Any:
    """``np.log``."""
    return np.log(x)


def log1p(x: Any) -> Any:
    """``np.log1p``."""
    return np.log1p(x)


def expm1(x: Any) -> Any:
    """``np.expm1``."""
    return np.expm1(x)


def tanh(x: Any) -> Any:
    """``np.tanh``."""
    return np.tanh(x)


def cos(x: Any) -> Any:
    """``np.cos``."""
    return np.cos(x)


def sin(x: Any) -> Any:
    """``np.sin``."""
    return np.sin(x)


def sigmoid(x: Any) -> Any:
    """Logistic function ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` (no overflow)."""
    return 0.5 * (1.0 + tanh(0.5 * x))
