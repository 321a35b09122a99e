r"""A cross-fitted reward model for the doubly robust estimator: mean reward per (position, item).

## Description

:math:`\hat q_k(x, c)` is the mean logged reward of item ``c`` at position ``k``, shrunk toward the
position's mean reward with a prior weight of ``prior`` pseudo-observations:

.. math::

    \hat q_k(c) = \frac{\sum_{i: s_{i,k} = c} r_{i,k} + m\, \bar r_k}{|\{i: s_{i,k} = c\}| + m}

It ignores the context beyond the item's identity. Cross-fitting (``folds`` parts, each predicted
by the model fitted on the others) keeps a slate's own reward out of its prediction.

## Example

>>> import numpy as np
>>> from slategym.ope.reward_model import position_item_means
>>> items = np.array([[7, 8], [8, 7]]); cands = np.array([[7, 8], [7, 8]])
>>> q = position_item_means(items, np.array([[1.0, 0.0], [0.0, 0.0]]), cands, prior=0.0, folds=1)
>>> q[0, 0].tolist()  # position 0: item 7 clicked once in one showing, item 8 never
[1.0, 0.0]

## Version History

* v1: initial version.
"""

from __future__ import annotations

import numpy as np

from slategym.validation import check_float, check_int


def position_item_means(
    item_ids: np.ndarray,
    rewards: np.ndarray,
    candidate_ids: np.ndarray,
    prior: float = 10.0,
    folds: int = 2,
) -> np.ndarray:
    """``(n, K, C)`` predictions for every candidate at every position (see the module docstring).

    Args:
        item_ids: ``(n, K)`` logged items, in slate order.
        rewards: ``(n, K)`` their rewards.
        candidate_ids: ``(n, C)`` the candidates to predict for.
        prior: shrinkage weight ``m`` toward the position mean (>= 0).
        folds: cross-fitting parts (1 = fit and predict on everything).
    """
    check_float("prior", prior, 0.0)
    check_int("folds", folds, 1)
    item_ids = np.asarray(item_ids, np.int64)
    rewards = np.asarray(rewards, np.float64)
    candidate_ids = np.asarray(candidate_ids, np.int64)
    n, k = item_ids.shape
    ids, inverse = np.unique(np.concatenate([item_ids.ravel(), candidate_ids.ravel()]), return_inverse=True)
    logged = inverse[: n * k].reshape(n, k)
    cands = inverse[n * k :].reshape(candidate_ids.shape)
    fold = np.arange(n) % folds
    out = np.empty((n, k, candidate_ids.shape[1]))
    for f in range(folds):
        fit = fold != f if folds > 1 else np.ones(n, bool)
        pred = fold == f
        sums = np.zeros((k, ids.size))
        counts = np.zeros((k, ids.size))
        for pos in range(k):
            sums[pos] = np.bincount(logged[fit, pos], weights=rewards[fit, pos], minlength=ids.size)
            counts[pos] = np.bincount(logged[fit, pos], minlength=ids.size)
        pos_mean = rewards[fit].mean(axis=0) if fit.any() else np.zeros(k)
        table = (sums + prior * pos_mean[:, None]) / np.maximum(counts + prior, 1e-12)
        table = np.where(counts + prior > 0, table, pos_mean[:, None])
        out[pred] = np.transpose(table[:, cands[pred]], (1, 0, 2))
    return out
