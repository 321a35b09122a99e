"""Reward functions: from what happened to a slate to one number per row.

A reward is given by name, by weights over the named signals, or by a callable:

| spec | reward of a slate |
|---|---|
| ``"click"`` (default) | number of clicks |
| ``"purchase"`` | number of purchases |
| ``"engagement"`` | total dwell minutes |
| ``{"click": 1.0, "purchase": 5.0}`` | weighted sum of the named signals |
| ``f(outcome) -> (N,) array`` | anything computed from a :class:`~slategym.types.StepOutcome` |

The signals count only valid (non-duplicate) positions, since duplicates are never clicked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from slategym.types import StepOutcome
from slategym.validation import check_float

RewardFn = Callable[[StepOutcome], np.ndarray]
RewardSpec = str | Mapping[str, float] | RewardFn

SIGNALS: dict[str, Callable[[StepOutcome], np.ndarray]] = {
    "click": lambda o: o.clicks.sum(axis=1, dtype=np.float64),
    "purchase": lambda o: o.purchases.sum(axis=1, dtype=np.float64),
    "engagement": lambda o: o.dwell.sum(axis=1),
}


class WeightedReward:
    """Weighted sum of named signals (picklable, unlike a closure)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.weights = dict(weights)

    def __call__(self, outcome: StepOutcome) -> np.ndarray:
        total = np.zeros(outcome.clicks.shape[0])
        for name, weight in self.weights.items():
            total += weight * SIGNALS[name](outcome)
        return total

    def __repr__(self) -> str:
        return f"WeightedReward({self.weights})"


def make_reward(spec: Any) -> RewardFn:
    """Turn a reward spec (see the module docstring) into a callable; bad specs raise ValueError."""
    if callable(spec):
        return spec
    if isinstance(spec, str):
        if spec not in SIGNALS:
            raise ValueError(
                f"reward={spec!r} is not allowed: expected one of {sorted(SIGNALS)}, "
                "a mapping of those names to weights, or a callable(outcome) -> (N,) array"
            )
        return WeightedReward({spec: 1.0})
    if isinstance(spec, Mapping):
        if not spec:
            raise ValueError("reward={} is not allowed: give at least one weighted signal")
        for name, weight in spec.items():
            if name not in SIGNALS:
                raise ValueError(
                    f"reward has unknown signal {name!r}: expected names among {sorted(SIGNALS)}"
                )
            check_float(f"reward[{name!r}]", weight)
        return WeightedReward({str(k): float(v) for k, v in spec.items()})
    raise ValueError(
        f"reward={spec!r} is not allowed: expected one of {sorted(SIGNALS)}, a mapping of those "
        "names to weights, or a callable(outcome) -> (N,) array"
    )
