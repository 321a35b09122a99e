"""Shared fixtures: small configurations that keep the suite fast."""

from __future__ import annotations

import os
from collections.abc import Iterator

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


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one intra-op thread for the test (small batches: a second thread only adds
    contention on a 2-core machine). Use with ``pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut (scripts/mutation.sh), run the fastest tests first so that a mutant fails fast;
    the durations are those mutmut measured in its stats run. A normal run keeps the file order."""
    if not os.environ.get("MUTANT_UNDER_TEST", "").startswith("slategym."):
        return
    try:
        from mutmut.state import state  # the forked worker holds mutmut's measured durations
    except ImportError:
        return
    durations = state().duration_by_test
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
