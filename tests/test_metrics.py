"""Metrics: hand-computed cases for every function, the accumulator against the pure functions,
the confidence interval against scipy, bad inputs, and a vector-env run."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from slategym.catalog import Catalog, generate_catalog
from slategym.metrics import (
    Aggregate,
    ArrayAggregate,
    MetricsAccumulator,
    aggregate,
    aggregate_runs,
    catalog_coverage,
    churn_rate_per_episode,
    churn_rate_per_session,
    conversion_rate,
    ctr_per_impression,
    intra_list_diversity,
    mean_reward,
    mean_session_length,
    novelty,
    popularity_ranks,
    purchases_per_slate,
    return_rate,
    session_counts,
    session_lengths,
    sessions_started_per_hour,
    slate_ctr,
    topic_entropy,
)
from slategym.platform import Platform
from slategym.slates import duplicate_mask
from slategym.types import StepOutcome

T, F = True, False
NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# engagement
# ---------------------------------------------------------------------------------------------
def test_ctr_per_impression_counts_clicks_over_shown_items() -> None:
    clicks = [[T, F, F], [F, T, T]]
    assert ctr_per_impression(clicks) == 3 / 6
    # a repeated item (invalid position) is not an impression: 1 click over 2 shown items
    assert ctr_per_impression([[T, F, F]], valid=[[T, F, T]]) == 1 / 2
    assert ctr_per_impression([[F, F], [F, F]]) == 0.0


def test_ctr_edge_cases() -> None:
    assert math.isnan(ctr_per_impression(np.zeros((0, 3), bool)))
    assert ctr_per_impression([[1, 0]]) == 0.5  # 0/1 integers are accepted as bools
    with pytest.raises(ValueError, match="clicks .* valid"):
        ctr_per_impression([[F, T]], valid=[[T, F]])  # a click on a position not shown
    with pytest.raises(ValueError, match="clicks"):
        ctr_per_impression([T, F])  # not (N, K)
    with pytest.raises(ValueError, match="clicks"):
        ctr_per_impression([[0.5, 0.0]])
    with pytest.raises(ValueError, match="valid"):
        ctr_per_impression([[T, F]], valid=[[T, T, T]])


def test_slate_ctr_is_the_share_of_slates_with_a_click() -> None:
    assert slate_ctr([[T, F], [F, F], [T, T], [F, F]]) == 2 / 4
    assert slate_ctr([[F, F, F]]) == 0.0
    assert slate_ctr([[T]]) == 1.0  # single-item slate
    assert math.isnan(slate_ctr(np.zeros((0, 2), bool)))


def test_conversion_rate_is_purchases_per_click() -> None:
    clicks = [[T, T, F], [T, F, T]]
    purchases = [[T, F, F], [F, F, F]]
    assert conversion_rate(clicks, purchases) == 1 / 4
    assert math.isnan(conversion_rate([[F, F]], [[F, F]]))  # no clicks: undefined
    with pytest.raises(ValueError, match="purchases .* clicks"):
        conversion_rate([[T, F]], [[F, T]])
    with pytest.raises(ValueError, match="purchases"):
        conversion_rate([[T, F]], [[T, F, F]])


def test_purchases_per_slate() -> None:
    assert purchases_per_slate([[T, T, F], [F, F, T], [F, F, F], [F, F, F]]) == 3 / 4
    assert math.isnan(purchases_per_slate(np.zeros((0, 3), bool)))


def test_mean_reward() -> None:
    assert mean_reward([1.0, 2.0, 3.0, 6.0]) == 3.0
    assert mean_reward([[1.0, 0.0], [0.0, 0.0]]) == 0.25
    assert math.isnan(mean_reward([]))
    with pytest.raises(ValueError, match="rewards"):
        mean_reward([1.0, math.nan])
    with pytest.raises(ValueError, match="rewards"):
        mean_reward(["a"])


# ---------------------------------------------------------------------------------------------
# diversity
# ---------------------------------------------------------------------------------------------
def test_ild_cosine_of_a_three_item_slate() -> None:
    feats = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # d(e1, e2) = 1; d(e1, (1,1)) = d(e2, (1,1)) = 1 - 1/sqrt(2)
    expected = (1.0 + 2.0 * (1.0 - 1.0 / math.sqrt(2.0))) / 3.0
    assert intra_list_diversity([[0, 1, 2]], feats) == pytest.approx(expected, abs=1e-12)
    # cosine ignores lengths
    assert intra_list_diversity([[0, 1, 2]], 3.0 * feats) == pytest.approx(expected, abs=1e-12)
    # opposite vectors are at distance 2, identical ones at 0
    assert intra_list_diversity([[0, 1]], [[1.0, 0.0], [-2.0, 0.0]]) == pytest.approx(2.0)
    assert intra_list_diversity([[0, 1]], [[1.0, 2.0], [1.0, 2.0]]) == pytest.approx(0.0, abs=1e-12)


def test_ild_euclidean_of_a_three_four_five_triangle() -> None:
    feats = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert intra_list_diversity([[0, 1, 2]], feats, metric="euclidean") == pytest.approx(4.0)


def test_ild_averages_slates_not_pairs() -> None:
    feats = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [0.0, 10.0]])
    # slate A: 3 pairs of mean 4; slate B: one pair at distance 10 -> (4 + 10) / 2, not 22 / 4
    got = intra_list_diversity([[0, 1, 2], [0, 3, 3]], feats, [[T, T, T], [T, T, F]], "euclidean")
    assert got == pytest.approx(7.0)


def test_ild_masks_duplicates_and_excludes_single_item_slates() -> None:
    feats = np.array([[1.0, 0.0], [0.0, 1.0]])
    # [0, 0, 1] with the repeat masked: one pair (0, 1) at distance 1
    assert intra_list_diversity([[0, 0, 1]], feats, valid=[[T, F, T]]) == pytest.approx(1.0)
    # unmasked, the repeat counts: pairs (0,0)=0, (0,1)=1, (0,1)=1
    assert intra_list_diversity([[0, 0, 1]], feats) == pytest.approx(2.0 / 3.0)
    # a slate with one valid item has no pair and is excluded from the mean
    two = intra_list_diversity([[0, 0, 0], [0, 1, 1]], feats, valid=[[T, F, F], [T, T, F]])
    assert two == pytest.approx(1.0)
    assert math.isnan(intra_list_diversity([[0]], feats))  # K = 1
    assert math.isnan(intra_list_diversity([[1, 1]], feats, valid=[[T, F]]))


def test_ild_bad_inputs() -> None:
    feats = np.array([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="zero vector"):
        intra_list_diversity([[0, 1]], feats)
    assert intra_list_diversity([[0, 1]], feats, metric="euclidean") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="metric"):
        intra_list_diversity([[0, 1]], feats, metric="jaccard")
    with pytest.raises(ValueError, match="item_ids"):
        intra_list_diversity([[0, 2]], feats)
    with pytest.raises(ValueError, match="item_ids"):
        intra_list_diversity([[0.0, 1.0]], feats)
    with pytest.raises(ValueError, match="item_features"):
        intra_list_diversity([[0, 1]], [1.0, 0.0])


def test_catalog_coverage() -> None:
    assert catalog_coverage([[0, 1, 1], [2, 3, 0]], num_items=8) == 4 / 8
    # a masked position does not count as shown
    assert catalog_coverage([[0, 5]], num_items=10, valid=[[T, F]]) == 1 / 10
    assert catalog_coverage(np.zeros((0, 3), np.int64), num_items=5) == 0.0
    with pytest.raises(ValueError, match="item_ids"):
        catalog_coverage([[0, 8]], num_items=8)
    with pytest.raises(ValueError, match="item_ids"):
        catalog_coverage([[-1, 0]], num_items=8)
    with pytest.raises(ValueError, match="num_items"):
        catalog_coverage([[0]], num_items=0)


def test_topic_entropy() -> None:
    topics = [0, 0, 1, 2]
    # shown topics 0, 0, 1, 2 -> shares 1/2, 1/4, 1/4
    h = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert h == pytest.approx(1.5 * math.log(2.0))
    assert topic_entropy([[0, 1], [2, 3]], topics, 3) == pytest.approx(h)
    assert topic_entropy([[0, 1], [2, 3]], topics, 3, normalize=True) == pytest.approx(
        h / math.log(3.0)
    )
    assert topic_entropy([[0, 1]], topics, 3) == 0.0  # one topic only
    # uniform over all T topics reaches log T
    assert topic_entropy([[0, 2, 3]], topics, 3) == pytest.approx(math.log(3.0))
    # the masked repeat of item 0 does not count: shares 1/2, 1/2
    assert topic_entropy([[0, 0, 2]], topics, 3, valid=[[T, F, T]]) == pytest.approx(math.log(2))
    assert math.isnan(topic_entropy(np.zeros((0, 2), np.int64), topics, 3))
    assert math.isnan(topic_entropy([[0]], [0], 1, normalize=True))  # log 1 = 0


def test_topic_entropy_bad_inputs() -> None:
    with pytest.raises(ValueError, match="topics"):
        topic_entropy([[0]], [0, 3], 3)
    with pytest.raises(ValueError, match="num_topics"):
        topic_entropy([[0]], [0], 0)
    with pytest.raises(ValueError, match="item_ids"):
        topic_entropy([[2]], [0, 1], 2)


def test_popularity_ranks_and_novelty() -> None:
    pop = [0.5, 0.1, 0.3, 0.1]
    # 0.5 -> 1, 0.3 -> 2, the two 0.1 tie on ranks 3 and 4 -> 3.5
    np.testing.assert_array_equal(popularity_ranks(pop), [1.0, 3.5, 2.0, 3.5])
    np.testing.assert_allclose(
        popularity_ranks(pop, normalize=True), [0.0, 2.5 / 3, 1 / 3, 2.5 / 3]
    )
    # shown items 0, 2, 1, 0: ranks 1, 2, 3.5, 1
    assert novelty([[0, 2], [1, 0]], pop) == pytest.approx(7.5 / 4)
    assert novelty([[0, 2], [1, 0]], pop, normalize=True) == pytest.approx((1 / 3 + 2.5 / 3) / 4)
    assert novelty([[0, 2, 2]], pop, valid=[[T, T, F]]) == pytest.approx(1.5)
    assert novelty([[0]], pop, normalize=True) == 0.0  # only the most popular item
    assert math.isnan(novelty(np.zeros((0, 2), np.int64), pop))
    assert popularity_ranks([0.7], normalize=True).tolist() == [0.0]
    with pytest.raises(ValueError, match="popularity"):
        novelty([[0]], [])
    with pytest.raises(ValueError, match="popularity"):
        novelty([[0]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="item_ids"):
        novelty([[4]], pop)


# ---------------------------------------------------------------------------------------------
# sessions
# ---------------------------------------------------------------------------------------------
def _session_stream() -> dict[str, np.ndarray]:
    """Two rows over 7 steps, ``(T, N)``; row 0 is auto-reset (unserved) at step 5.

    row 0: session 0 (3 slates, ends) -> session 1 (2 slates, ends and churns) -> [reset] ->
           new episode, session 0 (1 slate, ends; no return seen before the stream stops)
    row 1: session 0 (2 slates, ends) -> session 1 (1 slate, ends) -> session 2 (4 slates, open)
    """
    row0 = [
        (0, 0, F, F, T),
        (0, 1, F, F, T),
        (0, 2, T, F, T),
        (1, 0, F, F, T),
        (1, 1, T, T, T),
        (0, 0, T, T, F),
        (0, 0, T, F, T),
    ]  # the unserved step (row 0, step 5) holds junk
    row1 = [
        (0, 0, F, F, T),
        (0, 1, T, F, T),
        (1, 0, T, F, T),
        (2, 0, F, F, T),
        (2, 1, F, F, T),
        (2, 2, F, F, T),
        (2, 3, F, F, T),
    ]
    names = ("session_index", "session_step", "session_ended", "churned", "served")
    out = {}
    for j, name in enumerate(names):
        dtype = np.int64 if name.startswith("session_i") or name == "session_step" else bool
        out[name] = np.array([[a[j], b[j]] for a, b in zip(row0, row1)], dtype=dtype)
    out["hour"] = np.array([[7, 7], [7, 7], [8, 7], [9, 8], [9, 9], [0, 9], [23, 9]], np.int64)
    return out


def test_session_metrics_on_a_hand_stream() -> None:
    s = _session_stream()
    ended, step, served = s["session_ended"], s["session_step"], s["served"]
    assert sorted(session_lengths(ended, step, served).tolist()) == [1, 1, 2, 2, 3]
    assert mean_session_length(ended, step, served) == pytest.approx(9 / 5)
    # ended without churn: row0 x2, row1 x2; returns: row0 session 1, row1 sessions 1 and 2
    args = (ended, s["churned"], s["session_index"], step, served)
    assert return_rate(*args) == pytest.approx(3 / 4)
    assert churn_rate_per_session(ended, s["churned"], served) == pytest.approx(1 / 5)
    # episode starts: row0 twice, row1 once; one churn
    assert churn_rate_per_episode(s["churned"], s["session_index"], step, served) == 1 / 3
    assert session_counts(*args) == {
        "sessions_started": 6,
        "episodes_started": 3,
        "sessions_ended": 5,
        "sessions_churned": 1,
        "sessions_returned": 3,
        "slates_in_ended_sessions": 9,
    }
    per_hour = sessions_started_per_hour(s["hour"], step, served)
    # starts: row 0 at steps 0, 3, 6 (hours 7, 9, 23); row 1 at steps 0, 2, 3 (hours 7, 7, 8)
    expected = np.zeros(24, np.int64)
    expected[7], expected[8], expected[9], expected[23] = 3, 1, 1, 1
    np.testing.assert_array_equal(per_hour, expected)
    # the unserved step matters: counting it would add a churned episode start
    assert churn_rate_per_episode(s["churned"], s["session_index"], step) == pytest.approx(2 / 4)


def test_session_metrics_without_sessions_are_nan() -> None:
    no = np.zeros(3, bool)
    steps = np.array([0, 1, 2])
    assert math.isnan(mean_session_length(no, steps))
    assert session_lengths(no, steps).shape == (0,)
    assert math.isnan(return_rate(no, no, np.zeros(3, np.int64), steps))
    assert math.isnan(churn_rate_per_session(no, no))
    assert math.isnan(churn_rate_per_episode(no, np.ones(3, np.int64), steps))


def test_session_metrics_bad_inputs() -> None:
    with pytest.raises(ValueError, match="churned .* session_ended"):
        churn_rate_per_session([F, F], [T, F])
    with pytest.raises(ValueError, match="session_step"):
        mean_session_length([T], [-1])
    with pytest.raises(ValueError, match="session_step"):
        mean_session_length([T, F], [0])
    with pytest.raises(ValueError, match="session_index"):
        return_rate([T], [F], [0.5], [0])
    with pytest.raises(ValueError, match="served"):
        churn_rate_per_episode([F], [0], [0], served=[T, T])
    with pytest.raises(ValueError, match="hour"):
        sessions_started_per_hour([24], [0])


# ---------------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------------
def test_aggregate_matches_the_student_t_interval() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # by hand: mean 3, s^2 = 10 / 4, sem = sqrt(2.5 / 5), t_{0.975, 4} = 2.7764451...
    half = 2.7764451051977934 * math.sqrt(0.5)
    m, lo, hi = aggregate(x)
    assert (m, lo, hi) == pytest.approx((3.0, 3.0 - half, 3.0 + half), rel=1e-12)
    y = np.array([2.1, 2.5, 1.9, 2.8, 2.2, 3.0, 1.7])
    for confidence in (0.9, 0.95, 0.99):
        lo_s, hi_s = stats.t.interval(confidence, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
        got = aggregate(y, confidence=confidence)
        assert got == pytest.approx((y.mean(), lo_s, hi_s), rel=1e-12)


def test_aggregate_edge_cases() -> None:
    single = aggregate([0.4])
    assert isinstance(single, Aggregate)
    assert single.mean == 0.4 and math.isnan(single.low) and math.isnan(single.high)
    assert aggregate([0.2, 0.2, 0.2]) == pytest.approx((0.2, 0.2, 0.2))
    assert all(math.isnan(v) for v in aggregate([1.0, NAN, 2.0]))
    omitted = aggregate([1.0, NAN, 2.0, 3.0], nan_policy="omit")
    assert omitted == pytest.approx(tuple(aggregate([1.0, 2.0, 3.0])))
    with pytest.raises(ValueError, match="nan_policy"):
        aggregate([1.0, NAN], nan_policy="raise")
    with pytest.raises(ValueError, match="nan_policy"):
        aggregate([1.0], nan_policy="ignore")
    with pytest.raises(ValueError, match="values"):
        aggregate([])
    with pytest.raises(ValueError, match="values"):
        aggregate([[1.0, 2.0]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="confidence"):
        aggregate([1.0, 2.0], confidence=1.0)


def test_aggregate_runs_scalars_and_arrays() -> None:
    runs = [
        {"ctr": 0.1, "per_hour": np.array([0.0, 1.0]), "slates": 10},
        {"ctr": 0.2, "per_hour": np.array([0.5, 1.0]), "slates": 12},
        {"ctr": 0.4, "per_hour": np.array([1.0, 1.0]), "slates": 11},
    ]
    out = aggregate_runs(runs)
    assert out["ctr"] == pytest.approx(tuple(aggregate([0.1, 0.2, 0.4])))
    assert out["slates"] == pytest.approx(tuple(aggregate([10, 12, 11])))
    per_hour = out["per_hour"]
    assert isinstance(per_hour, ArrayAggregate)
    assert per_hour.mean.shape == (2,)
    np.testing.assert_allclose(np.stack(per_hour)[:, 0], aggregate([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(np.stack(per_hour)[:, 1], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="keys"):
        aggregate_runs([{"ctr": 0.1}, {"slate_ctr": 0.1}])
    with pytest.raises(ValueError, match="shape"):
        aggregate_runs([{"x": np.zeros(2)}, {"x": np.zeros(3)}])
    with pytest.raises(ValueError, match="runs"):
        aggregate_runs([])


# ---------------------------------------------------------------------------------------------
# accumulator
# ---------------------------------------------------------------------------------------------
def _catalog(num_items: int = 30, num_topics: int = 4, seed: int = 0) -> Catalog:
    return generate_catalog(num_items, num_topics, 3, 1, 0, 0.5, np.random.default_rng(seed))


def _info(**rows: Any) -> dict[str, Any]:
    """A vector-env-like info dict; every key masked by ``_key`` = served."""
    served = np.asarray(rows.pop("served"))
    info: dict[str, Any] = {}
    for key, value in rows.items():
        info[key], info["_" + key] = np.asarray(value), served.copy()
    return info


def test_accumulator_on_a_hand_step() -> None:
    cat = _catalog()
    info = _info(
        slate_item_ids=[[0, 0, 1], [2, 3, 4], [5, 6, 7]],
        clicks=[[T, F, F], [F, F, F], [T, T, T]],
        purchases=[[T, F, F], [F, F, F], [F, F, F]],
        day=[0, 1, 0],
        hour=[5, 6, 0],
        session_index=[0, 1, 0],
        session_step=[0, 0, 4],
        session_ended=[F, T, T],
        churned=[F, F, T],
        served=[T, T, F],  # the third row is being reset: its values are junk
    )
    acc = MetricsAccumulator(cat)
    acc.add_step(info, rewards=np.array([1.0, 0.0, 9.0]))
    out = acc.result()
    # shown: row 0 items 0, 1 (the repeat is masked), row 1 items 2, 3, 4
    assert out["slates"] == 2 and out["impressions"] == 5 and out["clicks"] == 1
    assert out["ctr"] == pytest.approx(1 / 5)
    assert out["slate_ctr"] == pytest.approx(1 / 2)
    assert out["conversion_rate"] == 1.0
    assert out["purchases_per_slate"] == 0.5
    assert out["mean_reward"] == 0.5
    assert out["coverage"] == pytest.approx(5 / 30)
    lat = cat.latent
    d = lambda i, j: 1.0 - lat[i] @ lat[j] / np.linalg.norm(lat[i]) / np.linalg.norm(lat[j])  # noqa: E731
    ild = (d(0, 1) + (d(2, 3) + d(2, 4) + d(3, 4)) / 3) / 2
    assert out["ild"] == pytest.approx(ild)
    q = np.bincount(cat.topic[[0, 1, 2, 3, 4]], minlength=4) / 5
    q = q[q > 0]
    assert out["topic_entropy"] == pytest.approx(-(q * np.log(q)).sum())
    ranks = stats.rankdata(-cat.popularity)
    assert out["novelty_rank"] == pytest.approx(ranks[[0, 1, 2, 3, 4]].mean())
    assert out["novelty"] == pytest.approx((ranks[[0, 1, 2, 3, 4]].mean() - 1) / 29)
    assert out["mean_session_length"] == 1.0
    assert out["return_rate"] == 1.0  # row 1's start with session_index 1 follows an end
    assert out["churn_rate_per_session"] == 0.0
    assert out["churn_rate_per_episode"] == 0.0
    np.testing.assert_allclose(out["ctr_per_day"], [1 / 2, 0 / 3])
    assert out["ctr_per_hour"][5] == 0.5 and out["ctr_per_hour"][6] == 0.0
    assert np.isnan(out["ctr_per_hour"][[0, 1, 7]]).all()
    assert out["sessions_started_per_hour"][[5, 6]].tolist() == [1, 1]
    assert out["sessions_started_per_hour"].sum() == 2


def test_accumulator_without_steps_or_rewards() -> None:
    out = MetricsAccumulator(_catalog()).result()
    assert out["slates"] == 0 and out["coverage"] == 0.0
    for key in (
        "ctr",
        "slate_ctr",
        "conversion_rate",
        "ild",
        "topic_entropy",
        "novelty",
        "mean_session_length",
        "return_rate",
        "churn_rate_per_episode",
        "mean_reward",
    ):
        assert math.isnan(out[key]), key


def _random_infos(
    cat: Catalog, rng: np.random.Generator, steps: int, n: int, k: int
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Random step infos (with duplicates, unserved rows, clicks only on shown items)."""
    out = []
    for _ in range(steps):
        ids = rng.integers(0, cat.total, (n, k))
        if k > 1:
            ids[:, -1] = np.where(rng.random(n) < 0.3, ids[:, 0], ids[:, -1])  # some repeats
        valid = ~duplicate_mask(ids)
        clicks = (rng.random((n, k)) < 0.3) & valid
        ended = rng.random(n) < 0.3
        info = _info(
            slate_item_ids=ids,
            clicks=clicks,
            purchases=clicks & (rng.random((n, k)) < 0.5),
            day=rng.integers(0, 3, n),
            hour=rng.integers(0, 24, n),
            session_index=rng.integers(0, 3, n),
            session_step=rng.integers(0, 3, n),
            session_ended=ended,
            churned=ended & (rng.random(n) < 0.2),
            served=rng.random(n) < 0.8,
        )
        out.append((info, rng.normal(size=n)))
    return out


def _pure_metrics(
    cat: Catalog, infos: list[dict[str, Any]], rewards: list[np.ndarray], served: list[np.ndarray]
) -> dict[str, Any]:
    """Every metric by the pure functions on the served rows of all steps at once."""

    def cat_rows(key: str) -> np.ndarray:
        return np.concatenate([np.asarray(i[key])[m] for i, m in zip(infos, served)])

    ids = cat_rows("slate_item_ids")
    valid = ~duplicate_mask(ids)
    clicks, purchases = cat_rows("clicks"), cat_rows("purchases")
    ended, churned = cat_rows("session_ended"), cat_rows("churned")
    index, step = cat_rows("session_index"), cat_rows("session_step")
    day, hour = cat_rows("day"), cat_rows("hour")
    r = np.concatenate([x[m] for x, m in zip(rewards, served)])
    days = int(day.max()) + 1
    return {
        "ctr": ctr_per_impression(clicks, valid),
        "slate_ctr": slate_ctr(clicks),
        "conversion_rate": conversion_rate(clicks, purchases),
        "purchases_per_slate": purchases_per_slate(purchases),
        "mean_reward": mean_reward(r),
        "ild": intra_list_diversity(ids, cat.latent, valid),
        "coverage": catalog_coverage(ids, cat.total, valid),
        "topic_entropy": topic_entropy(ids, cat.topic, cat.num_topics, valid),
        "topic_entropy_normalized": topic_entropy(ids, cat.topic, cat.num_topics, valid, True),
        "novelty_rank": novelty(ids, cat.popularity, valid),
        "novelty": novelty(ids, cat.popularity, valid, normalize=True),
        "mean_session_length": mean_session_length(ended, step),
        "return_rate": return_rate(ended, churned, index, step),
        "churn_rate_per_session": churn_rate_per_session(ended, churned),
        "churn_rate_per_episode": churn_rate_per_episode(churned, index, step),
        "ctr_per_day": np.array(
            [ctr_per_impression(clicks[day == d], valid[day == d]) for d in range(days)]
        ),
        "ctr_per_hour": np.array(
            [ctr_per_impression(clicks[hour == h], valid[hour == h]) for h in range(24)]
        ),
        "sessions_started_per_hour": sessions_started_per_hour(hour, step),
        "slates": ids.shape[0],
        **session_counts(ended, churned, index, step),
    }


def _assert_same(acc: dict[str, Any], pure: dict[str, Any]) -> None:
    for key, expected in pure.items():
        np.testing.assert_allclose(acc[key], expected, rtol=1e-9, atol=1e-12, err_msg=key)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 5), n=st.integers(1, 8))
def test_accumulator_equals_the_pure_functions_on_random_streams(seed: int, k: int, n: int) -> None:
    cat = _catalog(seed=seed % 7)
    rng = np.random.default_rng(seed)
    stream = _random_infos(cat, rng, steps=6, n=n, k=k)
    acc = MetricsAccumulator()
    for info, r in stream:
        acc.add_step(info, info["_clicks"], cat, rewards=r)
    infos = [i for i, _ in stream]
    pure = _pure_metrics(cat, infos, [r for _, r in stream], [i["_clicks"] for i in infos])
    _assert_same(acc.result(), pure)


def _outcome_to_info(outcome: StepOutcome) -> dict[str, Any]:
    """The vector env's info for a step where every row was served (no ``valid`` key)."""
    keys = {
        "slate_item_ids": "item_ids",
        "clicks": "clicks",
        "purchases": "purchases",
        "day": "day",
        "hour": "hour",
        "session_index": "session_index",
        "session_step": "session_step",
        "session_ended": "session_ended",
        "churned": "churned",
    }
    n = outcome.item_ids.shape[0]
    info: dict[str, Any] = {}
    for key, field in keys.items():
        info[key], info["_" + key] = getattr(outcome, field).copy(), np.ones(n, bool)
    return info


def test_accumulator_on_platform_outcomes_equals_pure_functions_and_info_path() -> None:
    platform = Platform(num_users=60, num_items=200, num_candidates=20, slate_size=4, days=1)
    platform.reset(seed=3)
    cat = platform.sim.catalog
    rng = np.random.default_rng(0)
    from_outcomes = MetricsAccumulator(cat)
    from_infos = MetricsAccumulator(cat)
    outcomes: list[StepOutcome] = []
    while not platform.finished:
        while (batch := platform.requests()) is not None:
            slates = rng.integers(0, 20, (batch.size, 4))  # with repeats
            outcome = platform.serve(slates)
            from_outcomes.add_step(outcome)
            from_infos.add_step(_outcome_to_info(outcome), rewards=outcome.reward)
            outcomes.append(outcome)
        platform.next_slot()
    assert sum(o.n_duplicates.sum() for o in outcomes) > 0  # repeats were exercised
    a, b = from_outcomes.result(), from_infos.result()
    assert a.keys() == b.keys()
    _assert_same(a, b)
    infos = [_outcome_to_info(o) for o in outcomes]
    pure = _pure_metrics(
        cat, infos, [o.reward for o in outcomes], [np.ones(o.reward.size, bool) for o in outcomes]
    )
    _assert_same(a, pure)
    # with the platform every user starts exactly one episode
    assert a["episodes_started"] == 60


def test_accumulator_memory_does_not_grow_with_steps() -> None:
    cat = _catalog()
    acc = MetricsAccumulator(cat, num_days=3)

    def footprint() -> int:
        return sum(v.nbytes for v in vars(acc).values() if isinstance(v, np.ndarray))

    stream = _random_infos(cat, np.random.default_rng(1), steps=60, n=8, k=3)
    for info, r in stream[:5]:
        acc.add_step(info, rewards=r)
    before = footprint()
    for info, r in stream[5:]:
        acc.add_step(info, rewards=r)
    assert footprint() == before
    assert acc.result()["ctr_per_day"].shape == (3,)


def test_accumulator_euclidean_and_custom_features() -> None:
    cat = _catalog()
    feats = np.random.default_rng(2).normal(size=(cat.total, 5))
    stream = _random_infos(cat, np.random.default_rng(3), steps=4, n=6, k=3)
    acc = MetricsAccumulator(cat, item_features=feats, ild_metric="euclidean")
    for info, r in stream:
        acc.add_step(info, rewards=r)
    ids = np.concatenate([i["slate_item_ids"][i["_clicks"]] for i, _ in stream])
    expected = intra_list_diversity(ids, feats, ~duplicate_mask(ids), metric="euclidean")
    assert acc.result()["ild"] == pytest.approx(expected)


def test_accumulator_bad_inputs() -> None:
    cat = _catalog()
    info, rewards = _random_infos(cat, np.random.default_rng(4), steps=1, n=4, k=3)[0]
    with pytest.raises(ValueError, match="catalog"):
        MetricsAccumulator().add_step(info)
    acc = MetricsAccumulator(cat)
    with pytest.raises(ValueError, match="catalog"):
        acc.add_step(info, catalog=_catalog(num_items=40))
    acc.add_step(info, catalog=cat)  # the same catalog again is fine
    broken = {k: v for k, v in info.items() if k != "session_step"}
    with pytest.raises(ValueError, match="session_step"):
        acc.add_step(broken)
    partly = dict(info, _clicks=np.array([T, T, F, T]))
    with pytest.raises(ValueError, match="served_mask"):
        acc.add_step(partly, served_mask=np.ones(4, bool))  # a row the env did not serve
    with pytest.raises(ValueError, match="served_mask"):
        acc.add_step(info, served_mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="step"):
        acc.add_step([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rewards"):
        acc.add_step(info, rewards=np.ones(5))
    bad_clicks = dict(info, clicks=np.ones_like(info["clicks"]), purchases=info["clicks"])
    bad_clicks["slate_item_ids"] = np.zeros_like(info["slate_item_ids"])  # all repeats
    bad_clicks["_clicks"] = np.ones(4, bool)
    with pytest.raises(ValueError, match="clicks .* valid"):
        acc.add_step(bad_clicks)
    with pytest.raises(ValueError, match="ild_metric"):
        MetricsAccumulator(cat, ild_metric="manhattan")
    with pytest.raises(ValueError, match="item_features"):
        MetricsAccumulator(cat, item_features=np.ones((3, 2)))
    with pytest.raises(ValueError, match="num_days"):
        MetricsAccumulator(cat, num_days=0)
    with pytest.raises(ValueError, match="day"):
        MetricsAccumulator(cat, num_days=1).add_step(dict(info, day=np.full(4, 2)))
    with pytest.raises(ValueError, match="catalog"):
        MetricsAccumulator("catalog")  # type: ignore[arg-type]


def test_accumulator_rejects_a_catalog_with_other_items() -> None:
    cat = _catalog()
    other = dataclasses.replace(cat, popularity=cat.popularity[::-1].copy())
    acc = MetricsAccumulator(cat)
    info, _ = _random_infos(cat, np.random.default_rng(5), steps=1, n=2, k=2)[0]
    with pytest.raises(ValueError, match="catalog"):
        acc.add_step(info, catalog=other)


# ---------------------------------------------------------------------------------------------
# integration: the native vector env
# ---------------------------------------------------------------------------------------------
def test_vector_env_run_gives_finite_metrics_in_range() -> None:
    envs = gym.make_vec(
        "SlateRec-v0", num_envs=16, vectorization_mode="vector_entry_point", num_users=100, days=2
    )
    envs.reset(seed=0)
    envs.action_space.seed(0)
    cat = envs.unwrapped.sim.catalog
    acc = MetricsAccumulator()
    served_total = 0
    for _ in range(200):
        _, rewards, _, _, info = envs.step(envs.action_space.sample())  # random, with repeats
        acc.add_step(info, info["_clicks"], cat, rewards=rewards)
        served_total += int(info["_clicks"].sum())
    envs.close()
    out = acc.result()
    assert out["slates"] == served_total > 16 * 150
    scalars = {k: v for k, v in out.items() if np.ndim(v) == 0}
    for key, value in scalars.items():
        assert math.isfinite(value), key
    for key in (
        "ctr",
        "slate_ctr",
        "conversion_rate",
        "coverage",
        "topic_entropy_normalized",
        "novelty",
        "return_rate",
        "churn_rate_per_session",
        "churn_rate_per_episode",
    ):
        assert 0.0 <= out[key] <= 1.0, key
    assert out["clicks"] > 0 and out["purchases"] > 0 and out["sessions_ended"] > 0
    assert 0.0 < out["coverage"]
    assert 0.0 <= out["topic_entropy"] <= math.log(cat.num_topics) + 1e-12
    assert 0.0 < out["ild"] <= 2.0
    assert 1.0 <= out["novelty_rank"] <= cat.total
    assert 1.0 <= out["mean_session_length"] <= envs.unwrapped.config.max_session_steps
    assert 0.0 <= out["purchases_per_slate"] <= out["ctr"] * 6
    assert out["mean_reward"] == pytest.approx(out["clicks"] / out["slates"])  # "click" reward
    assert out["ctr_per_day"].shape == (2,)
    assert np.all((out["ctr_per_day"] >= 0) & (out["ctr_per_day"] <= 1))
    hourly = out["ctr_per_hour"][~np.isnan(out["ctr_per_hour"])]
    assert hourly.size > 0 and np.all((hourly >= 0) & (hourly <= 1))
    assert out["sessions_started_per_hour"].sum() == out["sessions_started"]
    assert out["sessions_started"] >= out["episodes_started"] >= 16
