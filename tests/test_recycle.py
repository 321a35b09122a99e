"""``slategym.recycle``: arrays handed out as fresh are reused only once nothing else holds them,
and the vector env's ``copy=True`` observations stay intact for as long as the caller keeps them."""

from __future__ import annotations

import gc
import weakref

import gymnasium as gym
import numpy as np
import pytest

from slategym import kernels
from slategym.recycle import Recycler
from slategym.vector_env import SlateRecVectorEnv

SMALL = {"num_items": 80, "num_candidates": 10, "slate_size": 2, "num_users": 30, "days": 1}
compiled_only = pytest.mark.skipif(
    kernels.unavailable_reason() is not None, reason="numba is not installed (the fast extra)"
)


def _pool() -> Recycler:
    return Recycler(lambda: {"a": np.zeros(4), "b": np.zeros((2, 3), np.float32)})


def test_a_dropped_set_is_reused_and_a_held_one_is_not() -> None:
    pool = _pool()
    first = pool.get()
    second = pool.get()
    assert first["a"] is not second["a"]
    ids = {k: id(v) for k, v in first.items()}
    del first
    third = pool.get()
    assert {k: id(v) for k, v in third.items()} == ids
    assert third["a"] is not second["a"]


@pytest.mark.parametrize(
    "hold",
    [
        lambda s: s["b"],  # one array of the set
        lambda s: s["b"][1:],  # a view (it holds its base)
        lambda s: memoryview(s["a"]),
        lambda s: [s],  # the dict, inside something else
        lambda s: np.asarray(s["a"]),  # the same array object
    ],
    ids=["array", "view", "memoryview", "container", "asarray"],
)
def test_any_reference_left_keeps_the_set_out_of_reuse(hold) -> None:  # type: ignore[no-untyped-def]
    pool = _pool()
    kept = hold(pool.get())
    gc.collect()
    again = pool.get()
    assert not any(np.shares_memory(again[k], v) for k in again for v in _arrays(kept))


def _arrays(kept: object) -> list[np.ndarray]:
    if isinstance(kept, list):
        return [a for s in kept for a in s.values()]
    return [np.asarray(kept)]


def test_at_most_keep_sets_are_tracked() -> None:
    pool = Recycler(lambda: {"a": np.zeros(2)}, keep=2)
    held = [pool.get() for _ in range(5)]  # all held: five sets made, two tracked
    assert len({id(h["a"]) for h in held}) == 5
    del held[0:3]  # the three oldest were forgotten: dropping them frees nothing tracked
    fourth, fifth = (id(h["a"]) for h in held)
    assert id(pool.get()["a"]) not in {fourth, fifth}


@compiled_only
def test_copy_true_observations_kept_by_the_caller_never_change() -> None:
    envs = SlateRecVectorEnv(16, backend="compiled", **SMALL)
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(1)
    kept = [(obs, {k: v.copy() for k, v in obs.items()})]
    for t in range(20):
        actions = np.stack([rng.permutation(10)[:2] for _ in range(16)])
        obs = envs.step(actions)[0]
        if t % 3 == 0:  # keep some, drop the others
            kept.append((obs, {k: v.copy() for k, v in obs.items()}))
    for held, snapshot in kept:
        for key, value in snapshot.items():
            np.testing.assert_array_equal(held[key], value, err_msg=key)


@compiled_only
def test_copy_true_reuses_the_arrays_of_a_dropped_observation() -> None:
    envs = SlateRecVectorEnv(16, backend="compiled", **SMALL)
    envs.reset(seed=2)
    actions = np.tile(np.arange(2), (16, 1))
    first = weakref.ref(envs.step(actions)[0]["candidate_ids"])  # dropped at once
    assert first() is not None  # kept by the env for reuse (freed, it would be gone)
    assert any(envs.step(actions)[0]["candidate_ids"] is first() for _ in range(2))


@compiled_only
def test_single_env_observations_kept_by_the_caller_never_change() -> None:
    env = gym.make("SlateRec-v0", backend="compiled", **SMALL)
    obs, _ = env.reset(seed=3)
    kept = [(obs, {k: v.copy() for k, v in obs.items()})]
    for t in range(40):
        obs, _, terminated, truncated, _ = env.step(np.array([t % 10, (t + 1) % 10]))
        if t % 4 == 0:
            kept.append((obs, {k: v.copy() for k, v in obs.items()}))
        if terminated or truncated:
            obs, _ = env.reset()
    for held, snapshot in kept:
        for key, value in snapshot.items():
            np.testing.assert_array_equal(held[key], value, err_msg=key)


@compiled_only
def test_single_env_reuses_the_arrays_of_a_dropped_observation() -> None:
    env = gym.make("SlateRec-v0", backend="compiled", **{**SMALL, "days": 30})
    env.reset(seed=4)
    seen: list[weakref.ref] = []  # the (1, C) arrays behind obs["candidate_ids"] so far
    for t in range(12):
        base = env.step(np.array([t % 10, (t + 3) % 10]))[0]["candidate_ids"].base
        if not any(base is ref() for ref in seen):
            seen.append(weakref.ref(base))
        del base  # the observation is dropped
    assert len(seen) <= 3  # fresh arrays every step would make 12
