"""The one loop that runs any agent against a world: act, step, (learn), and report each step.

* :func:`run` steps a Gymnasium vector env (the native SlateRec one, or a ``SyncVectorEnv``) for a
  number of steps, or until every row has finished its first episode (evaluation on a cohort).
  With ``learn=True`` the served rows' :class:`~agents.base.Feedback` goes to ``update``.
* :func:`evaluate` runs an agent greedily over every row's first episode and returns the
  :class:`slategym.metrics.MetricsAccumulator` result (slate CTR, conversion, diversity, ...).
* :func:`serve_slot` answers every request of the current slot of a
  :class:`slategym.platform.Platform` (the online loop's view of the same world).
* :func:`train_on_log` makes shuffled passes over logged feedback, one ``update`` per minibatch.

The benchmark (evaluation and training of the agents that learn from feedback), the online loop and
the checks all use these functions; none of them looks at an agent's name. An agent that reads hidden
state (:class:`~agents.base.ReadsHiddenState`, the oracle) is bound to the env it acts in here.

Example:
    >>> from agents.loop import make_vector_env, run
    >>> from agents.registry import make_agent
    >>> envs = make_vector_env(8, num_users=20, days=1)
    >>> agent = make_agent("greedy", envs, seed=0)
    >>> logs = run(agent, envs, seed=0, steps=3, explore=True, learn=True)
    >>> len(logs), sorted(logs[0])
    (3, ['ctr', 'items_seen'])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent, Feedback, LearnsFromFeedback, ReadsHiddenState
from slategym.metrics import MetricsAccumulator
from slategym.validation import check_int

StepCallback = Callable[[dict[str, Any], np.ndarray, np.ndarray], None]
"""``on_step(info, served, rewards)``: a step's info, the rows it counts ``(n,)`` bool, rewards."""


def make_vector_env(num_envs: int, env_id: str = "SlateRec-v0", **config: Any) -> gym.vector.VectorEnv:
    """The native vector env of ``env_id`` (a registered SlateRec world) with ``config`` keywords."""
    import slategym  # noqa: F401  (registers the env ids)

    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **config)


def _rows(obs: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in obs.items()}


def _learner(agent: Agent, learn: bool) -> LearnsFromFeedback | None:
    """``agent`` if it should learn (ValueError if it cannot), else None."""
    if not learn:
        return None
    if not isinstance(agent, LearnsFromFeedback):
        raise ValueError(
            f"learn=True is not allowed for {type(agent).__name__}: it does not learn from "
            "update(feedback) (see agents.base.LearnsFromFeedback)"
        )
    return agent


def run(
    agent: Agent,
    envs: gym.vector.VectorEnv,
    seed: int | None,
    steps: int | None = None,
    explore: bool = False,
    learn: bool = False,
    on_step: StepCallback | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, float]]:
    """Reset ``envs`` with ``seed`` and step them with ``agent``; returns the metrics of every update.

    ``steps=None`` runs until every row has finished its first episode; the rows already finished
    are then left out of ``on_step`` and of the feedback (their next episodes are not counted).
    With an integer, ``steps`` vector-env steps are taken. Rows that the env auto-resets on a step
    (their action is ignored) are never counted. ``progress(k)`` is called after every step with the
    number of steps taken (1) or, without ``steps``, the number of rows that finished.
    """
    if steps is not None:
        check_int("steps", steps, 1)
    mode = envs.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
    if mode != gym.vector.AutoresetMode.NEXT_STEP:
        raise ValueError(
            f"envs with autoreset_mode={mode} are not allowed: run() needs NEXT_STEP (a row's "
            "next observation after a step is that of its own episode)"
        )
    learner = _learner(agent, learn)
    if isinstance(agent, ReadsHiddenState):
        agent.bind(envs.unwrapped)
    obs, _ = envs.reset(seed=seed)
    finished = np.zeros(envs.num_envs, bool)
    logs: list[dict[str, float]] = []
    taken = 0
    while (taken < steps) if steps is not None else not finished.all():
        slates = agent.act(obs, explore=explore)
        next_obs, rewards, terminated, truncated, info = envs.step(slates)
        served = info["_clicks"] & ~finished
        done = terminated | truncated
        if on_step is not None:
            on_step(info, served, rewards)
        if learner is not None and served.any():
            rows = np.flatnonzero(served)
            feedback = Feedback(
                observations=_rows(obs, rows),
                slates=np.asarray(slates)[rows],
                clicks=info["clicks"][rows],
                purchases=info["purchases"][rows],
                rewards=rewards[rows],
                next_observations=_rows(next_obs, rows),
                dones=done[rows],
                dwell=info["dwell"][rows],
            )
            metrics = learner.update(feedback)
            if metrics:
                logs.append(metrics)
        obs = next_obs
        taken += 1
        if steps is None:
            newly = done & ~finished
            finished |= done
            if progress is not None:
                progress(int(newly.sum()))
        elif progress is not None:
            progress(1)
    return logs


def evaluate(
    agent: Agent,
    envs: gym.vector.VectorEnv,
    seed: int | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Metrics of ``agent`` acting greedily (no exploration, no learning) on ``envs``, each row
    followed through its whole first episode after a reset with ``seed``; ``progress(k)`` gets the
    number of rows that finished at each step."""
    sim = envs.unwrapped.sim  # type: ignore[attr-defined]  # the catalog, for diversity metrics
    acc = MetricsAccumulator(sim.catalog, num_days=sim.config.days)
    run(agent, envs, seed=seed, explore=False, learn=False,
        on_step=lambda info, served, rewards: acc.add_step(info, served, rewards=rewards),
        progress=progress)  # fmt: skip
    return acc.result()


def serve_slot(
    agent: Agent,
    platform: Any,
    explore: bool,
    on_outcome: Callable[[Any, Any], None] | None = None,
) -> list[Feedback]:
    """Serve every request of the platform's current slot with ``agent``; returns the feedback.

    Each batch of requests gives one :class:`Feedback` with the users' next observations (what
    their next request would show) and whether their episode ended. ``on_outcome(requests,
    outcome)`` sees every batch of requests (:class:`slategym.platform.Requests`) and its
    :class:`slategym.types.StepOutcome`.
    """
    if isinstance(agent, ReadsHiddenState):
        agent.bind(platform)
    feedback: list[Feedback] = []
    while (batch := platform.requests()) is not None:
        slates = np.asarray(agent.act(batch.observations, explore=explore), np.int64)
        outcome = platform.serve(slates)
        if on_outcome is not None:
            on_outcome(batch, outcome)
        feedback.append(
            Feedback(
                observations=batch.observations,
                slates=slates,
                clicks=outcome.clicks,
                purchases=outcome.purchases,
                rewards=outcome.reward,
                next_observations=platform.sim.observe(platform.state.take(batch.rows)),
                dones=outcome.terminated | outcome.truncated,
                dwell=outcome.dwell,
            )
        )
    return feedback


def train_on_log(
    agent: Agent, log: Feedback, epochs: int, minibatch: int, rng: np.random.Generator
) -> list[dict[str, float]]:
    """``epochs`` shuffled passes over ``log``, one ``update`` per minibatch of ``minibatch`` rows.

    Returns the metrics of every update, in order (one dict per call, possibly empty).
    """
    learner = _learner(agent, True)
    assert learner is not None
    check_int("epochs", epochs, 0)
    check_int("minibatch", minibatch, 1)
    logs: list[dict[str, float]] = []
    for _ in range(epochs):
        order = rng.permutation(log.size)
        for lo in range(0, log.size, minibatch):
            logs.append(learner.update(log.take(order[lo : lo + minibatch])))
    return logs
