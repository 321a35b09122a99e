"""A short rollout of random slates on SlateRec-v0, printing what users did.

``python -m experiments.rollout [--users N] [--days D] [--seed S]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np

import slategym  # noqa: F401


def main(args: list[str] | None = None) -> dict[str, Any]:
    """Roll out uniform random slates for every row of a native vector env; returns the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=256, help="rows of the vector env")
    parser.add_argument("--days", type=int, default=7, help="days of the timeline")
    parser.add_argument("--steps", type=int, default=1000, help="vector-env steps")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(args)
    envs = gym.make_vec("SlateRec-v0", opts.users, vectorization_mode="vector_entry_point",
                        days=opts.days)  # fmt: skip
    c = envs.unwrapped.config  # type: ignore[attr-defined]
    rng = np.random.default_rng(opts.seed)
    envs.reset(seed=opts.seed)
    slates = clicked = purchases = sessions = churned = 0
    start = time.perf_counter()
    for _ in range(opts.steps):
        action = np.argsort(rng.random((opts.users, c.num_candidates)), 1)[:, : c.slate_size]
        _, _, _, _, info = envs.step(action)
        m = info["_clicks"]
        slates += int(m.sum())
        clicked += int(info["clicks"][m].any(axis=1).sum())
        purchases += int(info["purchases"][m].sum())
        sessions += int(info["session_ended"][m].sum())
        churned += int(info["churned"][m].sum())
    seconds = time.perf_counter() - start
    out = {
        "slates": slates,
        "slate_ctr": clicked / slates,
        "purchases_per_slate": purchases / slates,
        "slates_per_session": slates / max(sessions, 1),
        "churn_per_session": churned / max(sessions, 1),
        "user_steps_per_second": slates / seconds,
    }
    for key, value in out.items():
        print(f"{key:>22}: {value:,.4f}" if isinstance(value, float) else f"{key:>22}: {value:,}")
    return out


if __name__ == "__main__":
    main()
