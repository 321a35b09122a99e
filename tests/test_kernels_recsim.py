"""The compiled path of RecSim's interest-evolution world (``slategym.kernels.recsim_iev``) against
the general numpy path: the same trajectories, bit for bit, as ``tests/test_kernels.py`` shows for
the default world."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from slategym import kernels
from slategym.kernels.dispatch import reason_not_compiled
from slategym.simulator import Simulator
from slategym.worlds import world_config
from tests.test_kernels import _assert_same, assert_single_env_equals_numpy

pytestmark = pytest.mark.skipif(
    kernels.unavailable_reason() is not None, reason="numba is not installed (the fast extra)"
)

WORLD = "SlateRec-InterestEvolution-v0"


def _rollout(backend: str, rows: int, steps: int, threads: int = 1, **config: Any) -> list[Any]:
    envs = gym.make_vec(
        WORLD, rows, vectorization_mode="vector_entry_point", backend=backend,
        num_threads=threads, **config,
    )  # fmt: skip
    env = envs.unwrapped
    assert (env.sim.kernel is not None) == (backend == "compiled")  # type: ignore[attr-defined]
    c = env.config  # type: ignore[attr-defined]
    rng = np.random.default_rng(11)
    out: list[Any] = [envs.reset(seed=3)]
    for _ in range(steps):
        # duplicates on purpose: a repeated index is shown but never clicked
        out.append(envs.step(rng.integers(0, c.num_candidates, (rows, c.slate_size))))
    state = env.state  # type: ignore[attr-defined]
    out.append({f: getattr(state, f) for f in state.ARRAY_FIELDS})
    out.append({f: getattr(state.user, f) for f in state.user.FIELDS})
    out.append(dict(state.user.extra))  # the time budget and the response
    envs.close()
    return out


def _assert_runs_same(ref: list[Any], fast: list[Any]) -> None:
    for t, (a, b) in enumerate(zip(ref, fast, strict=True)):
        if isinstance(a, tuple):
            for i, (x, y) in enumerate(zip(a, b)):
                _assert_same(x, y, f"output {t}[{i}]")
        else:
            _assert_same(a, b, f"output {t}")


@pytest.mark.parametrize(
    ("rows", "steps", "config"),
    [
        (1000, 100, {}),  # the preset: episodes of one session, proportional choice
        # sessions on a timeline (returns drawn by the arrival), utility from the affinity too
        (400, 60, {"episode": "timeline", "days": 3, "max_session_steps": 5,
                   "user_model_kwargs": {"user_quality_factor": 0.5, "step_penalty": 2.0}}),
        (300, 40, {"choice_model": "mnl", "choice_model_kwargs": {}, "observation": "ids",
                   "num_candidates": 7, "slate_size": 3}),
        (300, 60, {"new_items_per_day": 20, "days": 3, "episode": "timeline", "reward": "click",
                   "history_length": 1}),
    ],
)  # fmt: skip
def test_compiled_interest_evolution_equals_numpy(rows: int, steps: int, config: dict) -> None:
    """Observations (the interests and the response included), rewards, flags, infos and the final
    state, extra state included: identical on both paths."""
    ref = _rollout("numpy", rows, steps, **config)
    _assert_runs_same(ref, _rollout("compiled", rows, steps, **config))


def test_interest_evolution_threads_do_not_change_results() -> None:
    one = _rollout("compiled", 1200, 20)
    _assert_runs_same(one, _rollout("compiled", 1200, 20, threads=2))


def test_interest_evolution_single_env_equals_numpy_and_passes_both_checkers() -> None:
    assert_single_env_equals_numpy(WORLD, 400)
    check_env(gym.make(WORLD, backend="compiled").unwrapped)
    sb3_check_env(gym.make(WORLD, backend="compiled").unwrapped)


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({}, None),
        ({"item_model_kwargs": {"resample_documents": False}},
         "resample_documents=False (one candidate set per episode) has no compiled kernel"),
        ({"user_model": "default", "user_model_kwargs": {}},
         "the item model InterestEvolutionItems has no compiled kernel with the user model "
         "DefaultUserModel"),
    ],
)  # fmt: skip
def test_which_interest_evolution_worlds_are_compiled(config: dict, reason: str | None) -> None:
    """Each compiled user runs with the item model its parity test checks, and no other."""
    sim = Simulator(world_config(WORLD, backend="numpy", **config))
    assert reason_not_compiled(sim) == reason
