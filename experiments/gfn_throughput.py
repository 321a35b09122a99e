"""Training throughput of SlateGFN_DB: iterations per second on a synthetic batch.

One iteration is what the online loop does per step: ``act(explore=True)`` on a batch of
observations, then ``update`` with the feedback to those slates (one push into the replay buffer and
one gradient step). The observations are synthetic, shaped like SlateRec's with
``num_candidates = num_items`` (every item is a candidate), so the figure measures the agent alone.

Run: ``python -m experiments.gfn_throughput --batch 128 --slate 6 --items 1000 --iters 50``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from agents.base import Feedback
from agents.gfn import GFNConfig, SlateGFN_DB
from agents.spec import AgentSpec

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


def main(args: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128, help="observations per iteration")
    parser.add_argument("--slate", type=int, default=6, help="slate size K")
    parser.add_argument("--items", type=int, default=1000, help="items = candidates per request")
    parser.add_argument("--iters", type=int, default=50, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave as is)")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(args)
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    rng = np.random.default_rng(opts.seed)
    obs = synthetic_observations(opts.batch, opts.items, rng)
    config = GFNConfig(batch_size=opts.batch, total_iterations=opts.warmup + opts.iters)
    spec = AgentSpec(slate_size=opts.slate, num_candidates=opts.items, num_features=NUM_FEATURES,
                     num_items=opts.items, profile_dim=PROFILE_DIM, history_length=HISTORY_LENGTH)
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
    for _ in range(opts.iters):
        loss = iteration()
    seconds = time.perf_counter() - start
    result = {
        "iterations_per_second": opts.iters / seconds,
        "seconds": seconds,
        "iterations": opts.iters,
        "batch": opts.batch,
        "slate_size": opts.slate,
        "num_candidates": opts.items,
        "torch_threads": torch.get_num_threads(),
        "final_loss": float(loss),
    }
    print(
        f"SlateGFN_DB: {result['iterations_per_second']:.2f} it/s "
        f"(batch {opts.batch}, slate {opts.slate}, {opts.items} candidates, "
        f"{opts.iters} iterations, {result['torch_threads']} torch threads)"
    )
    return result


if __name__ == "__main__":
    main()
