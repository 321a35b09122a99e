"""Argument checks shared by configs and models.

Every check raises :class:`ValueError` whose message names the parameter, the value received and what
is allowed, so that a wrong configuration fails at construction with a message that says what to do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer in ``[minimum, maximum]``."""
    allowed = f"an integer >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}")
    return int(value)


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed: a non-negative integer (any integer type; ``bool`` is rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"{name}={value!r} is not allowed: expected a non-negative integer (or None for "
            "fresh entropy)"
        )
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as ``float`` if it is a finite number in the interval given."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    allowed = f"a finite number in {left}{low}, {high}{right}"
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}")
    v = float(value)
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}")
    return v


def check_probability(name: str, value: Any) -> float:
    """A probability in ``[0, 1]``."""
    return check_float(name, value, 0.0, 1.0)


def check_positive(name: str, value: Any) -> float:
    """A finite number ``> 0``."""
    return check_float(name, value, 0.0, math.inf, low_open=True)


def check_array(
    name: str,
    value: Any,
    shape: Sequence[int] | None = None,
    low: float = -math.inf,
    high: float = math.inf,
) -> np.ndarray:
    """Return ``value`` as a float64 array of ``shape`` with finite entries in ``[low, high]``."""
    expected = "numbers" if shape is None else f"an array of shape {tuple(shape)} of numbers"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:  # "x", [1, "a"], ragged lists, objects
        raise ValueError(
            f"{name}={value!r} is not allowed: expected {expected} in [{low}, {high}]"
        ) from err
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {arr.shape}, expected shape {tuple(shape)} (value {value!r})"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < low) or np.any(arr > high):
        raise ValueError(
            f"{name}={value!r} is not allowed: expected finite entries in [{low}, {high}]"
        )
    return arr


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """``value`` must be one of ``allowed`` (listed in the error)."""
    options = sorted(allowed)
    if value not in options:
        raise ValueError(f"{name}={value!r} is not allowed: expected one of {options}")
    return str(value)
