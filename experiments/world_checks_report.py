"""The world checks' summaries (mean and 95 % interval over seeds), their tables and figures.

Split from :mod:`experiments.world_checks`, which runs the checks (``slategym worlds``) and calls
:func:`summarize_lift`, :func:`summarize_dynamic`, :func:`print_summary` and :func:`plot` on the
per-seed records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from slategym.metrics import aggregate


# -- the lift check ---------------------------------------------------------------------------------
def lift_ratio(random: float, greedy: float, oracle: float) -> float:
    """``(greedy - random) / (oracle - random)``; nan when the oracle does no better than random
    (e.g. slate CTR in long-term satisfaction, where every slate gets its click)."""
    if oracle == random:
        return math.nan
    return (greedy - random) / (oracle - random)


def summarize_lift(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per world: mean and 95 % interval over seeds of each agent's slate CTR and of the lift ratio."""
    out: dict[str, Any] = {}
    for world in dict.fromkeys(r["world"] for r in records):
        rows = [r for r in records if r["world"] == world]
        entry: dict[str, Any] = {"seeds": len(rows)}
        for name in ("random", "greedy", "oracle"):
            entry[name] = _interval([r[name]["slate_ctr"] for r in rows])
            entry[f"{name}_reward"] = _interval([r[name]["mean_reward"] for r in rows])
        for ratio, metric in (("lift_ratio", "slate_ctr"), ("reward_lift_ratio", "mean_reward")):
            values = [
                lift_ratio(*(r[n][metric] for n in ("random", "greedy", "oracle"))) for r in rows
            ]
            entry[ratio] = _interval(values)
        out[world] = entry
    return out


def _interval(values: Sequence[float]) -> dict[str, float]:
    agg = aggregate(np.asarray(values, np.float64))
    return {"mean": agg.mean, "low": agg.low, "high": agg.high}


# -- the dynamic check ------------------------------------------------------------------------------
def summarize_dynamic(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95 % interval over seeds of each arm's CTR (days 1+) and of refit - frozen."""
    out: dict[str, Any] = {"seeds": len(records)}
    for name in ("random", "frozen", "refit"):
        out[name] = _interval([r[name]["slate_ctr_days_1plus"] for r in records])
        out[f"{name}_per_day"] = np.mean(
            [r[name]["slate_ctr_per_day"] for r in records], 0
        ).tolist()
        out[f"{name}_per_hour"] = np.mean(
            [r[name]["slate_ctr_per_hour"] for r in records], 0
        ).tolist()
    out["refit_minus_frozen"] = _interval([r["refit_minus_frozen"] for r in records])
    share = np.mean([r["random"]["even_topic_click_share_per_hour"] for r in records], axis=0)
    out["random_even_topic_click_share_per_hour"] = share.tolist()
    return out


# -- tables and figures -----------------------------------------------------------------------------
def print_summary(summary: dict[str, Any]) -> None:
    """The tables of ``docs/worlds.md``, in Markdown."""
    if "lift" in summary:
        print("\n| world | seeds | random | greedy | oracle (upper bound) | lift ratio |")
        print("|---|---|---|---|---|---|")
        for world, e in summary["lift"].items():
            cells = [_fmt(e[name]) for name in ("random", "greedy", "oracle", "lift_ratio")]
            print(f"| `{world}` | {e['seeds']} | " + " | ".join(cells) + " |")
    if "dynamic" in summary:
        d = summary["dynamic"]
        print(f"\nDynamic ({d['seeds']} seeds), slate CTR over days 1+:")
        for name in ("random", "frozen", "refit", "refit_minus_frozen"):
            print(f"  {name:<20} {_fmt(d[name])}")


def _fmt(agg: dict[str, float]) -> str:
    return f"{agg['mean']:.3f} [{agg['low']:.3f}, {agg['high']:.3f}]"


def plot(summary: dict[str, Any], out: Path) -> list[str]:
    """Figures of the dynamic check (CTR per day per arm; CTR and topic mix per hour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[str] = []

    def save(fig: Any, title: str, xlabel: str, ylabel: str, name: str) -> None:
        ax = fig.axes[0]
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        written.append(str(out / name))

    if "dynamic" in summary:
        d = summary["dynamic"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name in ("random", "frozen", "refit"):
            ax.plot(d[f"{name}_per_day"], marker="o", label=name)
        save(fig, "SlateRec-Dynamic-v0: greedy refit vs frozen", "day", "slate CTR",
             "worlds_dynamic_ctr_per_day.png")  # fmt: skip
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(d["random_even_topic_click_share_per_hour"], marker="o",
                label="random: clicks on even topics")  # fmt: skip
        ax.plot(d["refit_per_hour"], marker="s", label="refit greedy: slate CTR")
        ax.plot(d["random_per_hour"], marker="^", label="random: slate CTR")
        save(fig, "SlateRec-Dynamic-v0 by hour of day", "hour of day", "share",
             "worlds_dynamic_hourly.png")  # fmt: skip
        plt.close("all")
    return written
