"""The agent contract: one protocol per kind of agent, and the feedback agents learn from.

An agent turns a batch of observations (from the native vector env, a ``SyncVectorEnv`` or the
platform view: dicts of ``(n, ...)`` arrays) into slates ``(n, K)`` of candidate indices and saves /
loads checkpoints (:class:`Agent`). What else it can do is one of three small protocols, which
callers check with ``isinstance`` (never an agent name, never a ``getattr`` probe):

==========================  ===================================  ==================================
protocol                    method                               agents
==========================  ===================================  ==================================
:class:`LearnsFromFeedback`  ``update(feedback) -> metrics``      greedy, SlateQ, the GFlowNets
:class:`TrainsItself`        ``fit(make_env, steps) -> logs``     PPO (stable-baselines3's own loop)
:class:`ReadsHiddenState`    ``bind(source)``                     the oracle: an **upper bound**
==========================  ===================================  ==================================

An agent that is none of them (random) only acts. The protocols hold methods only, so
``issubclass(cls, LearnsFromFeedback)`` answers for a class too. Agents are built from an
:class:`agents.spec.AgentSpec` (the env's spaces), seeded at construction and deterministic given
their seed; every agent class also has a ``name`` (its registry name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from agents.spec import ids_mode_hint

REQUIRED_KEYS = ("user", "candidates", "candidate_ids", "history", "time")
"""Observation keys read by most agents (``history_ids`` and ``candidate_topics`` also exist)."""


@dataclass(frozen=True)
class Feedback:
    """What ``n`` users did with the slates an agent served them."""

    observations: dict[str, np.ndarray]  # (n, ...) what the agent saw when acting
    slates: np.ndarray  # (n, K) int64 candidate indices served
    clicks: np.ndarray  # (n, K) bool
    purchases: np.ndarray  # (n, K) bool
    rewards: np.ndarray  # (n,) float64 env reward (the env's reward= spec)
    next_observations: dict[str, np.ndarray] | None = None  # (n, ...) after the step
    dones: np.ndarray | None = None  # (n,) bool, episode ended after the step
    dwell: np.ndarray | None = None  # (n, K) float64 minutes spent on each clicked item

    @property
    def size(self) -> int:
        """Number of slates ``n``."""
        return int(self.slates.shape[0])

    def take(self, rows: np.ndarray) -> Feedback:
        """The feedback of ``rows`` only."""

        def pick(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, dict):
                return {k: v[rows] for k, v in value.items()}
            return value[rows]

        return Feedback(**{f: pick(getattr(self, f)) for f in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list[Feedback]) -> Feedback:
        """One feedback of every row of ``parts``, in order (optional fields kept if all have them)."""
        if not parts:
            raise ValueError("parts=[] is not allowed: expected at least one Feedback")

        def join(name: str) -> Any:
            values = [getattr(p, name) for p in parts]
            if any(v is None for v in values):
                return None
            if isinstance(values[0], dict):
                return {k: np.concatenate([v[k] for v in values]) for k in values[0]}
            return np.concatenate(values)

        return Feedback(**{f: join(f) for f in Feedback.__dataclass_fields__})


@runtime_checkable
class Agent(Protocol):
    """What every agent does: act, and save / load a checkpoint."""

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Slates ``(n, K)`` int64 of distinct candidate indices, best first; ``explore`` for
        training."""
        ...

    def save(self, path: str | Path) -> None:
        """Write a checkpoint to ``path``."""
        ...

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save`."""
        ...


@runtime_checkable
class LearnsFromFeedback(Agent, Protocol):
    """An agent that learns from batches of served slates and what the users did."""

    def update(self, feedback: Feedback) -> dict[str, float]:
        """Learn from ``feedback``; returns the metrics of this update (empty if nothing to log)."""
        ...

    def plan(self, updates: int) -> None:
        """Declare how many :meth:`update` calls the coming training makes (sets schedules such as
        exploration decay); agents without schedules ignore it."""
        ...


@runtime_checkable
class TrainsItself(Agent, Protocol):
    """An agent that trains in a loop of its own on envs it builds with ``make_env``."""

    def fit(
        self,
        make_env: Callable[[], gym.Env],
        steps: int,
        progress: Callable[[int], None] | None = None,
    ) -> list[dict[str, float]]:
        """Train for ``steps`` env steps on envs from ``make_env`` (a single, unwrapped-observation
        env of the world); returns one dict of logged values per update."""
        ...


@runtime_checkable
class ReadsHiddenState(Agent, Protocol):
    """An agent that reads the simulator's hidden state: an **upper bound**, never a recommender."""

    def bind(self, source: Any) -> None:
        """Attach the env / vector env / platform whose pending requests :meth:`act` answers."""
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
        raise ValueError(
            f"observations lack keys {missing}: expected at least {list(keys)}"
            + ids_mode_hint(observations)
        )
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
