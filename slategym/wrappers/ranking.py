r"""Per-candidate scores to slates of distinct candidates: top-K and Plackett–Luce.

## Description

A policy that scores every candidate (one real number per candidate, e.g. a ``Box`` action from
any RL library) defines a slate without repeats in two ways:

* **top-K** (deterministic): the ``K`` highest scores, highest first;
* **Plackett–Luce** (stochastic): the scores are logits; position 0 is drawn with probability
  ``softmax(logits)``, position 1 from the remaining candidates renormalised, and so on. Sampled
  with the Gumbel-top-K trick: the top-K of ``logits + G``, ``G`` i.i.d. standard Gumbel, is an
  exact Plackett–Luce sample (Yellott, 1977; Kool et al., 2019).

## Probabilities

With logits :math:`s \in \mathbb{R}^C` and slate :math:`\sigma = (\sigma_0, \dots, \sigma_{K-1})`,

.. math::

    \log P(\sigma \mid s) = \sum_{j=0}^{K-1} \Bigl( s_{\sigma_j}
        - \log \sum_{i \notin \{\sigma_0, \dots, \sigma_{j-1}\}} e^{s_i} \Bigr).

A slate that repeats a candidate has probability 0 (log-probability :math:`-\infty`). The
probabilities of the :math:`C!/(C-K)!` ordered slates sum to 1 (tested by enumeration). Each
denominator is a log-sum-exp over the remaining candidates (not :math:`Z` minus the chosen
weights, which cancels catastrophically when the chosen candidates dominate).

## Ties

``top_k`` ranks by score, highest first; equal scores are ranked by candidate index, lower first
(a stable sort of the negated scores; ``-0.0`` equals ``0.0``). It never repeats a candidate,
whatever the scores (tested with hypothesis, ties included). Non-finite scores are refused by the
wrappers (``ValueError``): NaN has no rank and infinite logits no probability.

## Parameters

| argument | shape | meaning |
|---|---|---|
| ``scores`` / ``logits`` | ``(..., C)`` | one real per candidate, any leading batch shape |
| ``k`` | int | slate size ``K``, ``1 <= K <= C`` |
| ``rng`` | | a ``np.random.Generator`` (the only source of randomness) |
| ``slates`` | ``(..., K)`` int | candidate indices, position 0 first |

## Example

>>> import numpy as np
>>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3)  # tie between 1 and 3: lower index first
array([1, 3, 2])
>>> slate = plackett_luce_sample(np.zeros(4), 2, np.random.default_rng(0))
>>> float(np.exp(plackett_luce_log_prob(np.zeros(4), slate)))  # 1 / (4 * 3)
0.08333333333333333

## References

* Plackett, R. L. (1975). The analysis of permutations. *Applied Statistics* 24(2).
* Luce, R. D. (1959). *Individual Choice Behavior*. Wiley.
* Yellott, J. I. (1977). The relationship between Luce's choice axiom, Thurstone's theory of
  comparative judgment, and the double exponential distribution. *J. Math. Psychology* 15(2).
* Kool, W., van Hoof, H., Welling, M. (2019). Stochastic beams and where to find them: the
  Gumbel-top-k trick for sampling sequences without replacement. *ICML*.

## Version History

* slategym 0.2: added.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SAMPLER_STREAM = 0x504C
"""Last word of the spawn key of a wrapper's sampling stream: row ``r`` of a run seeded ``s``
samples from ``SeedSequence(s, spawn_key=(r, SAMPLER_STREAM))``, never the env's own ``(s, r)``."""


def sampler_rng(seed: int, row: int = 0) -> np.random.Generator:
    """The Plackett–Luce sampling generator of row ``row`` of a run seeded ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(row, SAMPLER_STREAM)))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """``(..., K)`` int64: the ``k`` highest-scoring candidates, highest first, ties by index."""
    order = np.argsort(-np.asarray(scores), axis=-1, kind="stable")
    return order[..., :k].astype(np.int64, copy=False)


def plackett_luce_sample(
    logits: np.ndarray, k: int, rng: np.random.Generator | Sequence[np.random.Generator]
) -> np.ndarray:
    """``(..., K)`` int64 slates drawn from Plackett–Luce with ``logits (..., C)``.

    ``rng`` is one generator for the whole batch, or a sequence of one generator per row of a
    ``(N, C)`` batch (row ``i`` draws from ``rng[i]`` alone, so a row's draws do not depend on the
    other rows).
    """
    logits = np.asarray(logits, np.float64)
    if isinstance(rng, np.random.Generator):
        gumbel = rng.gumbel(size=logits.shape)
    else:
        if logits.ndim != 2 or len(rng) != logits.shape[0]:
            raise ValueError(
                f"one generator per row needs (N, C) logits and N generators, got logits of shape "
                f"{logits.shape} and {len(rng)} generators"
            )
        c = logits.shape[1]
        gumbel = np.stack([g.gumbel(size=c) for g in rng]) if len(rng) else np.zeros((0, c))
    return top_k(logits + gumbel, k)


def plackett_luce_log_prob(logits: np.ndarray, slates: np.ndarray) -> np.ndarray:
    """``(...)`` float64 log-probability of ``slates (..., K)`` under Plackett–Luce with
    ``logits (..., C)`` (leading shapes broadcast; the formula of the module docstring; ``-inf`` for a slate that repeats
    a candidate)."""
    slates = np.asarray(slates, np.int64)
    logits = np.asarray(logits, np.float64)
    batch = np.broadcast_shapes(logits.shape[:-1], slates.shape[:-1])
    x = np.broadcast_to(logits, (*batch, logits.shape[-1])).copy()  # chosen ones become -inf
    slates = np.broadcast_to(slates, (*batch, slates.shape[-1]))
    out = np.zeros(batch)
    for j in range(slates.shape[-1]):
        pick = slates[..., j : j + 1]
        m = np.max(x, axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # only -inf rows: a repeat
            lse = m[..., 0] + np.log(np.sum(np.exp(x - m), axis=-1))
        out += np.take_along_axis(x, pick, axis=-1)[..., 0] - lse
        np.put_along_axis(x, pick, -np.inf, axis=-1)
    return np.where(np.isnan(out), -np.inf, out)
