"""Run any agent against the native vector env: collect feedback, learn online, or just evaluate.

This is the one loop shared by training (``learn=True``) and evaluation (``learn=False``) of every
agent that learns from feedback batches (greedy, the GFlowNets); PPO trains through
stable-baselines3's own loop but is evaluated here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent, Feedback

StepCallback = Callable[[dict[str, Any], np.ndarray], None]


def make_vector_env(num_envs: int, **config: Any) -> gym.vector.VectorEnv:
    """The native SlateRec vector env with ``config`` (any ``SlateRecConfig`` field)."""
    import slategym  # noqa: F401  (registers the env id)

    return gym.make_vec(
        "SlateRec-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **config
    )


def _take(obs: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in obs.items()}


def run(
    agent: Agent,
    envs: gym.vector.VectorEnv,
    steps: int,
    seed: int | None,
    explore: bool,
    learn: bool,
    on_step: StepCallback | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, float]]:
    """Step ``envs`` ``steps`` times with ``agent``; returns the metrics of every update.

    Rows that the env auto-resets on a step (their action is ignored) are left out of the feedback.
    ``on_step(info, served_mask)`` sees every step's info, e.g. to accumulate evaluation metrics;
    ``progress(1)`` is called after each step.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps={steps!r} is not allowed: expected an integer >= 1")
    bind = getattr(agent, "bind", None)
    if callable(bind):
        bind(envs.unwrapped)
    obs, _ = envs.reset(seed=seed)
    logs: list[dict[str, float]] = []
    for _ in range(int(steps)):
        slates = agent.act(obs, explore=explore)
        next_obs, rewards, terminated, truncated, info = envs.step(slates)
        served = info["_clicks"]
        if on_step is not None:
            on_step(info, served)
        if learn and served.any():
            rows = np.flatnonzero(served)
            feedback = Feedback(
                observations=_take(obs, rows),
                slates=np.asarray(slates)[rows],
                clicks=info["clicks"][rows],
                purchases=info["purchases"][rows],
                rewards=rewards[rows],
                next_observations=_take(next_obs, rows),
                dones=(terminated | truncated)[rows],
            )
            metrics = agent.update(feedback)
            if metrics:
                logs.append(metrics)
        obs = next_obs
        if progress is not None:
            progress(1)
    return logs
