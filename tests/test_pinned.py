"""Pinned trajectories: refactors of the simulator must leave ``SlateRec-v0`` bit for bit unchanged.

A behaviour change of a registered id needs a new version (``SlateRec-v1``) and a line in its Version
History, never a silent re-pin. The hashes cover every observation, reward, flag and info value of a
fixed-seed rollout with a fixed sequence of slates (duplicates included), for the single env, the
native vector env (autoresets included) and the platform view.

Re-pinned once, for slategym 0.2's seeding change (random streams keyed by ``(seed, row)``; see the
Version History of :class:`slategym.env.SlateRecEnv`). Nothing else may move these hashes.
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np

import slategym
from slategym.platform import Platform

CONFIG = {"num_items": 300, "num_candidates": 20, "slate_size": 4, "num_users": 60, "days": 2}


def _feed(h: hashlib._Hash, value: object) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            h.update(key.encode())
            _feed(h, value[key])
    elif isinstance(value, (tuple, list)):
        for item in value:
            _feed(h, item)
    else:
        arr = np.ascontiguousarray(value)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())


def single_env_digest(env_id: str = "SlateRec-v0", steps: int = 400, **config: object) -> str:
    env = gym.make(env_id, **{**CONFIG, **config})
    space = env.action_space
    rng = np.random.default_rng(123)
    h = hashlib.sha256()
    _feed(h, env.reset(seed=5))
    for _ in range(steps):
        slate = rng.integers(0, space.nvec, dtype=np.int64)  # type: ignore[attr-defined]
        obs, reward, terminated, truncated, info = env.step(slate)
        _feed(h, (obs, reward, terminated, truncated, info))
        if terminated or truncated:
            _feed(h, env.reset())
    return h.hexdigest()


def vector_env_digest(env_id: str = "SlateRec-v0", steps: int = 200, **config: object) -> str:
    envs = gym.make_vec(env_id, 8, vectorization_mode="vector_entry_point", **{**CONFIG, **config})
    rng = np.random.default_rng(7)
    h = hashlib.sha256()
    _feed(h, envs.reset(seed=3))
    for _ in range(steps):
        slates = rng.integers(0, CONFIG["num_candidates"], (8, CONFIG["slate_size"]))
        _feed(h, envs.step(slates))
    return h.hexdigest()


def platform_digest(env_id: str = "SlateRec-v0") -> str:
    platform = Platform(slategym.world_config(env_id, **CONFIG))
    platform.reset(seed=2)
    rng = np.random.default_rng(11)
    h = hashlib.sha256()
    while not platform.finished:
        while (batch := platform.requests()) is not None:
            _feed(h, (batch.rows, batch.observations, batch.minute))
            slates = np.argsort(rng.random((batch.size, CONFIG["num_candidates"])), axis=1)
            outcome = platform.serve(slates[:, : CONFIG["slate_size"]])
            _feed(h, (outcome.clicks, outcome.purchases, outcome.dwell, outcome.reward))
        platform.next_slot()
    return h.hexdigest()


PINNED = {
    "single": "24bbb910f7536811d8b90ba2c9a15484c286acc77aaec815b2ab7157990eb82a",
    "vector": "f1c004184e70367ede6126782a74629736a0ad0d0815a0994a4edf66b579cb07",
    "platform": "f0befa5e116f56d85c2caa0f15b8a47f86569384f1411c44d3fdefe78b7e2119",
}


def test_single_env_trajectory_is_pinned() -> None:
    assert single_env_digest() == PINNED["single"]


def test_vector_env_trajectory_is_pinned() -> None:
    assert vector_env_digest() == PINNED["vector"]


def test_platform_trajectory_is_pinned() -> None:
    assert platform_digest() == PINNED["platform"]


def test_the_pinned_ids_are_registered() -> None:
    assert "SlateRec-v0" in slategym.ENV_IDS
