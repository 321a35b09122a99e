"""Training throughput of SlateGFN_DB: iterations per second on a synthetic batch.

One iteration is what the online loop does per step: ``act(explore=True)`` on a batch of
observations, then ``update`` with the feedback to those slates (one push into the replay buffer and
one gradient step). The observations are synthetic, shaped like SlateRec's with
``num_candidates = num_items`` (every item is a candidate), so the figure measures the agent alone.

Run: ``slategym gfn-throughput --batch-size 128 --slate-size 6 --num-candidates 1000 --iterations 50``
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from agents.base import Feedback
from agents.gfn import GFNConfig, SlateGFN_DB
from agents.spec import AgentSpec
from experiments.cli_args import parse
from slategym.validation import check_int

NUM_FEATURES = 10  # SlateRec: latent_dim 8 + log-price z + log-popularity z
PROFILE_DIM = 10
HISTORY_LENGTH = 10  # SlateRec's default history_length


def synthetic_observations(
    batch: int, items: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A batch of SlateRec-shaped observations where all ``items`` are candidates."""
    ids = np.argsort(rng.random((batch, items)), axis=1).astype(np.int64)  # (B, C)
    features = rng.normal(size=(items, NUM_FEATURES)).astype(np.float32)
    filled = rng.integers(0, HISTORY_LENGTH + 1, size=batch)  # valid history slots per row
    history_ids = rng.integers(0, items, size=(batch, HISTORY_LENGTH)).astype(np.int64)
    history_ids[np.arange(HISTORY_LENGTH)[None, :] < (HISTORY_LENGTH - filled)[:, None]] = -1
    history = np.zeros((batch, HISTORY_LENGTH, NUM_FEATURES + 2), np.float32)
    valid = history_ids >= 0
    history[..., :NUM_FEATURES][valid] = features[history_ids[valid]]
    history[..., NUM_FEATURES:][valid] = rng.random((int(valid.sum()), 2))
    return {
        "user": rng.random((batch, PROFILE_DIM)).astype(np.float32),
        "candidates": features[ids],
        "candidate_ids": ids,
        "candidate_topics": np.zeros((batch, items), np.int64),
        "history_ids": history_ids,
        "history": history,
        "time": np.zeros((batch, 3), np.float32),  # day 0, hour 0, session step 0
    }


@dataclass(frozen=True)
class Args:
    """SlateGFN_DB iterations per second on a synthetic SlateRec-shaped batch."""

    batch_size: int = 128
    """Observations per iteration."""
    slate_size: int = 6
    """Items per slate K."""
    num_candidates: int = 1000
    """Candidates per request (every item of the catalog is a candidate: num_items = this)."""
    iterations: int = 50
    """Timed iterations."""
    warmup: int = 3
    """Untimed iterations first."""
    threads: int = 0
    """torch threads (0 = leave as is)."""
    seed: int = 0

    def check(self) -> None:
        for name in ("batch_size", "slate_size", "num_candidates", "iterations"):
            check_int(name, getattr(self, name), 1)
        check_int("warmup", self.warmup, 0)
        check_int("threads", self.threads, 0)
        if self.slate_size > self.num_candidates:
            raise ValueError(f"slate_size={self.slate_size} is not allowed: expected at most "
                             f"num_candidates={self.num_candidates}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> dict:
    opts = parse(Args, argv, "slategym gfn-throughput")
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    rng = np.random.default_rng(opts.seed)
    obs = synthetic_observations(opts.batch_size, opts.num_candidates, rng)
    config = GFNConfig(batch_size=opts.batch_size, total_iterations=opts.warmup + opts.iterations)
    spec = AgentSpec(slate_size=opts.slate_size, num_candidates=opts.num_candidates,
                     num_features=NUM_FEATURES, num_items=opts.num_candidates,
                     profile_dim=PROFILE_DIM, history_length=HISTORY_LENGTH)  # fmt: skip
    agent = SlateGFN_DB(spec, config, seed=opts.seed)

    def iteration() -> float:
        slates = agent.act(obs, explore=True)
        clicks = rng.random(slates.shape) < 0.1
        feedback = Feedback(
            obs,
            slates,
            clicks,
            clicks & (rng.random(slates.shape) < 0.2),
            clicks.sum(axis=1).astype(np.float64),
        )
        return agent.update(feedback)["loss"]

    for _ in range(opts.warmup):
        iteration()
    start = time.perf_counter()
    for _ in range(opts.iterations):
        loss = iteration()
    seconds = time.perf_counter() - start
    result = {
        "iterations_per_second": opts.iterations / seconds,
        "seconds": seconds,
        "iterations": opts.iterations,
        "batch_size": opts.batch_size,
        "slate_size": opts.slate_size,
        "num_candidates": opts.num_candidates,
        "torch_threads": torch.get_num_threads(),
        "final_loss": float(loss),
    }
    print(
        f"SlateGFN_DB: {result['iterations_per_second']:.2f} it/s "
        f"(batch {opts.batch_size}, slate {opts.slate_size}, {opts.num_candidates} candidates, "
        f"{opts.iterations} iterations, {result['torch_threads']} torch threads)"
    )
    return result


if __name__ == "__main__":
    main()
