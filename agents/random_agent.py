"""Random: uniform slates of distinct candidates (the floor every agent must beat)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agents.base import check_observations
from agents.spec import AgentSpec
from slategym.validation import check_int


class RandomAgent:
    """Uniform random slates without duplicates.

    Each row's slate is the first ``K`` entries of a uniform random permutation of its candidates,
    drawn from the agent's own ``np.random.Generator`` (seeded at construction, saved in checkpoints).
    It learns nothing (no ``update``): it is the plain :class:`agents.base.Agent`.
    """

    name = "random"

    def __init__(self, slate_size: int, seed: int = 0) -> None:
        self.slate_size = check_int("slate_size", slate_size, 1)
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_spec(cls, spec: AgentSpec, seed: int = 0) -> RandomAgent:
        """An agent for the slate size of ``spec``."""
        return cls(spec.slate_size, seed=seed)

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        n = check_observations(observations, self.slate_size, ("candidates",))
        c = observations["candidates"].shape[1]
        return np.argsort(self.rng.random((n, c)), axis=1)[:, : self.slate_size].astype(np.int64)

    def save(self, path: str | Path) -> None:
        state = {"slate_size": self.slate_size, "rng": self.rng.bit_generator.state}
        Path(path).write_text(json.dumps(state))

    def load(self, path: str | Path) -> None:
        state = json.loads(Path(path).read_text())
        self.slate_size = int(state["slate_size"])
        self.rng.bit_generator.state = state["rng"]
