"""TorchRL (0.14) on slategym: ``GymEnv("SlateRec-v0")``, and PPO on the native vector env.

1. ``GymEnv("SlateRec-v0")`` makes a TorchRL env from the registered id. TorchRL first passes
   ``frameskip``; slategym raises ``TypeError`` for an unknown keyword, so TorchRL retries without
   it, as it does for any Gymnasium env. The script checks its specs and rolls it out.
2. PPO on ``GymWrapper`` over the native vector env (one batched simulator for all rows),
   wrapped with ``FlattenSlateObservationVector`` (flat ``Box``, ids dropped) and
   ``TopKSlateVector`` (one score per candidate, the top-K distinct candidates served). TorchRL
   wants a vector env with ``autoreset_mode`` ``DISABLED`` (or ``SAME_STEP``) and then resets the
   finished rows itself with ``reset(options={"reset_mask": ...})``, which the native env and the
   wrappers honour.

    python docs/examples/torchrl_ppo.py --frames 100000
    python docs/examples/torchrl_ppo.py --frames 1024      # CI's smoke run

Needs ``pip install torch==2.13.0 "slategym[torchrl]"``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import torch
from gymnasium.vector import AutoresetMode
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.envs import GymEnv, GymWrapper
from torchrl.envs.utils import ExplorationType, check_env_specs, set_exploration_type
from torchrl.modules import MLP, ProbabilisticActor, TanhNormal, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

import slategym  # noqa: F401  (registers SlateRec-v0)
from slategym.wrappers import FlattenSlateObservationVector, TopKSlateVector


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=100_000, help="environment steps (all rows)")
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--frames-per-batch", type=int, default=2048)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--minibatch", type=int, default=512)
    p.add_argument("--max-episode-steps", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def gym_env_from_id() -> dict[str, Any]:
    """``GymEnv("SlateRec-v0")``: specs checked, 5 steps rolled out."""
    env = GymEnv("SlateRec-v0")
    check_env_specs(env)
    rollout = env.rollout(5)
    return {
        "gym_env_steps": int(rollout.batch_size[0]),
        "keys": sorted(env.observation_spec.keys()),
    }


def make_env(num_envs: int, max_episode_steps: int) -> GymWrapper:
    envs = gym.make_vec(
        "SlateRec-v0",
        num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.DISABLED,
        max_episode_steps=max_episode_steps,
    )
    return GymWrapper(TopKSlateVector(FlattenSlateObservationVector(envs)))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    result = gym_env_from_id()

    env = make_env(args.num_envs, args.max_episode_steps)
    check_env_specs(env)
    n_obs = env.observation_spec["observation"].shape[-1]
    action_spec = env.action_spec
    n_act = action_spec.shape[-1]
    actor_net = nn.Sequential(
        MLP(
            in_features=n_obs, out_features=2 * n_act, num_cells=[64, 64], activation_class=nn.Tanh
        ),
        NormalParamExtractor(),
    )
    actor = ProbabilisticActor(
        TensorDictModule(actor_net, in_keys=["observation"], out_keys=["loc", "scale"]),
        spec=action_spec,
        in_keys=["loc", "scale"],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": action_spec.space.low, "high": action_spec.space.high},
        return_log_prob=True,
    )
    critic = ValueOperator(
        MLP(in_features=n_obs, out_features=1, num_cells=[64, 64], activation_class=nn.Tanh),
        in_keys=["observation"],
    )
    collector = Collector(
        env,
        actor,
        frames_per_batch=args.frames_per_batch,
        total_frames=args.frames,
        auto_register_policy_transforms=False,  # a feed-forward policy needs none
    )
    advantage = GAE(gamma=0.95, lmbda=0.9, value_network=critic, average_gae=True)
    loss = ClipPPOLoss(actor, critic, clip_epsilon=0.2, entropy_coeff=1e-3)
    optimizer = torch.optim.Adam(loss.parameters(), lr=3e-4)

    start, rewards = time.time(), []
    for i, batch in enumerate(collector):
        with torch.no_grad():
            advantage(batch)
        flat = batch.reshape(-1)
        for _ in range(args.epochs):
            for idx in torch.randperm(flat.shape[0]).split(args.minibatch):
                losses = loss(flat[idx])
                total = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
                optimizer.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), 0.5)
                optimizer.step()
        collector.update_policy_weights_()
        rewards.append(float(batch["next", "reward"].mean()))
        print(f"batch {i + 1}: mean reward per step {rewards[-1]:.3f}", flush=True)
    collector.shutdown()

    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        greedy = env.rollout(args.max_episode_steps, actor, break_when_any_done=False)
    result.update(
        frames=args.frames,
        seconds=round(time.time() - start, 1),
        train_reward_per_step=rewards,
        greedy_reward_per_step=float(greedy["next", "reward"].mean()),
    )
    env.close()
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
