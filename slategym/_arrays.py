"""Small array helpers for the batched dynamics (faster equivalents of numpy conveniences)."""

from __future__ import annotations

import numpy as np


def take_rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[i, idx[i, j], ...]`` for every row ``i``: ``np.take_along_axis(a, idx, axis=1)`` for an
    ``(N, M, ...)`` array and ``(N, K)`` indices in ``[0, M)``, as one flat ``take`` (several times
    faster than ``take_along_axis`` or fancy indexing on small rows)."""
    n, m = a.shape[0], a.shape[1]
    flat = idx + (np.arange(n, dtype=np.int64) * m)[:, None]
    return a.reshape(n * m, *a.shape[2:]).take(flat, axis=0)
