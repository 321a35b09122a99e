"""Slates: the check of what an agent submits, and where a slate repeats an index.

A slate is ``K`` candidate indices (positions into the observation's candidate list), one row per
request: ``(N, K)`` integers in ``[0, C)``. A repeated index is allowed (unless ``strict_slates``) and
shown, but only its first position can be clicked: :func:`duplicate_mask` marks the later copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def validate_slates(slates: Any, num_rows: int, slate_size: int, num_candidates: int) -> np.ndarray:
    """Slates as an ``(N, K)`` int64 array, or ValueError naming what is allowed."""
    arr = np.asarray(slates)
    expected = (num_rows, slate_size)
    if arr.shape != expected:
        raise ValueError(
            f"slate has shape {arr.shape}, expected {expected}: {slate_size} candidate "
            f"indices in [0, {num_candidates - 1}] per row"
        )
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"slate has dtype {arr.dtype}, expected integers: candidate indices in "
            f"[0, {num_candidates - 1}]"
        )
    arr = arr.astype(np.int64, copy=False)
    # One comparison: a negative index viewed as uint64 is huge, so it fails it too.
    if np.logical_or.reduce(arr.view(np.uint64) >= num_candidates, axis=None):
        bad = arr[(arr < 0) | (arr >= num_candidates)]
        raise ValueError(
            f"slate holds index {int(bad[0])} out of range: expected candidate indices in "
            f"[0, {num_candidates - 1}]"
        )
    return arr


def duplicate_mask(slates: np.ndarray) -> np.ndarray:
    """``(N, K)`` bool, True where a slate index repeats one at an earlier position."""
    n, k = slates.shape
    if n >= 64 and k > 2:  # compare each pair once, one shift at a time (no (N, K, K) array)
        if not any(np.any(slates[:, d:] == slates[:, :-d]) for d in range(1, k)):
            return np.zeros((n, k), bool)
    else:
        same = slates[:, :, None] == slates[:, None, :]  # (N, K, K)
        if np.count_nonzero(same) == n * k:  # only the diagonal: no duplicates (the usual case)
            return np.zeros((n, k), bool)
    same = slates[:, :, None] == slates[:, None, :]
    return np.any(same & _earlier(k), axis=2)


_EARLIER: dict[int, np.ndarray] = {}


def _earlier(k: int) -> np.ndarray:
    """``(K, K)`` bool, ``[i, j]`` True for ``j < i`` (cached)."""
    if k not in _EARLIER:
        _EARLIER[k] = np.tri(k, k, -1, dtype=bool)
    return _EARLIER[k]
