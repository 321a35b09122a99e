"""The timeline equals its documented formulas: hour-of-day profiles, minute -> (day, hour), the
clock (step minutes plus dwell), and sessions that end exactly at ``max_session_steps``.

Expected values are computed here from the docstrings of :mod:`slategym.timeline` and
:class:`~slategym.config.SlateRecConfig`, never with the function under test.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from slategym.timeline import (
    CHRONOTYPES,
    chronotype_profile,
    chronotype_profiles,
    minute_to_day_hour,
    truncated_exponential,
)
from tests.conftest import SMALL

BUMPS = {  # the docstring's table: centre hour, weight
    "morning": [(7.5, 1.0), (12.5, 0.4), (19.0, 0.35)],
    "evening": [(20.5, 1.0), (12.5, 0.3)],
    "night": [(23.5, 1.0), (1.5, 0.6), (18.0, 0.3)],
}
BUSIEST = {"morning": 7, "evening": 20, "night": 0}
LOCAL_MAXIMA = {"morning": [7, 18], "evening": [12, 20], "night": [0]}


def _profile(name: str) -> list[float]:
    """pi_h ∝ 0.05 + sum_b w_b exp(4 (cos(2 pi (h + 1/2 - c_b) / 24) - 1)), at slot middles."""
    rate = [
        0.05 + sum(w * math.exp(4.0 * (math.cos(2 * math.pi * (h + 0.5 - c) / 24) - 1.0))
                   for c, w in BUMPS[name])
        for h in range(24)
    ]  # fmt: skip
    return [r / sum(rate) for r in rate]


@pytest.mark.parametrize("name", CHRONOTYPES)
def test_chronotype_profile_is_the_documented_mixture(name: str) -> None:
    got = chronotype_profile(name)
    np.testing.assert_allclose(got, _profile(name), rtol=1e-12)
    assert int(np.argmax(got)) == BUSIEST[name]
    maxima = [h for h in range(24) if got[h] > got[(h - 1) % 24] and got[h] > got[(h + 1) % 24]]
    assert maxima == LOCAL_MAXIMA[name]
    np.testing.assert_allclose(chronotype_profiles()[CHRONOTYPES.index(name)], got, rtol=0)


def test_chronotype_profile_floor_and_concentration_parameters() -> None:
    got = chronotype_profile("evening", floor=0.2, concentration=1.5)
    rate = [0.2 + sum(w * math.exp(1.5 * (math.cos(2 * math.pi * (h + 0.5 - c) / 24) - 1.0))
                      for c, w in BUMPS["evening"]) for h in range(24)]  # fmt: skip
    np.testing.assert_allclose(got, np.array(rate) / sum(rate), rtol=1e-12)


def test_night_owls_are_busiest_just_after_midnight() -> None:
    night = chronotype_profile("night")
    assert night[0] > night[23] > night[1] > night[22]  # not symmetric around 23:30
    assert night[10] == night.min() or night[9] == night.min()  # the quiet late morning


def test_minute_to_day_hour_is_floor_division() -> None:
    minutes = [0.0, 0.5, 59.999, 60.0, 61.0, 719.9, 1439.999, 1440.0, 1500.0, 2879.0, 2880.0,
               9999.25, 7 * 1440.0 - 1e-6]  # fmt: skip
    day, hour = minute_to_day_hour(np.array(minutes))
    assert day.tolist() == [math.floor(m / 1440) for m in minutes]
    assert hour.tolist() == [math.floor(m / 60) % 24 for m in minutes]
    assert day.dtype == np.int64 and hour.dtype == np.int64
    d0, h0 = minute_to_day_hour(np.float64(1501.0))  # scalars too
    assert (int(d0), int(h0)) == (1, 1)


def test_truncated_exponential_is_the_conditioned_inverse_cdf() -> None:
    for upper in (0.3, 2.0, 9.0):
        for u in (0.0, 0.1, 0.5, 0.9, 0.999):
            x = float(truncated_exponential(np.array([u]), np.array([upper]))[0])
            # P(X <= x | X < upper) = (1 - e^-x) / (1 - e^-upper) must equal u
            assert (1 - math.exp(-x)) / (1 - math.exp(-upper)) == pytest.approx(u, abs=1e-12)


# -- the clock and the session cap in the env ------------------------------------------------------
NEVER_LEAVE = {"leave_bias": -40.0, "leave_streak": 0.0, "leave_satisfaction": 0.0,
               "churn_bias": -40.0, "churn_satisfaction": 0.0}  # fmt: skip


def test_the_clock_advances_by_step_minutes_plus_dwell() -> None:
    env = gym.make("SlateRec-v0", **SMALL, step_minutes=2.5, max_session_steps=500,
                   choice_model_kwargs={"no_click_logit": -1.0},
                   user_model_kwargs={**NEVER_LEAVE, "dwell_minutes": 4.0})  # fmt: skip
    env.reset(seed=3)
    sim_env = env.unwrapped
    clicked = 0
    for _ in range(60):
        before = float(sim_env.state.clock[0])
        _, _, term, trunc, info = env.step(np.arange(4))
        assert not (term or trunc or info["session_ended"])
        assert info["day"] == math.floor(before / 1440)
        assert info["hour"] == math.floor(before / 60) % 24
        expected = before + 2.5 + float(np.sum(info["dwell"]))
        assert float(sim_env.state.clock[0]) == pytest.approx(expected, rel=1e-12)
        clicked += int(np.sum(info["clicks"]))
    assert clicked > 30  # dwell was exercised


@pytest.mark.parametrize("cap", [1, 4])
def test_sessions_end_exactly_at_max_session_steps(cap: int) -> None:
    envs = gym.make_vec("SlateRec-v0", 16, vectorization_mode="vector_entry_point", **SMALL,
                        max_session_steps=cap, user_model_kwargs=NEVER_LEAVE)  # fmt: skip
    obs, _ = envs.reset(seed=0)
    capped = 0
    for _ in range(3 * cap + 4):
        assert np.all(obs["time"][:, 2] <= cap - 1)
        obs, _, term, trunc, info = envs.step(np.tile(np.arange(4), (16, 1)))
        served = info["_session_step"]
        step, ended = info["session_step"][served], info["session_ended"][served]
        assert np.all(step <= cap - 1)
        assert np.array_equal(ended, step == cap - 1)  # never earlier, never later
        capped += int(ended.sum())
    assert capped >= 16 * 2
