"""What every slate off-policy estimator reads, and what it returns.

:class:`SlateOPEData` holds ``n`` logged slates (chosen by a logging policy :math:`\\mu`) with their
per-position rewards and, for both :math:`\\mu` and the target policy :math:`\\pi`, the
probabilities the estimators need (``nan`` = the policy cannot give it). Build it with
:func:`slategym.ope.data.ope_data_from_scores` or by hand from a log.

Every estimator is a frozen dataclass with ``name``, ``assumption`` and
``estimate(data) -> Estimate``. An estimator asked for a probability the data does not have
(``None`` or ``nan``, e.g. a log written without propensities) raises ``ValueError`` naming it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class SlateOPEData:
    """Logged slates and the probabilities of the logging (``logging_*``) and target policies."""

    slates: np.ndarray  # (n, K) int64 candidate indices chosen by the logging policy
    rewards: np.ndarray  # (n, K) float64 per-position rewards (clicks); slate reward = row sum
    logging_slate: np.ndarray | None = None  # (n,) mu(s | x)
    logging_prefix: np.ndarray | None = None  # (n, K) mu(s_{0:k} | x)
    logging_position: np.ndarray | None = None  # (n, K) mu(s_k at k | x)
    logging_gamma: np.ndarray | None = None  # (n or 1, K*C, K*C) E_mu[1_s 1_s^T]
    target_slate: np.ndarray | None = None  # (n,) pi(s | x)
    target_prefix: np.ndarray | None = None  # (n, K) pi(s_{0:k} | x)
    target_position: np.ndarray | None = None  # (n, K) pi(s_k at k | x)
    target_marginals: np.ndarray | None = None  # (n, K, C) pi(c at k | x)
    target_next: np.ndarray | None = None  # (n, K, C) pi(c at k | x, s_{0:k-1})
    q_hat: np.ndarray | None = None  # (n, K, C) estimated expected reward of c at position k

    @property
    def num_slates(self) -> int:
        """``n``."""
        return int(self.slates.shape[0])

    @property
    def slate_reward(self) -> np.ndarray:
        """``(n,)`` reward of each slate: the sum of its per-position rewards."""
        return np.asarray(self.rewards, np.float64).sum(axis=1)

    def head(self, n: int) -> SlateOPEData:
        """The first ``n`` slates (for learning curves over log sizes)."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or (name == "logging_gamma" and value.shape[0] == 1):
                out[name] = value
            else:
                out[name] = value[:n]
        return SlateOPEData(**out)


def require(data: SlateOPEData, field: str, estimator: str) -> np.ndarray:
    """``data.<field>`` as float64, or ``ValueError`` if it is missing or has unknown (nan) entries."""
    value = getattr(data, field)
    if value is None or np.isnan(np.asarray(value, np.float64)).any():
        who = "logging policy" if field.startswith("logging") else "target policy"
        raise ValueError(
            f"{estimator} needs {field} (the {who}'s probabilities) but the data has "
            f"{'none' if value is None else 'unknown (nan) entries'}: log with a policy that gives "
            "them (uniform, epsilon-greedy, or softmax on an enumerable slate space)"
        )
    arr = np.asarray(value, np.float64)
    if field.startswith("logging") and field != "logging_gamma" and (arr <= 0).any():
        raise ValueError(f"{estimator} needs positive {field}: found zeros (no overlap)")
    return arr


@dataclass(frozen=True)
class Estimate:
    """An estimate of the target policy's expected slate reward, with its standard error."""

    value: float
    std_error: float


class SlateEstimator(ABC):
    """Base of the slate off-policy estimators (one per file in :mod:`slategym.ope`)."""

    name: ClassVar[str]
    assumption: ClassVar[str]

    @abstractmethod
    def round_values(self, data: SlateOPEData) -> np.ndarray:
        """``(n,)`` per-slate terms whose mean is the estimate."""

    def estimate(self, data: SlateOPEData) -> Estimate:
        """The estimate and its standard error ``sd(terms) / sqrt(n)``."""
        terms = self.round_values(data)
        n = terms.shape[0]
        if n == 0:
            raise ValueError(f"{self.name} needs at least one logged slate, got an empty log")
        se = float(terms.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        return Estimate(float(terms.mean()), se)
