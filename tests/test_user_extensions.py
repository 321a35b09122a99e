"""User models declare their own state and observation entries; episodes can be one session."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

import slategym
from slategym.catalog import Catalog
from slategym.platform import Platform
from slategym.users import DefaultUserModel, Population, Response, UserState
from tests.conftest import SMALL


@dataclass(frozen=True)
class BudgetUser(DefaultUserModel):
    """The default user with a time budget (hidden), a mood (observable) and an extra observation.

    Each slate costs one minute plus the dwell; the session ends when the budget is spent, and the
    user then churns. The observation gains ``budget_share``, the share of the budget left.
    """

    budget: float = 8.0
    EXTRA_STATE = ("budget_left",)

    def initial_state(self, population, catalog, user_ids, uniforms=None, slate_size=None):  # type: ignore[no-untyped-def]
        state = super().initial_state(population, catalog, user_ids, uniforms, slate_size)
        extra = {"budget_left": np.full(user_ids.shape[0], self.budget)}
        return dataclasses.replace(state, extra=extra)

    def observation_spaces(self, population: Population, catalog: Catalog, slate_size: int):  # type: ignore[no-untyped-def]
        return {
            **super().observation_spaces(population, catalog, slate_size),
            "budget_share": spaces.Box(0.0, 1.0, (1,), np.float32),
        }

    def observe(self, population: Population, state: UserState, catalog: Catalog):  # type: ignore[no-untyped-def]
        share = np.clip(state.extra["budget_left"] / self.budget, 0.0, 1.0)
        return {**super().observe(population, state, catalog),
                "budget_share": share[:, None].astype(np.float32)}  # fmt: skip

    def respond(self, population, state, catalog, item_ids, affinities, clicks, session_full, uniforms):  # type: ignore[no-untyped-def]
        new, resp = super().respond(
            population, state, catalog, item_ids, affinities, clicks, session_full, uniforms
        )
        left = state.extra["budget_left"] - 1.0 - (resp.dwell * clicks).sum(axis=1)
        spent = left <= 0
        new = dataclasses.replace(new, extra={"budget_left": left})
        resp = dataclasses.replace(
            resp, session_end=resp.session_end | spent, churn=resp.churn | spent
        )
        return new, resp


def test_extra_state_and_observation_entries_without_editing_the_simulator() -> None:
    env = gym.make("SlateRec-v0", user_model=BudgetUser(), **SMALL)
    check_env(env.unwrapped)
    assert "budget_share" in env.observation_space.spaces  # type: ignore[attr-defined]
    obs, _ = env.reset(seed=0)
    assert obs["budget_share"].tolist() == [1.0]
    shares = [1.0]
    for _ in range(500):
        obs, _, terminated, truncated, info = env.step(np.arange(4))
        if terminated or truncated:
            break
        shares.append(float(obs["budget_share"][0]))
    assert terminated and info["churned"]
    assert np.all(np.diff(shares) < 0)  # the budget only goes down
    assert env.unwrapped.state.user.extra["budget_left"][0] <= 0


def test_extra_state_in_the_vector_env_and_the_platform() -> None:
    n = 5
    vec = gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point",
                       user_model=BudgetUser(), **SMALL)  # fmt: skip
    sync = gym.vector.SyncVectorEnv(
        [lambda: slategym.SlateRecEnv(user_model=BudgetUser(), **SMALL)] * n
    )
    seeds = list(range(n))
    obs_v, _ = vec.reset(seed=seeds)
    obs_s, _ = sync.reset(seed=seeds)
    assert np.array_equal(obs_v["budget_share"], obs_s["budget_share"])
    resets = 0
    for _ in range(120):
        slates = np.tile(np.arange(4), (n, 1))
        out_v, out_s = vec.step(slates), sync.step(slates)
        for key in out_v[0]:
            assert np.array_equal(out_v[0][key], out_s[0][key]), key
        resets += int((out_v[2] | out_v[3]).sum())
    assert resets >= n  # rows were reset with a fresh budget, the others kept theirs
    platform = Platform(user_model=BudgetUser(), **SMALL)
    platform.reset(seed=1)
    while (batch := platform.requests()) is None:
        platform.next_slot()
    assert np.all(batch.observations["budget_share"] == 1.0)
    platform.serve(np.tile(np.arange(4), (batch.size, 1)))
    assert np.all(platform.state.user.extra["budget_left"][batch.rows] < 8.0)


def test_undeclared_extra_state_and_reserved_keys_are_refused() -> None:
    @dataclass(frozen=True)
    class Undeclared(BudgetUser):
        EXTRA_STATE = ()

    env = gym.make("SlateRec-v0", user_model=Undeclared(), **SMALL)
    with pytest.raises(ValueError, match=r"extra state \['budget_left'\].*EXTRA_STATE, \[\]"):
        env.reset(seed=0)

    @dataclass(frozen=True)
    class Clash(DefaultUserModel):
        def observation_spaces(self, population, catalog, slate_size):  # type: ignore[no-untyped-def]
            return {"user": spaces.Box(0, 1, (1,)), "time": spaces.Box(0, 1, (1,))}

    with pytest.raises(ValueError, match="returned keys \\['time', 'user'\\]: expected 'user' and no key"):
        gym.make("SlateRec-v0", user_model=Clash(), **SMALL)


def test_session_episodes_end_with_the_session() -> None:
    env = gym.make("SlateRec-v0", episode="session", **{**SMALL, "days": 1}, max_session_steps=400)
    obs, _ = env.reset(seed=0)
    lengths, ends = [], {"terminated": 0, "truncated": 0}
    steps = 0
    for _ in range(3000):
        obs, _, terminated, truncated, info = env.step(np.arange(4))
        steps += 1
        assert info["session_index"] == 0
        if terminated or truncated:
            assert info["session_ended"]
            assert terminated == info["churned"]
            ends["terminated" if terminated else "truncated"] += 1
            lengths.append(steps)
            steps = 0
            obs, _ = env.reset()
    assert ends["truncated"] > 10 and len(lengths) > 50
    with pytest.raises(ValueError, match="episode='week' is not allowed: expected one of"):
        gym.make("SlateRec-v0", episode="week")


def test_session_episodes_are_not_cut_by_the_horizon() -> None:
    """A session that runs past the end of the last day goes on (RecSim's episodes have no clock)."""

    @dataclass(frozen=True)
    class Stayer(DefaultUserModel):
        def respond(self, *args, **kwargs) -> tuple[UserState, Response]:  # type: ignore[no-untyped-def]
            new, resp = super().respond(*args, **kwargs)
            stay = np.zeros_like(resp.session_end)
            return new, dataclasses.replace(resp, session_end=args[6] | stay, churn=stay)

    env = gym.make("SlateRec-v0", user_model=Stayer(), episode="session", step_minutes=60.0,
                   max_session_steps=100, **{**SMALL, "days": 1})  # fmt: skip
    env.reset(seed=0)
    for step in range(100):
        _, _, terminated, truncated, info = env.step(np.arange(4))
        assert info["day"] == 0  # reported days stay inside the timeline
        assert truncated == (step == 99) and not terminated
