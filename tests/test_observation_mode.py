"""``observation="ids"``: the observation without copied item features, and the shared item table.

The ids observation is the full one minus ``candidates`` and ``history`` plus ``history_response``;
``item_features[candidate_ids]`` and ``item_features[history_ids]`` give back the copied features
exactly, on both backends, and the mode changes no trajectory.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import check_obs
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import slategym
from slategym import kernels
from slategym.config import SlateRecConfig
from slategym.platform import Platform
from slategym.vector_env import SlateRecVectorEnv
from tests.conftest import SMALL

FEATURE_KEYS = {"candidates", "history"}
BACKENDS = [
    "numpy",
    pytest.param(
        "compiled",
        marks=pytest.mark.skipif(
            kernels.unavailable_reason() is not None, reason="numba is not installed (fast extra)"
        ),
    ),
]


def _ids_keys(full_keys: Any) -> set[str]:
    return (set(full_keys) - FEATURE_KEYS) | {"history_response"}


def _assert_ids_matches_full(ids: dict, full: dict, table: np.ndarray, where: str) -> None:
    """``ids`` is ``full`` without the feature copies, which the table gives back exactly."""
    assert set(ids) == _ids_keys(full), where
    for key in set(ids) - {"history_response"}:
        assert ids[key].dtype == full[key].dtype, f"{where}[{key!r}]"
        assert np.array_equal(ids[key], full[key]), f"{where}[{key!r}]"
    f = table.shape[1]
    assert np.array_equal(table[ids["candidate_ids"]], full["candidates"]), where
    assert np.array_equal(table[ids["history_ids"]], full["history"][..., :f]), where
    assert ids["history_response"].dtype == np.float32
    assert np.array_equal(ids["history_response"], full["history"][..., f:]), where


def test_a_bad_mode_names_the_parameter_the_value_and_the_allowed_ones() -> None:
    message = re.escape("observation='features' is not allowed: expected one of ['full', 'ids']")
    with pytest.raises(ValueError, match=message):
        SlateRecConfig(observation="features")
    with pytest.raises(ValueError, match=message):
        gym.make("SlateRec-v0", observation="features")
    with pytest.raises(ValueError, match=message):
        gym.make_vec("SlateRec-v0", 2, vectorization_mode="vector_entry_point",
                     observation="features")  # fmt: skip
    with pytest.raises(ValueError, match="observation=None is not allowed"):
        SlateRecConfig(observation=None)  # type: ignore[arg-type]


def test_the_ids_space_drops_the_feature_copies_and_adds_the_responses() -> None:
    full = slategym.SlateRecEnv(**SMALL).observation_space
    ids = slategym.SlateRecEnv(observation="ids", **SMALL).observation_space
    assert set(ids.spaces) == _ids_keys(full.spaces)
    for key in set(ids.spaces) - {"history_response"}:
        assert ids[key] == full[key], key
    response = ids["history_response"]
    length = SMALL.get("history_length", 10)
    assert isinstance(response, gym.spaces.Box) and response.dtype == np.float32
    assert response.shape == (length, 2)
    assert np.all(response.low == 0.0) and np.all(response.high == 1.0)


def test_the_item_table_is_shared_read_only_and_padded_for_empty_slots() -> None:
    env = gym.make("SlateRec-v0", observation="ids", new_items_per_day=5, **SMALL)
    vec = SlateRecVectorEnv(3, observation="ids", new_items_per_day=5, **SMALL)
    table = env.unwrapped.item_features
    catalog = env.unwrapped.sim.catalog
    assert table.shape == (catalog.total + 1, catalog.num_features) and table.dtype == np.float32
    assert catalog.total == SMALL["num_items"] + 5 * (SMALL["days"] - 1)  # released items included
    assert not table.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        table[0, 0] = 1.0
    assert np.array_equal(table[-1], np.zeros(catalog.num_features))  # what id -1 indexes
    assert np.array_equal(vec.item_features, table)  # same catalog seed, same table
    platform = Platform(observation="ids", new_items_per_day=5, **SMALL)
    assert np.array_equal(platform.sim.item_features, table)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ids_observations_are_the_full_ones_through_the_table(backend: str) -> None:
    """Vector env, 64 rows x 60 steps with autoresets: the same trajectory in both modes, and
    ``item_features`` gives back every copied feature bit for bit; the single env likewise."""
    n, config = 64, {**SMALL, "days": 1, "backend": backend}
    envs = {mode: SlateRecVectorEnv(n, observation=mode, **config) for mode in ("full", "ids")}
    table = envs["ids"].item_features
    obs = {mode: env.reset(seed=5)[0] for mode, env in envs.items()}
    _assert_ids_matches_full(obs["ids"], obs["full"], table, "reset")
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(60):
        slates = rng.integers(0, SMALL["num_candidates"], (n, SMALL["slate_size"]))
        out = {mode: env.step(slates) for mode, env in envs.items()}
        _assert_ids_matches_full(out["ids"][0], out["full"][0], table, f"step {t}")
        for i in (1, 2, 3):
            assert np.array_equal(out["ids"][i], out["full"][i]), f"output {i}, step {t}"
        ended += int((out["ids"][2] | out["ids"][3]).sum())
    assert ended > 0  # autoresets were compared too
    assert np.count_nonzero(out["ids"][0]["history_response"]) > 0  # clicks were recorded

    single = {m: gym.make("SlateRec-v0", observation=m, **config) for m in ("full", "ids")}
    first = {m: env.reset(seed=2)[0] for m, env in single.items()}
    _assert_ids_matches_full(first["ids"], first["full"], table, "single reset")
    for t in range(30):
        action = rng.permutation(SMALL["num_candidates"])[: SMALL["slate_size"]]
        steps = {m: env.step(action) for m, env in single.items()}
        _assert_ids_matches_full(steps["ids"][0], steps["full"][0], table, f"single step {t}")
        if steps["ids"][2] or steps["ids"][3]:
            first = {m: env.reset()[0] for m, env in single.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_ids_mode_passes_both_checkers(backend: str) -> None:
    env = gym.make("SlateRec-v0", observation="ids", backend=backend, **SMALL)
    assert (env.unwrapped.sim.kernel is not None) == (backend == "compiled")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 recommends flattening 2-D observations
        check_env(env.unwrapped, skip_render_check=False)
        sb3_check_env(gym.make("SlateRec-v0", observation="ids", backend=backend,
                               **SMALL).unwrapped)  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_ids_vector_env_keeps_its_space_and_equals_sync(backend: str) -> None:
    """What the conformance tests hold of the vector env, in the ids mode: batched observations
    inside the batched space, fresh arrays every step, and row i equal to a single env."""
    n, config = 6, {**SMALL, "observation": "ids", "backend": backend}
    vec = gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point", **config)
    sync = gym.vector.SyncVectorEnv([lambda: slategym.SlateRecEnv(**config) for _ in range(n)])
    assert vec.single_observation_space == sync.single_observation_space
    seeds = [3 * i + 1 for i in range(n)]
    obs_v, _ = vec.reset(seed=seeds)
    obs_s, _ = sync.reset(seed=seeds)
    check_obs(obs_v, vec.observation_space, "reset")
    rng = np.random.default_rng(1)
    for t in range(80):
        slates = rng.integers(0, SMALL["num_candidates"], (n, SMALL["slate_size"]))
        before = obs_v
        (obs_v, *rest_v), (obs_s, *rest_s) = vec.step(slates), sync.step(slates)
        check_obs(obs_v, vec.observation_space, "step")
        assert set(obs_v) == set(obs_s)
        for key in obs_v:
            assert np.array_equal(obs_v[key], obs_s[key]), f"{key}, step {t}"
            assert not np.shares_memory(obs_v[key], before[key]), key
        for i in range(3):
            assert np.array_equal(rest_v[i], rest_s[i]), f"output {i}, step {t}"


@pytest.mark.parametrize("env_id", slategym.ENV_IDS)
def test_every_registered_world_offers_the_ids_mode(env_id: str) -> None:
    """Each world (extra user-model keys kept) on its default backend, a short rollout in both modes."""
    envs = {m: gym.make(env_id, observation=m) for m in ("full", "ids")}
    table = envs["ids"].unwrapped.item_features
    space = envs["ids"].observation_space
    obs = {m: env.reset(seed=1)[0] for m, env in envs.items()}
    assert set(space.spaces) == _ids_keys(envs["full"].observation_space.spaces)
    _assert_ids_matches_full(obs["ids"], obs["full"], table, env_id)
    assert space.contains(obs["ids"])
    for t in range(5):
        action = envs["ids"].action_space.sample()
        out = {m: env.step(action) for m, env in envs.items()}
        _assert_ids_matches_full(out["ids"][0], out["full"][0], table, f"{env_id} step {t}")
        assert space.contains(out["ids"][0])
        if out["ids"][2] or out["ids"][3]:
            break


def test_agents_refuse_an_ids_env_naming_the_mode() -> None:
    from agents.base import check_observations
    from agents.registry import make_agent

    env = gym.make("SlateRec-v0", observation="ids", **SMALL)
    with pytest.raises(ValueError, match=re.escape('made with observation="ids"')):
        make_agent("random", env)
    obs = {k: v[None] for k, v in env.reset(seed=0)[0].items()}
    with pytest.raises(ValueError, match=re.escape('made with observation="ids"')):
        check_observations(obs, SMALL["slate_size"])
    make_agent("random", gym.make("SlateRec-v0", **SMALL))  # the default mode is unaffected


def test_popularity_scorer_names_the_observation_mode() -> None:
    from slategym.data.scorers import make_scorer

    env = gym.make("SlateRec-v0", observation="ids", num_users=20)
    obs, _ = env.reset(seed=0)
    batched = {key: value[None] for key, value in obs.items()}
    with pytest.raises(ValueError, match='observation="ids"'):
        make_scorer("popularity")(batched, np.zeros((1, 50)))
