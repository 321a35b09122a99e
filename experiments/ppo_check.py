"""Does PPO learn on the default SlateRec-v0? Train it for a few seeds, evaluate against random.

``slategym ppo-check [--train-steps 50000] [--seeds 0 1 2] [--eval-users 64] [--eval-steps 300]
[--eval-seed 10000] [--threads 1]``

For each seed, :class:`agents.ppo.PPOAgent` (defaults of :data:`agents.ppo.PPO_DEFAULTS`) trains for
``--train-steps`` environment steps on ``gym.make("SlateRec-v0")`` defaults. Every agent is then evaluated
with :func:`agents.loop.run` (``learn=False``, ``explore=False``) on the same held-out cohort: a
native vector env of ``--eval-users`` rows reset with ``--eval-seed``, stepped ``--eval-steps`` times.
The figure is the slate CTR (share of served slates with a click). Alongside the trained PPO the
script evaluates the untrained PPO of the same seed (its initial scoring direction), the random
agent of the same seed and the oracle (an upper bound that reads hidden state).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent, TrainsItself
from agents.loop import make_vector_env, run
from agents.registry import make_agent
from agents.spec import AgentSpec
from experiments.cli_args import parse
from slategym.metrics import aggregate, slate_ctr
from slategym.validation import check_int


@dataclass(frozen=True)
class Options:
    """Does PPO learn on the default SlateRec-v0? (see the module docstring)"""

    train_steps: int = 50_000
    """PPO training steps per seed (summed over its n_envs envs)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """One PPO (and one random agent) per seed."""
    eval_users: int = 64
    """Rows of the evaluation vector env."""
    eval_steps: int = 300
    """Vector-env steps of the evaluation."""
    eval_seed: int = 10_000
    """Reset seed of the evaluation cohort (not used in training)."""
    threads: int = 1
    """torch intra-op threads."""

    def check(self) -> None:
        for name in ("train_steps", "eval_users", "eval_steps", "threads"):
            check_int(name, getattr(self, name), 1)
        check_int("eval_seed", self.eval_seed, 0)
        if not self.seeds or any(s < 0 for s in self.seeds):
            raise ValueError(f"seeds={list(self.seeds)} is not allowed: expected seeds >= 0")


def evaluate(agent: Agent, envs: gym.vector.VectorEnv, opts: Options) -> float:
    """Slate CTR of ``agent`` on the held-out cohort ``envs`` (no learning, no exploration)."""
    clicks: list[np.ndarray] = []

    def on_step(info: dict[str, Any], served: np.ndarray, rewards: np.ndarray) -> None:
        clicks.append(info["clicks"][served])

    run(agent, envs, opts.eval_seed, steps=opts.eval_steps, on_step=on_step)
    return slate_ctr(np.concatenate(clicks))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train and evaluate; returns per-seed slate CTRs and their mean with a 95% t-interval."""
    import torch

    opts = parse(Options, argv, "slategym ppo-check")
    torch.set_num_threads(opts.threads)
    envs = make_vector_env(opts.eval_users)  # the held-out cohort, also what the agents are sized by
    spec = AgentSpec.from_env(envs)
    make_env = functools.partial(gym.make, "SlateRec-v0")
    rows: list[dict[str, float]] = []
    for seed in opts.seeds:
        start = time.perf_counter()
        ppo = make_agent("ppo", spec, seed=seed)
        row = {"seed": float(seed), "ppo_untrained": evaluate(ppo, envs, opts)}
        assert isinstance(ppo, TrainsItself)
        ppo.fit(make_env, opts.train_steps)
        seconds = time.perf_counter() - start
        row["ppo"] = evaluate(ppo, envs, opts)
        row["random"] = evaluate(make_agent("random", spec, seed=seed), envs, opts)
        row["oracle (upper bound)"] = evaluate(make_agent("oracle", spec, seed=seed), envs, opts)
        row["train_seconds"] = seconds
        rows.append(row)
        print(
            ", ".join(f"{k} {v:.4f}" if k != "seed" else f"seed {int(v)}" for k, v in row.items())
        )
    names = ("ppo", "ppo_untrained", "random", "oracle (upper bound)")
    summary: dict[str, Any] = {"options": opts, "runs": rows}
    for name in names:
        values = [r[name] for r in rows]
        if len(values) > 1:
            agg = aggregate(values)
            summary[name] = {"mean": agg.mean, "low": agg.low, "high": agg.high}
            print(f"{name:>22}: {agg.mean:.4f}  (95% CI {agg.low:.4f} .. {agg.high:.4f})")
        else:
            summary[name] = {"mean": values[0]}
    return summary


if __name__ == "__main__":
    main()
