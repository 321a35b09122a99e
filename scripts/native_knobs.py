"""What each knob of a lighter step buys on the native vector env: the default, ``info_keys=()``,
``copy=False`` and ``observation="ids"`` stepped in turn in one process, in paired rounds
(docs/performance.md, "Fourth round").

    python scripts/native_knobs.py --config 10x2 --rounds 15

Prints each configuration's median user-steps per second and the median of its per-round ratio to
the default. Not part of CI.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from slategym.vector_env import SlateRecVectorEnv

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "info_keys=()": {"info_keys": ()},
    "info_keys=(), copy=False": {"info_keys": (), "copy": False},
    "lightest (+ observation='ids')": {"info_keys": (), "copy": False, "observation": "ids"},
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="10x2", help="CANDIDATESxSLATE")
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=40, help="steps per chunk")
    args = parser.parse_args(argv)
    c, k = (int(x) for x in args.config.split("x"))
    envs = {name: SlateRecVectorEnv(args.rows, num_candidates=c, slate_size=k, backend="compiled", **kw)
            for name, kw in CONFIGS.items()}  # fmt: skip
    rng = np.random.default_rng(0)
    actions = [np.stack([rng.permutation(c)[:k] for _ in range(args.rows)]) for _ in range(4)]
    for env in envs.values():
        env.reset(seed=0)
        for i in range(20):
            env.step(actions[i % 4])
    rates: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(args.rounds):
        for name, env in envs.items():
            start = time.perf_counter()
            for i in range(args.steps):
                env.step(actions[i % 4])
            rates[name].append(args.rows * args.steps / (time.perf_counter() - start))
    for name, r in rates.items():
        ratio = statistics.median(a / b for a, b in zip(r, rates["default"]))
        print(f"{args.config} {name:32s} {statistics.median(r) / 1e6:.2f}M user-steps/s "
              f"(rounds {min(r) / 1e6:.2f}-{max(r) / 1e6:.2f}M), {ratio:.2f}x the default")  # fmt: skip


if __name__ == "__main__":
    main()
