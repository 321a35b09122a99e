r"""The reward a learning agent optimises, from the feedback: the env's, or a weighted sum of behaviours.

``reward="env"`` (the default of SlateQ and the GFlowNets) takes :attr:`Feedback.rewards`, i.e. what
the env's ``reward=`` spec computes (``"click"``: clicks per slate; ``"purchase"``; ``"engagement"``:
dwell minutes; or weights over those). A mapping of behaviour weights computes the reward in the agent
instead, from the per-position responses:

.. math::

    R = \text{scale} \cdot \sum_{k=1}^{K} \big(w_{\text{click}} C_k + w_{\text{purchase}} P_k
        + w_{\text{dwell}} D_k\big)

with :math:`C_k, P_k \in \{0, 1\}` and :math:`D_k` the dwell minutes at position ``k``; the env
reward is scaled the same way, :math:`R = \text{scale} \cdot r_{\text{env}}`. GFN4Rec's reward is the
*mean* over positions of a sum of behaviours (six on KuaiRand): ``scale = 1 / K`` gives that form.

Example:
    >>> import numpy as np
    >>> from agents.base import Feedback
    >>> from agents.reward import RewardSpec
    >>> fb = Feedback({}, np.zeros((1, 2), np.int64), np.array([[True, False]]),
    ...               np.array([[True, False]]), np.array([1.0]))
    >>> RewardSpec("env", 0.5)(fb), RewardSpec({"click": 1.0, "purchase": 2.0})(fb)
    (array([0.5]), array([3.]))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import Feedback

__all__ = ["BEHAVIOURS", "RewardSpec"]

BEHAVIOURS = ("click", "purchase", "dwell")
"""The per-position responses a reward may weight (dwell in minutes)."""


@dataclass(frozen=True)
class RewardSpec:
    """``weights``: ``"env"`` or a mapping of :data:`BEHAVIOURS` to weights; ``scale`` multiplies."""

    weights: Any = "env"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.weights, Mapping):
            unknown = sorted(set(self.weights) - set(BEHAVIOURS))
            if not self.weights or unknown:
                raise ValueError(
                    f"reward={dict(self.weights)!r} is not allowed: expected 'env' or weights over "
                    f"{list(BEHAVIOURS)}"
                )
            for name, w in self.weights.items():
                if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                    raise ValueError(f"reward[{name!r}]={w!r} is not allowed: expected a number")
            object.__setattr__(self, "weights", {k: float(v) for k, v in self.weights.items()})
        elif self.weights != "env":
            raise ValueError(
                f"reward={self.weights!r} is not allowed: expected 'env' or a mapping of "
                f"{list(BEHAVIOURS)} to weights"
            )
        s = self.scale
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not (s > 0 and math.isfinite(s)):
            raise ValueError(f"reward_scale={s!r} is not allowed: expected a finite value > 0")

    def __call__(self, feedback: Feedback) -> np.ndarray:
        """The reward ``(n,)`` float64 of every slate of ``feedback``."""
        if not isinstance(self.weights, dict):
            return self.scale * np.asarray(feedback.rewards, np.float64)
        per_position = np.zeros(np.shape(feedback.clicks), np.float64)
        responses = {"click": feedback.clicks, "purchase": feedback.purchases, "dwell": feedback.dwell}
        for name, weight in self.weights.items():
            if responses[name] is None:
                raise ValueError(f"the reward weights {name!r} but the feedback carries no {name}")
            per_position += weight * np.asarray(responses[name], np.float64)
        return self.scale * per_position.sum(axis=1)
