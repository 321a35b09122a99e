"""Oracle: ranks candidates by the simulator's true affinities (hidden state) — an upper bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import check_observations, top_k
from agents.spec import AgentSpec
from slategym.validation import check_int


class OracleAgent:
    """**Upper bound, not a recommender**: reads the hidden state of the simulator.

    It implements :class:`agents.base.ReadsHiddenState`. The oracle is bound to the env (or platform) serving the observations it acts on and asks it for
    the true affinities of every candidate (``oracle_affinities()``), then shows the ``K`` highest,
    best first. For the single-click models shipped with slategym (MNL, proportional, cascades) this
    maximises the probability of a click on the current slate; it is myopic (it ignores fatigue it
    causes and long-term satisfaction) and is labelled as an upper bound wherever it is reported.
    """

    name = "oracle"

    def __init__(self, slate_size: int, seed: int = 0) -> None:
        self.slate_size = check_int("slate_size", slate_size, 1)
        self.seed = seed
        self._source: Any = None

    @classmethod
    def from_spec(cls, spec: AgentSpec, seed: int = 0) -> OracleAgent:
        """An (unbound) oracle for the slate size of ``spec``; :meth:`bind` it before acting."""
        return cls(spec.slate_size, seed=seed)

    def bind(self, source: Any) -> None:
        """Attach the env / vector env / platform whose pending requests :meth:`act` answers."""
        if not callable(getattr(source, "oracle_affinities", None)):
            raise ValueError(
                f"the oracle needs a source with oracle_affinities() (a SlateRec env, vector env or "
                f"Platform), got {type(source).__name__}"
            )
        self._source = source

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        check_observations(observations, self.slate_size, ("candidates", "candidate_ids"))
        if self._source is None:
            raise RuntimeError("bind(env) the oracle to the env it acts in before act()")
        affinities = np.asarray(self._source.oracle_affinities())
        if affinities.ndim == 1:
            affinities = affinities[None]
        expected = np.shape(observations["candidate_ids"])
        if affinities.shape != expected:
            raise ValueError(
                f"observations hold {expected[0]} requests of {expected[1]} candidates but the bound "
                f"source has {affinities.shape[0]} pending requests of {affinities.shape[1]}: "
                "observations do not match the bound source's pending requests"
            )
        state = getattr(self._source, "state", None)
        ids = getattr(state, "candidates", None)
        if ids is not None and ids.shape == observations["candidate_ids"].shape:
            if not np.array_equal(ids, observations["candidate_ids"]):
                raise ValueError("observations do not match the bound source's pending requests")
        return top_k(affinities, self.slate_size)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"slate_size": self.slate_size, "seed": self.seed}))

    def load(self, path: str | Path) -> None:
        state = json.loads(Path(path).read_text())
        self.slate_size, self.seed = int(state["slate_size"]), int(state["seed"])
