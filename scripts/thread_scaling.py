"""Why two threads give less than 2x on the native vector env (docs/performance.md, "Threads").

Three measurements, in one process:

1. **The machine's ceiling**: a compute-bound and a memory-bound numba loop (GIL released) on one
   thread, then split between two (the caller and one worker), as the kernels are split.
2. **The env, paired**: one native vector env of ``--rows`` rows stepped in alternating chunks on 1
   and 2 threads (``CompiledWorld.set_threads``), with the time of its kernel calls (step, autoreset,
   observation) and of the rest (the vector env's Python and numpy bookkeeping, on one thread; on
   two, the observation runs on the worker beside the bookkeeping and the two are one figure).
3. **Handoff latency**: how long the worker thread takes to start its share after it is submitted.

    python scripts/thread_scaling.py --configs 10x2 100x10

Not part of CI.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from slategym import kernels
from slategym.vector_env import SlateRecVectorEnv


@numba.njit(nogil=True)
def _compute(n: int, seed: int) -> float:
    x, s = seed, 0.0
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFF
        s += np.exp(-(x % 1000) * 1e-3)
    return s


@numba.njit(nogil=True)
def _copy(a: np.ndarray, b: np.ndarray) -> None:
    for i in range(a.shape[0]):
        b[i] = a[i] * 2.0


def machine(rounds: int) -> None:
    pool = ThreadPoolExecutor(1)
    n, a = 20_000_000, np.ones(8_000_000)
    b, h = np.empty_like(a), a.shape[0] // 2
    _compute(10, 1)
    _copy(a, b)
    for name, one, two in (
        ("compute", lambda: _compute(n, 1), lambda: (pool.submit(_compute, n // 2, 2), _compute(n // 2, 3))),
        ("copy 128 MB", lambda: _copy(a, b), lambda: (pool.submit(_copy, a[:h], b[:h]), _copy(a[h:], b[h:]))),
    ):  # fmt: skip
        ratios = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            one()
            t1 = time.perf_counter()
            future, _ = two()
            future.result()
            ratios.append((t1 - t0) / (time.perf_counter() - t1))
        print(f"machine, {name}: 2 threads {statistics.median(ratios):.2f}x one "
              f"(rounds {min(ratios):.2f}-{max(ratios):.2f}x)")  # fmt: skip
    pool.shutdown()


def env(config: str, rows: int, rounds: int) -> None:
    c, k = (int(x) for x in config.split("x"))
    envs = SlateRecVectorEnv(rows, num_candidates=c, slate_size=k, backend="compiled")
    envs.reset(seed=0)
    world = envs.sim.kernel
    assert world is not None
    spent: dict[str, float] = {}

    def timer(name: str) -> Any:
        call = getattr(world, name)

        def timed(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            out = call(*a, **kw)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
            return out

        return timed

    for name in ("step", "observe", "reset_into"):
        setattr(world, name, timer(name))
    rng = np.random.default_rng(0)
    actions = [np.stack([rng.permutation(c)[:k] for _ in range(rows)]) for _ in range(4)]
    chunk = 15
    res: dict[int, list[list[float]]] = {1: [], 2: []}
    for _ in range(rounds):
        for threads in (1, 2):
            world.set_threads(threads)
            for i in range(3):
                envs.step(actions[i % 4])
            spent.clear()
            t0 = time.perf_counter()
            for i in range(chunk):
                envs.step(actions[i % 4])
            total = time.perf_counter() - t0
            parts = [spent.get(n, 0.0) for n in ("step", "reset_into", "observe")]
            res[threads].append([total, *parts, total - sum(parts)])
    for threads in (1, 2):
        m = np.median(np.array(res[threads]), axis=0) / chunk * 1e3
        # on two threads the observation runs on the worker beside the bookkeeping
        # (CompiledWorld.observe_begin): the two are one figure
        rest = (f"observation {m[3]:.3f}, the rest {m[4]:.3f}" if threads == 1
                else f"observation and the rest, side by side, {m[4]:.3f}")  # fmt: skip
        print(f"{config} {threads} thread(s): {m[0]:.3f} ms/step ({rows / m[0] / 1e3:.2f}M "
              f"user-steps/s): step kernel {m[1]:.3f}, autoreset {m[2]:.3f}, {rest} ms")  # fmt: skip
    ratios = np.array(res[1])[:, 0] / np.array(res[2])[:, 0]
    print(f"{config}: 2 threads {np.median(ratios):.2f}x one, paired (quartiles "
          f"{np.quantile(ratios, 0.25):.2f}-{np.quantile(ratios, 0.75):.2f}x)")  # fmt: skip
    # handoff latency: when the worker starts its share, after submit()
    world.set_threads(2)
    pool = world._pool
    assert pool is not None
    starts: list[float] = []
    submit = pool.submit

    def traced(fn: Any, *a: Any) -> Any:
        sent = time.perf_counter()

        def run(*b: Any) -> Any:
            starts.append(time.perf_counter() - sent)
            return fn(*b)

        return submit(run, *a)

    pool.submit = traced  # type: ignore[method-assign,assignment]
    for i in range(100):
        envs.step(actions[i % 4])
    pool.submit = submit  # type: ignore[method-assign]
    print(f"{config}: worker starts {statistics.median(starts) * 1e6:.0f} µs after submit "
          f"(median of {len(starts)}; 90th percentile {np.quantile(starts, 0.9) * 1e6:.0f} µs), "
          f"{len(starts) / 100:.1f} handoffs per step")  # fmt: skip
    envs.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["10x2", "100x10"])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    assert kernels.unavailable_reason() is None, kernels.unavailable_reason()
    machine(5)
    for config in args.configs:
        env(config, args.rows, args.rounds)


if __name__ == "__main__":
    main()
