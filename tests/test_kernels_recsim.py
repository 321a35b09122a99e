"""The compiled path of RecSim's three worlds (``slategym.kernels.recsim``) against the general numpy
path: the same trajectories, bit for bit, as ``tests/test_kernels.py`` shows for the default world."""

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

IEV = "SlateRec-InterestEvolution-v0"
IE = "SlateRec-InterestExploration-v0"
LTS = "SlateRec-LongTermSatisfaction-v0"
THREE_TYPES = {  # interest exploration with three topics (odd: a Box-Muller sine is used)
    "num_topics": 3, "latent_dim": 3,
    "item_model_kwargs": {"topic_distribution": (0.2, 0.3, 0.5),
                          "topic_quality_mean": (0.8, 0.5, 0.2),
                          "topic_quality_stddev": (0.1, 0.2, 0.1)},
    "user_model_kwargs": {"user_type_distribution": (0.2, 0.5, 0.3),
                          "user_document_mean_affinity_matrix": ((0.1, 0.7, 0.3), (0.7, 0.1, 0.2),
                                                                 (0.3, 0.3, 0.9)),
                          "user_document_stddev_affinity_matrix": ((0.1, 0.3, 0.1),) * 3},
}  # fmt: skip


def _rollout(
    world: str, backend: str, rows: int, steps: int, threads: int = 1, **config: Any
) -> list[Any]:
    envs = gym.make_vec(
        world, rows, vectorization_mode="vector_entry_point", backend=backend,
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
    out.append(dict(state.user.extra))  # the user's extra state (budget, response, ...)
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
    ("world", "rows", "steps", "config"),
    [
        # interest evolution: the preset (episodes of one session, proportional choice)
        (IEV, 1000, 100, {}),
        # sessions on a timeline (returns drawn by the arrival), utility from the affinity too
        (IEV, 400, 60, {"episode": "timeline", "days": 3, "max_session_steps": 5,
                        "user_model_kwargs": {"user_quality_factor": 0.5, "step_penalty": 2.0}}),
        (IEV, 300, 40, {"choice_model": "mnl", "choice_model_kwargs": {},
                        "observation": "ids", "num_candidates": 7, "slate_size": 3}),
        (IEV, 300, 60, {"new_items_per_day": 20, "days": 3, "episode": "timeline",
                        "reward": "click", "history_length": 1}),
        # interest exploration: the preset (MNL, click reward, episodes cut at 100 slates)
        (IE, 1000, 100, {}),
        # three user types and topics, sessions on a timeline, proportional choice
        (IE, 400, 60, {**THREE_TYPES, "episode": "timeline", "days": 3, "max_session_steps": 7,
                       "choice_model": "proportional", "choice_model_kwargs": {}}),
        (IE, 300, 40, {"observation": "ids", "num_candidates": 7, "slate_size": 3,
                       "max_session_steps": 12}),
        # long-term satisfaction: the preset (the top item clicked, 60 clicks an episode)
        (LTS, 1000, 100, {}),
        # a strong trade-off, MNL clicks (some slates unclicked), a timeline with returns
        (LTS, 400, 80, {"user_model_kwargs": {"sensitivity": 0.5, "time_budget": 25.0},
                        "choice_model": "mnl", "choice_model_kwargs": {"no_click_logit": 2.0},
                        "episode": "timeline", "days": 3, "max_session_steps": 6}),
        (LTS, 300, 50, {"reward": "click", "new_items_per_day": 30, "days": 2,
                        "episode": "timeline", "observation": "ids", "slate_size": 3}),
    ],
)  # fmt: skip
def test_compiled_recsim_world_equals_numpy(world: str, rows: int, steps: int, config: dict) -> None:
    """Observations (the user's and the response included), rewards, flags, infos and the final
    state, extra state included: identical on both paths."""
    ref = _rollout(world, "numpy", rows, steps, **config)
    _assert_runs_same(ref, _rollout(world, "compiled", rows, steps, **config))


@pytest.mark.parametrize("world", [IEV, IE, LTS])
def test_recsim_threads_do_not_change_results(world: str) -> None:
    one = _rollout(world, "compiled", 1200, 20)
    _assert_runs_same(one, _rollout(world, "compiled", 1200, 20, threads=2))


@pytest.mark.parametrize("world", [IEV, IE, LTS])
def test_recsim_single_env_equals_numpy_and_passes_both_checkers(world: str) -> None:
    assert_single_env_equals_numpy(world, 400)
    check_env(gym.make(world, backend="compiled").unwrapped)
    sb3_check_env(gym.make(world, backend="compiled").unwrapped)


def test_a_bad_response_raises_the_numpy_paths_error() -> None:
    """An engagement that overflows (a huge log-engagement mean) fails the kernel's check of the
    dwell, and the general path then raises its error, on both backends alike (a click reward: the
    reward's own check would not see it)."""
    config = {"user_model_kwargs": {"choc_mean": 2000.0, "kale_mean": 2000.0}, "reward": "click"}
    errors = []
    for backend in ("numpy", "compiled"):
        env = gym.make(LTS, backend=backend, **config)
        env.reset(seed=0)
        with pytest.raises(ValueError, match="dwell time") as err:
            env.step(np.arange(2))
        errors.append(str(err.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    ("world", "config", "reason"),
    [
        (IEV, {}, None),
        (IE, {}, None),
        (LTS, {}, None),
        (IEV, {"item_model_kwargs": {"resample_documents": False}},
         "resample_documents=False (one candidate set per episode) has no compiled kernel"),
        (IE, {"item_model_kwargs": {"resample_documents": False}},
         "resample_documents=False (one candidate set per episode) has no compiled kernel"),
        (IEV, {"user_model": "default", "user_model_kwargs": {}},
         "the item model InterestEvolutionItems has no compiled kernel with the user model "
         "DefaultUserModel"),
        (LTS, {"item_model": "default", "item_model_kwargs": {}},
         "the item model DefaultItemModel has no compiled kernel with the user model "
         "LongTermSatisfactionUser"),
    ],
)  # fmt: skip
def test_which_recsim_worlds_are_compiled(world: str, config: dict, reason: str | None) -> None:
    """Each compiled user runs with the item model its parity test checks, and no other."""
    sim = Simulator(world_config(world, backend="numpy", **config))
    assert reason_not_compiled(sim) == reason
