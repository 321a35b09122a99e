"""Compiled against numpy for one registered world: the single env and the native vector env,
timed in alternating chunks in one process (docs/performance.md, "The Dynamic world").

    python scripts/world_speed.py SlateRec-Dynamic-v0 --rows 4096 --rounds 5

Prints, per mode, the median user-steps per second of each backend and the median of the paired
ratios (compiled / numpy). Both envs are seeded alike and stepped with the same random slates; the
kernels are compiled first (``backend="compiled"``). Not part of CI.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np

import slategym  # noqa: F401  (registers the worlds)


def _chunk(env: Any, slates: list[np.ndarray], vector: bool, seconds: float) -> float:
    """User-steps per second over about ``seconds`` of steps."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a in slates:
            out = env.step(a if vector else a[0])
            if not vector and (out[2] or out[3]):
                env.reset()
            steps += a.shape[0] if vector else 1
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_id")
    parser.add_argument("--rows", type=int, default=4096, help="rows of the native vector env")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per chunk")
    args = parser.parse_args(argv)
    for mode in ("single", "native"):
        envs = {}
        for backend in ("numpy", "compiled"):
            if mode == "single":
                env: Any = gym.make(args.env_id, backend=backend)
            else:
                env = gym.make_vec(args.env_id, args.rows, vectorization_mode="vector_entry_point",
                                   backend=backend)  # fmt: skip
            env.reset(seed=0)
            envs[backend] = env
        c = envs["numpy"].unwrapped.config if mode == "single" else envs["numpy"].config
        rows = 1 if mode == "single" else args.rows
        rng = np.random.default_rng(0)
        slates = [np.stack([rng.permutation(c.num_candidates)[: c.slate_size] for _ in range(rows)])
                  for _ in range(8)]  # fmt: skip
        for env in envs.values():  # warm up (the first compiled calls load the kernels)
            _chunk(env, slates, mode == "native", 0.0)
        rates: dict[str, list[float]] = {"numpy": [], "compiled": []}
        for r in range(args.rounds):
            order = ("numpy", "compiled") if r % 2 == 0 else ("compiled", "numpy")
            for backend in order:
                rates[backend].append(_chunk(envs[backend], slates, mode == "native", args.seconds))
        ratios = [b / a for a, b in zip(rates["numpy"], rates["compiled"])]
        print(f"{args.env_id} {mode} ({rows} rows, {c.num_candidates}x{c.slate_size}): numpy "
              f"{statistics.median(rates['numpy']):,.0f}, compiled "
              f"{statistics.median(rates['compiled']):,.0f} user-steps/s; compiled/numpy "
              f"{statistics.median(ratios):.1f}x (paired rounds {min(ratios):.1f}-{max(ratios):.1f}x)")
        for env in envs.values():
            env.close()


if __name__ == "__main__":
    main()
