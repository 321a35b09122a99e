"""A streaming accumulator of every metric over a run, fed one step at a time.

It keeps counts and sums only (a bincount of impressions per item, per-hour and per-day tallies),
so its memory does not grow with the number of steps: ``O(M + days)`` for a catalog of ``M`` items.
Its result equals the pure functions of :mod:`slategym.metrics` applied to every served step of the
run at once (tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from slategym.catalog import Catalog
from slategym.metrics._checks import bool_array, float_array, int_array, ratio, same_shape, subset
from slategym.metrics.diversity import (
    ILD_METRICS,
    coverage_of_counts,
    entropy_of_counts,
    popularity_ranks,
    slate_diversities,
)
from slategym.metrics.sessions import HOURS_PER_DAY, session_counts
from slategym.slates import duplicate_mask
from slategym.types import StepOutcome
from slategym.validation import check_choice, check_int

INFO_KEYS = (
    "clicks",
    "purchases",
    "slate_item_ids",
    "day",
    "hour",
    "session_index",
    "session_step",
    "session_ended",
    "churned",
)
"""Keys of a vector env's step ``info`` that :meth:`MetricsAccumulator.add_step` reads."""

_SESSION_KEYS = (
    "sessions_started",
    "episodes_started",
    "sessions_ended",
    "sessions_churned",
    "sessions_returned",
    "slates_in_ended_sessions",
)


class MetricsAccumulator:
    """Accumulates the metrics of served slates step by step.

    Feed it every step of a run with :meth:`add_step`, either a
    :class:`~slategym.types.StepOutcome` (the platform view's ``serve`` returns one) or the
    ``info`` dict of the vector env's ``step`` (with the rewards it returned), then read
    :meth:`result`.

    Args:
        catalog: the catalog of the run; may instead be given to the first :meth:`add_step`.
        item_features: ``(M, F)`` item vectors for the intra-list diversity; ``catalog.latent`` by
            default.
        ild_metric: ``"cosine"`` (default) or ``"euclidean"``.
        num_days: length of ``ctr_per_day``; by default the last day seen plus one.

    Result keys (see the functions of the same name for the formulas; ``nan`` = undefined):

    ========================== =====================================================================
    ``ctr``                    clicks / impressions (:func:`ctr_per_impression`)
    ``slate_ctr``              share of slates with a click
    ``conversion_rate``        purchases / clicks
    ``purchases_per_slate``    purchases / slates
    ``mean_reward``            mean reward per slate (``nan`` if no rewards were given)
    ``ild``                    intra-list diversity over slates with two shown items or more
    ``coverage``               distinct items shown / ``catalog.total``
    ``topic_entropy``          entropy (nats) of the impressions' topics, in ``[0, log T]``
    ``topic_entropy_normalized`` the same divided by ``log T``, in ``[0, 1]``
    ``novelty_rank``           mean popularity rank of the impressions, in ``[1, M]``
    ``novelty``                mean normalised popularity rank, in ``[0, 1]``
    ``mean_session_length``    mean length in slates of the sessions that ended
    ``return_rate``            share of sessions ended without churn followed by another session
    ``churn_rate_per_session`` churned sessions / ended sessions
    ``churn_rate_per_episode`` churn events / episode starts
    ``ctr_per_day``            ``(days,)`` CTR of each day of the timeline
    ``ctr_per_hour``           ``(24,)`` CTR of each hour of the day
    ``sessions_started_per_hour`` ``(24,)`` session starts by hour of their first slate
    counts                     ``slates``, ``impressions``, ``clicks``, ``purchases``,
                               ``sessions_started``, ``episodes_started``, ``sessions_ended``,
                               ``sessions_churned``, ``sessions_returned``,
                               ``slates_in_ended_sessions``
    ========================== =====================================================================

    Example:
        >>> import gymnasium as gym
        >>> import slategym
        >>> envs = gym.make_vec("SlateRec-v0", num_envs=4, vectorization_mode="vector_entry_point",
        ...                     num_users=20, days=1)
        >>> _ = envs.reset(seed=0)
        >>> acc = MetricsAccumulator(envs.unwrapped.sim.catalog)
        >>> _ = envs.action_space.seed(0)
        >>> for _ in range(20):
        ...     _, rewards, _, _, info = envs.step(envs.action_space.sample())
        ...     acc.add_step(info, rewards=rewards)
        >>> out = acc.result()
        >>> 0 < out["slates"] <= 80  # rows being auto-reset are not served
        True
        >>> 0.0 <= out["ctr"] <= 1.0, 0.0 < out["coverage"] <= 1.0
        (True, True)
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        item_features: Any = None,
        ild_metric: str = "cosine",
        num_days: int | None = None,
    ) -> None:
        self.ild_metric = check_choice("ild_metric", ild_metric, ILD_METRICS)
        self.num_days = None if num_days is None else check_int("num_days", num_days, 1)
        self._features_arg = (
            None if item_features is None else float_array("item_features", item_features, ndim=2)
        )
        self.catalog: Catalog | None = None
        self._features = np.zeros((0, 0))
        self._ranks = np.zeros(0)
        self._ranks_norm = np.zeros(0)
        self._item_counts = np.zeros(0, np.int64)
        self._n: dict[str, float] = dict.fromkeys(
            (
                "slates",
                "impressions",
                "clicks",
                "purchases",
                "clicked_slates",
                "reward_sum",
                "rewarded_slates",
                "ild_sum",
                "ild_slates",
                *_SESSION_KEYS,
            ),
            0,
        )
        self._hour_impressions = np.zeros(HOURS_PER_DAY, np.int64)
        self._hour_clicks = np.zeros(HOURS_PER_DAY, np.int64)
        self._hour_starts = np.zeros(HOURS_PER_DAY, np.int64)
        days = self.num_days or 0
        self._day_impressions = np.zeros(days, np.int64)
        self._day_clicks = np.zeros(days, np.int64)
        if catalog is not None:
            self._bind(catalog)

    # -- catalog ----------------------------------------------------------------------------------
    def _bind(self, catalog: Catalog) -> None:
        if not isinstance(catalog, Catalog):
            raise ValueError(f"catalog is a {type(catalog).__name__}: expected a slategym Catalog")
        if self.catalog is not None:
            if catalog is self.catalog:
                return
            same = (
                catalog.total == self.catalog.total
                and np.array_equal(catalog.topic, self.catalog.topic)
                and np.array_equal(catalog.popularity, self.catalog.popularity)
            )
            if not same:
                raise ValueError(
                    "catalog differs from the catalog this accumulator was started with: expected "
                    "one catalog per run"
                )
            return
        features = catalog.latent if self._features_arg is None else self._features_arg
        if features.shape[0] < catalog.total:
            raise ValueError(
                f"item_features has {features.shape[0]} rows: expected one per catalog item "
                f"(at least {catalog.total})"
            )
        self.catalog = catalog
        self._features = np.asarray(features, dtype=np.float64)
        self._ranks = popularity_ranks(catalog.popularity)
        self._ranks_norm = popularity_ranks(catalog.popularity, normalize=True)
        self._item_counts = np.zeros(catalog.total, np.int64)

    # -- ingestion --------------------------------------------------------------------------------
    def add_step(
        self,
        step: StepOutcome | Mapping[str, Any],
        served_mask: Any = None,
        catalog: Catalog | None = None,
        rewards: Any = None,
    ) -> None:
        """Add the served rows of one step.

        Args:
            step: a :class:`~slategym.types.StepOutcome`, or a vector env's step ``info`` dict
                (keys :data:`INFO_KEYS`; shown positions are recomputed from ``slate_item_ids``,
                repeats being invalid, unless it has a ``valid`` key).
            served_mask: ``(N,)`` bool, the rows that were served. Default: every row of an
                outcome; ``info["_clicks"]`` for an info dict (rows being auto-reset were not
                served), which the mask given must not exceed.
            catalog: the run's catalog, if not given to the constructor.
            rewards: ``(N,)`` rewards of the step; default ``step.reward`` for an outcome. The vector
                env's info has no reward: pass the rewards ``step()`` returned.
        """
        if catalog is not None:
            self._bind(catalog)
        if self.catalog is None:
            raise ValueError("catalog is required: pass it to the constructor or to add_step")
        fields = self._fields(step, rewards)
        ids = int_array("item_ids", fields["item_ids"], 0, self.catalog.total, ndim=2)
        n = ids.shape[0]
        served = self._served(step, served_mask, n)
        rows = np.flatnonzero(served)
        ids = ids[rows]
        get = {k: np.asarray(v) for k, v in fields.items() if v is not None}
        for key, value in get.items():
            if value.shape[:1] != (n,):
                raise ValueError(f"{key} has shape {value.shape}: expected {n} rows like item_ids")
        valid = bool_array("valid", get["valid"][rows], ndim=2)
        clicks = bool_array("clicks", get["clicks"][rows], ndim=2)
        purchases = bool_array("purchases", get["purchases"][rows], ndim=2)
        same_shape("valid", valid, "item_ids", ids)
        same_shape("clicks", clicks, "item_ids", ids)
        same_shape("purchases", purchases, "item_ids", ids)
        subset("clicks", clicks, "valid", valid)
        subset("purchases", purchases, "clicks", clicks)
        hour = int_array("hour", get["hour"][rows], 0, HOURS_PER_DAY, ndim=1)
        day = int_array("day", get["day"][rows], 0, self.num_days, ndim=1)
        counts = session_counts(
            get["session_ended"][rows],
            get["churned"][rows],
            get["session_index"][rows],
            get["session_step"][rows],
        )
        step_of = get["session_step"][rows]
        values, eligible = slate_diversities(ids, self._features, valid, self.ild_metric)

        nv, nc = valid.sum(axis=1), clicks.sum(axis=1)
        s = self._n
        s["slates"] += rows.size
        s["impressions"] += int(nv.sum())
        s["clicks"] += int(nc.sum())
        s["purchases"] += int(np.count_nonzero(purchases))
        s["clicked_slates"] += int(np.count_nonzero(nc))
        s["ild_sum"] += float(values[eligible].sum())
        s["ild_slates"] += int(eligible.sum())
        for key in _SESSION_KEYS:
            s[key] += counts[key]
        if "rewards" in get:
            r = float_array("rewards", get["rewards"][rows], ndim=1)
            s["reward_sum"] += float(r.sum())
            s["rewarded_slates"] += r.size
        self._item_counts += np.bincount(ids[valid], minlength=self.catalog.total)
        self._hour_impressions += np.bincount(hour, nv, HOURS_PER_DAY).astype(np.int64)
        self._hour_clicks += np.bincount(hour, nc, HOURS_PER_DAY).astype(np.int64)
        self._hour_starts += np.bincount(hour[step_of == 0], minlength=HOURS_PER_DAY)
        if day.size:
            days = max(self._day_impressions.size, int(day.max()) + 1)
            if days > self._day_impressions.size:
                pad = days - self._day_impressions.size
                self._day_impressions = np.pad(self._day_impressions, (0, pad))
                self._day_clicks = np.pad(self._day_clicks, (0, pad))
            self._day_impressions += np.bincount(day, nv, days).astype(np.int64)
            self._day_clicks += np.bincount(day, nc, days).astype(np.int64)

    @staticmethod
    def _fields(step: StepOutcome | Mapping[str, Any], rewards: Any) -> dict[str, Any]:
        """The per-row arrays of a step under one set of names."""
        if isinstance(step, StepOutcome):
            names = (
                "item_ids",
                "valid",
                "clicks",
                "purchases",
                "day",
                "hour",
                "session_index",
                "session_step",
                "session_ended",
                "churned",
            )
            out = {name: getattr(step, name) for name in names}
            out["rewards"] = step.reward if rewards is None else rewards
            return out
        if not isinstance(step, Mapping):
            raise ValueError(
                f"step is a {type(step).__name__}: expected a StepOutcome or a vector env info dict"
            )
        missing = [key for key in INFO_KEYS if key not in step]
        if missing:
            raise ValueError(
                f"step (info dict) lacks keys {missing}: expected keys {list(INFO_KEYS)}"
            )
        out = {key: step[key] for key in INFO_KEYS if key != "slate_item_ids"}
        ids = np.asarray(step["slate_item_ids"])
        out["item_ids"] = ids
        out["valid"] = step["valid"] if "valid" in step else ~duplicate_mask(ids)
        out["rewards"] = rewards
        return out

    @staticmethod
    def _served(step: StepOutcome | Mapping[str, Any], served_mask: Any, n: int) -> np.ndarray:
        """The rows to count, ``(N,)`` bool."""
        info_mask = None
        if isinstance(step, Mapping) and "_clicks" in step:
            info_mask = bool_array("info['_clicks']", step["_clicks"], ndim=1)
        if served_mask is None:
            mask = np.ones(n, bool) if info_mask is None else info_mask
        else:
            mask = bool_array("served_mask", served_mask, ndim=1)
        if mask.shape != (n,):
            raise ValueError(f"served_mask has shape {mask.shape}: expected ({n},), one per row")
        if info_mask is not None and served_mask is not None:
            if info_mask.shape != (n,):
                raise ValueError(f"info['_clicks'] has shape {info_mask.shape}: expected ({n},)")
            subset("served_mask", mask, "info['_clicks']", info_mask)
        return mask

    # -- result -----------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        """Every metric of the steps added so far (a fresh dict; see the class docstring)."""
        s = self._n
        counts = self._item_counts
        shown = int(counts.sum())
        if self.catalog is None:
            coverage = entropy = entropy_norm = float("nan")
        else:
            topics = np.bincount(self.catalog.topic, counts, self.catalog.num_topics)
            coverage = coverage_of_counts(counts)
            entropy = entropy_of_counts(topics)
            entropy_norm = entropy_of_counts(topics, normalize=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_day = self._day_clicks / self._day_impressions
            per_hour = self._hour_clicks / self._hour_impressions
        return {
            "ctr": ratio(s["clicks"], s["impressions"]),
            "slate_ctr": ratio(s["clicked_slates"], s["slates"]),
            "conversion_rate": ratio(s["purchases"], s["clicks"]),
            "purchases_per_slate": ratio(s["purchases"], s["slates"]),
            "mean_reward": ratio(s["reward_sum"], s["rewarded_slates"]),
            "ild": ratio(s["ild_sum"], s["ild_slates"]),
            "coverage": coverage,
            "topic_entropy": entropy,
            "topic_entropy_normalized": entropy_norm,
            "novelty_rank": ratio(float(counts @ self._ranks), shown),
            "novelty": ratio(float(counts @ self._ranks_norm), shown),
            "mean_session_length": ratio(s["slates_in_ended_sessions"], s["sessions_ended"]),
            "return_rate": ratio(
                s["sessions_returned"], s["sessions_ended"] - s["sessions_churned"]
            ),
            "churn_rate_per_session": ratio(s["sessions_churned"], s["sessions_ended"]),
            "churn_rate_per_episode": ratio(s["sessions_churned"], s["episodes_started"]),
            "ctr_per_day": per_day,
            "ctr_per_hour": per_hour,
            "sessions_started_per_hour": self._hour_starts.copy(),
            **{key: int(s[key]) for key in ("slates", "impressions", "clicks", "purchases")},
            **{key: int(s[key]) for key in _SESSION_KEYS},
        }
