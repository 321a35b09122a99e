r"""Engagement metrics of served slates: click-through, conversion, purchases and reward.

Every function takes the slates of the rows that were served, batched ``(N, K)`` (stack or
concatenate steps along the first axis to cover a whole run), and returns a Python ``float``.
A ratio whose denominator is zero (no impressions, no slates, no clicks) is undefined and returned as
``nan``; it is never silently 0.

| metric | formula |
|---|---|
| :func:`ctr_per_impression` | :math:`\sum_{n,k} c_{nk} v_{nk} / \sum_{n,k} v_{nk}` |
| :func:`slate_ctr` | :math:`\frac1N \sum_n \mathbb{1}[\sum_k c_{nk} > 0]` |
| :func:`conversion_rate` | :math:`\sum_{n,k} p_{nk} / \sum_{n,k} c_{nk}` |
| :func:`purchases_per_slate` | :math:`\frac1N \sum_{n,k} p_{nk}` |
| :func:`mean_reward` | :math:`\frac1N \sum_n r_n` |

with clicks :math:`c`, purchases :math:`p \le c`, shown (valid) positions :math:`v` and rewards
:math:`r`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slategym.metrics._checks import (
    bool_array,
    float_array,
    optional_mask,
    ratio,
    same_shape,
    subset,
)


def ctr_per_impression(clicks: Any, valid: Any = None) -> float:
    r"""Click-through rate per impression: clicks over items actually shown.

    .. math:: \mathrm{CTR} = \frac{\sum_{n,k} c_{nk}}{\sum_{n,k} v_{nk}}

    An impression is a valid position (``valid`` is False for a repeat of an item shown higher in
    the same slate; such a repeat is not an impression and cannot be clicked).

    Args:
        clicks: ``(N, K)`` bool, clicked positions.
        valid: ``(N, K)`` bool, shown positions; ``None`` means every position.

    Returns:
        The CTR in ``[0, 1]``; ``nan`` without impressions.

    Example:
        >>> ctr_per_impression([[True, False, False], [False, False, False]])
        0.16666666666666666
        >>> ctr_per_impression([[True, False, False]], valid=[[True, True, False]])
        0.5
    """
    c = bool_array("clicks", clicks, ndim=2)
    v = optional_mask("valid", valid, "clicks", c)
    subset("clicks", c, "valid", v)
    return ratio(np.count_nonzero(c), np.count_nonzero(v))


def slate_ctr(clicks: Any) -> float:
    r"""Share of slates with at least one click.

    .. math:: \mathrm{slate\ CTR} = \frac1N \sum_n \mathbb{1}\Big[\sum_k c_{nk} > 0\Big]

    Args:
        clicks: ``(N, K)`` bool, clicked positions.

    Returns:
        A share in ``[0, 1]``; ``nan`` for ``N = 0``.

    Example:
        >>> slate_ctr([[True, True, False], [False, False, False]])
        0.5
    """
    c = bool_array("clicks", clicks, ndim=2)
    return ratio(np.count_nonzero(c.any(axis=1)), c.shape[0])


def conversion_rate(clicks: Any, purchases: Any) -> float:
    r"""Purchases per click.

    .. math:: \mathrm{conversion} = \frac{\sum_{n,k} p_{nk}}{\sum_{n,k} c_{nk}}

    Args:
        clicks: ``(N, K)`` bool, clicked positions.
        purchases: ``(N, K)`` bool, purchased positions; a purchase needs a click.

    Returns:
        A rate in ``[0, 1]``; ``nan`` when nothing was clicked (undefined, not 0).

    Example:
        >>> conversion_rate([[True, True, False]], [[True, False, False]])
        0.5
        >>> conversion_rate([[False, False]], [[False, False]])
        nan
    """
    c = bool_array("clicks", clicks, ndim=2)
    p = bool_array("purchases", purchases)
    same_shape("purchases", p, "clicks", c)
    subset("purchases", p, "clicks", c)
    return ratio(np.count_nonzero(p), np.count_nonzero(c))


def purchases_per_slate(purchases: Any) -> float:
    r"""Mean number of purchases per slate.

    .. math:: \frac1N \sum_{n,k} p_{nk}

    Args:
        purchases: ``(N, K)`` bool, purchased positions.

    Returns:
        A mean in ``[0, K]``; ``nan`` for ``N = 0``.

    Example:
        >>> purchases_per_slate([[True, True, False], [False, False, False]])
        1.0
    """
    p = bool_array("purchases", purchases, ndim=2)
    return ratio(np.count_nonzero(p), p.shape[0])


def mean_reward(rewards: Any) -> float:
    r"""Mean reward per served slate.

    .. math:: \bar r = \frac1N \sum_n r_n

    Args:
        rewards: rewards of the served slates, any shape (``(N,)`` per step, ``(T, N)`` per run),
            finite.

    Returns:
        The mean; ``nan`` when empty.

    Example:
        >>> mean_reward([1.0, 0.0, 2.0, 1.0])
        1.0
    """
    r = float_array("rewards", rewards)
    return ratio(float(r.sum()), r.size)
