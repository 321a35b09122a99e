"""``slategym log``: write an impression log from a named logging policy (Parquet, docs/data.md).

    slategym log --world SlateRec-v0 --policy softmax --scorer noisy-oracle --slates 20000 \
        --out logs/softmax.parquet

The native vector env serves ``--num-envs`` users at a time; every served slate is drawn by the
policy over the scorer's scores, its exact propensities are written next to it, and the run stops
once at least ``--slates`` slates were served (the last vector step is kept whole). The summary
compares the log read back with pyarrow against the env's own counters (a
:class:`~slategym.metrics.MetricsAccumulator` fed the same steps).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro

import slategym  # noqa: F401  (registers the env ids)
from slategym.data.policies import make_policy
from slategym.data.recorder import ImpressionWriter
from slategym.data.scorers import make_scorer
from slategym.metrics import MetricsAccumulator
from slategym.validation import check_float, check_int, check_seed


@dataclass
class Args:
    """Write a Parquet impression log of a logging policy on a world."""

    out: str
    """the .parquet file to write"""
    world: str = "SlateRec-v0"
    """registered env id"""
    policy: Literal["uniform", "epsilon-greedy", "softmax"] = "uniform"
    """logging policy (softmax = Plackett-Luce over the scores)"""
    scorer: Literal["popularity", "oracle", "noisy-oracle", "zero"] = "popularity"
    """scores the policy reads (ignored by uniform)"""
    epsilon: float = 0.1
    """epsilon-greedy: share of uniform random slates"""
    temperature: float = 1.0
    """softmax: temperature on the scores"""
    noise: float = 1.0
    """noisy-oracle: sd of the score noise"""
    slates: int = 10_000
    """serve at least this many slates"""
    num_envs: int = 256
    """users served in parallel (native vector env rows)"""
    seed: int = 0
    """seed of the env streams and of the policy's draws"""
    choice_model: str = "mnl"
    """registered choice model"""
    num_items: int = 1000
    num_candidates: int = 50
    slate_size: int = 6
    num_users: int = 1000
    days: int = 7
    env_kwargs: str = "{}"
    """further gym.make keywords as a JSON object"""
    row_group_size: int = 65_536
    """rows per Parquet row group"""
    verify: bool = True
    """read the file back with pyarrow and compare its counts with the env's counters"""


def run(args: Args) -> dict[str, Any]:
    """Serve slates and write the log; returns the summary (counts, time, file)."""
    check_int("slates", args.slates, 1)
    check_int("num_envs", args.num_envs, 1)
    check_seed(args.seed)
    check_float("noise", args.noise, 0.0)
    try:
        extra = json.loads(args.env_kwargs)
    except json.JSONDecodeError as err:
        raise ValueError(f"env_kwargs={args.env_kwargs!r} is not allowed: expected a JSON object") from err
    if not isinstance(extra, dict):
        raise ValueError(f"env_kwargs={args.env_kwargs!r} is not allowed: expected a JSON object")
    env_kwargs = {
        "choice_model": args.choice_model,
        "num_items": args.num_items,
        "num_candidates": args.num_candidates,
        "slate_size": args.slate_size,
        "num_users": args.num_users,
        "days": args.days,
        **extra,
    }
    policy = make_policy(args.policy, args.epsilon, args.temperature)
    scorer = make_scorer(args.scorer, args.noise, args.seed)
    envs = gym.make_vec(
        args.world, num_envs=args.num_envs, vectorization_mode="vector_entry_point", **env_kwargs
    )
    base: Any = envs.unwrapped
    k, c = base.config.slate_size, base.config.num_candidates
    rng = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(2**31,)))
    metadata = {
        "world": args.world,
        "env_kwargs": env_kwargs,
        "policy": {"name": args.policy, "epsilon": args.epsilon, "temperature": args.temperature},
        "scorer": {"name": args.scorer, "noise": args.noise},
        "seed": args.seed,
        "num_envs": args.num_envs,
    }
    counters = MetricsAccumulator(catalog=base.sim.catalog)
    start = time.perf_counter()
    writer = ImpressionWriter(args.out, c, k, metadata, args.row_group_size)
    with writer:
        obs, _ = envs.reset(seed=args.seed)
        while writer.num_requests < args.slates:
            scores = scorer(obs, base.oracle_affinities())
            slates = policy.sample(scores, k, rng)
            prefix = policy.prefix_propensities(scores, slates)
            marg = policy.position_propensities(scores, slates)
            candidates = obs["candidate_ids"].copy()
            obs, rewards, _, _, info = envs.step(slates)
            writer.add_info(
                info,
                rewards,
                candidates,
                slates,
                propensity_slate=prefix[:, -1],
                propensity_position=marg,
                propensity_cascade=prefix,
            )
            counters.add_step(info, rewards=rewards)
    seconds = time.perf_counter() - start
    envs.close()
    env_counts = counters.result()
    summary: dict[str, Any] = {
        "out": args.out,
        "slates": writer.num_requests,
        "rows": writer.num_rows,
        "clicks": writer.num_clicks,
        "env_slates": int(env_counts["slates"]),
        "env_impressions": int(env_counts["impressions"]),
        "env_clicks": int(env_counts["clicks"]),
        "seconds": round(seconds, 2),
    }
    if args.verify:
        from slategym.data.loaders import read_table

        table = read_table(args.out, ["click"])
        summary["read_rows"] = table.num_rows
        summary["read_clicks"] = int(np.count_nonzero(table.column("click").to_numpy()))
        summary["matches_env"] = (
            summary["read_rows"] == summary["env_impressions"]
            and summary["read_clicks"] == summary["env_clicks"]
        )
    return summary


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv)
    summary = run(args)
    print(json.dumps(summary, indent=2))
    return summary



if __name__ == "__main__":
    main()
