"""The platform view: the population on one clock, equal to the single env user by user."""

from __future__ import annotations

import numpy as np
import pytest

import slategym
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


def test_platform_user_equals_single_env_user() -> None:
    seed = 9
    log, _ = _run(seed)
    for user in (0, 17, 42):
        served = [(slot, clicks[rows == user][0], reward[rows == user][0])
                  for slot, rows, clicks, reward in log if user in rows]  # fmt: skip
        env = slategym.SlateRecEnv(**SMALL)
        obs, _ = env.reset(seed=seed + user, options={"user_id": user})
        for slot, clicks, reward in served:
            batch = {k: v[None] for k, v in obs.items()}
            obs, r, term, trunc, info = env.step(_policy(batch)[0])
            assert info["day"] * 24 + info["hour"] == slot
            assert np.array_equal(info["clicks"], clicks) and r == reward
        assert term or trunc  # the platform served this user's whole episode


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
