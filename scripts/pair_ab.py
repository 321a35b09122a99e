"""Paired A/B timing of two checkouts of slategym in one process (docs/performance.md).

On a shared VM the speed of a core drifts by a third within minutes, so two versions timed one after
the other (or in two processes) differ by more than most changes gain. This script imports both
checkouts into one process (each under its own set of ``slategym.*`` modules, swapped in before each
use), builds the same native vector env from each, and alternates short timed chunks of steps, A B
B A A B ...; the ratio of each adjacent pair is taken while the machine is in the same state. It
prints, per configuration, the minimum and median milliseconds per step of each side and the median
of the paired ratios B/A (below 1: B is faster)::

    git worktree add /tmp/base <commit> --detach
    python scripts/pair_ab.py /tmp/base .                  # the kernel call and env.step, ids obs
    python scripts/pair_ab.py /tmp/base . --what env --full  # env.step with the default observation
    python scripts/pair_ab.py /tmp/base . --single           # gym.make single env, µs per step
    python scripts/pair_ab.py /tmp/base . --choice position_based  # another choice model
    python scripts/pair_ab.py /tmp/base . --user dynamic           # another user model
    python scripts/pair_ab.py /tmp/base . --what env --full --threads 2  # the vector env on 2 threads
    python scripts/pair_ab.py /tmp/base . --world SlateRec-InterestEvolution-v0  # a registered world

Each checkout compiles its kernels into its own ``__pycache__`` on first use. CPU time of the calling
thread is measured (``time.thread_time``), so time the process spends descheduled does not count;
with ``--threads`` above 1, wall time (``time.perf_counter``).
Not part of CI.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import statistics
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

SETS: list[dict[str, ModuleType]] = []


def _ours(name: str) -> bool:
    return name == "slategym" or name.startswith("slategym.")


def load(tree: str) -> dict[str, ModuleType]:
    """Every module of the checkout ``tree``'s ``slategym``, imported and then taken out of
    ``sys.modules`` (:func:`activate` puts them back)."""
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if _ours(m)]:
        del sys.modules[name]
    package = importlib.import_module("slategym")
    assert Path(package.__file__ or "").resolve().is_relative_to(Path(tree).resolve())
    for info in pkgutil.walk_packages(package.__path__, "slategym."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 (an optional extra missing: not needed to step)
            pass
    modules = {m: sys.modules[m] for m in sys.modules if _ours(m)}
    for name in modules:
        del sys.modules[name]
    sys.path.remove(tree)
    return modules


def activate(i: int) -> None:
    """Make checkout ``i``'s modules the ones ``import slategym...`` finds (lazy imports inside
    functions included)."""
    for name in [m for m in sys.modules if _ours(m)]:
        del sys.modules[name]
    sys.modules.update(SETS[i])


def _report(label: str, times: list[list[float]], unit: str) -> None:
    ratios = [b / a for a, b in zip(*times)]
    print(
        f"{label}: A min {min(times[0]):.3f} med {statistics.median(times[0]):.3f} | "
        f"B min {min(times[1]):.3f} med {statistics.median(times[1]):.3f} {unit} | "
        f"B/A median of pairs {statistics.median(ratios):.3f}",
        flush=True,
    )


def _alternate(run: Any, sides: int, rounds: int) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in range(sides)]
    for r in range(rounds):
        for side in (0, 1) if r % 2 == 0 else (1, 0):
            activate(side)
            times[side].append(run(side))
    return times


def vector(args: argparse.Namespace) -> None:
    for c, k in args.configs:
        _vector(args, c, k)


def _vector(args: argparse.Namespace, c: int, k: int) -> None:
    n = args.rows
    kwargs: dict[str, Any] = (
        {} if args.full else {"observation": "ids", "info_keys": (), "copy": False}
    )
    kwargs.update(_world(args, c, k), num_threads=args.threads)
    envs = []
    for side in range(2):
        activate(side)
        cls = SETS[side]["slategym.vector_env"].SlateRecVectorEnv
        env = cls(n, backend="compiled", **kwargs)
        env.reset(seed=0)
        envs.append(env)
    rng = np.random.default_rng(0)
    slates = [np.argsort(rng.random((n, c)), axis=1)[:, :k] for _ in range(4)]
    for side, env in enumerate(envs):
        activate(side)
        for i in range(30):
            env.step(slates[i % 4])
    reps = max(1, 32768 // n // max(1, c // 10))
    # one thread: CPU time of this thread; more: wall time (the workers' share and the waits count)
    clock = time.thread_time if args.threads == 1 else time.perf_counter

    def run_kernel(side: int) -> float:
        env = envs[side]
        kernel, state = env.sim.kernel, env.state
        start = clock()
        for i in range(reps):
            kernel.step(state, slates[i % 4], reuse=True)
        return (clock() - start) / reps * 1e3

    def run_env(side: int) -> float:
        env = envs[side]
        start = clock()
        for i in range(reps):
            env.step(slates[i % 4])
        return (clock() - start) / reps * 1e3

    for what in args.what:
        run = run_kernel if what == "kernel" else run_env
        _report(f"{c}x{k} {what}", _alternate(run, 2, args.rounds), "ms")


def _world(args: argparse.Namespace, c: int, k: int) -> dict[str, Any]:
    """The world's settings with ``c`` candidates and slates of ``k``: the registered world
    ``--world``'s, else ``--choice`` and ``--user`` in the default world."""
    sizes = {"num_candidates": c, "slate_size": k}
    if args.world:
        return {**SETS[0]["slategym.worlds"].WORLDS[args.world].kwargs, **sizes}
    return {"choice_model": args.choice, "user_model": args.user, **sizes}


def single(args: argparse.Namespace) -> None:
    for c, k in args.configs:
        _single(args, c, k)


def _single(args: argparse.Namespace, c: int, k: int) -> None:
    envs = []
    for side in range(2):
        activate(side)
        env = SETS[side]["slategym.env"].SlateRecEnv(backend="compiled", **_world(args, c, k))
        env.reset(seed=0)
        envs.append(env)
    rng = np.random.default_rng(0)
    slates = [rng.permutation(c)[:k] for _ in range(64)]

    def run(side: int, steps: int = 300) -> float:
        env = envs[side]
        start = time.thread_time()
        for i in range(steps):
            _, _, terminated, truncated, _ = env.step(slates[i % 64])
            if terminated or truncated:
                env.reset()
        return (time.thread_time() - start) / steps * 1e6

    for side in range(2):
        activate(side)
        run(side, 2000)
    _report(f"{c}x{k} single", _alternate(run, 2, args.rounds), "µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", help="checkout A (the baseline)")
    parser.add_argument("b", help="checkout B")
    parser.add_argument("--configs", nargs="+", default=["10x2", "100x10"])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=60, help="chunks per side")
    parser.add_argument("--what", nargs="+", choices=["kernel", "env"], default=["kernel", "env"])
    parser.add_argument("--full", action="store_true", help="default observation, info and copy")
    parser.add_argument("--single", action="store_true", help="the single env instead")
    parser.add_argument("--choice", default="mnl", help="the choice model (a registered name)")
    parser.add_argument("--user", default="default", help="the user model (a registered name)")
    parser.add_argument("--threads", type=int, default=1, help="num_threads of the vector env")
    parser.add_argument("--world", help="a registered world's settings (then not --choice, --user)")
    args = parser.parse_args()
    args.configs = [tuple(int(x) for x in text.split("x")) for text in args.configs]
    warnings.filterwarnings("ignore")
    SETS.extend(load(tree) for tree in (args.a, args.b))
    if args.single:
        single(args)
    else:
        vector(args)


if __name__ == "__main__":
    main()
