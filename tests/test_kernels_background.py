"""Background compilation of the kernels (``slategym.kernels._background``): with ``backend="auto"``
a simulator starts on the numpy path and switches to the compiled path at its first call after the
kernels are ready. Where the switch falls must not change a trajectory; a call never switches
halfway; ``backend="compiled"`` does not wait for the thread; fork is safe.

The switch is driven here by replacing ``_background.ready`` (the kernels themselves are compiled,
or loaded from the cache, by :func:`slategym.kernels.wait` first).
"""

from __future__ import annotations

import os
import threading
from copy import deepcopy
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from slategym import kernels
from slategym.kernels import _background
from slategym.registry import BUILTIN_CHOICE_MODELS
from slategym.vector_env import SlateRecVectorEnv
from slategym.worlds import WORLDS

pytestmark = pytest.mark.skipif(
    kernels.unavailable_reason() is not None, reason="numba is not installed (the fast extra)"
)

WORLD = {"num_items": 300, "num_candidates": 12, "slate_size": 4, "num_users": 50, "days": 1}


class Switch:
    """Stands in for ``_background.ready``: False until ``on``."""

    def __init__(self) -> None:
        self.on = False

    def __call__(self, group: str = "default") -> bool:
        return self.on


@pytest.fixture
def switch(monkeypatch: pytest.MonkeyPatch) -> Switch:
    assert kernels.wait(600), "the background compilation did not finish"
    monkeypatch.delenv(_background.ENV_VAR, raising=False)
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    flag = Switch()
    monkeypatch.setattr(_background, "ready", flag)
    monkeypatch.setattr(_background, "start", lambda: None)
    return flag


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert x.dtype == y.dtype and x.shape == y.shape, where
        assert np.array_equal(x, y), where


def _signatures() -> int:
    """How many (function, signature) pairs numba has compiled or loaded for the kernels."""
    from numba.core.dispatcher import Dispatcher

    from slategym.kernels import (
        _npmath,
        choice,
        recsim,
        recsim_ie,
        recsim_iev,
        recsim_lts,
        rows,
        step,
        world,
    )  # fmt: skip

    return sum(
        len(fn.signatures)
        for module in (
            step, world, choice, rows, _npmath, recsim, recsim_iev, recsim_ie, recsim_lts,
        )  # fmt: skip
        for fn in vars(module).values()
        if isinstance(fn, Dispatcher) and fn.py_func.__module__ == module.__name__
    )


def _single_run(env: Any, switch: Switch | None, at: int) -> list[Any]:
    rng = np.random.default_rng(5)
    out = [env.reset(seed=2)]
    for t in range(60):
        if switch is not None and t == at:
            switch.on = True
        out.append(env.step(rng.integers(0, 12, 4)))  # duplicates included
        if out[-1][2] or out[-1][3]:
            out.append(env.reset())
    return out


@pytest.mark.parametrize("at", [0, 1, 7, 30])
def test_single_env_switching_mid_episode_gives_the_same_trajectory(
    switch: Switch, at: int
) -> None:
    """Numpy path for ``at`` steps, compiled after: the trajectory of the numpy-only and the
    compiled-only env, and no kernel compiled at the switch (the warm-up covered its types)."""
    ref = _single_run(gym.make("SlateRec-v0", backend="numpy", **WORLD), None, 0)
    fast = _single_run(gym.make("SlateRec-v0", backend="compiled", **WORLD), None, 0)
    env = gym.make("SlateRec-v0", **WORLD)
    assert env.unwrapped.sim.kernel is None  # pending: the numpy path runs
    before = _signatures()
    mixed = _single_run(env, switch, at)
    assert env.unwrapped.sim.kernel is not None  # switched
    assert _signatures() == before
    for t, (a, b, c) in enumerate(zip(ref, fast, mixed, strict=True)):
        _same(a, c, f"numpy vs switched, output {t}")
        _same(b, c, f"compiled vs switched, output {t}")


@pytest.mark.parametrize("copy", [True, False])
def test_vector_env_switch_keeps_trajectory_and_threads(switch: Switch, copy: bool) -> None:
    """A native vector env (autoresets, 2 threads; ``copy=False``: observation buffers on the
    compiled path) switching after a few steps."""
    runs = []
    for backend, at in (("numpy", -1), ("auto", 4)):
        env = SlateRecVectorEnv(600, num_threads=2, backend=backend, copy=copy, **WORLD)
        assert env.sim.kernel is None
        rng = np.random.default_rng(1)
        out: list[Any] = [deepcopy(env.reset(seed=8))]
        for t in range(25):
            switch.on = t == at or switch.on
            out.append(deepcopy(env.step(rng.integers(0, 12, (600, 4)))))
        runs.append(out)
        if backend == "auto":
            assert env.sim.kernel is not None and env.sim.kernel.num_threads == 2
        env.close()
        switch.on = False
    for t, (a, b) in enumerate(zip(*runs, strict=True)):
        _same(a, b, f"output {t}")


def test_a_call_never_switches_halfway(switch: Switch, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path is chosen once per call: kernels that become ready while a numpy step runs are
    used from the next call on (the switch happens in ``Simulator.kernel``, read when a call
    starts)."""
    env = gym.make("SlateRec-v0", **WORLD)
    sim = env.unwrapped.sim
    env.reset(seed=0)
    model = type(sim.choice_model)
    clicks = model.clicks

    def ready_midway(self: Any, *args: Any, **kwargs: Any) -> Any:
        switch.on = True  # the kernels become ready while the numpy step runs
        return clicks(self, *args, **kwargs)

    monkeypatch.setattr(model, "clicks", ready_midway)
    new, _ = sim.step(env.unwrapped.state, np.arange(4)[None])
    assert switch.on and sim._dispatch.world is None  # the whole step ran on the numpy path
    assert sim.kernel is not None  # the next call switches
    numpy = gym.make("SlateRec-v0", backend="numpy", **WORLD).unwrapped.sim
    _same(sim.observe(new), numpy.observe(new), "the compiled observation of a numpy state")


def test_compiled_backend_and_switched_off_background_do_not_defer(
    switch: Switch, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gym.make("SlateRec-v0", backend="compiled").unwrapped.sim.kernel is not None
    assert gym.make("SlateRec-v0").unwrapped.sim.kernel is None
    monkeypatch.setenv(_background.ENV_VAR, "0")
    assert gym.make("SlateRec-v0").unwrapped.sim.kernel is not None
    monkeypatch.setenv(kernels.ENV_VAR, "numpy")
    assert gym.make("SlateRec-v0").unwrapped.sim.kernel is None


def test_choice_probabilities_answer_from_numpy_until_ready(switch: Switch) -> None:
    """The built-in models' ``probabilities()`` take the numpy method while the kernels compile."""
    from slategym.choice import MultinomialLogit

    model, aff = MultinomialLogit(), np.random.default_rng(0).normal(size=(5, 4))
    assert kernels.compiled_choice(model, aff) is None
    switch.on = True
    fast = kernels.compiled_choice(model, aff)
    assert fast is not None and np.array_equal(fast, model.probabilities(aff))


def _fork_and_check(child: Any) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = 0 if child() else 2
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.fixture
def fake_job(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A compilation thread that runs until released (``_background``'s state restored after)."""
    assert kernels.wait(600)
    release, done = threading.Event(), threading.Event()

    def job() -> None:
        release.wait(60)
        done.set()

    thread = threading.Thread(target=job, daemon=True)
    monkeypatch.setattr(_background, "_DONE", done)
    monkeypatch.setattr(_background, "_THREAD", [thread])
    monkeypatch.setattr(_background, "_BROKEN", [])
    monkeypatch.delenv(_background.ENV_VAR, raising=False)
    thread.start()
    yield release, done
    release.set()
    thread.join()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_waits_for_the_compiling_thread(fake_job: Any) -> None:
    release, done = fake_job
    threading.Timer(0.3, release.set).start()

    def child() -> bool:
        env = gym.make("SlateRec-v0", **WORLD)
        env.reset(seed=0)
        env.step(np.arange(4))
        return not _background.broken() and env.unwrapped.sim.kernel is not None

    assert _fork_and_check(child) == 0
    assert done.is_set()  # os.fork returned only after the thread finished


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_child_forked_mid_compile_stays_on_numpy(
    fake_job: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_background, "FORK_WAIT_SECONDS", 0.05)

    def child() -> bool:
        env = gym.make("SlateRec-v0", **WORLD)
        obs, _ = env.reset(seed=0)
        env.step(np.arange(4))
        try:
            gym.make("SlateRec-v0", backend="compiled")
        except ValueError as err:
            refused = "forked while slategym compiled" in str(err)
        else:
            refused = False
        return _background.broken() and env.unwrapped.sim.kernel is None and refused

    assert _fork_and_check(child) == 0
    assert not _background.broken()  # the parent is not affected


def test_the_warm_up_compiles_what_every_covered_world_calls(switch: Switch) -> None:
    """The background thread compiles each kernel for one tiny world; every covered world (each
    built-in choice model, Personal and Dynamic users, weighted rewards, RecSim's users) must call
    exactly those compiled functions, else its switch would compile in the middle of a run."""
    switch.on = True
    before = _signatures()
    configs: list[dict[str, Any]] = [{"choice_model": name} for name in BUILTIN_CHOICE_MODELS] + [
        {"choice_model": "multi_click", "choice_model_kwargs": {"mode": "dependent"}},
        {"user_model": "personal", "reward": {"click": 1.0, "engagement": 0.1}},
        {"observation": "ids"},
        {"user_model": "dynamic", "days": 3},  # its arrays have the default user's stand-ins' types
        # RecSim's three users: one signature, compiled for the interest-evolution one
        {**WORLDS["SlateRec-InterestEvolution-v0"].kwargs, "num_items": 40},
        {**WORLDS["SlateRec-InterestExploration-v0"].kwargs, "num_items": 40},
        {**WORLDS["SlateRec-LongTermSatisfaction-v0"].kwargs, "num_items": 40},
    ]
    for config in configs:
        env = SlateRecVectorEnv(3, **{**WORLD, **config})
        assert env.sim.kernel is not None, config
        env.reset(seed=0)
        for _ in range(3):
            env.step(env.action_space.sample())
        env.sim.choice_model.probabilities(np.zeros((2, 4)))
        assert _signatures() == before, config
