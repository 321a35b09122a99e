r"""Greedy / popularity: ranks candidates by their click-through rate estimated from observed clicks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agents.base import Feedback, check_observations, top_k
from agents.spec import AgentSpec
from slategym.validation import check_int, check_positive


class GreedyPopularityAgent:
    r"""Beta-Bernoulli click-through estimate per item; greedy at evaluation, Thompson when exploring.

    For item ``i`` with ``c_i`` clicks out of ``n_i`` impressions, and the global click rate
    :math:`\bar p` as the prior mean with strength ``prior_strength`` (:math:`s`), the posterior is

    .. math::

        p_i \sim \mathrm{Beta}(s \bar p + c_i,\; s (1 - \bar p) + n_i - c_i), \qquad
        \hat p_i = \frac{s \bar p + c_i}{s + n_i}.

    ``act(explore=False)`` shows the ``K`` candidates with the highest :math:`\hat p_i`, best first;
    ``act(explore=True)`` ranks by one posterior draw per candidate (Thompson sampling), so items
    never shown get tried. It uses only observed clicks: no hidden state, no personalisation.

    Args:
        slate_size: ``K``.
        num_items: number of item ids (``AgentSpec.num_items``).
        prior_strength: pseudo-impressions of the prior (default 10).
        seed: seed of the sampling generator.
    """

    name = "greedy"

    def __init__(
        self, slate_size: int, num_items: int, prior_strength: float = 10.0, seed: int = 0
    ) -> None:
        self.slate_size = check_int("slate_size", slate_size, 1)
        self.num_items = check_int("num_items", num_items, 1)
        self.prior_strength = check_positive("prior_strength", prior_strength)
        self.rng = np.random.default_rng(seed)
        self.clicks = np.zeros(self.num_items)
        self.impressions = np.zeros(self.num_items)

    @classmethod
    def from_spec(
        cls, spec: AgentSpec, seed: int = 0, prior_strength: float = 10.0
    ) -> GreedyPopularityAgent:
        """An agent for the slate size and item-id range of ``spec``."""
        return cls(spec.slate_size, spec.num_items, prior_strength=prior_strength, seed=seed)

    def plan(self, updates: int) -> None:
        """No schedule: the estimates are counts."""

    def _prior_mean(self) -> float:
        total = self.impressions.sum()
        return float((self.clicks.sum() + 1.0) / (total + 2.0))

    def estimates(self, item_ids: np.ndarray) -> np.ndarray:
        """Posterior mean click rates of ``item_ids`` (any shape)."""
        s, p = self.prior_strength, self._prior_mean()
        return (s * p + self.clicks[item_ids]) / (s + self.impressions[item_ids])

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        check_observations(observations, self.slate_size, ("candidates", "candidate_ids"))
        ids = np.asarray(observations["candidate_ids"])
        if ids.max(initial=0) >= self.num_items:
            raise ValueError(
                f"candidate id {int(ids.max())} is not allowed: the agent was built for "
                f"num_items={self.num_items} ids"
            )
        if explore:
            s, p = self.prior_strength, self._prior_mean()
            a = s * p + self.clicks[ids]
            b = s * (1 - p) + self.impressions[ids] - self.clicks[ids]
            scores = self.rng.beta(a, b)
        else:
            scores = self.estimates(ids)
        return top_k(scores, self.slate_size)

    def update(self, feedback: Feedback) -> dict[str, float]:
        ids = np.take_along_axis(feedback.observations["candidate_ids"], feedback.slates, axis=1)
        np.add.at(self.impressions, ids.ravel(), 1.0)
        np.add.at(self.clicks, ids.ravel(), feedback.clicks.ravel().astype(np.float64))
        return {"ctr": float(feedback.clicks.mean()), "items_seen": float((self.impressions > 0).sum())}

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            np.savez(
                fh,
                clicks=self.clicks,
                impressions=self.impressions,
                meta=np.array([self.slate_size, self.num_items, self.prior_strength]),
                rng=np.array(json.dumps(self.rng.bit_generator.state)),
            )

    def load(self, path: str | Path) -> None:
        with np.load(path) as data:
            self.clicks, self.impressions = data["clicks"].copy(), data["impressions"].copy()
            k, n, s = data["meta"]
            self.slate_size, self.num_items, self.prior_strength = int(k), int(n), float(s)
            self.rng.bit_generator.state = json.loads(str(data["rng"]))
