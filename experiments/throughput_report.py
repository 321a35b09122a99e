"""Summaries, table and plot of ``slategym throughput``'s sweep (:mod:`experiments.throughput`):
the native/sync and native/single ratios, the observation-mode ratios, the least-squares memory
fit, the text table, the log-log plot and the JSON writer (rewritten atomically after every
measurement)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

MODES = ("native", "sync", "single")
"""The sweep's ways of stepping ``N`` users (``experiments.throughput.MODES`` is this tuple)."""


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


def observation_ratios(results: list[dict]) -> list[dict]:
    """``<mode>_over_full``: user-steps/s of each other observation mode over the full one, for
    every (config, mode, N) measured in both (back to back)."""
    full = {
        (r["num_candidates"], r["slate_size"], r["mode"], r["num_envs"]): r["user_steps_per_s"]
        for r in results
        if r["observation"] == "full"
    }
    out = []
    for r in results:
        base = full.get((r["num_candidates"], r["slate_size"], r["mode"], r["num_envs"]))
        if r["observation"] != "full" and base is not None:
            out.append({
                "config": f"{r['num_candidates']}x{r['slate_size']}", "mode": r["mode"],
                "num_envs": r["num_envs"], f"{r['observation']}_over_full": r["user_steps_per_s"] / base,
            })  # fmt: skip
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


def write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)


def table(results: list[dict]) -> str:
    head = (
        f"{'config':>10} {'mode':>6} {'N':>6} {'user-steps/s':>13} {'per CPU-s':>11} "
        f"{'ms/step':>9} {'bytes/user':>11} {'state B/user':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        state = r["state_bytes_per_user"]
        lines.append(
            f"{r['config']:>10} {r['mode']:>6} {r['num_envs']:>6} {r['user_steps_per_s']:>13,.0f} "
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
