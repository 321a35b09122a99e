"""The compiled path (``slategym.kernels``) against the general numpy path, which stays the reference.

Both paths must give the same trajectories: the same discrete outcomes (clicks, purchases, session
ends, churn, candidate ids, ...) and the same floats (compared exactly here, which is stronger than
the 1e-9 the issue asks for: the kernels reproduce numpy's rounding, see ``kernels/_npmath.py``).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from slategym import kernels
from slategym.registry import BUILTIN_CHOICE_MODELS
from slategym.users import DefaultUserModel
from slategym.vector_env import SlateRecVectorEnv
from slategym.worlds import WORLDS

pytestmark = pytest.mark.skipif(
    kernels.unavailable_reason() is not None, reason="numba is not installed (the fast extra)"
)

ROWS, STEPS = 1000, 100
WORLD = {"num_items": 300, "num_candidates": 12, "slate_size": 4, "num_users": 200, "days": 2}
CHOICES: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in BUILTIN_CHOICE_MODELS] + [
    ("multi_click", {"mode": "dependent"}),
    ("multi_click", {"mode": "independent", "continue_prob": 0.3}),
]


def _assert_same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b), f"{where}: {np.argwhere(a != b)[:3].tolist()}"


def _rollout(backend: str, rows: int, steps: int, **config: Any) -> list[Any]:
    env = SlateRecVectorEnv(rows, backend=backend, **{**WORLD, **config})
    assert (env.sim.kernel is not None) == (backend == "compiled")
    c = env.config
    rng = np.random.default_rng(11)
    out: list[Any] = [env.reset(seed=3)]
    for _ in range(steps):
        # duplicates on purpose: a repeated index is shown but never clicked
        out.append(env.step(rng.integers(0, c.num_candidates, (rows, c.slate_size))))
    state = env.state
    out.append({f: getattr(state, f) for f in state.ARRAY_FIELDS})
    out.append({f: getattr(state.user, f) for f in state.user.FIELDS})
    out.append(dict(state.user.extra))  # the dynamic user's day and hour
    return out


def _compare(rows: int, steps: int, **config: Any) -> None:
    ref, fast = _rollout("numpy", rows, steps, **config), _rollout("compiled", rows, steps, **config)
    for t, (a, b) in enumerate(zip(ref, fast)):
        if isinstance(a, tuple):
            for i, (x, y) in enumerate(zip(a, b)):
                _assert_same(x, y, f"output {t}[{i}]")
        else:
            _assert_same(a, b, f"output {t}")


@pytest.mark.parametrize(("choice", "kwargs"), CHOICES, ids=lambda x: str(x) if x else "")
def test_compiled_step_equals_numpy_for_every_choice_model(choice: str, kwargs: dict) -> None:
    """1000 rows x 100 steps (autoresets included): identical outputs, final states included."""
    _compare(ROWS, STEPS, choice_model=choice, choice_model_kwargs=kwargs)


@pytest.mark.parametrize(
    "config",
    [
        {"reward": {"click": 1.0, "purchase": 5.0, "engagement": 0.1}},
        {"reward": "engagement", "new_items_per_day": 20, "days": 3},
        {"episode": "session", "max_session_steps": 5},
        {"user_model": "personal", "choice_model": "position_based"},
        {"user_model": "deterministic", "latent_dim": 2, "history_length": 3},
        {"user_model_kwargs": {"fatigue_weight": 0.0, "interest_drift": 0.0}},
        {"observation": "ids", "new_items_per_day": 20, "days": 3},
        {"choice_model": "multi_click", "history_length": 2},  # more clicks than history
        # an odd number of item features (7)
        {"latent_dim": 5},
        {"latent_dim": 5, "observation": "ids"},
    ],
    ids=[
        "weighted", "releases", "session", "personal", "deterministic", "no-drift", "ids",
        "short-history", "odd-features", "odd-features-ids",
    ],  # fmt: skip
)
def test_compiled_step_equals_numpy_across_worlds(config: dict) -> None:
    _compare(400, 40, **config)


@pytest.mark.parametrize(
    "kwargs", [{}, {"hour_weight": 0.0, "trend_drift": 0.0}], ids=["preset", "drift-only"]
)
def test_compiled_dynamic_user_equals_numpy(kwargs: dict) -> None:
    """The dynamic user (SlateRec-Dynamic-v0's): hour-of-day affinities and day-to-day drift, over
    1000 rows x 100 steps and four days (interests drift at resets and between sessions)."""
    _compare(ROWS, STEPS, user_model="dynamic", user_model_kwargs=kwargs, days=4,
             new_items_per_day=20)  # fmt: skip


def assert_single_env_equals_numpy(env_id: str, steps: int, **config: Any) -> None:
    """``gym.make(env_id)`` on both paths, stepped with the same random slates over several
    episodes (resets included): every output identical."""
    envs = [gym.make(env_id, backend=b, **config) for b in ("numpy", "compiled")]
    assert envs[1].unwrapped.sim.kernel is not None and envs[0].unwrapped.sim.kernel is None
    c = envs[0].unwrapped.config
    rng = np.random.default_rng(0)
    _assert_same(envs[0].reset(seed=4)[0], envs[1].reset(seed=4)[0], "reset")
    for t in range(steps):
        action = rng.integers(0, c.num_candidates, c.slate_size)
        a, b = envs[0].step(action), envs[1].step(action)
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"step {t}[{i}]")
        if a[2] or a[3]:
            _assert_same(envs[0].reset()[0], envs[1].reset()[0], f"reset {t}")


def test_default_world_single_env_equals_numpy_through_gym_make() -> None:
    """``gym.make("SlateRec-v0")`` (default sizes) over several episodes, resets included."""
    assert_single_env_equals_numpy("SlateRec-v0", 600, num_users=50, days=1)


def test_registered_worlds_run_compiled_under_auto() -> None:
    """The default backend is the compiled one for the worlds it covers (once the background
    compilation is done), numpy for the others."""
    assert kernels.wait(600)
    for env_id in WORLDS:  # every registered world: the default ones and RecSim's three
        assert gym.make(env_id).unwrapped.sim.kernel is not None, env_id
    uncovered = gym.make(
        "SlateRec-InterestExploration-v0", item_model_kwargs={"resample_documents": False}
    )
    assert uncovered.unwrapped.sim.kernel is None
    vec = gym.make_vec("SlateRec-v0", 4, vectorization_mode="vector_entry_point")
    assert vec.unwrapped.sim.kernel is not None  # type: ignore[attr-defined]


def test_compiled_path_passes_both_checkers_and_pickles() -> None:
    env = gym.make("SlateRec-v0", backend="compiled")
    check_env(env.unwrapped)
    sb3_check_env(gym.make("SlateRec-v0", backend="compiled").unwrapped)
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())
    copy = pickle.loads(pickle.dumps(env.unwrapped))
    assert copy.sim.kernel is not None
    action = np.arange(6)
    _assert_same(env.unwrapped.step(action)[0], copy.step(action)[0], "after unpickling")


def test_threads_do_not_change_results() -> None:
    """Rows split between threads (2 and 3 chunks) give the one-thread trajectory exactly."""
    outs = []
    for threads in (1, 2, 3):
        env = SlateRecVectorEnv(1200, num_threads=threads, backend="compiled", **WORLD)
        assert env.sim.kernel.num_threads == threads  # type: ignore[union-attr]
        rng = np.random.default_rng(2)
        run = [env.reset(seed=9)[0]]
        for _ in range(20):
            run.append(env.step(rng.integers(0, 12, (1200, 4)))[:4])
        outs.append(run)
        env.close()
    for run in outs[1:]:
        for t, (a, b) in enumerate(zip(outs[0], run)):
            _assert_same(a, b, f"output {t}") if isinstance(a, dict) else [
                _assert_same(x, y, f"output {t}") for x, y in zip(a, b)
            ]


def test_chunked_observation_takes_each_chunk_once() -> None:
    """Three threads share the chunks of one observation through the atomic counter: each chunk
    is done by exactly one of them, and the arrays equal the one-call observation."""
    from concurrent.futures import ThreadPoolExecutor

    env = SlateRecVectorEnv(1000, backend="compiled", **WORLD)
    env.reset(seed=3)
    rng = np.random.default_rng(3)
    for _ in range(5):
        env.step(rng.integers(0, 12, (1000, 4)))
    world, state = env.sim.kernel, env.state
    assert world is not None
    expected = world.observe(state)
    obs = world.observation_buffers(1000)
    counter = np.zeros(1, np.int64)
    args = (counter, 64, 1000, *world.observe_arguments(state, obs))
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda _: world._world.observe_chunks(*args), range(3)))
    assert sum(done) == 16  # ceil(1000 / 64) chunks, none twice, none skipped
    assert counter[0] == 16 + 3  # and each thread's last claim, past the end
    for key in expected:
        _assert_same(expected[key], obs[key], f"chunked observation {key!r}")


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_two_threads_step_as_one_in_every_autoreset_mode(mode: str) -> None:
    """The observation made beside the bookkeeping (two threads) is the one-thread observation,
    with the same rewards, ends and info, final observations included."""
    runs = []
    for threads in (1, 2):
        env = SlateRecVectorEnv(
            700, num_threads=threads, backend="compiled", autoreset_mode=mode, **WORLD
        )
        rng = np.random.default_rng(4)
        run = [env.reset(seed=4)]
        for _ in range(40):
            run.append(env.step(rng.integers(0, 12, (700, 4))))
        runs.append(run)
        env.close()
    ends = 0
    for t, (a, b) in enumerate(zip(*runs, strict=True)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if i < len(a) - 1:
                _assert_same(x, y, f"step {t}, output {i}")
                continue
            assert list(x) == list(y), f"step {t}: info keys"
            for key in x:
                if key == "final_obs":
                    for r in np.flatnonzero(x["_final_obs"]):
                        _assert_same(x[key][r], y[key][r], f"step {t}, final_obs[{r}]")
                        ends += 1
                elif key != "final_info":
                    _assert_same(x[key], y[key], f"step {t}, info[{key!r}]")
    assert mode == "NextStep" or ends > 0  # the same-step runs did end episodes


def test_kernel_errors_are_the_general_paths_errors() -> None:
    """A duplicate under strict_slates and a non-finite affinity raise the numpy path's errors."""
    for backend in ("numpy", "compiled"):
        env = gym.make("SlateRec-v0", strict_slates=True, backend=backend)
        env.reset(seed=0)
        with pytest.raises(ValueError, match="repeats a candidate and strict_slates=True"):
            env.step(np.array([0, 1, 2, 3, 4, 0]))
        env = gym.make("SlateRec-v0", backend=backend)
        env.reset(seed=0)
        env.unwrapped.state.user.interests[0, 0] = np.nan
        with pytest.raises(ValueError, match="non-finite affinity"):
            env.step(np.arange(6))


@pytest.mark.parametrize("bad", [[0, 1, 12, 3], [-1, 1, 2, 3], [0, 1, 2, 2**40]])
def test_compiled_kernel_checks_slate_indices_and_keeps_the_state(bad: list[int]) -> None:
    """The single env leaves an int64 slate's range check to the kernel: an index outside [0, C)
    raises validate_slates' error, and the episode goes on as if the bad step never happened."""
    env = gym.make("SlateRec-v0", backend="compiled", **WORLD).unwrapped
    twin = gym.make("SlateRec-v0", backend="compiled", **WORLD).unwrapped
    env.reset(seed=4)
    twin.reset(seed=4)
    env.step(np.arange(4))
    twin.step(np.arange(4))
    with pytest.raises(ValueError, match=r"slate holds index -?\d+ out of range: expected candidate"):
        env.step(np.array(bad, np.int64))
    rng = np.random.default_rng(4)
    for t in range(30):
        slate = rng.permutation(12)[:4]
        out, ref = env.step(slate), twin.step(slate)
        for i, (a, b) in enumerate(zip(out, ref, strict=True)):
            _assert_same(a, b, f"step {t} after the rejected slate, item {i}")
        if out[2] or out[3]:
            env.reset()
            twin.reset()


def test_vector_env_kernel_checks_slate_indices_and_keeps_the_state() -> None:
    """As the single env: an out-of-range index in an int64 batch raises the usual error, on one
    thread or two, and the envs go on as if the bad step never happened."""
    rng = np.random.default_rng(5)
    for threads in (1, 2):
        envs = [SlateRecVectorEnv(600, backend="compiled", num_threads=threads, **WORLD)
                for _ in range(2)]  # fmt: skip
        for env in envs:
            env.reset(seed=5)
        bad = rng.integers(0, 12, (600, 4))
        bad[599, 2] = 12  # the last row: in the second thread's share
        with pytest.raises(ValueError, match=r"slate holds index 12 out of range"):
            envs[0].step(bad)
        for t in range(20):
            slates = rng.integers(0, 12, (600, 4))
            for i, (a, b) in enumerate(zip(envs[0].step(slates), envs[1].step(slates), strict=True)):
                _assert_same(a, b, f"threads={threads}, step {t} after the rejected batch, item {i}")


def test_backend_setting_is_checked_and_explained() -> None:
    with pytest.raises(ValueError, match="backend='fast' is not allowed"):
        gym.make("SlateRec-v0", backend="fast")
    class Tweaked(DefaultUserModel):  # a custom model: the general path
        pass

    with pytest.raises(ValueError, match="the user model Tweaked has no compiled kernel"):
        gym.make("SlateRec-v0", user_model=Tweaked(), backend="compiled")

    env = gym.make("SlateRec-v0", user_model=Tweaked())
    assert env.unwrapped.sim.kernel is None
    with kernels.forced("numpy"):
        assert gym.make("SlateRec-v0").unwrapped.sim.kernel is None


def test_a_negative_hour_rate_keeps_the_numpy_path() -> None:
    """The compiled arrival stops at the first hour past the draw, which needs rates >= 0."""
    from slategym.kernels.dispatch import reason_not_compiled

    sim = gym.make("SlateRec-v0", backend="compiled").unwrapped.sim
    assert reason_not_compiled(sim) is None
    sim.population.hour_profile[3, 5] = -0.01
    assert "negative entry" in str(reason_not_compiled(sim))


def test_environment_variable_forces_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernels.ENV_VAR, "numpy")
    assert gym.make("SlateRec-v0", backend="compiled").unwrapped.sim.kernel is None


def test_pairwise_sum_compiles_inside_a_kernel_without_numbas_runtime(tmp_path: Path) -> None:
    """The entry kernels are compiled with ``_nrt=False``; a helper they call first (fresh cache,
    nothing compiled before) must not need numba's runtime, e.g. to allocate its stack."""
    script = (
        "import numba, numpy as np\n"
        "from slategym.kernels._npmath import pairwise_sum\n"
        "@numba.njit(_nrt=False)\n"
        "def total(a):\n"
        "    return pairwise_sum(a, 0, a.shape[0], 1)\n"
        "a = np.random.default_rng(0).normal(size=1000)\n"
        "assert total(a) == np.add.reduce(a), (total(a), np.add.reduce(a))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
