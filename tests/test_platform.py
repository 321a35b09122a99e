"""The platform view: the population on one clock, equal to the single env user by user."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from slategym.platform import Platform
from tests.conftest import SMALL


def _policy(obs: dict[str, np.ndarray]) -> np.ndarray:
    """A deterministic policy that depends on the observation (so trajectories must agree)."""
    score = obs["candidates"][:, :, 0] + 0.1 * obs["time"][:, 1:2]
    return np.argsort(-score, axis=1, kind="stable")[:, : SMALL["slate_size"]]


def _run(seed: int) -> tuple[list, Platform]:
    platform = Platform(**SMALL)
    platform.reset(seed=seed)
    log = []
    while not platform.finished:
        while (batch := platform.requests()) is not None:
            assert np.all(batch.minute < (platform.slot + 1) * 60)
            out = platform.serve(_policy(batch.observations))
            log.append((platform.slot, batch.rows.copy(), out.clicks.copy(), out.reward.copy()))
        platform.next_slot()
    return log, platform


def test_platform_is_deterministic_and_serves_by_slot() -> None:
    a, platform = _run(5)
    b, _ = _run(5)
    assert len(a) == len(b) and all(
        x[0] == y[0] and all(np.array_equal(u, v) for u, v in zip(x[1:], y[1:]))
        for x, y in zip(a, b)
    )
    slots = [entry[0] for entry in a]
    assert slots == sorted(slots)
    active_hours = {s % 24 for s in slots}
    assert len(active_hours) > 12
    assert platform.requests() is None  # finished


def test_platform_user_equals_vector_env_row() -> None:
    """Platform user ``u`` (stream ``(seed, u)``) is row ``u`` of a vector env reset with the same
    seed and ``options={"user_id": arange}``: the same request times, clicks and rewards."""
    seed = 9
    log, _ = _run(seed)
    n = SMALL["num_users"]
    envs = gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point", **SMALL)
    obs, info = envs.reset(seed=seed, options={"user_id": np.arange(n)})
    assert np.array_equal(info["user_id"], np.arange(n))
    rows: list[list] = [[] for _ in range(n)]
    ended = np.zeros(n, bool)
    while not ended.all():
        obs, reward, term, trunc, info = envs.step(_policy(obs))
        for u in np.flatnonzero(info["_clicks"] & ~ended):
            rows[u].append((info["day"][u] * 24 + info["hour"][u], info["clicks"][u], reward[u]))
        ended |= term | trunc
    for user in (0, 17, 42, n - 1):
        served = [(slot, clicks[ids == user][0], reward[ids == user][0])
                  for slot, ids, clicks, reward in log if user in ids]  # fmt: skip
        assert len(served) == len(rows[user]) > 0
        for (slot, clicks, r), (slot_v, clicks_v, r_v) in zip(served, rows[user]):
            assert slot == slot_v and np.array_equal(clicks, clicks_v) and r == r_v


def test_platform_protocol_errors() -> None:
    platform = Platform(**SMALL)
    with pytest.raises(RuntimeError, match="reset"):
        platform.requests()
    platform.reset(seed=0)
    while (batch := platform.requests()) is None:
        platform.next_slot()
    with pytest.raises(RuntimeError, match="serve"):
        platform.requests()
    with pytest.raises(ValueError, match="expected"):
        platform.serve(np.zeros((batch.size + 1, 4), int))


def test_platform_exposes_the_spaces_of_one_request() -> None:
    platform = Platform(**SMALL)
    platform.reset(seed=1)
    while (batch := platform.requests()) is None:
        platform.next_slot()
    row = {key: value[0] for key, value in batch.observations.items()}
    assert platform.observation_space.contains(row)
    assert platform.action_space.shape == (SMALL["slate_size"],)
