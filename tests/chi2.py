"""Statistical helpers for tests that compare sampled frequencies with closed-form probabilities."""

from __future__ import annotations

import numpy as np
from scipy import stats


def chi2_pvalue(counts: np.ndarray, probs: np.ndarray) -> float:
    """p-value of Pearson's chi-square test of ``counts`` against the distribution ``probs``.

    Handles the cases where :func:`scipy.stats.chisquare` has nothing to test (and returns NaN):

    * an outcome of probability 0 that was sampled makes the sample impossible: p = 0;
    * a distribution with a single possible outcome (0 degrees of freedom) is matched exactly when
      every draw fell on it (the previous check guarantees it): p = 1.

    ``probs`` must be a distribution (non-negative, summing to 1 within 1e-9), else ValueError.
    """
    counts = np.asarray(counts, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    if counts.shape != probs.shape or counts.ndim != 1:
        raise ValueError(f"counts {counts.shape} and probs {probs.shape} must be equal 1-d shapes")
    if np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-9:
        raise ValueError(f"probs={probs} is not a distribution (non-negative, sum 1)")
    if counts.sum() <= 0:
        raise ValueError("counts are empty: nothing to test")
    possible = probs > 0
    if counts[~possible].sum() > 0:
        return 0.0  # an impossible outcome was sampled
    if possible.sum() == 1:
        return 1.0  # one possible outcome and every draw on it: no degree of freedom to reject
    p = probs[possible] / probs[possible].sum()
    return float(stats.chisquare(counts[possible], p * counts.sum()).pvalue)
