"""Scorers: one number per candidate, from the observation (and, for oracles, the hidden affinities).

A logging or target policy (:mod:`slategym.data.policies`) turns these scores into a slate
distribution. A scorer is a callable ``(observation, oracle_affinities) -> (N, C)`` over batched
observations; only the ``oracle`` scorers read the hidden affinities.

| name | score of a candidate |
|---|---|
| ``popularity`` | its standardised log-popularity (last column of ``observation["candidates"]``) |
| ``oracle`` | its true affinity for the user (hidden state: the best a recommender could know) |
| ``noisy-oracle`` | the true affinity plus Gaussian noise of sd ``noise`` (a fixed function of the item, user and seed) |
| ``zero`` | 0 for every candidate (any policy over it is uniform-like) |

Example:
    >>> import numpy as np
    >>> scorer = make_scorer("popularity")
    >>> obs = {"candidates": np.array([[[0.0, 1.0], [0.0, -1.0]]]), "candidate_ids": np.array([[3, 4]])}
    >>> scorer(obs, np.zeros((1, 2)))
    array([[ 1., -1.]])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

Scorer = Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]
SCORERS = ("popularity", "oracle", "noisy-oracle", "zero")
"""Names accepted by :func:`make_scorer`."""


def _popularity(obs: Mapping[str, np.ndarray], oracle: np.ndarray) -> np.ndarray:
    if "candidates" not in obs:
        raise ValueError(
            "the popularity scorer reads the candidates' features (obs['candidates']), which an "
            "env made with observation=\"ids\" leaves out: make it with observation=\"full\" "
            "(the default)"
        )
    return np.asarray(obs["candidates"], np.float64)[..., -1]


def _oracle(obs: Mapping[str, np.ndarray], oracle: np.ndarray) -> np.ndarray:
    return np.asarray(oracle, np.float64)


def _zero(obs: Mapping[str, np.ndarray], oracle: np.ndarray) -> np.ndarray:
    return np.zeros(np.shape(obs["candidate_ids"]))


@dataclass(frozen=True)
class NoisyOracle:
    """True affinity plus a fixed pseudo-random offset per (user, item): ``noise * N(0, 1)``.

    The offset is a hash of the user profile row and the item id, so the same user and item get
    the same score on every visit: a consistent imperfect recommender, not fresh noise per call.
    """

    noise: float = 1.0
    seed: int = 0

    def __call__(self, obs: Mapping[str, np.ndarray], oracle: np.ndarray) -> np.ndarray:
        ids = np.asarray(obs["candidate_ids"], np.uint64)
        user = np.asarray(obs["user"], np.float64)
        user_hash = (user * 1_000_003).astype(np.int64).sum(axis=-1).astype(np.uint64)
        x = ids * np.uint64(0x9E3779B97F4A7C15) + user_hash[..., None] + np.uint64(self.seed)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(29)
        u = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        u = np.clip(u, 1e-12, 1 - 1e-12)
        return np.asarray(oracle, np.float64) + self.noise * ndtri(u)


def make_scorer(name: str, noise: float = 1.0, seed: int = 0) -> Scorer:
    """A scorer by name (see the module docstring)."""
    if name == "popularity":
        return _popularity
    if name == "oracle":
        return _oracle
    if name == "noisy-oracle":
        return NoisyOracle(noise, seed)
    if name == "zero":
        return _zero
    raise ValueError(f"scorer={name!r} is not allowed: expected one of {list(SCORERS)}")
