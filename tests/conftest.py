"""Shared fixtures: small configurations that keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

import slategym  # noqa: F401  (registers SlateRec-v0)

SMALL = {"num_items": 200, "num_candidates": 20, "slate_size": 4, "num_users": 100, "days": 2}


@pytest.fixture
def small_config() -> dict:
    return dict(SMALL)


def random_slates(rng: np.random.Generator, n: int, num_candidates: int, k: int) -> np.ndarray:
    """Uniform slates of distinct candidate indices, ``(n, k)``."""
    return np.argsort(rng.random((n, num_candidates)), axis=1)[:, :k]
