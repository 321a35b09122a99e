"""The memory estimate of :mod:`slategym.limits` against the measured peak, configuration by configuration.

For each configuration (and number of rows stepped together), the ``tracemalloc`` peak of
construction, reset and three steps (as ``experiments/throughput.py`` measures memory; numpy reports
its buffers to ``tracemalloc``) next to :func:`slategym.limits.estimate_memory`. The cases make each
part of the estimate dominate in turn: catalog, latent dimension, population, history, candidates,
rows, topics, catalog ageing. ``tests/test_limits.py`` checks the first ten within a factor of 1.25.

Run: ``python -m experiments.memory_estimate`` (table in ``docs/safety.md``).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import slategym
from experiments.cli_args import parse
from slategym import kernels
from slategym.limits import estimate_memory

CASES: tuple[tuple[int | None, dict[str, Any]], ...] = (
    (None, {}),
    (None, {"num_items": 100_000}),
    (None, {"num_items": 50_000, "latent_dim": 40}),
    (None, {"num_users": 50_000}),
    (None, {"history_length": 50_000}),
    (None, {"num_items": 20_000, "num_candidates": 20_000, "slate_size": 2}),
    (2048, {}),
    (512, {"num_candidates": 400, "slate_size": 20}),
    (256, {"num_topics": 2000, "history_length": 100}),
    (1024, {"num_items": 500, "num_candidates": 10, "slate_size": 2, "days": 3,
            "new_items_per_day": 100}),
    (16384, {"num_candidates": 100, "slate_size": 10}),
    (4096, {"num_candidates": 10, "slate_size": 2}),
)  # fmt: skip
"""(rows, configuration): ``None`` rows is the single env; else the native vector env."""


@dataclass
class Args:
    """Estimated against measured peak memory."""

    quick: bool = False
    """Only the first ten cases (the ones the tests check; under 100 MiB each)."""


def measured_peak(num_rows: int | None, **config: Any) -> int:
    """``tracemalloc`` peak bytes of construction, reset and three steps of random slates (the
    compiled kernels compiled or loaded first: numba's allocations are not the env's)."""
    kernels.wait()
    gc.collect()
    rng = np.random.default_rng(0)
    tracemalloc.start()
    try:
        if num_rows is None:
            env: Any = slategym.SlateRecEnv(**config)
        else:
            env = slategym.SlateRecVectorEnv(num_rows, **config)
        env.reset(seed=0)
        c, k = env.config.num_candidates, env.config.slate_size
        for _ in range(3):
            slates = np.argsort(rng.random((num_rows or 1, c)), axis=1)[:, :k]
            env.step(slates if num_rows else slates[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(Args, argv, "slategym memory-estimate")
    rows = []
    print("| rows | configuration | measured peak | estimate | estimate / measured |")
    print("|---|---|---|---|---|")
    for num_rows, config in CASES[:10] if args.quick else CASES:
        measured = measured_peak(num_rows, **config)
        estimate = estimate_memory(slategym.SlateRecConfig(**config), num_rows or 1).total
        rows.append({"rows": num_rows or 1, "config": config, "measured": measured,
                     "estimate": estimate, "ratio": estimate / measured})  # fmt: skip
        text = ", ".join(f"{k}={v}" for k, v in config.items()) or "defaults"
        print(f"| {num_rows or 1} | `{text}` | {measured / 2**20:.1f} MiB | "
              f"{estimate / 2**20:.1f} MiB | {estimate / measured:.2f} |")  # fmt: skip
    return {"rows": rows}


if __name__ == "__main__":
    main()
