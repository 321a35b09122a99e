"""Tianshou (2.0) PPO on slategym: a ``DummyVectorEnv`` of single envs.

Tianshou vectorises single envs itself (``DummyVectorEnv``, ``SubprocVectorEnv``): its
collectors need ``len(env)`` and per-env ``step(action, id=...)``, which a Gymnasium
``VectorEnv`` (the native one included) does not have, so a ``VectorEnv`` passed to a
``Collector`` fails at once with ``TypeError: object of type ... has no len()`` (the script
checks that this is still so). Each single env is wrapped with ``FlattenSlateObservation`` (flat
``Box``, ids dropped) and ``TopKSlate`` (one score per candidate, the top-K distinct candidates
served), so Tianshou's Gaussian PPO actor needs no custom network.

    python docs/examples/tianshou_ppo.py --epochs 5
    python docs/examples/tianshou_ppo.py --epochs 1 --steps-per-epoch 1000   # CI's smoke run

Needs ``pip install torch==2.13.0 "slategym[tianshou]"`` (Python >= 3.11).
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
from tianshou.algorithm import PPO
from tianshou.algorithm.modelfree.reinforce import ProbabilisticActorPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.trainer import OnPolicyTrainerParams
from tianshou.utils.net.common import Net
from tianshou.utils.net.continuous import ContinuousActorProbabilistic, ContinuousCritic
from torch.distributions import Independent, Normal

import slategym  # noqa: F401  (registers SlateRec-v0)
from slategym.wrappers import FlattenSlateObservation, TopKSlate


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps-per-epoch", type=int, default=20_000)
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--test-envs", type=int, default=8)
    p.add_argument("--max-episode-steps", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_env(max_episode_steps: int, population_seed: int = 0) -> gym.Env:
    env = gym.make(
        "SlateRec-v0", max_episode_steps=max_episode_steps, population_seed=population_seed
    )
    return TopKSlate(FlattenSlateObservation(env))  # type: ignore[arg-type]


def vector_env_is_refused(policy: ProbabilisticActorPolicy) -> str:
    """What Tianshou says to a Gymnasium ``VectorEnv``: the message of its ``TypeError``."""
    native = gym.make_vec("SlateRec-v0", 2, vectorization_mode="vector_entry_point")
    try:
        Collector(policy, native)  # type: ignore[arg-type]
    except TypeError as err:
        return str(err)
    finally:
        native.close()
    raise AssertionError("Tianshou accepted a Gymnasium VectorEnv: update docs/integrations.md")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    train_envs = DummyVectorEnv(
        [lambda: make_env(args.max_episode_steps) for _ in range(args.num_envs)]
    )
    test_envs = DummyVectorEnv(  # held-out users: another population
        [lambda: make_env(args.max_episode_steps, 10_000) for _ in range(args.test_envs)]
    )
    train_envs.seed([args.seed + i for i in range(args.num_envs)])
    test_envs.seed([args.seed + 100 + i for i in range(args.test_envs)])
    env = make_env(args.max_episode_steps)
    obs_shape, action_space = env.observation_space.shape, env.action_space
    assert obs_shape is not None and isinstance(action_space, gym.spaces.Box)

    actor = ContinuousActorProbabilistic(
        preprocess_net=Net(state_shape=obs_shape, hidden_sizes=[64, 64], activation=torch.nn.Tanh),
        action_shape=action_space.shape,
        unbounded=True,
    )
    critic = ContinuousCritic(
        preprocess_net=Net(state_shape=obs_shape, hidden_sizes=[64, 64], activation=torch.nn.Tanh)
    )

    def dist(loc_scale: tuple[torch.Tensor, torch.Tensor]) -> Independent:
        return Independent(Normal(*loc_scale), 1)

    policy = ProbabilisticActorPolicy(  # tanh keeps the scores' order (clipping would tie them)
        actor=actor,
        dist_fn=dist,
        action_space=action_space,
        deterministic_eval=True,
        action_scaling=False,
        action_bound_method="tanh",
    )
    refused = vector_env_is_refused(policy)
    algorithm = PPO(
        policy=policy,
        critic=critic,
        optim=AdamOptimizerFactory(lr=3e-4),
        gamma=0.95,
        gae_lambda=0.9,
        ent_coef=0.0,
        max_grad_norm=0.5,
    )
    train_collector = Collector(
        algorithm, train_envs, VectorReplayBuffer(4096, args.num_envs), exploration_noise=True
    )
    test_collector = Collector(algorithm, test_envs)
    start = time.time()
    stats = algorithm.run_training(
        OnPolicyTrainerParams(
            training_collector=train_collector,
            test_collector=test_collector,
            max_epochs=args.epochs,
            epoch_num_steps=args.steps_per_epoch,
            collection_step_num_env_steps=1024,
            update_step_num_repetitions=4,
            batch_size=256,
            test_step_num_episodes=args.test_envs,
            show_progress=False,
        )
    )
    result = {
        "epochs": args.epochs,
        "seconds": round(time.time() - start, 1),
        "best_test_return": float(stats.best_reward),
        "vector_env_error": refused,
    }
    train_envs.close()
    test_envs.close()
    assert np.isfinite(result["best_test_return"])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
