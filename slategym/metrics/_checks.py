"""Input checks of the metric functions: every failure is a ValueError naming the parameter."""

from __future__ import annotations

from typing import Any, SupportsFloat

import numpy as np


def bool_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """``value`` as a bool array: bool dtype, or integers holding only 0 and 1."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iu" and arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} holds values other than 0/1: expected a bool array")
    if arr.dtype.kind not in "biu" and not (arr.dtype.kind == "f" and arr.size == 0):
        raise ValueError(f"{name} has dtype {arr.dtype}: expected a bool array")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape}: expected a {ndim}-d bool array")
    return arr.astype(bool, copy=False)


def int_array(
    name: str, value: Any, low: int | None = None, high: int | None = None, ndim: int | None = None
) -> np.ndarray:
    """``value`` as an int64 array with entries in ``[low, high)``."""
    arr = np.asarray(value)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} has dtype {arr.dtype}: expected an integer array")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape}: expected a {ndim}-d integer array")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (
        (low is not None and arr.min() < low) or (high is not None and arr.max() >= high)
    ):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high - 1)
        bad = arr[
            ((arr < low) if low is not None else False)
            | ((arr >= high) if high is not None else False)
        ]
        raise ValueError(f"{name} holds {int(bad.flat[0])}: expected integers in [{lo}, {hi}]")
    return arr


def float_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float64 array of finite numbers."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} has dtype {arr.dtype}: expected a real-valued array")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape}: expected a {ndim}-d array")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds nan or inf: expected finite numbers")
    return arr


def same_shape(name: str, arr: np.ndarray, ref_name: str, ref: np.ndarray) -> None:
    """ValueError unless ``arr`` has the shape of ``ref``."""
    if arr.shape != ref.shape:
        raise ValueError(
            f"{name} has shape {arr.shape}: expected the shape of {ref_name} {ref.shape}"
        )


def optional_mask(name: str, value: Any, ref_name: str, ref: np.ndarray) -> np.ndarray:
    """A bool mask of ``ref``'s shape; ``None`` means every entry."""
    if value is None:
        return np.ones(ref.shape, bool)
    mask = bool_array(name, value)
    same_shape(name, mask, ref_name, ref)
    return mask


def subset(name: str, inner: np.ndarray, outer_name: str, outer: np.ndarray) -> None:
    """ValueError unless ``inner`` implies ``outer`` entrywise (both bool, same shape)."""
    if (inner & ~outer).any():
        where = tuple(int(i) for i in np.argwhere(inner & ~outer)[0])
        raise ValueError(
            f"{name} is True at {where} where {outer_name} is False: expected {name} to be a "
            f"subset of {outer_name}"
        )


def ratio(numerator: SupportsFloat, denominator: SupportsFloat) -> float:
    """``numerator / denominator``, or nan when the denominator is 0 (the metric is undefined)."""
    den = float(denominator)
    return float(numerator) / den if den else float("nan")
