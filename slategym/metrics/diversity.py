r"""Diversity metrics of served slates: intra-list diversity, coverage, topic entropy, novelty.

Items are identified by their id ``i`` in ``[0, M)`` (``M`` = ``Catalog.total``, the catalog over the
whole timeline). ``valid`` marks the positions actually shown (``False`` for a repeat of an item
shown higher in the same slate); ``None`` means every position. Undefined values (nothing shown, no
slate with two items) are ``nan``.

| metric | formula |
|---|---|
| :func:`intra_list_diversity` | mean over slates with :math:`m \ge 2` valid items of :math:`\binom{m}{2}^{-1} \sum_{i<j} d(x_i, x_j)` |
| :func:`catalog_coverage` | :math:`|\{\text{items shown}\}| / M` |
| :func:`topic_entropy` | :math:`H = -\sum_t q_t \log q_t` (nats), optionally :math:`/\log T` |
| :func:`novelty` | mean popularity rank of the impressions (rank 1 = most popular) |
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from slategym.metrics._checks import (
    float_array,
    int_array,
    optional_mask,
    ratio,
)
from slategym.validation import check_choice, check_int

ILD_METRICS = ("cosine", "euclidean")
_CHUNK_FLOATS = 1 << 22  # bound on the (rows, K, K, F) difference tensor of the euclidean ILD


def slate_diversities(
    item_ids: Any, item_features: Any, valid: Any = None, metric: str = "cosine"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-slate ILD and which slates are eligible (at least two valid items).

    Returns:
        ``(values (N,), eligible (N,) bool)``; ``values`` is 0 where not eligible.
    """
    check_choice("metric", metric, ILD_METRICS)
    feats = float_array("item_features", item_features, ndim=2)
    ids = int_array("item_ids", item_ids, 0, feats.shape[0], ndim=2)
    v = optional_mask("valid", valid, "item_ids", ids)
    n, k = ids.shape
    x = feats[ids]  # (N, K, F)
    pairs = v[:, :, None] & v[:, None, :] & np.triu(np.ones((k, k), bool), 1)  # (N, K, K)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=2)  # (N, K)
        zero = v & (norms == 0.0)
        if zero.any():
            item = int(ids[zero][0])
            raise ValueError(
                f"item_features of item {item} is the zero vector: cosine distance is undefined; "
                "use metric='euclidean' or other features"
            )
        unit = x / np.where(norms > 0.0, norms, 1.0)[:, :, None]
        dist = np.clip(1.0 - np.einsum("nkf,njf->nkj", unit, unit), 0.0, 2.0)
    else:
        dist = np.empty((n, k, k))
        step = max(1, _CHUNK_FLOATS // max(1, k * k * x.shape[2]))
        for lo in range(0, n, step):
            diff = x[lo : lo + step, :, None, :] - x[lo : lo + step, None, :, :]
            dist[lo : lo + step] = np.sqrt(np.einsum("nkjf,nkjf->nkj", diff, diff))
    count = pairs.sum(axis=(1, 2))
    total = np.where(pairs, dist, 0.0).sum(axis=(1, 2))
    eligible = count > 0
    return np.where(eligible, total / np.maximum(count, 1), 0.0), eligible


def intra_list_diversity(
    item_ids: Any, item_features: Any, valid: Any = None, metric: str = "cosine"
) -> float:
    r"""Intra-list diversity: mean pairwise distance between the items of a slate, over slates.

    For slate ``n`` with valid items :math:`S_n`, :math:`m_n = |S_n|`,

    .. math::

        \mathrm{ILD}_n = \frac{2}{m_n (m_n - 1)} \sum_{i < j \in S_n} d(x_i, x_j), \qquad
        \mathrm{ILD} = \operatorname{mean}_{n : m_n \ge 2} \mathrm{ILD}_n

    with the cosine distance :math:`d(x, y) = 1 - x^\top y / (\lVert x\rVert \lVert y\rVert)`
    (in ``[0, 2]``) or the euclidean distance :math:`\lVert x - y \rVert`. Slates with fewer than two
    valid items have no pair and are excluded.

    Args:
        item_ids: ``(N, K)`` int item ids in ``[0, M)``.
        item_features: ``(M, F)`` feature vectors (e.g. ``Catalog.latent``); nonzero for cosine.
        valid: ``(N, K)`` bool shown positions; ``None`` means every position (a repeated item then
            counts, at distance 0 from itself).
        metric: ``"cosine"`` (default) or ``"euclidean"``.

    Returns:
        The ILD; ``nan`` when no slate has two valid items.

    Example:
        >>> feats = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
        >>> intra_list_diversity([[0, 1, 2]], feats)  # distances 1, 2, 1
        1.3333333333333333
        >>> intra_list_diversity([[0, 1, 2]], feats, metric="euclidean")  # sqrt2, 2, sqrt2
        1.6094757082487299
    """
    values, eligible = slate_diversities(item_ids, item_features, valid, metric)
    return ratio(float(values[eligible].sum()), int(eligible.sum()))


def _shown_counts(item_ids: Any, num_items: int, valid: Any) -> np.ndarray:
    """Impressions per item ``(num_items,)`` int64."""
    ids = int_array("item_ids", item_ids, 0, num_items)
    v = optional_mask("valid", valid, "item_ids", ids)
    return np.bincount(ids[v], minlength=num_items).astype(np.int64)


def catalog_coverage(item_ids: Any, num_items: int, valid: Any = None) -> float:
    r"""Share of the catalog shown at least once.

    .. math:: \mathrm{coverage} = \frac{|\{i : i \text{ shown}\}|}{M}

    Args:
        item_ids: int item ids in ``[0, num_items)``, any shape (``(N, K)`` slates).
        num_items: ``M``, the catalog size (``Catalog.total`` with an ageing catalog).
        valid: bool mask of ``item_ids``'s shape of the shown positions; ``None`` means all.

    Returns:
        The coverage in ``[0, 1]``.

    Example:
        >>> catalog_coverage([[0, 1, 1], [1, 2, 3]], num_items=10)
        0.4
    """
    m = check_int("num_items", num_items, 1)
    return coverage_of_counts(_shown_counts(item_ids, m, valid))


def coverage_of_counts(counts: np.ndarray) -> float:
    """Coverage from impressions per item ``(M,)``."""
    return float(np.count_nonzero(counts)) / counts.shape[0]


def topic_entropy(
    item_ids: Any, topics: Any, num_topics: int, valid: Any = None, normalize: bool = False
) -> float:
    r"""Shannon entropy of the topic distribution of the impressions.

    With :math:`q_t` the share of impressions of topic ``t`` (repeats count, ``0 log 0 = 0``),

    .. math:: H = -\sum_{t=0}^{T-1} q_t \log q_t \in [0, \log T] \quad \text{(nats)}

    and with ``normalize=True`` :math:`H / \log T \in [0, 1]`.

    Args:
        item_ids: int item ids in ``[0, M)``, any shape.
        topics: ``(M,)`` int topic of each item, in ``[0, num_topics)`` (``Catalog.topic``).
        num_topics: ``T >= 1``.
        valid: bool mask of ``item_ids``'s shape of the shown positions; ``None`` means all.
        normalize: divide by :math:`\log T`.

    Returns:
        The entropy; ``nan`` without impressions, and normalised ``nan`` for ``T = 1`` (0 / 0).

    Example:
        >>> topic_entropy([[0, 1], [2, 3]], topics=[0, 0, 1, 1], num_topics=2)  # log 2
        0.6931471805599453
        >>> topic_entropy([[0, 1], [2, 3]], topics=[0, 0, 1, 1], num_topics=4, normalize=True)
        0.5
    """
    t = check_int("num_topics", num_topics, 1)
    top = int_array("topics", topics, 0, t, ndim=1)
    counts = _shown_counts(item_ids, top.shape[0], valid)
    return entropy_of_counts(np.bincount(top, weights=counts, minlength=t), normalize)


def entropy_of_counts(counts: np.ndarray, normalize: bool = False) -> float:
    """Entropy in nats of the distribution proportional to ``counts`` (``nan`` if all zero)."""
    total = float(counts.sum())
    if total == 0.0:
        return float("nan")
    q = counts[counts > 0] / total
    h = max(0.0, float(-(q * np.log(q)).sum()))
    if normalize:
        return ratio(h, float(np.log(counts.shape[0])))
    return h


def popularity_ranks(popularity: Any, normalize: bool = False) -> np.ndarray:
    r"""Popularity rank of every item: 1 for the most popular, ``M`` for the least.

    Ties share the mean of their ranks (``scipy.stats.rankdata(-popularity, "average")``). The
    normalised rank is :math:`(\mathrm{rank} - 1) / (M - 1) \in [0, 1]` (0 for ``M = 1``).

    Example:
        >>> popularity_ranks([0.1, 0.6, 0.3])
        array([3., 1., 2.])
        >>> popularity_ranks([0.1, 0.6, 0.3], normalize=True)
        array([1. , 0. , 0.5])
    """
    pop = float_array("popularity", popularity, ndim=1)
    if pop.size == 0:
        raise ValueError("popularity is empty: expected one value per item")
    ranks = np.asarray(rankdata(-pop, method="average"), dtype=np.float64)
    if normalize:
        return (ranks - 1.0) / max(pop.size - 1, 1)
    return ranks


def novelty(item_ids: Any, popularity: Any, valid: Any = None, normalize: bool = False) -> float:
    r"""Mean popularity rank of the impressions (higher = less popular = more novel).

    .. math::

        \mathrm{novelty} = \frac{1}{|S|} \sum_{(n,k) \in S} \mathrm{rank}(i_{nk}), \qquad
        \mathrm{rank}(i) = 1 + |\{j : \rho_j > \rho_i\}| \ \text{(ties averaged)}

    over the shown positions :math:`S`, with popularity :math:`\rho` (``Catalog.popularity``). With
    ``normalize=True`` the rank is mapped to :math:`(\mathrm{rank} - 1)/(M - 1) \in [0, 1]`: 0 when
    only the most popular item is shown, 1 when only the least popular one is.

    Args:
        item_ids: int item ids in ``[0, M)``, any shape.
        popularity: ``(M,)`` popularity of each item (any monotone score: shares, counts).
        valid: bool mask of ``item_ids``'s shape of the shown positions; ``None`` means all.
        normalize: report the normalised rank.

    Returns:
        Mean rank in ``[1, M]`` (or ``[0, 1]``); ``nan`` without impressions.

    Example:
        >>> novelty([[1, 2]], popularity=[0.1, 0.6, 0.3])  # ranks 1 and 2
        1.5
        >>> novelty([[1, 2]], popularity=[0.1, 0.6, 0.3], normalize=True)
        0.25
    """
    ranks = popularity_ranks(popularity, normalize)
    counts = _shown_counts(item_ids, ranks.shape[0], valid)
    return ratio(float(counts @ ranks), int(counts.sum()))
