"""RLlib (2.60, new API stack) PPO on slategym's native vector env.

Two ways in, both on remote env runners fed by the native vector env
(``gym_env_vectorize_mode="vector_entry_point"``: one batched simulator per runner instead of
``num_envs_per_env_runner`` copies):

* ``--variant scores`` (recommended): a creator function, registered with
  ``ray.tune.registry.register_env``, builds the native vector env and wraps
  it with ``FlattenSlateObservationVector`` (ids dropped, topics one-hot: RLlib's default encoder
  needs a flat ``Box``) and ``TopKSlateVector`` (the action is one score per candidate, served as
  the top-K *distinct* candidates). RLlib sees a ``Box`` observation and a ``Box`` action.
* ``--variant id``: the registered id, written ``"slategym:SlateRec-v0"`` so that every remote
  env runner imports slategym (and so registers the id) before making the env, with RLlib's
  ``FlattenObservations`` connector for the ``Dict`` observation. This keeps the ``MultiDiscrete``
  action, and RLlib's default head samples each position independently: the trap of repeated
  items (slategym warns once per env when it happens); ``FlattenObservations`` also feeds the
  ids to the network as floats.

    python docs/examples/rllib_ppo.py --iterations 20                # scores variant
    python docs/examples/rllib_ppo.py --variant id --iterations 2    # the plain id
    python docs/examples/rllib_ppo.py --variant both --iterations 1 --batch 256 --num-envs 8  # CI

Needs ``pip install torch==2.13.0 "slategym[rllib]"``; installing ``ray[rllib]`` 2.60 downgrades
gymnasium to 1.2.2, which slategym supports (see docs/integrations.md).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def make_scores_env(config: dict[str, Any]):
    """RLlib env creator: the native vector env with flat observations and score actions.

    RLlib calls it with ``num_envs`` in the config when it wants a vector env (vector entry
    point), without when it wants one env (e.g. to read the spaces)."""
    import gymnasium as gym

    import slategym  # noqa: F401  (registers SlateRec-v0 in this worker process)
    from slategym.wrappers import (
        FlattenSlateObservation,
        FlattenSlateObservationVector,
        TopKSlate,
        TopKSlateVector,
    )

    config = dict(config)
    num_envs = config.pop("num_envs", None)
    if num_envs is None:
        return TopKSlate(FlattenSlateObservation(gym.make("SlateRec-v0", **config)))
    envs = gym.make_vec("SlateRec-v0", num_envs, vectorization_mode="vector_entry_point", **config)
    return TopKSlateVector(FlattenSlateObservationVector(envs))


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", choices=["scores", "id", "both"], default="scores")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--num-env-runners", type=int, default=1)
    p.add_argument("--num-envs", type=int, default=32, help="native env rows per runner")
    p.add_argument("--batch", type=int, default=2048, help="train batch per learner")
    p.add_argument("--max-episode-steps", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def build(args: argparse.Namespace, variant: str):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module import FlattenObservations
    from ray.tune.registry import register_env

    env_config = {"max_episode_steps": args.max_episode_steps}
    config = (
        PPOConfig()
        .env_runners(
            num_env_runners=args.num_env_runners,
            num_envs_per_env_runner=args.num_envs,
            gym_env_vectorize_mode="vector_entry_point",
            rollout_fragment_length="auto",
        )
        .training(
            train_batch_size_per_learner=args.batch,
            minibatch_size=min(512, args.batch),
            num_epochs=4,
            lr=3e-4,
            gamma=0.95,
            lambda_=0.9,
        )
        .debugging(seed=args.seed)
    )
    if variant == "scores":
        # a name in Ray's registry reaches the remote runners (the creator is pickled by value)
        register_env("slategym-scores", make_scores_env)
        config = config.environment("slategym-scores", env_config=env_config)
    else:
        config = config.environment("slategym:SlateRec-v0", env_config=env_config)
        config = config.env_runners(
            env_to_module_connector=lambda env, spaces=None, device=None: FlattenObservations()
        )
    return config.build_algo()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    import ray

    variants = ["scores", "id"] if args.variant == "both" else [args.variant]
    out: dict[str, Any] = {}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for variant in variants:
            algo = build(args, variant)
            returns, start = [], time.time()
            for i in range(args.iterations):
                result = algo.train()
                runners = result["env_runners"]
                returns.append(float(runners.get("episode_return_mean", float("nan"))))
                steps = runners.get("num_env_steps_sampled_lifetime", 0)
                print(f"{variant} iteration {i + 1}: env steps {steps}, "
                      f"episode return {returns[-1]:.2f}", flush=True)  # fmt: skip
            out[variant] = {
                "seconds_per_iteration": round((time.time() - start) / args.iterations, 2),
                "episode_return_mean": returns,
            }
            algo.stop()
            if not np.isfinite(returns[-1]):
                raise RuntimeError(
                    f"{variant}: no episode finished in {args.iterations} iterations"
                )
    finally:
        ray.shutdown()
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
