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

Results are rewritten to ``--out`` (JSON) after every measurement; ``--plot PATH`` draws
user-steps/s against ``N`` (log-log, one line per configuration and mode).

Run: ``python -m experiments.throughput --plot docs/img/throughput.png``

``slategym throughput compare [options]`` is another report, the figures of the compiled kernels
against the numpy path, the native env against Sync and (optionally) slategym against RecSim:
see :mod:`experiments.throughput_compare`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import slategym
from slategym.types import SimState

MODES = ("native", "sync", "single")
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
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m experiments.throughput", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument("--sizes", nargs="+", default=None, help=f"N values (default {DEFAULT_SIZES})")
    p.add_argument(
        "--configs",
        nargs="+",
        default=None,
        help="configurations as CANDIDATESxSLATE (default 10x2 100x10)",
    )
    p.add_argument("--modes", nargs="+", default=None, help=f"subset of {MODES} (default all)")
    p.add_argument(
        "--seconds",
        default=None,
        help=f"timed duration per measurement (default {DEFAULT_SECONDS})",
    )
    p.add_argument(
        "--loop-max",
        default=None,
        help=f"largest N for the sync and single modes (default {DEFAULT_LOOP_MAX})",
    )
    p.add_argument("--quick", action="store_true", help="few small sizes, short time-box (tests)")
    p.add_argument("--seed", default="0", help="seed of the envs and of the slates")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument(
        "--plot",
        nargs="?",
        const="",
        default=None,
        help="write a PNG of user-steps/s vs N (to PATH, default: --out with .png)",
    )
    return p


def _int(name: str, text: object, low: int) -> int:
    try:
        value = int(str(text))
    except (TypeError, ValueError):
        raise ValueError(f"{name}={text!r} is not allowed: expected an integer >= {low}") from None
    if value < low:
        raise ValueError(f"{name}={value} is not allowed: expected an integer >= {low}")
    return value


def _config(text: str) -> tuple[int, int]:
    parts = str(text).lower().split("x")
    allowed = "expected CANDIDATESxSLATE with 1 <= SLATE <= CANDIDATES <= 1000, e.g. 10x2"
    try:
        c, k = (int(x) for x in parts)
    except ValueError:
        raise ValueError(f"--configs value {text!r} is not allowed: {allowed}") from None
    if not 1 <= k <= c <= 1000:
        raise ValueError(f"--configs value {text!r} is not allowed: {allowed}")
    return c, k


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse and validate; every bad value raises ``ValueError`` naming the parameter."""
    parser = _parser()

    def error(message: str) -> None:  # argparse would exit; tests and callers want an exception
        raise ValueError(f"bad arguments: {message}")

    parser.error = error  # type: ignore[method-assign,assignment]
    opts = parser.parse_args(argv)
    sizes = opts.sizes if opts.sizes is not None else (QUICK_SIZES if opts.quick else DEFAULT_SIZES)
    opts.sizes = sorted({_int("--sizes", s, 1) for s in sizes})
    if opts.sizes[-1] > 1_000_000:
        raise ValueError(f"--sizes={opts.sizes[-1]} is not allowed: expected N <= 1000000")
    configs = opts.configs if opts.configs is not None else [f"{c}x{k}" for c, k in DEFAULT_CONFIGS]
    opts.configs = list(dict.fromkeys(_config(c) for c in configs))
    modes = opts.modes if opts.modes is not None else list(MODES)
    for m in modes:
        if m not in MODES:
            raise ValueError(f"--modes value {m!r} is not allowed: expected some of {list(MODES)}")
    opts.modes = [m for m in MODES if m in modes]
    if opts.seconds is None:
        opts.seconds = QUICK_SECONDS if opts.quick else DEFAULT_SECONDS
    else:
        try:
            opts.seconds = float(opts.seconds)
        except ValueError:
            raise ValueError(
                f"--seconds={opts.seconds!r} is not allowed: expected a number in (0, 600]"
            ) from None
        if not 0.0 < opts.seconds <= 600.0:
            raise ValueError(
                f"--seconds={opts.seconds} is not allowed: expected a number in (0, 600]"
            )
    opts.loop_max = (
        DEFAULT_LOOP_MAX if opts.loop_max is None else _int("--loop-max", opts.loop_max, 1)
    )
    opts.seed = _int("--seed", opts.seed, 0)
    out = Path(opts.out)
    if out.suffix != ".json" or out.is_dir():
        raise ValueError(f"--out={opts.out!r} is not allowed: expected a path ending in .json")
    opts.out = out
    if opts.plot is not None:
        plot = Path(opts.plot) if opts.plot else out.with_suffix(".png")
        if plot.suffix != ".png" or plot.is_dir():
            raise ValueError(f"--plot={opts.plot!r} is not allowed: expected a path ending in .png")
        opts.plot = plot
    return opts


# -- slates and runners ------------------------------------------------------------------------------
def random_slates(rng: np.random.Generator, pool: int, n: int, c: int, k: int) -> np.ndarray:
    """``(pool, n, k)`` int64 slates of ``k`` distinct indices out of ``c``."""
    out = np.empty((pool, n, k), np.int64)
    for p in range(pool):
        out[p] = np.argsort(rng.random((n, c)), axis=1)[:, :k]
    return out


class Runner:
    """Builds ``N`` users in one mode and advances them by one step per :meth:`step` call."""

    def __init__(self, mode: str, n: int, env_kwargs: dict[str, Any], seed: int) -> None:
        self.mode, self.n = mode, n
        if mode == "native":
            self.env: Any = gym.make_vec(
                "SlateRec-v0", num_envs=n, vectorization_mode="vector_entry_point", **env_kwargs
            )
            self.env.reset(seed=seed)
        elif mode == "sync":
            fns: list[Callable[[], gym.Env]] = [
                lambda: gym.make("SlateRec-v0", **env_kwargs) for _ in range(n)
            ]
            self.env = gym.vector.SyncVectorEnv(fns)
            self.env.reset(seed=seed)
        else:
            self.envs = [gym.make("SlateRec-v0", **env_kwargs) for _ in range(n)]
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

    def close(self) -> None:
        if self.mode == "single":
            for env in self.envs:
                env.close()
        else:
            self.env.close()


def timed_steps(
    runner: Runner, slates: np.ndarray, seconds: float, start: int = 0
) -> tuple[int, float, float]:
    """Warm up for ``min(0.25, seconds / 4)`` s, then step ``runner`` (cycling through ``slates``
    from index ``start``) for at least ``seconds`` and three steps: ``(steps, wall s, CPU s)``."""
    warm_end = time.perf_counter() + min(0.25, seconds / 4)
    i = start
    while time.perf_counter() < warm_end:
        runner.step(slates[i % len(slates)])
        i += 1
    steps = 0
    begin, cpu_begin = time.perf_counter(), time.process_time()
    while True:
        runner.step(slates[i % len(slates)])
        i += 1
        steps += 1
        elapsed = time.perf_counter() - begin
        if elapsed >= seconds and steps >= 3:
            break
    return steps, elapsed, max(time.process_time() - cpu_begin, 1e-9)


def measure(mode: str, n: int, c: int, k: int, seconds: float, seed: int) -> dict[str, Any]:
    """Time ``n`` users of configuration ``c x k`` in ``mode``; one result row."""
    slates = random_slates(np.random.default_rng(seed), SLATE_POOL, n, c, k)
    env_kwargs = {"num_candidates": c, "slate_size": k}
    tracemalloc.start()
    try:
        runner = Runner(mode, n, env_kwargs, seed)
        for i in range(MEMORY_STEPS):
            runner.step(slates[i % SLATE_POOL])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    state_bytes = runner.state_bytes()
    steps, elapsed, cpu = timed_steps(runner, slates, seconds, MEMORY_STEPS)
    runner.close()
    return {
        "config": f"{c}x{k}",
        "num_candidates": c,
        "slate_size": k,
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
    }


# -- summaries ---------------------------------------------------------------------------------------
def _rate(results: list[dict], config: str, mode: str, n: int) -> float | None:
    for r in results:
        if (r["config"], r["mode"], r["num_envs"]) == (config, mode, n):
            return float(r["user_steps_per_s"])
    return None


def ratios(results: list[dict]) -> list[dict]:
    """native/sync and native/single at every (config, N) measured in those modes."""
    out = []
    for config in dict.fromkeys(r["config"] for r in results):
        for n in sorted({r["num_envs"] for r in results if r["config"] == config}):
            native = _rate(results, config, "native", n)
            if native is None:
                continue
            row: dict[str, Any] = {"config": config, "num_envs": n}
            for other in ("sync", "single"):
                rate = _rate(results, config, other, n)
                row[f"native_over_{other}"] = None if rate is None else native / rate
            if row["native_over_sync"] is not None or row["native_over_single"] is not None:
                out.append(row)
    return out


def memory_fit(results: list[dict]) -> list[dict]:
    """Least-squares ``peak_bytes = fixed + per_user * N`` per (config, mode).

    ``max_relative_residual`` is the worst distance of a measured peak from the line, relative to
    the largest peak of the group: small means memory grows linearly in ``N`` (a per-user cost plus
    the fixed catalog and population). ``marginal_bytes_per_user`` is the slope between the two
    largest sizes."""
    out = []
    keys = dict.fromkeys((r["config"], r["mode"]) for r in results)
    for config, mode in keys:
        rows = sorted(
            (r for r in results if (r["config"], r["mode"]) == (config, mode)),
            key=lambda r: r["num_envs"],
        )
        if len(rows) < 2:
            continue
        n = np.array([r["num_envs"] for r in rows], np.float64)
        peak = np.array([r["peak_bytes"] for r in rows], np.float64)
        per_user, fixed = np.polyfit(n, peak, 1)
        fitted = fixed + per_user * n
        worst = float(np.max(np.abs(fitted - peak)) / peak.max())
        marginal = (peak[-1] - peak[-2]) / (n[-1] - n[-2]) if n[-1] > n[-2] else None
        state = [r["state_bytes_per_user"] for r in rows if r["state_bytes_per_user"] is not None]
        out.append(
            {
                "config": config,
                "mode": mode,
                "per_user_bytes": float(per_user),
                "fixed_bytes": float(fixed),
                "max_relative_residual": worst,
                "linear": worst < 0.05,
                "marginal_bytes_per_user": None if marginal is None else float(marginal),
                "state_bytes_per_user": sorted(set(state)) if state else None,
            }
        )
    return out


def _write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)


def _table(results: list[dict]) -> str:
    head = (
        f"{'config':>7} {'mode':>6} {'N':>6} {'user-steps/s':>13} {'per CPU-s':>11} "
        f"{'ms/step':>9} {'bytes/user':>11} {'state B/user':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        state = r["state_bytes_per_user"]
        lines.append(
            f"{r['config']:>7} {r['mode']:>6} {r['num_envs']:>6} {r['user_steps_per_s']:>13,.0f} "
            f"{r['user_steps_per_cpu_s']:>11,.0f} {r['ms_per_step']:>9.3f} "
            f"{r['bytes_per_user']:>11,.0f} {'-' if state is None else f'{state:,.0f}':>12}"
        )
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    """user-steps/s against N, log-log, one line per configuration and mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"native": "-o", "sync": "--s", "single": ":^"}
    for index, config in enumerate(dict.fromkeys(r["config"] for r in results)):
        for mode in MODES:
            rows = sorted(
                (r for r in results if (r["config"], r["mode"]) == (config, mode)),
                key=lambda r: r["num_envs"],
            )
            if rows:
                ax.plot(
                    [r["num_envs"] for r in rows],
                    [r["user_steps_per_s"] for r in rows],
                    styles[mode],
                    color=f"C{index}",
                    label=f"{mode}, {config} (candidates x slate)",
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (users stepped together)")
    ax.set_ylabel("user-steps / s")
    ax.set_title("SlateRec-v0 throughput (2 shared cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    """Run the measurements; returns the report that is also written to ``--out``."""
    given = sys.argv[1:] if argv is None else argv
    if given and given[0] == "compare":
        from experiments import throughput_compare

        return throughput_compare.main(given[1:])
    opts = parse_args(argv)
    report: dict[str, Any] = {
        "command": "python -m experiments.throughput " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "gymnasium": gym.__version__,
            "slategym": slategym.__version__,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "seconds_per_measurement": opts.seconds,
        "results": [],
    }
    results: list[dict] = report["results"]
    for c, k in opts.configs:
        for mode in opts.modes:
            for n in opts.sizes:
                if mode != "native" and n > opts.loop_max:
                    continue
                row = measure(mode, n, c, k, opts.seconds, opts.seed)
                results.append(row)
                print(
                    f"{row['config']:>7} {mode:>6} N={n:<6} {row['user_steps_per_s']:>13,.0f} "
                    f"user-steps/s  {row['bytes_per_user']:>11,.0f} B/user",
                    flush=True,
                )
                report["ratios"] = ratios(results)
                report["memory"] = memory_fit(results)
                _write(opts.out, report)
    print()
    print(_table(results))
    for r in report.get("ratios", []):
        text = ", ".join(
            f"native/{m} = {r[f'native_over_{m}']:.1f}x"
            for m in ("sync", "single")
            if r[f"native_over_{m}"] is not None
        )
        print(f"{r['config']} N={r['num_envs']}: {text}")
    for m in report.get("memory", []):
        print(
            f"memory {m['config']} {m['mode']}: {m['per_user_bytes']:,.0f} B/user + "
            f"{m['fixed_bytes']:,.0f} B fixed (max residual {m['max_relative_residual']:.1%}, "
            f"linear={m['linear']})"
        )
    _write(opts.out, report)
    if opts.plot is not None:
        plot(results, opts.plot)
        report["plot"] = str(opts.plot)
        _write(opts.out, report)
        print(f"plot: {opts.plot}")
    print(f"results: {opts.out}")
    return report


if __name__ == "__main__":
    try:
        main()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
