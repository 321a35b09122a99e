"""The timeline in data: hour-of-day habits, sessions that end, users who return, churn."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from slategym.timeline import (
    CHRONOTYPES,
    arrival_after,
    chronotype_profile,
    minute_to_day_hour,
    truncated_exponential,
)
from tests.conftest import random_slates


def _integrated_rate(start: float, end: float, profile: np.ndarray, daily_rate: float) -> float:
    """Integral of the piecewise-constant session rate by walking hour boundaries."""
    total, t = 0.0, start
    while t < end:
        boundary = min(end, (math.floor(t / 60.0) + 1) * 60.0)
        total += (boundary - t) / 60.0 * daily_rate * profile[int(t // 60) % 24]
        t = boundary
    return total


def test_arrival_inverts_the_integrated_rate_exactly() -> None:
    rng = np.random.default_rng(0)
    n = 200
    profiles = np.stack([chronotype_profile(CHRONOTYPES[i % 3]) for i in range(n)])
    start = rng.uniform(0, 3 * 1440, n)
    rate = rng.uniform(0.3, 5.0, n)
    draw = rng.exponential(size=n) * 3
    t = arrival_after(start, profiles, rate, draw)
    assert np.all(t >= start)
    got = [_integrated_rate(start[i], t[i], profiles[i], rate[i]) for i in range(n)]
    assert np.allclose(got, draw, rtol=1e-9, atol=1e-9)


def test_truncated_exponential_stays_below_its_bound() -> None:
    u = np.linspace(0, 1 - 1e-12, 1001)
    for upper in (0.01, 1.0, 30.0):
        x = truncated_exponential(u, np.full_like(u, upper))
        assert np.all((x >= 0) & (x < upper + 1e-9)) and np.all(np.diff(x) >= 0)


def _week(num_envs: int, steps: int, policy: str = "random", **config: object) -> dict:
    """Run a vector env and collect what the timeline tests look at."""
    envs = gym.make_vec("SlateRec-v0", num_envs, vectorization_mode="vector_entry_point", **config)
    envs.reset(seed=0)
    c = envs.unwrapped.config
    rng = np.random.default_rng(0)
    starts = np.zeros(24)
    lengths: list[int] = []
    ended = churned = episodes = 0
    sessions_per_episode: list[int] = []
    running_sessions = np.zeros(num_envs, int)
    for _ in range(steps):
        if policy == "random":
            slates = random_slates(rng, num_envs, c.num_candidates, c.slate_size)
        else:
            aff = envs.unwrapped.oracle_affinities()
            slates = np.argsort(-aff if policy == "best" else aff, axis=1)[:, : c.slate_size]
        _, _, term, trunc, info = envs.step(slates)
        served = info["_clicks"]
        first = served & (info["session_step"] == 0)
        np.add.at(starts, info["hour"][first], 1)
        end = served & info["session_ended"]
        lengths.extend((info["session_step"][end] + 1).tolist())
        ended += int(end.sum())
        churned += int((served & info["churned"]).sum())
        running_sessions += end
        done = term | trunc
        episodes += int(done.sum())
        sessions_per_episode.extend(running_sessions[done].tolist())
        running_sessions[done] = 0
    return {
        "starts": starts,
        "lengths": np.array(lengths),
        "ended": ended,
        "churned": churned,
        "episodes": episodes,
        "sessions_per_episode": np.array(sessions_per_episode),
        "config": c,
    }


@pytest.mark.parametrize("chronotype", CHRONOTYPES)
def test_sessions_per_hour_follow_the_hour_of_day_profile(chronotype: str) -> None:
    weights = tuple(1.0 if c == chronotype else 0.0 for c in CHRONOTYPES)
    run = _week(
        256,
        1500,
        num_users=300,
        user_model_kwargs={
            "chronotype_weights": weights,
            "chronotype_age_effect": 0.0,
            "hour_profile_concentration": math.inf,
        },
    )
    observed = run["starts"] / run["starts"].sum()
    assert run["starts"].sum() > 50_000
    tv = 0.5 * np.abs(observed - chronotype_profile(chronotype)).sum()
    tv_uniform = 0.5 * np.abs(observed - 1 / 24).sum()
    others = [c for c in CHRONOTYPES if c != chronotype]
    tv_other = min(0.5 * np.abs(observed - chronotype_profile(c)).sum() for c in others)
    # Sessions in progress and the minimum gap distort the process a little (measured ~0.03).
    assert tv < 0.06
    assert tv_uniform > 0.2 and tv_other > 0.2  # the check can fail for a wrong profile


def test_sessions_end_and_users_return() -> None:
    # A cap of 8 slates: about one session in twelve reaches it (measured), so the cap is exercised.
    run = _week(64, 1500, num_users=200, max_session_steps=8)
    c = run["config"]
    assert run["ended"] > 1000
    assert run["lengths"].min() >= 1 and run["lengths"].max() == c.max_session_steps == 8
    assert np.sum(run["lengths"] == 8) > 500  # capped sessions end at the cap, not one slate later
    assert 1.5 < run["lengths"].mean() < c.max_session_steps
    # most users come back for several sessions in a week
    assert run["episodes"] > 50
    assert np.mean(run["sessions_per_episode"] >= 2) > 0.8


def test_unhappy_users_churn_more() -> None:
    good = _week(128, 800, policy="best", num_users=300)
    bad = _week(128, 800, policy="worst", num_users=300)
    churn_good = good["churned"] / good["ended"]
    churn_bad = bad["churned"] / bad["ended"]
    assert churn_bad > 2 * churn_good
    assert bad["lengths"].mean() < good["lengths"].mean()


def test_the_hour_advances_inside_a_session() -> None:
    """Steps alone take 30 x 0.25 = 7.5 minutes; the hour moves on because of the dwell time."""
    env = gym.make("SlateRec-v0", num_users=50, max_session_steps=200, step_minutes=0.25,
                   choice_model_kwargs={"no_click_logit": -2.0},
                   user_model_kwargs={"leave_bias": -30.0, "leave_streak": 0.0,
                                      "leave_satisfaction": 0.0, "dwell_minutes": 15.0,
                                      "dwell_cap": 60.0})  # fmt: skip
    env.reset(seed=0)
    start = float(env.unwrapped.state.clock[0])
    hours, sessions, elapsed = [], [], 0.0
    for _ in range(30):
        _, _, term, trunc, info = env.step(np.arange(6))
        assert info["hour"] == math.floor((start + elapsed) / 60) % 24
        hours.append(info["hour"])
        sessions.append(info["session_index"])
        elapsed += 0.25 + float(np.sum(info["dwell"]))
        assert not (term or trunc)
    assert len(set(sessions)) == 1  # one long session ...
    assert len(set(hours)) >= 3  # ... spanning several hourly slots, through the dwell alone


def test_catalog_ages_when_new_items_arrive() -> None:
    envs = gym.make_vec("SlateRec-v0", 32, vectorization_mode="vector_entry_point",
                        num_items=100, num_candidates=10, slate_size=2, days=4,
                        new_items_per_day=25)  # fmt: skip
    obs, _ = envs.reset(seed=0)
    for _ in range(200):
        day = obs["time"][:, 0].astype(int)
        ids = obs["candidate_ids"]
        lo = (day * 25)[:, None]
        assert np.all((ids >= lo) & (ids < lo + 100))
        assert all(len(set(row)) == 10 for row in ids)
        obs, *_ = envs.step(np.tile([0, 1], (32, 1)))
    assert envs.unwrapped.sim.catalog.total == 100 + 25 * 3


def test_minute_to_day_hour() -> None:
    day, hour = minute_to_day_hour(np.array([0.0, 59.9, 60.0, 1439.0, 1440.0, 3000.0]))
    assert day.tolist() == [0, 0, 0, 0, 1, 2]
    assert hour.tolist() == [0, 0, 1, 23, 0, 2]
