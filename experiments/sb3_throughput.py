"""SB3 PPO steps per second: ``make_vec_env("SlateRec-v0", n_envs=8)`` vs the native-env adapter.

Two ways to give stable-baselines3 SlateRec users, trained with the same PPO on the same number of
transitions per rollout (``n_envs * n_steps = 2048``, SB3's default batch of experience; batch 64,
10 epochs (``--rollout``, ``--epochs``), ``MultiInputPolicy`` on the raw Dict observation, ``MultiDiscrete`` slates):

* ``dummy``: SB3's usual entry point, ``make_vec_env("SlateRec-v0", n_envs=8)``: a ``DummyVecEnv`` of 8
  single envs (each in SB3's ``Monitor``), stepped one after the other in Python; ``n_steps = 256``;
* ``adapter``: :func:`agents.sb3_vec_env.make_sb3_vec_env` with ``N = 64`` rows of the native vector
  env (in SB3's ``VecMonitor``), one batched call per step; ``n_steps = 32``.

Three figures per route, all in environment steps (transitions) per second of wall-clock time:

* ``env``: the VecEnv alone, stepped with random slates (no policy);
* ``rollout``: PPO's rollout collection (policy forward pass + env step), timed by a callback;
* ``learn``: the whole ``PPO.learn`` (rollouts and the 10 gradient epochs).

Run: ``python -m experiments.sb3_throughput`` (figures in ``docs/sb3.md``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.cli_args import parse


@dataclass
class Args:
    """SB3 PPO throughput: make_vec_env (8 single envs) vs the native-env adapter (N rows)."""

    rows: int = 64
    """Rows ``N`` of the native vector env behind the adapter."""
    n_envs: int = 8
    """Single envs of the ``make_vec_env`` route."""
    rollout: int = 2048
    """Transitions per PPO rollout, the same for both routes (SB3's default batch of experience)."""
    rollouts: int = 4
    """PPO rollouts timed per route (after one warm-up rollout)."""
    epochs: int = 10
    """PPO epochs per rollout (SB3's default)."""
    env_steps: int = 4096
    """Transitions stepped with random slates for the ``env`` figure."""
    threads: int = 1
    """Torch intra-op threads."""
    seed: int = 0


def env_rate(venv: Any, transitions: int, seed: int) -> float:
    """Transitions per second of ``venv`` stepped with random slates."""
    rng = np.random.default_rng(seed)
    space = venv.action_space
    n = venv.num_envs
    actions = [rng.integers(0, space.nvec, size=(n, len(space.nvec))) for _ in range(8)]
    venv.reset()
    steps = max(1, transitions // n)
    start = time.perf_counter()
    for i in range(steps):
        venv.step(actions[i % 8])
    return steps * n / (time.perf_counter() - start)


def ppo_rates(venv: Any, args: Args) -> dict[str, float]:
    """Rollout and learn transitions per second of PPO on ``venv`` (after one warm-up rollout)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Logger

    class RolloutClock(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds = 0.0
            self._start = 0.0

        def _on_rollout_start(self) -> None:
            self._start = time.perf_counter()

        def _on_rollout_end(self) -> None:
            self.seconds += time.perf_counter() - self._start

        def _on_step(self) -> bool:
            return True

    n_steps = args.rollout // venv.num_envs
    model = PPO("MultiInputPolicy", venv, n_steps=n_steps, batch_size=64, n_epochs=args.epochs,
                seed=args.seed)  # fmt: skip
    model.set_logger(Logger(folder=None, output_formats=[]))  # no SB3-<date> folder in the temp dir
    model.learn(total_timesteps=args.rollout)  # warm-up: first calls, allocations
    clock = RolloutClock()
    transitions = args.rollout * args.rollouts
    start = time.perf_counter()
    model.learn(total_timesteps=transitions, callback=clock, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    return {"rollout": transitions / clock.seconds, "learn": transitions / seconds}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    import slategym  # noqa: F401  (registers SlateRec-v0)
    from agents.sb3_vec_env import make_sb3_vec_env

    args = parse(Args, argv, "slategym sb3-throughput")
    for name, value in (("rows", args.rows), ("n_envs", args.n_envs)):
        if value < 1 or args.rollout % value:
            raise ValueError(
                f"{name}={value} is not allowed: expected a divisor of rollout={args.rollout}"
            )
    torch.set_num_threads(args.threads)
    dummy = make_vec_env("SlateRec-v0", n_envs=args.n_envs, seed=args.seed)
    adapter = make_sb3_vec_env(args.rows, seed=args.seed)
    results: dict[str, Any] = {"rows": args.rows, "n_envs": args.n_envs}
    for name, venv in (("dummy", dummy), ("adapter", adapter)):
        rates = {"env": env_rate(venv, args.env_steps, args.seed)}
        rates.update(ppo_rates(venv, args))
        results[name] = rates
    print(f"{'route':<28} {'env steps/s':>12} {'rollout steps/s':>16} {'learn steps/s':>14}")
    for name, label in (("dummy", f"make_vec_env, n_envs={args.n_envs}"),
                        ("adapter", f"adapter, N={args.rows}")):  # fmt: skip
        r = results[name]
        print(f"{label:<28} {r['env']:>12,.0f} {r['rollout']:>16,.0f} {r['learn']:>14,.0f}")
    ratio = {k: results["adapter"][k] / results["dummy"][k] for k in ("env", "rollout", "learn")}
    results["ratio"] = ratio
    print(f"{'adapter / make_vec_env':<28} {ratio['env']:>11.1f}x {ratio['rollout']:>15.1f}x "
          f"{ratio['learn']:>13.1f}x")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
