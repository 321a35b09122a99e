r"""Aggregation of a metric over independent runs (seeds): the mean and a Student-t interval.

For values :math:`x_1, \dots, x_n` of ``n`` runs,

.. math::

    \bar x \pm t_{(1 + c)/2,\, n - 1} \, \frac{s}{\sqrt n}, \qquad
    s^2 = \frac{1}{n - 1} \sum_i (x_i - \bar x)^2

with confidence ``c`` (0.95 by default) and the Student-t quantile from ``scipy.stats.t``.

Conventions:

* with a single run (``n = 1``) the interval is undefined: the mean is returned with ``nan`` bounds
  (never a zero-width interval that would claim certainty);
* ``nan`` values (a metric undefined in a run, e.g. the conversion rate of a run without clicks)
  propagate by default: the result is ``(nan, nan, nan)``. ``nan_policy="omit"`` drops them first
  (and ``n`` counts the remaining runs); ``"raise"`` raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from slategym.validation import check_choice, check_float

NAN_POLICIES = ("propagate", "omit", "raise")


class Aggregate(NamedTuple):
    """Mean of a scalar metric over runs and its confidence interval ``[low, high]``."""

    mean: float
    low: float
    high: float


class ArrayAggregate(NamedTuple):
    """Elementwise :class:`Aggregate` of an array-valued metric (e.g. CTR per hour)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _t_interval(
    x: np.ndarray, confidence: float, nan_policy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and t-interval along axis 0 of ``x (n, ...)``."""
    isnan = np.isnan(x)
    if nan_policy == "raise" and isnan.any():
        raise ValueError("values hold nan and nan_policy='raise': expected no nan")
    keep = ~isnan if nan_policy == "omit" else np.ones(x.shape, bool)
    n = keep.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(keep, x, 0.0).sum(axis=0) / n
        dev = np.where(keep, x - mean, 0.0)
        sem = np.sqrt((dev * dev).sum(axis=0) / (n - 1) / n)
        df = np.where(n >= 2, n - 1, np.nan)
        half = stats.t.ppf(0.5 + confidence / 2.0, df) * sem
    return mean, mean - half, mean + half


def _check_common(confidence: float, nan_policy: str) -> float:
    check_choice("nan_policy", nan_policy, NAN_POLICIES)
    return check_float("confidence", confidence, 0.0, 1.0, low_open=True, high_open=True)


def aggregate(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95, nan_policy: str = "propagate"
) -> Aggregate:
    """Mean of ``values`` (one per run) and its Student-t confidence interval.

    Args:
        values: ``(n,)`` numbers, ``n >= 1``.
        confidence: level of the interval, in ``(0, 1)``.
        nan_policy: ``"propagate"`` (default), ``"omit"`` or ``"raise"``.

    Returns:
        ``Aggregate(mean, low, high)``; bounds are ``nan`` for ``n = 1``.

    Example:
        >>> m, lo, hi = aggregate([1.0, 2.0, 3.0, 4.0, 5.0])  # 3 -+ t(0.975, 4) * sqrt(2.5 / 5)
        >>> float(m), round(float(lo), 4), round(float(hi), 4)
        (3.0, 1.0368, 4.9632)
        >>> aggregate([0.5])
        Aggregate(mean=0.5, low=nan, high=nan)
    """
    c = _check_common(confidence, nan_policy)
    x = np.asarray(values)
    if x.dtype.kind not in "biuf" or x.ndim != 1:
        raise ValueError(
            f"values has dtype {x.dtype} and shape {x.shape}: expected a 1-d sequence of numbers"
        )
    if x.size == 0:
        raise ValueError("values is empty: expected at least one value")
    mean, low, high = _t_interval(x.astype(np.float64), c, nan_policy)
    return Aggregate(float(mean), float(low), float(high))


def aggregate_runs(
    runs: Sequence[Mapping[str, Any]], confidence: float = 0.95, nan_policy: str = "propagate"
) -> dict[str, Aggregate | ArrayAggregate]:
    """:func:`aggregate` every metric of a list of metric dicts (one per run).

    Scalar metrics give an :class:`Aggregate`; array-valued ones (same shape in every run) an
    :class:`ArrayAggregate`, elementwise.

    Args:
        runs: metric dicts with the same keys, e.g. ``MetricsAccumulator.result()`` of each seed.
        confidence: level of the intervals, in ``(0, 1)``.
        nan_policy: ``"propagate"`` (default), ``"omit"`` or ``"raise"``.

    Example:
        >>> out = aggregate_runs([{"ctr": 0.1}, {"ctr": 0.3}])
        >>> round(out["ctr"].mean, 6)
        0.2
    """
    c = _check_common(confidence, nan_policy)
    if isinstance(runs, Mapping) or len(runs) == 0:
        raise ValueError("runs must be a non-empty sequence of metric dicts (one per run)")
    keys = list(runs[0].keys())
    out: dict[str, Aggregate | ArrayAggregate] = {}
    for i, run in enumerate(runs):
        if set(run.keys()) != set(keys):
            diff = sorted(set(run.keys()) ^ set(keys))
            raise ValueError(f"runs[{i}] does not have the keys of runs[0]: they differ in {diff}")
    for key in keys:
        arrays = [np.asarray(run[key]) for run in runs]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"runs[...][{key!r}] has shapes {sorted(shapes)}: expected one shape")
        if any(a.dtype.kind not in "biuf" for a in arrays):
            raise ValueError(f"runs[...][{key!r}] is not numeric: expected numbers or arrays")
        stacked = np.stack(arrays).astype(np.float64)
        mean, low, high = _t_interval(stacked, c, nan_policy)
        if stacked.ndim == 1:
            out[key] = Aggregate(float(mean), float(low), float(high))
        else:
            out[key] = ArrayAggregate(mean, low, high)
    return out
