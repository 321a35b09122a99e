"""One cell of the benchmark grid: train one agent on one world with one seed, evaluate it.

A :class:`Task` is the unit of work of ``slategym bench`` (and of a Ray worker): an (agent, world,
seed) of a cohort, with the agent's hyperparameters and the budget. :func:`run_task` needs nothing
else: it builds the envs, trains, evaluates and returns a JSON-able record, so that a task gives the
same record wherever it runs (serially, on a local Ray worker or on a cluster node).

**Cohorts** (users drawn by ``population_seed``; the catalog is each world's fixed one):

==============  ===================================  ===============================================
cohort          trains on                            is evaluated on
==============  ===================================  ===============================================
``validation``  ``population_seed = 100 + v``        ``population_seed = 20 000 + v`` (the
                (agent seeded ``100 + v``)           validation cohort): hyperparameters are chosen
                                                     here and nowhere else
``test``        ``population_seed = s`` (agent       ``population_seed = 10 000 + s`` (the test
                seeded ``s``)                        cohort): the only numbers reported
==============  ===================================  ===============================================

No two cohorts share a user or a random stream (every env is also reset with its cohort's seed).

**Training** (``train_steps`` user interactions for every learner, by its kind,
:mod:`agents.base`): an agent that learns from feedback acts (exploring) on a native vector env of
``batch_size`` rows and gets one ``update`` per step; an agent that trains itself (PPO) gets a
factory of single envs and trains in chunks between checkpoints (SB3 rounds to whole rollouts of
2048 steps, so budgets are multiples of 2048). Random and the oracle do not train.

**Evaluation**: each of ``eval_users`` users of the evaluation cohort through its whole first
episode, acting greedily (``explore=False``), no learning. At every ``checkpoint`` (interactions)
of the training, a learner is also evaluated on the first ``curve_users`` users of the same cohort:
the learning curve. The record holds the metrics, the reward and slates per hour of the timeline
(for the regret against the oracle), the interactions and gradient steps taken (optimizer steps,
counted by a torch hook) and the wall and CPU seconds of training and evaluation.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

import slategym
from agents.base import Agent, LearnsFromFeedback, ReadsHiddenState, TrainsItself
from agents.loop import make_vector_env, run
from agents.registry import make_agent
from agents.spec import AgentSpec
from slategym.metrics import MetricsAccumulator
from slategym.timeline import HOURS
from slategym.validation import check_int

COHORTS = ("validation", "test")
TRAIN_SEED_OFFSET = {"validation": 100, "test": 0}
"""Training cohort (and agent seed) of seed ``s``: ``population_seed = offset + s``."""
EVAL_SEED_OFFSET = {"validation": 20_000, "test": 10_000}
"""Evaluation cohort of seed ``s``: ``population_seed = offset + s``, envs reset with the same."""

METRIC_KEYS = ("slate_ctr", "ctr", "conversion_rate", "purchases_per_slate", "mean_reward", "ild",
               "coverage", "topic_entropy_normalized", "novelty", "mean_session_length",
               "return_rate", "churn_rate_per_episode", "slates")  # fmt: skip
"""The scalar metrics a record keeps (:class:`slategym.metrics.MetricsAccumulator`)."""


@dataclass(frozen=True)
class Budget:
    """What every task of a run shares: interactions, batch, evaluation and world overrides."""

    train_steps: int = 16_384
    """User interactions each learner trains on (equal for every learner)."""
    batch_size: int = 128
    """Rows of the training vector env of the agents that learn from feedback (slates per update)."""
    eval_users: int = 500
    """Users of the evaluation cohort, each through its whole first episode."""
    checkpoints: tuple[int, ...] = (0, 2048, 4096, 8192, 16_384)
    """Interactions at which a learner is evaluated on ``curve_users`` users (the learning curve)."""
    curve_users: int = 200
    """Users of the evaluation cohort evaluated at each checkpoint."""
    env: dict[str, Any] = field(default_factory=dict)
    """``gym.make`` keywords applied to every world (sizes for a quick run; empty = the presets)."""

    def __post_init__(self) -> None:
        for name in ("train_steps", "batch_size", "eval_users", "curve_users"):
            check_int(name, getattr(self, name), 1)
        if self.train_steps < self.batch_size:
            raise ValueError(f"train_steps={self.train_steps} is not allowed: expected at least "
                             f"batch_size={self.batch_size} (one update)")  # fmt: skip
        cps = tuple(self.checkpoints)
        if any(c < 0 or c > self.train_steps for c in cps) or list(cps) != sorted(set(cps)):
            raise ValueError(f"checkpoints={list(cps)} is not allowed: expected increasing "
                             f"interactions in [0, train_steps={self.train_steps}]")  # fmt: skip


@dataclass(frozen=True)
class Task:
    """One (agent, world, seed) of a cohort, with the agent's options: the unit of work."""

    agent: str
    world: str
    seed: int
    cohort: str = "test"
    options: dict[str, Any] = field(default_factory=dict)
    """Constructor keywords of the agent (``make_agent`` options)."""
    config: str = "default"
    """Name of the hyperparameter point (``options`` in short), used in file names and tables."""
    budget: Budget = field(default_factory=Budget)

    def __post_init__(self) -> None:
        if self.cohort not in COHORTS:
            raise ValueError(f"cohort={self.cohort!r} is not allowed: expected one of {COHORTS}")
        if self.world not in slategym.WORLDS:
            raise ValueError(f"world={self.world!r} is not allowed: expected one of "
                             f"{sorted(slategym.WORLDS)}")  # fmt: skip
        check_int("seed", self.seed, 0)

    @property
    def key(self) -> str:
        """A file-name-safe identity of the task within a run."""
        return f"{self.cohort}__{self.world}__{self.agent}__{self.config}__s{self.seed}"

    def fingerprint(self) -> dict[str, Any]:
        """Everything the record depends on: a stored record is reused only if this matches."""
        return json.loads(json.dumps({"slategym": slategym.__version__, **asdict(self)}))

    def env(self, population_seed: int) -> dict[str, Any]:
        return {**self.budget.env, "population_seed": population_seed}

    @property
    def train_seed(self) -> int:
        return TRAIN_SEED_OFFSET[self.cohort] + self.seed

    @property
    def eval_seed(self) -> int:
        return EVAL_SEED_OFFSET[self.cohort] + self.seed


class _StepCounter:
    """Counts optimizer steps of every torch optimizer in the process (SB3's included)."""

    def __init__(self) -> None:
        self.steps = 0

    def __enter__(self) -> _StepCounter:
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self._handle = register_optimizer_step_post_hook(self._count)
        return self

    def _count(self, *_: Any) -> None:
        self.steps += 1

    def __exit__(self, *_: Any) -> None:
        self._handle.remove()


class _Timeline:
    """Reward and slates per hour of the timeline (day * 24 + hour), for the regret curves."""

    def __init__(self, days: int) -> None:
        self.reward = np.zeros(days * HOURS)
        self.slates = np.zeros(days * HOURS)

    def add(self, info: dict[str, Any], served: np.ndarray, rewards: np.ndarray) -> None:
        slot = np.asarray(info["day"])[served] * HOURS + np.asarray(info["hour"])[served]
        slot = np.clip(slot, 0, len(self.reward) - 1)
        np.add.at(self.reward, slot, np.asarray(rewards, np.float64)[served])
        np.add.at(self.slates, slot, 1.0)


def evaluate_on(agent: Agent, task: Task, users: int, timeline: bool = False) -> dict[str, Any]:
    """Metrics of ``agent`` on the first ``users`` users of the task's evaluation cohort."""
    envs = make_vector_env(users, task.world, **task.env(task.eval_seed))
    sim = envs.unwrapped.sim  # type: ignore[attr-defined]
    acc = MetricsAccumulator(sim.catalog, num_days=sim.config.days)
    hours = _Timeline(sim.config.days)

    def on_step(info: dict[str, Any], served: np.ndarray, rewards: np.ndarray) -> None:
        acc.add_step(info, served, rewards=rewards)
        hours.add(info, served, rewards)

    run(agent, envs, seed=task.eval_seed, on_step=on_step)
    result = acc.result()
    out: dict[str, Any] = {k: float(result[k]) for k in METRIC_KEYS}
    out["ctr_per_day"] = np.asarray(result["ctr_per_day"], float).tolist()
    if timeline:
        out["reward_per_hour"] = hours.reward.tolist()
        out["slates_per_hour"] = hours.slates.tolist()
        out["users"] = users
    return out


def _curve_point(agent: Agent, task: Task, interactions: int, seconds: float) -> dict[str, Any]:
    m = evaluate_on(agent, task, task.budget.curve_users)
    return {"interactions": interactions, "slate_ctr": m["slate_ctr"],
            "mean_reward": m["mean_reward"], "train_seconds": seconds}  # fmt: skip


def train(agent: Agent, task: Task) -> dict[str, Any]:
    """Train ``agent`` with the task's budget, evaluating the learning curve at the checkpoints."""
    b = task.budget
    env = task.env(task.train_seed)
    curve: list[dict[str, Any]] = []
    taken, clock = 0, time.perf_counter()
    elapsed: Callable[[], float] = lambda: time.perf_counter() - clock  # noqa: E731
    if isinstance(agent, TrainsItself):
        make_env = functools.partial(gym.make, task.world, **env)
        counted = [0]
        for checkpoint in b.checkpoints or (b.train_steps,):
            if checkpoint > taken:
                agent.fit(make_env, checkpoint - taken,
                          progress=lambda k: counted.__setitem__(0, counted[0] + k))  # fmt: skip
                taken = counted[0]
            if checkpoint in b.checkpoints:
                curve.append(_curve_point(agent, task, taken, elapsed()))
        if taken < b.train_steps:
            agent.fit(make_env, b.train_steps - taken,
                      progress=lambda k: counted.__setitem__(0, counted[0] + k))  # fmt: skip
            taken = counted[0]
    elif isinstance(agent, LearnsFromFeedback):
        iterations = b.train_steps // b.batch_size
        marks = {c // b.batch_size: c for c in b.checkpoints}
        served = [0]
        if 0 in marks:
            curve.append(_curve_point(agent, task, 0, 0.0))
        step = [0]

        def progress(_: int) -> None:
            step[0] += 1
            if step[0] in marks and step[0] > 0:
                curve.append(_curve_point(agent, task, served[0], elapsed()))

        agent.plan(iterations)
        run(agent, make_vector_env(b.batch_size, task.world, **env), seed=task.train_seed,
            steps=iterations, explore=True, learn=True,
            on_step=lambda info, rows, rewards: served.__setitem__(0, served[0] + int(rows.sum())),
            progress=progress)  # fmt: skip
        taken = served[0]
    return {"interactions": taken, "curve": curve}


def run_task(task: Task) -> dict[str, Any]:
    """Train and evaluate the task's agent; returns the record (JSON-able, see the module docs)."""
    import torch

    torch.set_num_threads(1)  # tiny networks on a shared machine: one thread per task
    wall, cpu = time.perf_counter(), time.process_time()
    spec = AgentSpec.from_env(make_vector_env(1, task.world, **task.env(task.eval_seed)))
    agent = make_agent(task.agent, spec, seed=task.train_seed, **task.options)
    with _StepCounter() as counter:
        trained = train(agent, task)
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics = evaluate_on(agent, task, task.budget.eval_users, timeline=True)
    return {
        "task": task.fingerprint(),
        "key": task.key,
        "upper_bound": isinstance(agent, ReadsHiddenState),
        "learns": isinstance(agent, (LearnsFromFeedback, TrainsItself)),
        "interactions": trained["interactions"],
        "gradient_steps": counter.steps,
        "curve": trained["curve"],
        "train_seconds": train_wall,
        "train_cpu_seconds": train_cpu,
        "eval_seconds": time.perf_counter() - wall - train_wall,
        "eval_cpu_seconds": time.process_time() - cpu - train_cpu,
        "metrics": metrics,
    }
