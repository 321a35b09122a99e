"""The agent protocol every policy implements, and the feedback it learns from.

An agent turns a batch of observations (from the native vector env, a ``SyncVectorEnv`` or the
platform view: dicts of ``(n, ...)`` arrays) into slates ``(n, K)`` of candidate indices, learns from
the feedback to those slates, and saves / loads checkpoints. Agents are seeded at construction and
deterministic given their seed. Evaluation and the experiments use nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

REQUIRED_KEYS = ("user", "candidates", "candidate_ids", "history", "time")


@dataclass(frozen=True)
class Feedback:
    """What ``n`` users did with the slates an agent served them."""

    observations: dict[str, np.ndarray]  # (n, ...) what the agent saw when acting
    slates: np.ndarray  # (n, K) int64 candidate indices served
    clicks: np.ndarray  # (n, K) bool
    purchases: np.ndarray  # (n, K) bool
    rewards: np.ndarray  # (n,) float64 env reward
    next_observations: dict[str, np.ndarray] | None = None  # (n, ...) after the step
    dones: np.ndarray | None = None  # (n,) bool, episode ended after the step

    @property
    def size(self) -> int:
        """Number of slates ``n``."""
        return int(self.slates.shape[0])


@runtime_checkable
class Agent(Protocol):
    """The protocol of every agent (see module docstring)."""

    name: str
    learns: bool  # True if update() learns from feedback (PPO learns through its own fit())

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Slates ``(n, K)`` int64 of distinct candidate indices; ``explore`` for training."""
        ...

    def update(self, feedback: Feedback) -> dict[str, float]:
        """Learn from feedback; returns the metrics of this update (empty if nothing to log)."""
        ...

    def save(self, path: str | Path) -> None:
        """Write a checkpoint to ``path``."""
        ...

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save`."""
        ...


def check_observations(
    observations: Any, slate_size: int, keys: tuple[str, ...] = REQUIRED_KEYS
) -> int:
    """Validate a batched observation dict; returns the batch size ``n``.

    Raises ValueError when a key is missing, the arrays disagree on the batch size, the candidates
    are not ``(n, C, F)``, or ``slate_size`` exceeds the number of candidates.
    """
    if not isinstance(observations, dict):
        raise ValueError(
            f"observations must be a dict of batched arrays (keys {list(keys)}), "
            f"got {type(observations).__name__}"
        )
    missing = [k for k in keys if k not in observations]
    if missing:
        raise ValueError(f"observations lack keys {missing}: expected at least {list(keys)}")
    cand = np.asarray(observations["candidates"])
    if cand.ndim != 3:
        raise ValueError(
            f"observations['candidates'] has shape {cand.shape}, expected (n, num_candidates, F): "
            "pass a batch (add a leading axis for a single observation)"
        )
    n, c = cand.shape[:2]
    for k in keys:
        shape = np.shape(observations[k])
        if not shape or shape[0] != n:
            raise ValueError(
                f"observations[{k!r}] has shape {shape}, expected a leading batch axis of size {n}"
            )
    if slate_size > c:
        raise ValueError(
            f"slate_size={slate_size} is not allowed: the observations offer only {c} candidates"
        )
    return int(n)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores per row, best first, ``(n, k)`` int64 (ties: lower index)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k].astype(np.int64)
