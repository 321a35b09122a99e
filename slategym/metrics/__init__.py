"""Metrics of slate recommendation runs: engagement, diversity, sessions, and their aggregation.

Three layers:

* **pure functions** of batched arrays (one row per served slate), each with its formula in its
  docstring: :mod:`~slategym.metrics.engagement` (CTR, slate CTR, conversion, purchases, reward),
  :mod:`~slategym.metrics.diversity` (intra-list diversity, coverage, topic entropy, novelty) and
  :mod:`~slategym.metrics.sessions` (session length, return rate, churn rates);
* :class:`MetricsAccumulator`, which streams the steps of a run (a ``StepOutcome`` or a vector env's
  ``info``) into counts and returns every metric at once, in bounded memory;
* :func:`aggregate` / :func:`aggregate_runs`: mean and Student-t confidence interval over seeds.

Conventions:

* a metric whose denominator is empty (CTR without impressions, conversion without clicks, ILD without
  a slate of two items, session length without an ended session, ...) is ``nan``, never 0;
* an *impression* is a valid position of a slate: a repeat of an item shown higher in the same slate
  (``StepOutcome.valid`` is False there) is neither shown nor clickable;
* invalid inputs raise :class:`ValueError` naming the parameter and what is allowed.

Example:
    >>> from slategym.metrics import ctr_per_impression, aggregate
    >>> ctr_per_impression([[True, False], [False, False]])
    0.25
    >>> aggregate([0.2, 0.3]).mean
    0.25
"""

from slategym.metrics.accumulator import INFO_KEYS, MetricsAccumulator
from slategym.metrics.aggregate import Aggregate, ArrayAggregate, aggregate, aggregate_runs
from slategym.metrics.diversity import (
    ILD_METRICS,
    catalog_coverage,
    intra_list_diversity,
    novelty,
    popularity_ranks,
    slate_diversities,
    topic_entropy,
)
from slategym.metrics.engagement import (
    conversion_rate,
    ctr_per_impression,
    mean_reward,
    purchases_per_slate,
    slate_ctr,
)
from slategym.metrics.sessions import (
    churn_rate_per_episode,
    churn_rate_per_session,
    mean_session_length,
    return_rate,
    session_counts,
    session_lengths,
    sessions_started_per_hour,
)

__all__ = [
    "ILD_METRICS",
    "INFO_KEYS",
    "Aggregate",
    "ArrayAggregate",
    "MetricsAccumulator",
    "aggregate",
    "aggregate_runs",
    "catalog_coverage",
    "churn_rate_per_episode",
    "churn_rate_per_session",
    "conversion_rate",
    "ctr_per_impression",
    "intra_list_diversity",
    "mean_reward",
    "mean_session_length",
    "novelty",
    "popularity_ranks",
    "purchases_per_slate",
    "return_rate",
    "session_counts",
    "session_lengths",
    "sessions_started_per_hour",
    "slate_ctr",
    "slate_diversities",
    "topic_entropy",
]
