"""Simulator throughput: user-steps per second and memory per user, single env vs sync vs native vector.

For each configuration (``num_candidates x slate_size``; default user and choice models, the full
default timeline) and each number of users ``N``, three ways of stepping ``N`` users are timed:

* ``single``: ``N`` separate ``gym.make("SlateRec-v0")`` envs stepped one after the other in Python
  (``N = 1`` is the plain single-env loop an SB3 agent runs), each reset when its episode ends;
* ``sync``: ``gymnasium.vector.SyncVectorEnv`` of ``N`` single envs (autoreset ``NEXT_STEP``);
* ``native``: ``gym.make_vec(..., vectorization_mode="vector_entry_point")``, the batched simulator.

A *user-step* is one slate served to one user (an autoreset step of a vector env counts too: the row
is busy starting its next episode). Slates are uniform random slates of distinct candidate indices,
drawn before the timed loop; each measurement warms up and then steps for at least ``--seconds``
(and at least three steps), so slow modes are time-boxed instead of running a fixed step count.

Rates are per wall-clock second (and, in the JSON and table, per CPU second of the process, a
steadier figure on a shared machine).

Memory: ``tracemalloc`` (numpy reports its buffers to it) traces construction, reset and three steps
of every measurement; ``bytes/user`` is that peak divided by ``N``. For the native env the report
also gives the bytes of the simulator state (``SimState``) per user and a least-squares fit
``peak = fixed + per_user * N`` over the sizes measured, to show that memory grows linearly.

``--observations full ids`` times each measurement in both observation modes (the
``observation`` keyword: ``"ids"`` leaves the copied item features out), one right after the other;
the rows of a mode other than ``full`` are labelled ``CxK/mode`` and ``ids_over_full`` gives the
ratio of each pair, measured back to back within the run.

Each measurement runs in a fresh process (:mod:`experiments.throughput_process`), so that its figure
does not depend on what was measured before it (glibc's allocator adapts to the blocks a process
has freed: the first configuration that allocates fresh megabyte arrays in a process page-faults
where a later one does not; ``minor_faults_per_step`` in every row shows it).
By default the measurement processes run with glibc's malloc thresholds pinned (``--malloc
pinned``; ``adaptive`` is glibc's default), so that the figures do not depend on the allocation
history either; ``--in-process`` measures everything in this process, in order, as before.

Results are rewritten to ``--out`` (JSON) after every measurement; ``--plot`` (to ``--plot-path``) draws
user-steps/s against ``N`` (log-log, one line per configuration and mode).

Run: ``slategym throughput --plot --plot-path docs/img/throughput.png``

``slategym throughput compare [options]`` is another report, the figures of the compiled kernels
against the numpy path, the native env against Sync and (optionally) slategym against RecSim:
see :mod:`experiments.throughput_compare`.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, NamedTuple

import gymnasium as gym
import numpy as np

import slategym
from experiments import cli_args
from experiments.throughput_process import measurement
from experiments.throughput_report import (
    MODES,
    memory_fit,
    observation_ratios,
    plot,
    ratios,
    table,
    write,
)
from slategym import kernels
from slategym.config import OBSERVATIONS
from slategym.types import SimState
from slategym.validation import check_int

DEFAULT_CONFIGS = ((10, 2), (100, 10))
DEFAULT_SIZES = (1, 64, 1024, 4096, 16384)
QUICK_SIZES = (1, 16, 64)
DEFAULT_SECONDS = 1.5
QUICK_SECONDS = 0.2
DEFAULT_LOOP_MAX = 1024
DEFAULT_OUT = "results/throughput.json"
SLATE_POOL = 8
"""Distinct slate batches cycled through in the timed loop (drawn beforehand)."""
MEMORY_STEPS = 3


# -- arguments ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Args:
    """User-steps per second and memory per user: single env, Sync and native vector env."""

    sizes: tuple[int, ...] | None = None
    """Numbers of users N (default 1 64 1024 4096 16384; --quick 1 16 64)."""
    configs: tuple[str, ...] = tuple(f"{c}x{k}" for c, k in DEFAULT_CONFIGS)
    """Configurations CANDIDATESxSLATE (num_candidates x slate_size)."""
    modes: tuple[str, ...] = MODES
    """Subset of native, sync, single."""
    observations: tuple[str, ...] = ("full",)
    """Observation modes to time, each measurement in every mode back to back (full, ids)."""
    seconds: float | None = None
    """Timed seconds per measurement (default 1.5; --quick 0.2)."""
    loop_max: int = DEFAULT_LOOP_MAX
    """Largest N of the sync and single modes (they step N envs in Python)."""
    quick: bool = False
    """Few small sizes and a short time-box (tests)."""
    seed: int = 0
    """Seed of the envs and of the slates."""
    out: Path = Path(DEFAULT_OUT)
    """JSON output path (rewritten after every measurement)."""
    plot: bool = False
    """Draw user-steps/s against N (log-log) to --plot-path."""
    plot_path: Path | None = None
    """PNG path of --plot (default: --out with .png)."""
    in_process: bool = False
    """Measure everything in this process, one after the other, instead of one fresh process per
    measurement (the order then biases the figures; faster for tiny budgets)."""
    malloc: Literal["pinned", "adaptive"] = "pinned"
    """glibc's malloc thresholds in the measurement processes: pinned at the ceiling of its
    adaptation (figures independent of the allocation history), or adaptive (glibc's default)."""

    def check(self) -> None:
        """Every value, before any measurement (ValueError naming the field)."""
        for n in self.resolved_sizes():
            check_int("sizes", n, 1)
            if n > 1_000_000:
                raise ValueError(f"sizes={n} is not allowed: expected N <= 1000000")
        self.resolved_configs()
        for m in self.modes:
            if m not in MODES:
                raise ValueError(f"modes={m!r} is not allowed: expected some of {list(MODES)}")
        for o in self.observations:
            if o not in OBSERVATIONS:
                raise ValueError(
                    f"observations={o!r} is not allowed: expected some of {list(OBSERVATIONS)}"
                )
        if not 0.0 < self.resolved_seconds() <= 600.0:
            raise ValueError(
                f"seconds={self.seconds} is not allowed: expected a number in (0, 600]"
            )
        check_int("loop_max", self.loop_max, 1)
        check_int("seed", self.seed, 0)
        if self.out.suffix != ".json" or self.out.is_dir():
            raise ValueError(
                f"out={str(self.out)!r} is not allowed: expected a path ending in .json"
            )
        if self.plot_path is not None and (
            self.plot_path.suffix != ".png" or self.plot_path.is_dir()
        ):
            raise ValueError(f"plot_path={str(self.plot_path)!r} is not allowed: expected a path "
                             "ending in .png")  # fmt: skip

    def resolved_sizes(self) -> list[int]:
        sizes = (
            self.sizes if self.sizes is not None else (QUICK_SIZES if self.quick else DEFAULT_SIZES)
        )
        return sorted(set(sizes))

    def resolved_configs(self) -> list[tuple[int, int]]:
        allowed = "expected CANDIDATESxSLATE with 1 <= SLATE <= CANDIDATES <= 1000, e.g. 10x2"
        configs = []
        for text in self.configs:
            try:
                c, k = (int(x) for x in str(text).lower().split("x"))
            except ValueError:
                raise ValueError(f"configs={text!r} is not allowed: {allowed}") from None
            if not 1 <= k <= c <= 1000:
                raise ValueError(f"configs={text!r} is not allowed: {allowed}")
            configs.append((c, k))
        return list(dict.fromkeys(configs))

    def resolved_modes(self) -> list[str]:
        return [m for m in MODES if m in self.modes]

    def resolved_seconds(self) -> float:
        if self.seconds is not None:
            return float(self.seconds)
        return QUICK_SECONDS if self.quick else DEFAULT_SECONDS

    def resolved_plot(self) -> Path | None:
        if not self.plot and self.plot_path is None:
            return None
        return self.plot_path if self.plot_path is not None else self.out.with_suffix(".png")


def parse_args(argv: Sequence[str] | None) -> Args:
    """The checked arguments (:mod:`experiments.cli_args`: tyro, then ``Args.check``)."""
    return cli_args.parse(Args, argv, "slategym throughput")


# -- slates and runners ------------------------------------------------------------------------------
def random_slates(rng: np.random.Generator, pool: int, n: int, c: int, k: int) -> np.ndarray:
    """``(pool, n, k)`` int64 slates of ``k`` distinct indices out of ``c``."""
    out = np.empty((pool, n, k), np.int64)
    for p in range(pool):
        out[p] = np.argsort(rng.random((n, c)), axis=1)[:, :k]
    return out


class Runner:
    """Builds ``N`` users of the registered world ``env_id`` in one mode and advances them by one
    step per :meth:`step` call."""

    def __init__(
        self,
        mode: str,
        n: int,
        env_kwargs: dict[str, Any],
        seed: int,
        env_id: str = "SlateRec-v0",
    ) -> None:
        self.mode, self.n = mode, n
        if mode == "native":
            self.env: Any = gym.make_vec(
                env_id, num_envs=n, vectorization_mode="vector_entry_point", **env_kwargs
            )
            self.env.reset(seed=seed)
        elif mode == "sync":
            fns: list[Callable[[], gym.Env]] = [
                lambda: gym.make(env_id, **env_kwargs) for _ in range(n)
            ]
            self.env = gym.vector.SyncVectorEnv(fns)
            self.env.reset(seed=seed)
        else:
            self.envs = [gym.make(env_id, **env_kwargs) for _ in range(n)]
            for i, env in enumerate(self.envs):
                env.reset(seed=seed + i)

    def step(self, slates: np.ndarray) -> None:
        """One step of every user with ``slates (N, K)``."""
        if self.mode != "single":
            self.env.step(slates)
            return
        for env, slate in zip(self.envs, slates):
            _, _, terminated, truncated, _ = env.step(slate)
            if terminated or truncated:
                env.reset()

    def state_bytes(self) -> int | None:
        """Bytes of the native env's ``SimState`` (None for the other modes)."""
        if self.mode != "native":
            return None
        state: SimState = self.env.unwrapped.state
        total = 0
        for f in fields(state):
            value = getattr(state, f.name)
            if f.name == "user":
                total += value.nbytes  # a UserState: its arrays, extra state included
            else:
                total += value.nbytes
        return total

    def compiled(self) -> bool:
        """Whether every simulator of this runner now steps on the compiled path."""
        if self.mode == "native":
            envs = [self.env]
        else:
            envs = self.envs if self.mode == "single" else list(self.env.envs)
        return all(e.unwrapped.sim.kernel is not None for e in envs)

    def close(self) -> None:
        if self.mode == "single":
            for env in self.envs:
                env.close()
        else:
            self.env.close()


class Timed(NamedTuple):
    """What :func:`timed_steps` measured."""

    steps: int
    seconds: float
    cpu_seconds: float
    minor_faults: int
    """Minor page faults of the process over the timed steps (``getrusage``): pages the allocator
    handed back to the system and touched again, the cost that depends on the process's history."""


def timed_steps(runner: Runner, slates: np.ndarray, seconds: float, start: int = 0) -> Timed:
    """Warm up for ``min(0.25, seconds / 4)`` s, then step ``runner`` (cycling through ``slates``
    from index ``start``) for at least ``seconds`` and three steps."""
    kernels.wait()  # backend="auto" compiles the kernels in a thread: time the path that stays
    warm_end = time.perf_counter() + min(0.25, seconds / 4)
    i = start
    while time.perf_counter() < warm_end:
        runner.step(slates[i % len(slates)])
        i += 1
    steps = 0
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    begin, cpu_begin = time.perf_counter(), time.process_time()
    while True:
        runner.step(slates[i % len(slates)])
        i += 1
        steps += 1
        elapsed = time.perf_counter() - begin
        if elapsed >= seconds and steps >= 3:
            break
    cpu = max(time.process_time() - cpu_begin, 1e-9)
    return Timed(steps, elapsed, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)


def measure(
    mode: str, n: int, c: int, k: int, seconds: float, seed: int, observation: str = "full"
) -> dict[str, Any]:
    """Time ``n`` users of configuration ``c x k`` in ``mode``; one result row."""
    slates = random_slates(np.random.default_rng(seed), SLATE_POOL, n, c, k)
    env_kwargs: dict[str, Any] = {"num_candidates": c, "slate_size": k, "observation": observation}
    tracemalloc.start()
    try:
        runner = Runner(mode, n, env_kwargs, seed)
        for i in range(MEMORY_STEPS):
            runner.step(slates[i % SLATE_POOL])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    state_bytes = runner.state_bytes()
    steps, elapsed, cpu, faults = timed_steps(runner, slates, seconds, MEMORY_STEPS)
    compiled = runner.compiled()
    runner.close()
    return {
        "config": f"{c}x{k}" if observation == "full" else f"{c}x{k}/{observation}",
        "num_candidates": c,
        "slate_size": k,
        "observation": observation,
        "mode": mode,
        "num_envs": n,
        "steps": steps,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "user_steps_per_s": steps * n / elapsed,
        "user_steps_per_cpu_s": steps * n / cpu,
        "ms_per_step": 1e3 * elapsed / steps,
        "peak_bytes": int(peak),
        "bytes_per_user": peak / n,
        "state_bytes_per_user": None if state_bytes is None else state_bytes / n,
        "minor_faults_per_step": faults / steps,
        "compiled": compiled,
        "pid": os.getpid(),
    }


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the measurements; returns the report that is also written to ``--out``."""
    given = sys.argv[1:] if argv is None else argv
    if given and given[0] == "compare":
        from experiments import throughput_compare

        return throughput_compare.main(given[1:])
    opts = parse_args(argv)
    seconds, plot_path = opts.resolved_seconds(), opts.resolved_plot()
    report: dict[str, Any] = {
        "command": "slategym throughput " + " ".join(given),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "gymnasium": gym.__version__,
            "slategym": slategym.__version__,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "seconds_per_measurement": seconds,
        "isolation": "in-process" if opts.in_process else "process per measurement",
        "malloc": "adaptive" if opts.in_process else opts.malloc,
        "results": [],
    }
    results: list[dict] = report["results"]
    for c, k in opts.resolved_configs():
        for mode in opts.resolved_modes():
            for n in opts.resolved_sizes():
                if mode != "native" and n > opts.loop_max:
                    continue
                for observation in dict.fromkeys(opts.observations):
                    row = measurement(
                        "sweep", opts.in_process, report["malloc"], mode=mode, n=n, c=c, k=k,
                        seconds=seconds, seed=opts.seed, observation=observation,
                    )  # fmt: skip
                    results.append(row)
                    print(
                        f"{row['config']:>10} {mode:>6} N={n:<6} {row['user_steps_per_s']:>13,.0f} "
                        f"user-steps/s  {row['bytes_per_user']:>11,.0f} B/user  "
                        f"{row['minor_faults_per_step']:>8,.1f} faults/step",
                        flush=True,
                    )
                    report["ratios"] = ratios(results)
                    report["observation_ratios"] = observation_ratios(results)
                    report["memory"] = memory_fit(results)
                    write(opts.out, report)
    print()
    print(table(results))
    for r in report.get("ratios", []):
        text = ", ".join(
            f"native/{m} = {r[f'native_over_{m}']:.1f}x"
            for m in ("sync", "single")
            if r[f"native_over_{m}"] is not None
        )
        print(f"{r['config']} N={r['num_envs']}: {text}")
    for r in report.get("observation_ratios", []):
        text = ", ".join(f"{key} = {value:.2f}x" for key, value in r.items() if "_over_" in key)
        print(f"{r['config']} {r['mode']} N={r['num_envs']}: {text}")
    for m in report.get("memory", []):
        print(
            f"memory {m['config']} {m['mode']}: {m['per_user_bytes']:,.0f} B/user + "
            f"{m['fixed_bytes']:,.0f} B fixed (max residual {m['max_relative_residual']:.1%}, "
            f"linear={m['linear']})"
        )
    write(opts.out, report)
    if plot_path is not None:
        plot(results, plot_path)
        report["plot"] = str(plot_path)
        write(opts.out, report)
        print(f"plot: {plot_path}")
    print(f"results: {opts.out}")
    return report


if __name__ == "__main__":
    try:
        main()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
