"""``info_keys``: a slim step ``info`` on request, the whole dict still available from
``last_step_info()``, the same trajectories whatever the keys."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import slategym  # noqa: F401  (registers the ids)
from slategym.types import STEP_INFO_FIELDS
from slategym.vector_env import SlateRecVectorEnv

SMALL = {"num_items": 60, "num_candidates": 8, "slate_size": 3, "num_users": 20, "days": 2}


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_single_env_slim_info_and_last_step_info(backend: str) -> None:
    full = gym.make("SlateRec-v0", backend=backend, **SMALL)
    slim = gym.make("SlateRec-v0", backend=backend, info_keys=("clicks", "purchases"), **SMALL)
    none = gym.make("SlateRec-v0", backend=backend, info_keys=(), **SMALL)
    for env in (full, slim, none):
        env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(40):
        action = rng.permutation(SMALL["num_candidates"])[: SMALL["slate_size"]]
        o_f, r_f, t_f, u_f, i_f = full.step(action)
        o_s, r_s, t_s, u_s, i_s = slim.step(action)
        o_n, r_n, t_n, u_n, i_n = none.step(action)
        assert list(i_f) == list(STEP_INFO_FIELDS)
        assert list(i_s) == ["clicks", "purchases"] and i_n == {}
        assert (r_f, t_f, u_f) == (r_s, t_s, u_s) == (r_n, t_n, u_n)
        _same(o_f, o_s)
        _same(o_f, o_n)
        _same({k: i_f[k] for k in i_s}, i_s)
        _same(slim.unwrapped.last_step_info(), i_f)  # type: ignore[attr-defined]
        _same(none.unwrapped.last_step_info(), i_f)  # type: ignore[attr-defined]
        if t_f or u_f:
            for env in (full, slim, none):
                env.reset()


def test_last_step_info_needs_a_step() -> None:
    env = gym.make("SlateRec-v0", **SMALL)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="call step"):
        env.unwrapped.last_step_info()  # type: ignore[attr-defined]
    envs = SlateRecVectorEnv(2, **SMALL)
    envs.reset(seed=0)
    with pytest.raises(RuntimeError, match="call step"):
        envs.last_step_info()


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_vector_env_slim_info(mode: str) -> None:
    kwargs = {**SMALL, "days": 1, "max_session_steps": 3}
    full = SlateRecVectorEnv(16, autoreset_mode=mode, max_episode_steps=5, **kwargs)
    slim = SlateRecVectorEnv(
        16, autoreset_mode=mode, max_episode_steps=5, info_keys=("clicks",), **kwargs
    )
    full.reset(seed=1)
    slim.reset(seed=1)
    rng = np.random.default_rng(1)
    ended_seen = 0
    for _ in range(30):
        actions = np.stack([rng.permutation(8)[:3] for _ in range(16)])
        o_f, r_f, t_f, u_f, i_f = full.step(actions)
        o_s, r_s, t_s, u_s, i_s = slim.step(actions)
        _same(o_f, o_s)
        np.testing.assert_array_equal(r_f, r_s)
        np.testing.assert_array_equal(t_f | u_f, t_s | u_s)
        reset_keys = {"user_id", "day", "hour", "_user_id", "_day", "_hour"}
        finals = {"final_obs", "_final_obs", "final_info", "_final_info"}
        assert {"clicks", "_clicks"} <= set(i_s) <= {"clicks", "_clicks"} | reset_keys | finals
        _same({"clicks": i_f["clicks"], "_clicks": i_f["_clicks"]},
              {"clicks": i_s["clicks"], "_clicks": i_s["_clicks"]})  # fmt: skip
        if "final_info" in i_s:
            ended_seen += 1
            assert set(i_s["final_info"]) == {"clicks", "_clicks"}
            _same({k: i_f["final_info"][k] for k in ("clicks", "_clicks")}, i_s["final_info"])
        # the whole dict on request: every step key of every stepped row (SAME_STEP's ended rows
        # included: their values are the full env's final_info)
        whole = slim.last_step_info()
        assert [k for k in whole if not k.startswith("_")] == list(STEP_INFO_FIELDS)
        for key in STEP_INFO_FIELDS:
            expected = i_f[key].copy()
            if "final_info" in i_f:
                rows = i_f["_final_info"]
                expected[rows] = i_f["final_info"][key][rows]
            stepped = whole["_" + key]
            np.testing.assert_array_equal(whole[key][stepped], expected[stepped], err_msg=key)
    if mode == "SameStep":
        assert ended_seen > 0  # the test went through autoresets


@pytest.mark.parametrize(
    "value", ["clicks", ("clicks", "clicks"), ("reward",), 5], ids=["str", "repeat", "unknown", "int"]
)
def test_bad_info_keys_name_the_parameter(value: Any) -> None:
    with pytest.raises(ValueError, match="info_keys=.*is not allowed.*'clicks'"):
        gym.make("SlateRec-v0", info_keys=value)
