"""What each part of the fused step kernel costs: the part is done twice, and the kernel timed
against an unchanged copy, in paired rounds (docs/performance.md, "Fifth round").

Doing a part twice (same inputs, same outputs) adds its cost without changing the trajectory, so
the branches taken and the work that follows stay the same; removing a part instead changes the
dynamics (a row whose session never ends does no arrival maths). Each variant is a copy of
``slategym/kernels/step.py`` with one snippet repeated, written to a scratch directory, imported as
a module of its own and swapped into the native vector env's compiled world::

    python scripts/kernel_parts.py --config 10x2 --rounds 9

Prints each variant's median nanoseconds per row and the median of its paired ratio to the
unchanged copy (1.10: the part is about a tenth of the kernel). Compiles each variant (about 20 s
each). Not part of CI.
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

STEP = Path(__file__).resolve().parent.parent / "slategym" / "kernels" / "step.py"

ARRIVAL = "                new_clock = R.arrival_after(\n"
ARRIVAL_ARGS = """                    new_clock + fw[F_MIN_GAP],
                    hour_profile,
                    uid,
                    activity[uid] * return_blk[b],
                    -surv_blk[b * (k + 1) + k],
                    rate,
                    cum,
                )
"""
FINISH = """            if not R.finish_row(
                r, end, churn, new_clock, uid, settings, world, state, nxt, outcome,
                (items, valid_row, a_row, clicks_row, buys, dwell_row),
            ):  # fmt: skip
"""
UNIFORMS = "            R.fill_uniforms(base, uc0, nr, u)\n"
AFFINITY = "                match = einsum_dot(item_table, item, interests, r, d)\n"

SAMPLE = """            status = sample_from(
                kind, cp, gamma, a_row, terms, k, u[0:uo], valid_row, clicks_row, scratch
            )
"""
FATIGUE = """                for q in range(t):
                    count = 0
                    for i in range(n_topics):
                        count += clicked_topics[i] == q
                    o_fatigue[r, q] = up[DECAY] * fatigue[r, q] + np.float64(count)
"""
PARTS: dict[str, tuple[str, str]] = {
    "arrival (the return time)": (
        ARRIVAL,
        "                R.arrival_after(\n" + ARRIVAL_ARGS + ARRIVAL,
    ),
    "the bookkeeping (rows.finish_row: history, candidates, outputs, reward)": (
        FINISH,
        FINISH.replace("            if not R.finish_row(", "            R.finish_row(").replace(
            "            ):  # fmt: skip\n", "            )\n"
        )
        + FINISH,
    ),
    "fill_uniforms (the step's own)": (UNIFORMS, UNIFORMS + UNIFORMS),
    "affinity dot products": (
        AFFINITY,
        AFFINITY
        + "                match = match + 0.0 * einsum_dot(item_table, item, o_interests, r, d)\n",
    ),
    "the choice's sampling (sample_from)": (SAMPLE, SAMPLE + SAMPLE),
    "the fatigue's decay and clicks": (FATIGUE, FATIGUE + FATIGUE),
}
"""Part -> (snippet of step.py, what replaces it: the snippet done twice)."""


def variants(directory: Path) -> dict[str, ModuleType]:
    """The unchanged copy and one module per part, written into ``directory`` and imported."""
    source = STEP.read_text()
    sys.path.insert(0, str(directory))
    modules: dict[str, ModuleType] = {}
    for i, (name, (old, new)) in enumerate([("unchanged", ("", "")), *PARTS.items()]):
        if old and source.count(old) != 1:
            raise SystemExit(f"{name}: its snippet is not in {STEP} exactly once; update PARTS")
        (directory / f"step_part_{i}.py").write_text(source.replace(old, new) if old else source)
        modules[name] = importlib.import_module(f"step_part_{i}")
    return modules


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="10x2", help="CANDIDATESxSLATE")
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=60, help="kernel calls per chunk")
    args = parser.parse_args(argv)
    c, k = (int(x) for x in args.config.split("x"))
    env = SlateRecVectorEnv(args.rows, num_candidates=c, slate_size=k, backend="compiled")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    slates = [np.stack([rng.permutation(c)[:k] for _ in range(args.rows)]) for _ in range(4)]
    for i in range(30):
        env.step(slates[i % 4])
    world, start = env.sim.kernel, env.state

    def run(module: ModuleType, steps: int) -> float:
        world._step = module  # type: ignore[union-attr]
        world._plans.clear()  # type: ignore[union-attr]
        state = start
        t0 = time.perf_counter()
        for i in range(steps):
            state, _ = env.sim.step(state, slates[i % 4], reuse=True, checked=False)
        return (time.perf_counter() - t0) / steps / args.rows * 1e9

    with tempfile.TemporaryDirectory(prefix="slategym-parts-") as tmp:
        modules = variants(Path(tmp))
        for module in modules.values():
            run(module, 3)  # compile (or load) each variant first
        times: dict[str, list[float]] = {name: [] for name in modules}
        for _ in range(args.rounds):
            for name, module in modules.items():
                times[name].append(run(module, args.steps))
    base = times["unchanged"]
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, base))
        print(
            f"{args.config} {name:40s} {statistics.median(t):6.0f} ns/row, {ratio:.3f}x the unchanged kernel"
        )


if __name__ == "__main__":
    main()
