"""The figures of issue #10, in one run: compiled against numpy, native against Sync, slategym against
RecSim. ``slategym throughput compare [options]`` (the plain ``slategym throughput`` is the sweep of
:mod:`experiments.throughput`).

Every round measures, for each configuration ``num_candidates x slate_size`` (10x2 and 100x10):

* ``single/numpy`` and ``single/compiled``: one ``gym.make("SlateRec-v0")`` env (the wrappers
  included), ``backend="numpy"`` / ``"compiled"``, reset at each episode end: steps/s;
* ``recsim`` (with ``--recsim-python``): RecSim 0.2.4's interest_evolution single env, measured by
  ``experiments/recsim_reference.py throughput`` run with that interpreter (its own process; random
  slates, reset at episode end), for the same ``--seconds``, right after ours;
* ``native/compiled/1`` and ``native/compiled/2``: the native vector env of ``--num-envs`` rows on
  one and two threads (``num_threads``), and ``native/numpy`` on the numpy path: user-steps/s;
* ``native/compiled/1/light`` and ``single/compiled/light``: the same on the compiled path, one
  thread, with the lightest observation and info (``observation="ids"``, ``info_keys=()``, and
  for the vector env ``copy=False``);
* ``native@sync`` and ``sync``: the native env (auto backend) and a ``SyncVectorEnv`` of
  ``--sync-envs`` single envs (auto backend), for the native/Sync ratio.

The rounds interleave every mode, so that the ratios (computed within each round, medians reported)
compare figures taken at the same time on a shared machine. Results are rewritten to ``--out``
after every measurement. Never run in CI (minutes, and RecSim's own venv); the tests run it on a
tiny budget without RecSim.
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
from typing import Any

import numpy as np
import tyro

from experiments.throughput import Runner, random_slates, timed_steps

REFERENCE = Path(__file__).resolve().parent / "recsim_reference.py"


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
    if args.recsim_python is not None and not Path(args.recsim_python).exists():
        raise ValueError(f"--recsim-python={args.recsim_python!r} is not allowed: no such file")
    if not args.out.endswith(".json"):
        raise ValueError(f"--out={args.out!r} is not allowed: expected a path ending in .json")
    return configs


def time_steps(runner: Runner, slates: np.ndarray, seconds: float) -> dict[str, float]:
    """Step ``runner`` for ``seconds`` (after a short warm-up): steps/s and user-steps/s."""
    steps, elapsed, cpu = timed_steps(runner, slates, seconds)
    return {
        "steps_per_s": steps / elapsed,
        "user_steps_per_s": steps * runner.n / elapsed,
        "user_steps_per_cpu_s": steps * runner.n / cpu,
    }


def recsim_steps(python: str, c: int, k: int, seconds: float, seed: int) -> dict[str, float]:
    """One round of RecSim's interest_evolution single env (``recsim_reference.py throughput``)."""
    command = [
        python, str(REFERENCE), "throughput", "--env", "interest_evolution",
        "--num-candidates", str(c), "--slate-size", str(k), "--seconds", str(seconds),
        "--rounds", "1", "--seed", str(seed), "--jsonl",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("{") and '"throughput_round"' in line:
            record = json.loads(line)
            return {
                "steps_per_s": record["steps_per_s"],
                "user_steps_per_s": record["steps_per_s"],
                "user_steps_per_cpu_s": record["steps_per_cpu_s"],
            }
    raise RuntimeError(f"no throughput record in the output of {' '.join(command)}")


def _modes(args: Args, c: int, k: int) -> dict[str, tuple[str, int, dict[str, Any]]]:
    """Mode name -> (runner mode, rows, env keywords)."""
    base = {"num_candidates": c, "slate_size": k}
    return {
        "single/numpy": ("single", 1, {**base, "backend": "numpy"}),
        "single/compiled": ("single", 1, {**base, "backend": "compiled"}),
        "native/numpy": ("native", args.num_envs, {**base, "backend": "numpy"}),
        "native/compiled/1": ("native", args.num_envs, {**base, "backend": "compiled"}),
        "native/compiled/2": (
            "native", args.num_envs, {**base, "backend": "compiled", "num_threads": 2}
        ),  # fmt: skip
        "native/compiled/1/light": (
            "native", args.num_envs,
            {**base, "backend": "compiled", "observation": "ids", "info_keys": (), "copy": False},
        ),  # fmt: skip
        "single/compiled/light": (
            "single", 1, {**base, "backend": "compiled", "observation": "ids", "info_keys": ()}
        ),
        "native@sync": ("native", args.sync_envs, base),
        "sync": ("sync", args.sync_envs, base),
    }


RATIOS = {
    "single compiled / numpy": ("single/compiled", "single/numpy"),
    "single compiled / recsim": ("single/compiled", "recsim"),
    "native 2 threads / 1 thread": ("native/compiled/2", "native/compiled/1"),
    "native compiled / numpy": ("native/compiled/1", "native/numpy"),
    "native / sync": ("native@sync", "sync"),
    "native light / default": ("native/compiled/1/light", "native/compiled/1"),
    "single light / recsim": ("single/compiled/light", "recsim"),
}
"""Ratio name -> (numerator mode, denominator mode), taken within each round."""


def summarise(rounds: list[dict[str, dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """Medians per (config, mode) and of the within-round ratios."""
    out: dict[str, Any] = {}
    configs = dict.fromkeys(cfg for r in rounds for cfg in r)
    for cfg in configs:
        per = [r[cfg] for r in rounds if cfg in r]
        modes = dict.fromkeys(m for r in per for m in r)
        medians = {
            m: statistics.median(r[m]["user_steps_per_s"] for r in per if m in r) for m in modes
        }
        ratios = {}
        for name, (a, b) in RATIOS.items():
            values = [
                r[a]["user_steps_per_s"] / r[b]["user_steps_per_s"] for r in per if a in r and b in r
            ]
            if values:
                ratios[name] = statistics.median(values)
        out[cfg] = {"median_user_steps_per_s": medians, "median_ratios": ratios}
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv)
    configs = _check(args)
    out = Path(args.out)
    report: dict[str, Any] = {
        "command": "slategym throughput compare " + " ".join(argv or []),
        "args": vars(args),
        "cpu_count": os.cpu_count(),
        "rounds": [],
    }
    for index in range(args.rounds):
        record: dict[str, Any] = {}
        report["rounds"].append(record)
        for c, k in configs:
            cfg = record[f"{c}x{k}"] = {}
            for mode, (kind, n, kwargs) in _modes(args, c, k).items():
                slates = random_slates(np.random.default_rng(args.seed), 8, n, c, k)
                runner = Runner(kind, n, kwargs, args.seed)
                cfg[mode] = time_steps(runner, slates, args.seconds)
                runner.close()
                cfg[mode]["loadavg"] = os.getloadavg()[0]
                print(f"round {index} {c}x{k} {mode:<24} {cfg[mode]['user_steps_per_s']:>12,.0f} "
                      "user-steps/s", flush=True)  # fmt: skip
                if mode == "single/compiled" and args.recsim_python is not None:
                    cfg["recsim"] = recsim_steps(args.recsim_python, c, k, args.seconds, args.seed)
                    print(f"round {index} {c}x{k} {'recsim':<24} "
                          f"{cfg['recsim']['steps_per_s']:>12,.0f} steps/s", flush=True)  # fmt: skip
                report["summary"] = summarise(report["rounds"])
                _write(out, report)
    for cfg, s in report["summary"].items():
        for name, value in s["median_ratios"].items():
            print(f"{cfg}: {name} = {value:.2f}x")
    print(f"results: {out}")
    return report


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    main(sys.argv[1:])
