"""Conformance: Gymnasium and SB3 checkers, determinism, pickling, vector == sync, no global RNG."""

from __future__ import annotations

import pickle
import random
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import slategym
from tests.conftest import SMALL, random_slates

CHOICE_MODELS = slategym.registered_choice_models()


@pytest.mark.parametrize("env_id", slategym.ENV_IDS)
def test_registered_ids_pass_both_checkers(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 recommends flattening 2-D observations
        check_env(gym.make(env_id).unwrapped, skip_render_check=False)
        sb3_check_env(gym.make(env_id).unwrapped)


# RecSim's users need RecSim's items (durations, topics, clickbait scores): test them in their world
WORLD_OF_USER_MODEL = {
    "recsim_interest_evolution": "SlateRec-InterestEvolution-v0",
    "recsim_interest_exploration": "SlateRec-InterestExploration-v0",
    "recsim_long_term_satisfaction": "SlateRec-LongTermSatisfaction-v0",
}


@pytest.mark.parametrize("choice_model", CHOICE_MODELS)
@pytest.mark.parametrize("user_model", slategym.registered_user_models())
def test_every_model_passes_checker(choice_model: str, user_model: str) -> None:
    world = WORLD_OF_USER_MODEL.get(user_model, "SlateRec-v0")
    env = gym.make(world, choice_model=choice_model, choice_model_kwargs={},
                   user_model=user_model, **SMALL)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)


def test_step_returns_python_scalars_and_fresh_arrays() -> None:
    env = gym.make("SlateRec-v0", **SMALL)
    obs0, _ = env.reset(seed=1)
    obs1, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    for key in obs0:
        assert obs0[key] is not obs1[key]
        assert not np.shares_memory(obs0[key], obs1[key])
    for key in ("clicks", "purchases", "slate_item_ids", "day", "hour", "session_step",
                "n_duplicates"):  # fmt: skip
        assert key in info


def _rollout(env: gym.Env, seed: int, steps: int) -> list:
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    for _ in range(steps):
        slate = random_slates(rng, 1, SMALL["num_candidates"], SMALL["slate_size"])[0]
        obs, r, term, trunc, info = env.step(slate)
        trace.append((obs, r, term, trunc, info["clicks"], info["hour"]))
        if term or trunc:
            obs, _ = env.reset()
            trace.append(obs)
    return trace


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return bool(np.array_equal(a, b))


def test_same_seed_same_trajectory_single() -> None:
    a = _rollout(gym.make("SlateRec-v0", **SMALL), 7, 300)
    b = _rollout(gym.make("SlateRec-v0", **SMALL), 7, 300)
    c = _rollout(gym.make("SlateRec-v0", **SMALL), 8, 300)
    assert _same(a, b)
    assert not _same(a, c)


def test_pickled_env_continues_identically() -> None:
    env = slategym.SlateRecEnv(**SMALL)
    env.reset(seed=3)
    for _ in range(5):
        if any(env.step(np.arange(SMALL["slate_size"]))[2:4]):
            env.reset()
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(50):
        slate = np.arange(SMALL["slate_size"])
        out_a, out_b = env.step(slate), clone.step(slate)
        assert _same(out_a[:4], out_b[:4]) and _same(out_a[4], out_b[4])
        if out_a[2] or out_a[3]:
            assert _same(env.reset(), clone.reset())


def test_no_global_random_state_is_used() -> None:
    np.random.seed(123)  # noqa: NPY002  (the legacy global state is what we watch)
    random.seed(123)
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    env = gym.make("SlateRec-v0", **SMALL)
    _rollout(env, 0, 100)
    envs = gym.make_vec("SlateRec-v0", 4, vectorization_mode="vector_entry_point", **SMALL)
    envs.reset(seed=0)
    envs.step(np.tile(np.arange(SMALL["slate_size"]), (4, 1)))
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(x, y) for x, y in zip(np_state[1:], after[1:]))
    assert random.getstate() == py_state


def test_vector_env_equals_sync_vector_env() -> None:
    n, steps = 8, 300
    vec = gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point", **SMALL)
    sync = gym.vector.SyncVectorEnv([lambda: slategym.SlateRecEnv(**SMALL) for _ in range(n)])
    assert isinstance(vec.unwrapped, gym.vector.VectorEnv)
    seeds = [11 + 3 * i for i in range(n)]  # per-row seeds: row i is a single env reset with seeds[i]
    obs_v, info_v = vec.reset(seed=seeds)
    obs_s, info_s = sync.reset(seed=seeds)
    assert _same(obs_v, obs_s)
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(steps):
        # duplicates included: the env must treat them the same way in both
        slates = rng.integers(0, SMALL["num_candidates"], (n, SMALL["slate_size"]))
        out_v, out_s = vec.step(slates), sync.step(slates)
        assert _same(out_v[0], out_s[0]), f"observations differ at step {t}"
        for i in (1, 2, 3):
            assert np.array_equal(out_v[i], out_s[i]), f"output {i} differs at step {t}"
        info_v, info_s = out_v[4], out_s[4]
        assert set(info_s) <= set(info_v)
        for key in info_s:
            assert np.array_equal(info_v[key], info_s[key]), f"info[{key!r}] differs at step {t}"
        ended += int((out_v[2] | out_v[3]).sum())
    assert ended > n  # autoreset was exercised


def test_vector_env_is_deterministic_and_seeds_matter() -> None:
    def trace(seed: int) -> list:
        envs = gym.make_vec("SlateRec-v0", 16, vectorization_mode="vector_entry_point", **SMALL)
        rng = np.random.default_rng(0)
        out = [envs.reset(seed=seed)[0]]
        for _ in range(100):
            out.append(envs.step(random_slates(rng, 16, 20, 4))[:4])
        return out

    assert _same(trace(1), trace(1))
    assert not _same(trace(1), trace(2))


def test_vector_env_reset_mask_resets_only_masked_rows() -> None:
    """Masked rows start a new episode on their own stream, exactly as a single env's reset()
    without a seed does; the other rows keep their observation and carry on."""
    seeds = [21, 22, 23, 24]
    config = {**SMALL, "user_model_kwargs": {"leave_bias": -40.0, "churn_bias": -40.0}}
    envs = gym.make_vec("SlateRec-v0", 4, vectorization_mode="vector_entry_point", **config)
    singles = [slategym.SlateRecEnv(**config) for _ in seeds]
    envs.reset(seed=seeds)
    for env, seed in zip(singles, seeds):
        env.reset(seed=seed)
    slates = np.tile(np.arange(4), (4, 1))
    for _ in range(3):
        obs, _, term, trunc, _ = envs.step(slates)
        assert not (term | trunc).any()
        for env in singles:
            env.step(slates[0])
    assert (obs["time"][:, 2] > 0).any() or (obs["history_ids"] >= 0).any()  # rows moved on
    mask = np.array([True, False, False, True])
    obs2, info = envs.reset(options={"reset_mask": mask})
    assert np.array_equal(info["_user_id"], mask)
    for k in obs:
        assert np.array_equal(obs[k][~mask], obs2[k][~mask])
    for i in np.flatnonzero(mask):
        fresh, fresh_info = singles[i].reset()  # a new episode on the same stream
        assert _same({k: v[i] for k, v in obs2.items()}, fresh)
        assert info["user_id"][i] == fresh_info["user_id"]
        assert obs2["time"][i, 2] == 0 and np.all(obs2["history_ids"][i] == -1)
    # the reset rows go on as the single envs do, the others as before
    out = envs.step(slates)
    for i in np.flatnonzero(mask):
        assert _same({k: v[i] for k, v in out[0].items()}, singles[i].step(slates[0])[0])
