"""The figures of issue #10, in one run: compiled against numpy, native against Sync, slategym against
RecSim. ``slategym throughput compare [options]`` (the plain ``slategym throughput`` is the sweep of
:mod:`experiments.throughput`).

Every round measures, for each configuration ``num_candidates x slate_size`` (10x2 and 100x10):

* ``single/numpy`` and ``single/compiled``: one ``gym.make("SlateRec-v0")`` env (the wrappers
  included), ``backend="numpy"`` / ``"compiled"``, reset at each episode end: steps/s;
* ``recsim`` (with ``--recsim-python``): RecSim 0.2.4's interest_evolution single env, measured by
  ``experiments/recsim_reference.py throughput`` run with that interpreter (its own process; random
  slates, reset at episode end), for the same ``--seconds``, right after ours;
* ``single/interest_evolution``: one ``gym.make("SlateRec-InterestEvolution-v0")`` env, slategym's
  port of that same RecSim world, on its default (``"auto"``) path: the like-for-like comparison
  with ``recsim`` (``single/compiled`` runs slategym's own default world, a different one);
* ``single/interest_exploration`` and ``single/long_term_satisfaction``: the same for RecSim's two
  other worlds (``SlateRec-InterestExploration-v0``, ``SlateRec-LongTermSatisfaction-v0``), each
  followed (with ``--recsim-python``) by RecSim's own env, ``recsim/interest_exploration`` and
  ``recsim/long_term_satisfaction``;
* ``native/compiled/1`` and ``native/compiled/2``: the native vector env of ``--num-envs`` rows on
  one and two threads (``num_threads``), and ``native/numpy`` on the numpy path: user-steps/s;
* ``native/compiled/1/light`` and ``single/compiled/light``: the same on the compiled path, one
  thread, with the lightest observation and info (``observation="ids"``, ``info_keys=()``, and
  for the vector env ``copy=False``);
* ``native@sync`` and ``sync``: the native env (auto backend) and a ``SyncVectorEnv`` of
  ``--sync-envs`` single envs (auto backend), for the native/Sync ratio.

The rounds interleave every mode, so that the ratios (computed within each round, medians reported)
compare figures taken at the same time on a shared machine. Each measurement runs in a fresh
process (:mod:`experiments.throughput_process`), so that its figure does not depend on the modes
measured before it in the same process (the allocator's state: see ``docs/performance.md``,
*Measurement: one process per measurement*), with glibc's malloc thresholds pinned (``--malloc
pinned``, the default; ``adaptive`` leaves glibc's) in it and in RecSim's process;
``--in-process`` measures them all in this process, in order, as before. ``--modes`` picks and
orders the modes. Every record carries its ``pid``, ``minor_faults_per_step`` and whether its
timed steps ran ``compiled``. Results are rewritten to ``--out`` after every measurement. Never run
in CI (minutes, and RecSim's own venv); the tests run it on a tiny budget without RecSim.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tyro

from experiments.throughput import Runner, random_slates, timed_steps
from experiments.throughput_process import allocator_environment, measurement, worker_environment
from experiments.throughput_report import write

REFERENCE = Path(__file__).resolve().parent / "recsim_reference.py"
MODES = (
    "single/numpy", "single/compiled", "single/interest_evolution", "single/interest_exploration",
    "single/long_term_satisfaction", "native/numpy",
    "native/compiled/1", "native/compiled/2", "native/compiled/1/light", "single/compiled/light",
    "native@sync", "sync",
)  # fmt: skip
"""Every mode, in the default order of a round (RecSim follows ``single/compiled``)."""

RECSIM_WORLDS = {
    "interest_evolution": "SlateRec-InterestEvolution-v0",
    "interest_exploration": "SlateRec-InterestExploration-v0",
    "long_term_satisfaction": "SlateRec-LongTermSatisfaction-v0",
}
"""RecSim's environments and slategym's ports of them (modes ``single/<environment>``)."""
RECSIM_AFTER = {
    "single/compiled": ("interest_evolution", "recsim"),
    "single/interest_exploration": ("interest_exploration", "recsim/interest_exploration"),
    "single/long_term_satisfaction": ("long_term_satisfaction", "recsim/long_term_satisfaction"),
}
"""With ``--recsim-python``: mode -> (RecSim's environment measured right after it, its key)."""


@dataclass
class Args:
    """Compiled vs numpy, native vs Sync, slategym vs RecSim (one run, interleaved rounds)."""

    configs: tuple[str, ...] = ("10x2", "100x10")
    """Configurations ``CANDIDATESxSLATE``."""
    seconds: float = 3.0
    """Timed seconds per measurement."""
    rounds: int = 3
    """Rounds; every mode is measured once per round."""
    num_envs: int = 4096
    """Rows of the native vector env (user-steps/s on 1 and 2 threads)."""
    sync_envs: int = 1024
    """Rows of the native/Sync comparison."""
    recsim_python: str | None = None
    """Python of a venv with RecSim 0.2.4 (e.g. /work/recsim-venv/bin/python); no RecSim if unset."""
    seed: int = 0
    modes: tuple[str, ...] = MODES
    """Modes to measure, in this order in every round (default: all, in the order listed above)."""
    in_process: bool = False
    """Measure every mode in this process, one after the other, instead of one fresh process per
    measurement (the order then biases the figures)."""
    malloc: Literal["pinned", "adaptive"] = "pinned"
    """glibc's malloc thresholds in the measurement processes and RecSim's: pinned at the ceiling
    of its adaptation (figures independent of the allocation history), or adaptive (its default)."""
    out: str = "results/throughput_compare.json"
    """JSON output path."""


def _check(args: Args) -> list[tuple[int, int]]:
    configs = []
    for text in args.configs:
        try:
            c, k = (int(x) for x in text.lower().split("x"))
        except ValueError:
            c, k = 0, 0
        if not 1 <= k <= c <= 1000:
            raise ValueError(
                f"--configs value {text!r} is not allowed: expected CANDIDATESxSLATE with "
                "1 <= SLATE <= CANDIDATES <= 1000, e.g. 10x2"
            )
        configs.append((c, k))
    if not 0.0 < args.seconds <= 600.0:
        raise ValueError(f"--seconds={args.seconds} is not allowed: expected a number in (0, 600]")
    for name in ("rounds", "num_envs", "sync_envs"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag}={getattr(args, name)} is not allowed: expected >= 1")
    for mode in args.modes:
        if mode not in MODES:
            raise ValueError(
                f"--modes value {mode!r} is not allowed: expected some of {list(MODES)}"
            )
    if args.recsim_python is not None and not Path(args.recsim_python).exists():
        raise ValueError(f"--recsim-python={args.recsim_python!r} is not allowed: no such file")
    if not args.out.endswith(".json"):
        raise ValueError(f"--out={args.out!r} is not allowed: expected a path ending in .json")
    return configs


def time_steps(runner: Runner, slates: np.ndarray, seconds: float) -> dict[str, float]:
    """Step ``runner`` for ``seconds`` (after a short warm-up): steps/s and user-steps/s."""
    steps, elapsed, cpu, faults = timed_steps(runner, slates, seconds)
    return {
        "steps_per_s": steps / elapsed,
        "user_steps_per_s": steps * runner.n / elapsed,
        "user_steps_per_cpu_s": steps * runner.n / cpu,
        "minor_faults_per_step": faults / steps,
    }


def recsim_steps(
    python: str,
    c: int,
    k: int,
    seconds: float,
    seed: int,
    malloc: str = "pinned",
    env: str = "interest_evolution",
) -> dict[str, Any]:
    """One round of RecSim's single env ``env`` (``recsim_reference.py throughput``), in its own
    process with the same allocator settings as ours (``malloc``)."""
    command = [
        python, str(REFERENCE), "throughput", "--env", env,
        "--num-candidates", str(c), "--slate-size", str(k), "--seconds", str(seconds),
        "--rounds", "1", "--seed", str(seed), "--jsonl",
    ]  # fmt: skip
    environ = worker_environment(malloc)
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environ)
    for line in done.stdout.splitlines():
        if line.startswith("{") and '"throughput_round"' in line:
            record = json.loads(line)
            return {
                "steps_per_s": record["steps_per_s"],
                "user_steps_per_s": record["steps_per_s"],
                "user_steps_per_cpu_s": record["steps_per_cpu_s"],
                "allocator_environment": allocator_environment(environ),
            }
    raise RuntimeError(f"no throughput record in the output of {' '.join(command)}")


def _modes(num_envs: int, sync_envs: int, c: int, k: int) -> dict[str, tuple[str, int, dict, str]]:
    """Mode name -> (runner mode, rows, env keywords, registered id)."""
    base = {"num_candidates": c, "slate_size": k}
    compiled = {**base, "backend": "compiled"}
    light = {**compiled, "observation": "ids", "info_keys": ()}
    modes: dict[str, tuple[str, int, dict]] = {
        "single/numpy": ("single", 1, {**base, "backend": "numpy"}),
        "single/compiled": ("single", 1, compiled),
        "native/numpy": ("native", num_envs, {**base, "backend": "numpy"}),
        "native/compiled/1": ("native", num_envs, compiled),
        "native/compiled/2": ("native", num_envs, {**compiled, "num_threads": 2}),
        "native/compiled/1/light": ("native", num_envs, {**light, "copy": False}),
        "single/compiled/light": ("single", 1, light),
        "native@sync": ("native", sync_envs, base),
        "sync": ("sync", sync_envs, base),
    }
    out = {name: (*spec, "SlateRec-v0") for name, spec in modes.items()}
    for env, env_id in RECSIM_WORLDS.items():
        out[f"single/{env}"] = ("single", 1, base, env_id)
    return out


def measure(
    mode: str, c: int, k: int, seconds: float, seed: int, num_envs: int, sync_envs: int
) -> dict[str, Any]:
    """Time one mode of configuration ``c x k``: one record (:func:`time_steps`' rates, the path
    the timed steps ran on and the process that measured them)."""
    kind, n, kwargs, env_id = _modes(num_envs, sync_envs, c, k)[mode]
    slates = random_slates(np.random.default_rng(seed), 8, n, c, k)
    runner = Runner(kind, n, kwargs, seed, env_id)
    record: dict[str, Any] = time_steps(runner, slates, seconds)
    record["compiled"] = runner.compiled()
    record["pid"] = os.getpid()
    runner.close()
    return record


RATIOS = {
    "single compiled / numpy": ("single/compiled", "single/numpy"),
    "single compiled / recsim": ("single/compiled", "recsim"),
    "single interest_evolution / recsim": ("single/interest_evolution", "recsim"),
    "single interest_exploration / recsim": (
        "single/interest_exploration", "recsim/interest_exploration"
    ),
    "single long_term_satisfaction / recsim": (
        "single/long_term_satisfaction", "recsim/long_term_satisfaction"
    ),
    "native 2 threads / 1 thread": ("native/compiled/2", "native/compiled/1"),
    "native compiled / numpy": ("native/compiled/1", "native/numpy"),
    "native / sync": ("native@sync", "sync"),
    "native light / default": ("native/compiled/1/light", "native/compiled/1"),
    "single light / recsim": ("single/compiled/light", "recsim"),
}
"""Ratio name -> (numerator mode, denominator mode), taken within each round."""


def summarise(rounds: list[dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Medians per (config, mode) of user-steps/s and of minor page faults per step, and of the
    within-round ratios."""
    out: dict[str, Any] = {}
    configs = dict.fromkeys(cfg for r in rounds for cfg in r)
    for cfg in configs:
        per = [r[cfg] for r in rounds if cfg in r]
        modes = dict.fromkeys(m for r in per for m in r)
        medians = {
            m: statistics.median(r[m]["user_steps_per_s"] for r in per if m in r) for m in modes
        }
        faults = {
            m: statistics.median(r[m]["minor_faults_per_step"] for r in per if m in r)
            for m in modes
            if all("minor_faults_per_step" in r[m] for r in per if m in r)  # RecSim has none
        }
        ratios = {}
        for name, (a, b) in RATIOS.items():
            values = [
                r[a]["user_steps_per_s"] / r[b]["user_steps_per_s"]
                for r in per
                if a in r and b in r
            ]
            if values:
                ratios[name] = statistics.median(values)
        out[cfg] = {
            "median_user_steps_per_s": medians,
            "median_minor_faults_per_step": faults,
            "median_ratios": ratios,
        }
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv)
    configs = _check(args)
    out = Path(args.out)
    malloc = "adaptive" if args.in_process else args.malloc  # in-process: the environment as it is
    report: dict[str, Any] = {
        "command": "slategym throughput compare " + " ".join(argv or []),
        "args": vars(args),
        "cpu_count": os.cpu_count(),
        "isolation": "in-process" if args.in_process else "process per measurement",
        "malloc": malloc,
        "rounds": [],
    }
    for index in range(args.rounds):
        record: dict[str, Any] = {}
        report["rounds"].append(record)
        for c, k in configs:
            cfg = record[f"{c}x{k}"] = {}
            for mode in args.modes:
                cfg[mode] = measurement(
                    "compare", args.in_process, malloc, mode=mode, c=c, k=k,
                    seconds=args.seconds, seed=args.seed, num_envs=args.num_envs,
                    sync_envs=args.sync_envs,
                )  # fmt: skip
                cfg[mode]["loadavg"] = os.getloadavg()[0]
                print(f"round {index} {c}x{k} {mode:<24} {cfg[mode]['user_steps_per_s']:>12,.0f} "
                      f"user-steps/s {cfg[mode]['minor_faults_per_step']:>8,.1f} faults/step",
                      flush=True)  # fmt: skip
                if mode in RECSIM_AFTER and args.recsim_python is not None:
                    env, key = RECSIM_AFTER[mode]
                    cfg[key] = recsim_steps(
                        args.recsim_python, c, k, args.seconds, args.seed, malloc, env
                    )
                    print(f"round {index} {c}x{k} {key:<24} "
                          f"{cfg[key]['steps_per_s']:>12,.0f} steps/s", flush=True)  # fmt: skip
                report["summary"] = summarise(report["rounds"])
                write(out, report)
    for cfg, s in report["summary"].items():
        for name, value in s["median_ratios"].items():
            print(f"{cfg}: {name} = {value:.2f}x")
    print(f"results: {out}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
