r"""Stochastic slate policies with exact propensities, for logging and for off-policy evaluation.

## Description

A slate policy draws ``K`` distinct candidate indices out of ``C`` (position 0 first) from a score per
candidate. Besides sampling, every policy here gives, for any slate, the exact probabilities that
off-policy estimators need:

| method | shape | meaning |
|---|---|---|
| ``slate_propensity`` | ``(N,)`` | :math:`\mu(s \mid x)`, the probability of the whole slate |
| ``prefix_propensities`` | ``(N, K)`` | :math:`\mu(s_{0:k} \mid x)`, of the top ``k + 1`` positions (cascade) |
| ``position_propensities`` | ``(N, K)`` | :math:`\mu(s_k \text{ at } k \mid x)`, marginal of each position |
| ``marginals`` | ``(N, K, C)`` | the marginal of every candidate at every position |
| ``next_probabilities`` | ``(N, C)`` | :math:`\mu(a_k = c \mid x, s_{0:k-1})` given a prefix |

## Probabilities

* :class:`UniformRandom`: every ordered slate of distinct candidates has probability
  :math:`\prod_{k<K} 1 / (C - k)`; every candidate is at position ``k`` with probability
  :math:`1 / C`.
* :class:`EpsilonGreedy`: with probability :math:`1 - \varepsilon` the top ``K`` candidates by score
  (ties broken by the lower index), otherwise a uniform random slate:
  :math:`\mu(s) = (1 - \varepsilon)\,[s = s^*] + \varepsilon\, \mu_{\mathrm{unif}}(s)`; the same
  mixture holds for prefixes and position marginals. ``epsilon=0`` is the deterministic greedy policy.
* :class:`PlackettLuce`: a softmax over the scores divided by ``temperature``, drawn without
  replacement position by position (sampled exactly with the Gumbel top-``K`` trick):

  .. math::

      \mu(s \mid x) = \prod_{k<K} \frac{e^{z_{s_k}}}{\sum_{j \notin s_{0:k-1}} e^{z_j}},
      \qquad z = \text{scores} / \tau .

  Slate and prefix propensities are exact products. Position marginals have no closed form; they are
  computed exactly by enumerating the :math:`C! / (C - K)!` slates when there are at most
  ``max_enumeration`` of them, and are ``nan`` (not available) otherwise.

## Parameters

| policy | name | default | allowed | meaning |
|---|---|---|---|---|
| ``EpsilonGreedy`` | ``epsilon`` | 0.1 | [0, 1] | share of uniform random slates |
| ``PlackettLuce`` | ``temperature`` | 1.0 | > 0 | softmax temperature on the scores |
| ``PlackettLuce`` | ``max_enumeration`` | 100000 | >= 1 | largest slate space enumerated for marginals |

## Example

>>> import numpy as np
>>> from slategym.data.policies import PlackettLuce, UniformRandom
>>> scores = np.array([[2.0, 1.0, 0.0]])
>>> UniformRandom().slate_propensity(scores, np.array([[2, 0]]))  # 1/3 * 1/2
array([0.16666667])
>>> pl = PlackettLuce(temperature=1.0)
>>> pl.marginals(scores, 2).sum(axis=2).round(12)  # each position holds one candidate
array([[1., 1.]])
>>> pl.sample(scores, 2, np.random.default_rng(0)).shape
(1, 2)

## References

R. L. Plackett (1975), "The analysis of permutations"; R. D. Luce (1959), "Individual Choice
Behavior". W. Kool, H. van Hoof, M. Welling (2019), "Stochastic Beams and Where to Find Them: The
Gumbel-Top-k Trick".

## Version History

* v1: initial version (log schema 1).
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from slategym.validation import check_float, check_int, check_probability


def slate_count(num_candidates: int, slate_size: int) -> int:
    """Number of ordered slates of ``slate_size`` distinct candidates: ``C! / (C - K)!``."""
    return math.perm(num_candidates, slate_size)


def all_slates(num_candidates: int, slate_size: int, limit: int = 1_000_000) -> np.ndarray:
    """Every ordered slate of distinct candidates, ``(C! / (C - K)!, K)`` int64 (lexicographic).

    Raises ``ValueError`` if there are more than ``limit`` of them.
    """
    n = slate_count(num_candidates, slate_size)
    if n > limit:
        raise ValueError(
            f"num_candidates={num_candidates}, slate_size={slate_size} give {n} slates, more than "
            f"the enumeration limit {limit}: use a smaller world for exact values"
        )
    return np.array(list(itertools.permutations(range(num_candidates), slate_size)), np.int64)


def _check_scores(scores: np.ndarray, slate_size: int) -> np.ndarray:
    arr = np.asarray(scores, np.float64)
    if arr.ndim != 2 or arr.shape[1] < slate_size or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"scores of shape {arr.shape} are not allowed: expected finite (N, C) scores with "
            f"C >= slate_size={slate_size}"
        )
    return arr


def _uniform_prefix(num_candidates: int, slate_size: int) -> np.ndarray:
    """``(K,)`` probabilities of any ordered prefix of length ``k + 1`` under uniform sampling."""
    return np.cumprod(1.0 / (num_candidates - np.arange(slate_size)))


def uniform_gamma(num_candidates: int, slate_size: int) -> np.ndarray:
    """``(K*C, K*C)`` second moment of the indicator vector of a uniform random slate.

    Same position: ``1/C`` on the diagonal, 0 elsewhere (one item per position); different
    positions: ``1/(C (C - 1))`` for different items, 0 for the same item (no repeats).
    """
    c, k = num_candidates, slate_size
    same_pos = np.kron(np.eye(k), np.eye(c) / c)
    other = np.kron(1.0 - np.eye(k), (1.0 - np.eye(c)) / (c * (c - 1))) if c > 1 else 0.0
    return same_pos + other


class SlatePolicy(ABC):
    """A distribution over slates given per-candidate scores ``(N, C)`` (see the module docstring)."""

    name: str = "policy"

    @abstractmethod
    def sample(self, scores: np.ndarray, slate_size: int, rng: np.random.Generator) -> np.ndarray:
        """Slates ``(N, K)`` int64 of distinct candidate indices."""

    @abstractmethod
    def prefix_propensities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """``(N, K)``: probability of the slate's first ``k + 1`` positions, for each ``k``."""

    @abstractmethod
    def marginals(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        """``(N, K, C)`` marginal probability of each candidate at each position (``nan`` if unknown)."""

    def slate_propensity(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """``(N,)`` probability of the whole slate."""
        return self.prefix_propensities(scores, slates)[:, -1]

    def slate_probabilities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """``(N, S)`` probability of each of ``slates (S, K)`` for every row of ``scores``."""
        scores = np.asarray(scores, np.float64)
        n, s = scores.shape[0], slates.shape[0]
        flat = self.slate_propensity(np.repeat(scores, s, axis=0), np.tile(slates, (n, 1)))
        return flat.reshape(n, s)

    def gamma(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        r"""``(N, K*C, K*C)``: :math:`E_\mu[1_s 1_s^T]`, the second moment of the slate's
        (position, candidate) indicator vector (index ``k * C + c``), by enumerating the slates.
        A context-free policy may return a single ``(1, K*C, K*C)`` matrix."""
        scores = np.asarray(scores, np.float64)
        n, c = scores.shape
        slates = all_slates(c, slate_size)
        index = np.zeros((len(slates), slate_size * c))
        index[np.arange(len(slates))[:, None], np.arange(slate_size) * c + slates] = 1.0
        return np.einsum("ns,sa,sb->nab", self.slate_probabilities(scores, slates), index, index)

    def position_propensities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """``(N, K)`` marginal probability that each position holds the item it holds."""
        slates = np.asarray(slates, np.int64)
        marg = self.marginals(scores, slates.shape[1])  # (N, K, C)
        return np.take_along_axis(marg, slates[:, :, None], axis=2)[:, :, 0]

    def next_probabilities(self, scores: np.ndarray, prefix: np.ndarray) -> np.ndarray:
        """``(N, C)``: probability of each candidate at position ``len(prefix)`` given the prefix.

        Generic: :math:`\\mu(s_{0:k-1}, c) / \\mu(s_{0:k-1})` from :meth:`prefix_propensities`,
        zero for candidates already in the prefix.
        """
        scores = np.asarray(scores, np.float64)
        n, c = scores.shape
        prefix = np.asarray(prefix, np.int64).reshape(n, -1)
        k = prefix.shape[1]
        ext = np.empty((n, c, k + 1), np.int64)
        ext[:, :, :k] = prefix[:, None, :]
        ext[:, :, k] = np.arange(c)
        joint = self.prefix_propensities(np.repeat(scores, c, axis=0), ext.reshape(n * c, k + 1))
        used = (prefix[:, None, :] == np.arange(c)[None, :, None]).any(axis=2)  # (N, C)
        joint = np.where(used, 0.0, joint[:, -1].reshape(n, c))
        total = joint.sum(axis=1, keepdims=True)
        return np.divide(joint, total, out=np.zeros_like(joint), where=total > 0)


@dataclass(frozen=True)
class UniformRandom(SlatePolicy):
    """Every ordered slate of distinct candidates equally likely (scores are ignored)."""

    name = "uniform"

    def sample(self, scores: np.ndarray, slate_size: int, rng: np.random.Generator) -> np.ndarray:
        scores = _check_scores(scores, slate_size)
        return np.argsort(rng.random(scores.shape), axis=1)[:, :slate_size].astype(np.int64)

    def prefix_propensities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        n, c = np.shape(scores)
        k = np.shape(slates)[1]
        return np.broadcast_to(_uniform_prefix(c, k), (n, k)).copy()

    def marginals(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        n, c = np.shape(scores)
        return np.full((n, slate_size, c), 1.0 / c)

    def gamma(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        return uniform_gamma(np.shape(scores)[1], slate_size)[None]


def top_k(scores: np.ndarray, slate_size: int) -> np.ndarray:
    """``(N, K)`` indices of the ``K`` highest scores, best first (ties: the lower index first)."""
    return np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :slate_size].astype(np.int64)


@dataclass(frozen=True)
class EpsilonGreedy(SlatePolicy):
    """The top ``K`` by score with probability ``1 - epsilon``, a uniform random slate otherwise."""

    epsilon: float = 0.1
    name = "epsilon-greedy"

    def __post_init__(self) -> None:
        check_probability("epsilon", self.epsilon)

    def sample(self, scores: np.ndarray, slate_size: int, rng: np.random.Generator) -> np.ndarray:
        scores = _check_scores(scores, slate_size)
        greedy = top_k(scores, slate_size)
        explore: np.ndarray = np.asarray(rng.random(scores.shape[0]) < self.epsilon)
        rand = np.argsort(rng.random(scores.shape), axis=1)[:, :slate_size]
        return np.where(explore[:, None], rand, greedy).astype(np.int64)

    def prefix_propensities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        slates = np.asarray(slates, np.int64)
        n, k = slates.shape
        greedy = top_k(scores, k)
        same = np.cumprod(slates == greedy, axis=1).astype(np.float64)  # prefix equals greedy's
        uniform = _uniform_prefix(np.shape(scores)[1], k)
        return (1.0 - self.epsilon) * same + self.epsilon * uniform

    def marginals(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        n, c = np.shape(scores)
        greedy = top_k(scores, slate_size)
        out = np.full((n, slate_size, c), self.epsilon / c)
        rows = np.arange(n)[:, None]
        out[rows, np.arange(slate_size), greedy] += 1.0 - self.epsilon
        return out

    def gamma(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        n, c = np.shape(scores)
        flat = np.arange(slate_size) * c + top_k(scores, slate_size)  # (N, K)
        out = np.broadcast_to(self.epsilon * uniform_gamma(c, slate_size), (n, *[slate_size * c] * 2))
        out = out.copy()
        rows = np.arange(n)[:, None, None]
        out[rows, flat[:, :, None], flat[:, None, :]] += 1.0 - self.epsilon
        return out


@dataclass(frozen=True)
class PlackettLuce(SlatePolicy):
    """Softmax over ``scores / temperature`` drawn without replacement (Plackett–Luce)."""

    temperature: float = 1.0
    max_enumeration: int = 100_000
    name = "softmax"

    def __post_init__(self) -> None:
        check_float("temperature", self.temperature, 0.0, low_open=True)
        check_int("max_enumeration", self.max_enumeration, 1)

    def _logits(self, scores: np.ndarray) -> np.ndarray:
        z = np.asarray(scores, np.float64) / self.temperature
        return z - z.max(axis=1, keepdims=True)

    def sample(self, scores: np.ndarray, slate_size: int, rng: np.random.Generator) -> np.ndarray:
        scores = _check_scores(scores, slate_size)
        gumbel = -np.log(-np.log(rng.random(scores.shape)))
        return top_k(self._logits(scores) + gumbel, slate_size)

    def prefix_propensities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        slates = np.asarray(slates, np.int64)
        w = np.exp(self._logits(scores))  # (N, C)
        chosen = np.take_along_axis(w, slates, axis=1)  # (N, K)
        # Mass left before position k: the total minus what the earlier positions took.
        left = w.sum(axis=1, keepdims=True) - np.cumsum(chosen, axis=1) + chosen
        return np.cumprod(chosen / left, axis=1)

    def marginals(self, scores: np.ndarray, slate_size: int) -> np.ndarray:
        n, c = np.shape(scores)
        if slate_count(c, slate_size) > self.max_enumeration:
            return np.full((n, slate_size, c), np.nan)
        slates = all_slates(c, slate_size, self.max_enumeration)  # (S, K)
        onehot = [np.eye(c)[slates[:, k]] for k in range(slate_size)]  # K x (S, C)
        out = np.empty((n, slate_size, c))
        step = max(1, 2_000_000 // len(slates))
        for lo in range(0, n, step):  # rows in chunks: (rows, S) slate probabilities at a time
            p = self.slate_probabilities(scores[lo : lo + step], slates)
            for k in range(slate_size):
                out[lo : lo + step, k] = p @ onehot[k]
        return out

    def slate_probabilities(self, scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """``(N, S)`` probability of each of ``slates (S, K)`` for every row of ``scores``."""
        w = np.exp(self._logits(scores))  # (N, C)
        chosen = w[:, slates]  # (N, S, K)
        left = w.sum(axis=1)[:, None, None] - np.cumsum(chosen, axis=2) + chosen
        return np.prod(chosen / left, axis=2)

    def next_probabilities(self, scores: np.ndarray, prefix: np.ndarray) -> np.ndarray:
        w = np.exp(self._logits(scores))
        prefix = np.asarray(prefix, np.int64).reshape(w.shape[0], -1)
        np.put_along_axis(w, prefix, 0.0, axis=1)
        return w / w.sum(axis=1, keepdims=True)


POLICIES = ("uniform", "epsilon-greedy", "softmax")
"""Names accepted by :func:`make_policy` (and ``slategym log --policy``)."""


def make_policy(name: str, epsilon: float = 0.1, temperature: float = 1.0) -> SlatePolicy:
    """A policy by name: ``uniform``, ``epsilon-greedy`` (``epsilon``), ``softmax`` (``temperature``)."""
    if name == "uniform":
        return UniformRandom()
    if name == "epsilon-greedy":
        return EpsilonGreedy(epsilon)
    if name == "softmax":
        return PlackettLuce(temperature)
    raise ValueError(f"policy={name!r} is not allowed: expected one of {list(POLICIES)}")
