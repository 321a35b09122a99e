"""stable-baselines3 PPO on slategym, through ``make_vec_env`` or the native vector env.

* ``--route make_vec_env``: SB3's usual entry point, ``make_vec_env("SlateRec-v0", n_envs)``
  (single envs stepped one after the other in a ``DummyVecEnv``); each env is wrapped with
  ``FlattenSlateObservation`` (flat ``Box``, ids dropped) and ``TopKSlate`` (one score per
  candidate, the top-K distinct candidates served), so ``MlpPolicy`` needs nothing custom.
* ``--route native``: the same wrappers over the native vector env (``FlattenSlateObservationVector``,
  ``TopKSlateVector``) with ``SAME_STEP`` autoreset, handed to SB3 through the adapter
  ``agents.sb3_vec_env.SlateRecSB3VecEnv`` (see docs/sb3.md): one batched simulator step for
  all rows.

Both evaluate the greedy policy (``deterministic=True``: the mean scores, ranked) on held-out
users (another ``population_seed``) against uniformly random distinct slates.

    python docs/examples/sb3_ppo.py --route native --steps 100000
    python docs/examples/sb3_ppo.py --route make_vec_env --steps 512    # CI's smoke run

Needs ``pip install torch==2.13.0 "slategym[agents]"``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import slategym  # noqa: F401  (registers SlateRec-v0)
from slategym.wrappers import (
    FlattenSlateObservation,
    FlattenSlateObservationVector,
    TopKSlate,
    TopKSlateVector,
)

EVAL_POPULATION_SEED = 10_000


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--route", choices=["make_vec_env", "native"], default="native")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per env")
    p.add_argument("--max-episode-steps", type=int, default=50)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def wrap(env: gym.Env) -> gym.Env:
    return TopKSlate(FlattenSlateObservation(env))  # type: ignore[arg-type]


def make_train_env(args: argparse.Namespace) -> VecEnv:
    if args.route == "make_vec_env":
        return make_vec_env(
            "SlateRec-v0",
            n_envs=args.num_envs,
            seed=args.seed,
            wrapper_class=wrap,
            env_kwargs={"max_episode_steps": args.max_episode_steps},
        )
    from agents.sb3_vec_env import SlateRecSB3VecEnv  # the SB3 adapter of slategym's agents

    native = gym.make_vec(
        "SlateRec-v0",
        args.num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.SAME_STEP,
        max_episode_steps=args.max_episode_steps,
    )
    venv = VecMonitor(SlateRecSB3VecEnv(TopKSlateVector(FlattenSlateObservationVector(native))))
    venv.seed(args.seed)
    return venv


def evaluate(model: PPO | None, args: argparse.Namespace) -> float:
    """Mean return over held-out users: the greedy policy, or random distinct slates (None)."""
    make = gym.make(
        "SlateRec-v0",
        max_episode_steps=args.max_episode_steps,
        population_seed=EVAL_POPULATION_SEED,
    )
    env = Monitor(wrap(make))
    if model is None:
        env.reset(seed=args.seed + 1)
        env.action_space.seed(args.seed + 1)  # uniform scores: a uniformly random slate
        returns = []
        for _ in range(args.eval_episodes):
            env.reset()
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total, done = total + float(reward), terminated or truncated
            returns.append(total)
        return float(np.mean(returns))
    env.reset(seed=args.seed + 1)
    mean, _ = evaluate_policy(model, env, n_eval_episodes=args.eval_episodes, deterministic=True)
    return float(mean)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(1)
    venv = make_train_env(args)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=args.n_steps,
        batch_size=256,
        n_epochs=4,
        gamma=0.95,
        gae_lambda=0.9,
        seed=args.seed,
        device="cpu",
    )
    model.set_logger(Logger(folder=None, output_formats=[]))  # no SB3-<date> folder in /tmp
    start = time.time()
    model.learn(total_timesteps=args.steps)
    seconds = time.time() - start
    result = {
        "route": args.route,
        "steps": int(model.num_timesteps),
        "steps_per_second": round(model.num_timesteps / seconds),
        "greedy_return": evaluate(model, args),
        "random_return": evaluate(None, args),
    }
    venv.close()
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
