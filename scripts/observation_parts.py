"""What each part of the default observation costs inside a native vector env's step: the part is
left out of the observation kernel, and the env's whole step timed against the unchanged kernel, in
paired rounds (docs/performance.md, "Seventh round").

Timing the observation kernel alone says little: called again and again on the same arrays, its
outputs stay in the cache. Inside the env, the step kernel, the autoresets and the bookkeeping run
between two observations, and an output's cost includes what its writes do to the rest of the
step. So each variant is a copy of ``slategym/kernels/world.py`` with one part of ``observe_rows``
removed (its output is then left unwritten: the variants are for timing only), written to a scratch
directory, imported as a module of its own and swapped into one env's compiled world between
rounds (one env: two envs in one process would double the memory a step touches)::

    python scripts/observation_parts.py --config 10x2 --rounds 40

Prints each variant's median milliseconds per step and the median of its paired ratio to the
unchanged kernel (0.90: the part is about a tenth of the step). Compiles each variant (a few
seconds each). Not part of CI.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from slategym.vector_env import SlateRecVectorEnv

WORLD = Path(__file__).resolve().parent.parent / "slategym" / "kernels" / "world.py"

USER_TIME = """    for r in range(lo, hi):
        uid = user_id[r]
        for q in range(p):
            ob_user[r, q] = profile[uid, q]
        day, hour = R.day_hour(clock[r])
        ob_time[r, 0] = np.float32(min(day, days - 1))
        ob_time[r, 1] = np.float32(hour)
        ob_time[r, 2] = np.float32(min(session_step[r], max_session_steps - 1))
"""
IDS = """    for r in range(lo, hi):
        for j in range(c):
            ob_ids[r, j] = candidates[r, j]
    for r in range(lo, hi):
        for j in range(c):
            ob_topics[r, j] = topic[candidates[r, j]]
    for r in range(lo, hi):
        for j in range(length):
            ob_history_ids[r, j] = history_ids[r, j]
"""
CANDIDATES = """        for r in range(lo, hi):
            for j in range(c):
                item = candidates[r, j]
                for q in range(f):
                    ob_candidates[r, j, q] = features[item, q]
"""
HISTORY = """        for r in range(lo, hi):
            for j in range(length):
                item = history_ids[r, j]
                for q in range(f):
                    ob_history[r, j, q] = features[item, q]  # -1: the last row, zeros
                ob_history[r, j, f] = history_response[r, j, 0]
                ob_history[r, j, f + 1] = history_response[r, j, 1]
"""

PARTS: dict[str, tuple[str, str]] = {
    "user and time": (USER_TIME, ""),
    "ids, topics, history ids": (IDS, ""),
    "candidates' features": (CANDIDATES, ""),
    "history's features": (HISTORY, "        pass\n"),
}
"""Part -> (snippet of world.py, what replaces it)."""


def variants(directory: Path) -> dict[str, ModuleType]:
    """The unchanged copy and one module per part left out, written into ``directory`` and
    imported."""
    source = WORLD.read_text()
    sys.path.insert(0, str(directory))
    modules: dict[str, ModuleType] = {}
    for i, (name, (old, new)) in enumerate([("unchanged", ("", "")), *PARTS.items()]):
        if old and source.count(old) != 1:
            raise SystemExit(f"{name}: its snippet is not in {WORLD} exactly once; update PARTS")
        (directory / f"world_part_{i}.py").write_text(source.replace(old, new) if old else source)
        modules[name] = importlib.import_module(f"world_part_{i}")
    return modules


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="10x2", help="CANDIDATESxSLATE")
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20, help="timed env steps per round")
    args = parser.parse_args(argv)
    c, k = (int(x) for x in args.config.split("x"))
    env = SlateRecVectorEnv(args.rows, num_candidates=c, slate_size=k, backend="compiled")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    slates = [np.stack([rng.permutation(c)[:k] for _ in range(args.rows)]) for _ in range(8)]
    world = env.sim.kernel
    assert world is not None

    def run(module: ModuleType, steps: int) -> float:
        world._world = module
        for i in range(3):  # the variant's first steps, untimed
            env.step(slates[i % 8])
        t0 = time.perf_counter()
        for i in range(steps):
            env.step(slates[i % 8])
        return (time.perf_counter() - t0) / steps * 1e3

    with tempfile.TemporaryDirectory(prefix="slategym-observation-parts-") as tmp:
        modules = variants(Path(tmp))
        for module in modules.values():
            run(module, 1)  # compile (or load) each variant first
        times: dict[str, list[float]] = {name: [] for name in modules}
        names = list(modules)
        for r in range(args.rounds):
            for name in names if r % 2 else names[::-1]:  # alternate the order
                times[name].append(run(modules[name], args.steps))
    base = times["unchanged"]
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, base))
        print(
            f"{args.config} {name:26s} {statistics.median(t):6.3f} ms a step, "
            f"{ratio:.3f}x the unchanged kernel's step"
        )


if __name__ == "__main__":
    main()
