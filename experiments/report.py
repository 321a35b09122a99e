"""The benchmark's outputs: the comparison table (Markdown, CSV, JSON) and its plots (PNG).

Every number is the mean over seeds with a 95 % Student-t interval
(:func:`slategym.metrics.aggregate_runs`); with one seed the interval is undefined and only the
mean is shown. Agents reading hidden state (the oracle) are labelled as upper bounds.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.registry import upper_bounds
from slategym.metrics import Aggregate, ArrayAggregate, aggregate_runs

#: (result key, column title) of the table, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("slate_ctr", "slate CTR"),
    ("ctr", "CTR/impr."),
    ("conversion_rate", "conversion"),
    ("purchases_per_slate", "purch./slate"),
    ("mean_reward", "reward"),
    ("ild", "ILD"),
    ("coverage", "coverage"),
    ("topic_entropy_normalized", "topic entropy"),
    ("novelty", "novelty"),
    ("mean_session_length", "session len."),
    ("return_rate", "return rate"),
    ("churn_rate_per_episode", "churn/user"),
)
ARRAYS = ("ctr_per_day", "ctr_per_hour", "sessions_started_per_hour")


def label(agent: str) -> str:
    """The agent's name as reported (agents that read hidden state are upper bounds and say so)."""
    return f"{agent} (upper bound)" if agent in upper_bounds([agent]) else agent


def _by_agent(records: Sequence[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for record in records:
        out.setdefault(record["agent"], []).append(record)
    return out


def _metrics(runs: list[dict]) -> dict[str, Any]:
    keys = [k for k, _ in COLUMNS] + list(ARRAYS) + ["slates"]
    values = [{k: np.asarray(r["metrics"][k], np.float64) for k in keys} for r in runs]
    return aggregate_runs(values, nan_policy="omit")


def _fmt(a: Aggregate) -> str:
    if math.isnan(a.mean):
        return "n/a"
    if math.isnan(a.low):
        return f"{a.mean:.3f}"
    return f"{a.mean:.3f} ± {(a.high - a.low) / 2:.3f}"


def summarize(records: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """Aggregates per agent: ``{agent: {metric: Aggregate | ArrayAggregate}}``."""
    return {agent: _metrics(runs) for agent, runs in _by_agent(records).items()}


def write_table(records: Sequence[dict], settings: Any, out: Path) -> dict[str, Any]:
    """Write ``table.md``, ``table.csv`` and ``results.json`` from the records so far."""
    agg = summarize(records)
    seeds = {a: sorted(r["seed"] for r in runs) for a, runs in _by_agent(records).items()}
    header = "| agent | seeds | " + " | ".join(t for _, t in COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 2)]
    for agent, metrics in agg.items():
        cells = [_fmt(metrics[k]) for k, _ in COLUMNS]
        lines.append(f"| {label(agent)} | {len(seeds[agent])} | " + " | ".join(cells) + " |")
    markdown = "\n".join(lines)
    note = (
        "\n\nMean ± half-width of the 95 % Student-t interval over seeds, on the held-out cohort. "
        "The oracle reads the simulator's hidden state: an upper bound, not a recommender.\n"
    )
    (out / "table.md").write_text(markdown + note)
    with open(out / "table.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["agent", "metric", "mean", "ci_low", "ci_high", "seeds"])
        for agent, metrics in agg.items():
            for key, _ in COLUMNS:
                a = metrics[key]
                writer.writerow([agent, key, a.mean, a.low, a.high, len(seeds[agent])])
    summary = {
        "settings": {**settings.fingerprint(), "agents": list(settings.agents), "seeds": settings.seeds},
        "seeds_done": seeds,
        "agents": {
            agent: {
                key: {"mean": v.mean, "low": v.low, "high": v.high}
                if isinstance(v, Aggregate)
                else {"mean": v.mean.tolist(), "low": v.low.tolist(), "high": v.high.tolist()}
                for key, v in metrics.items()
            }
            for agent, metrics in agg.items()
        },
        "upper_bounds": sorted(upper_bounds(list(agg))),
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1, allow_nan=True))
    return {**summary, "markdown": markdown}


def write_plots(records: Sequence[dict], settings: Any, out: Path) -> list[str]:
    """Three PNGs: CTR vs diversity, CTR per day, sessions and CTR per hour of day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = summarize(records)
    colors = {a: plt.get_cmap("tab10")(i) for i, a in enumerate(agg)}
    paths = []

    def err(a: Aggregate) -> list[list[float]]:
        if math.isnan(a.low):
            return [[0.0], [0.0]]
        return [[a.mean - a.low], [a.high - a.mean]]

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (xkey, xlabel) in zip(axes, (("ild", "intra-list diversity (ILD)"),
                                         ("coverage", "catalog coverage"))):  # fmt: skip
        for agent, m in agg.items():
            x, y = m[xkey], m["slate_ctr"]
            ax.errorbar(x.mean, y.mean, xerr=err(x), yerr=err(y), fmt="o", capsize=3,
                        color=colors[agent], label=label(agent))  # fmt: skip
        ax.set_xlabel(xlabel)
        ax.set_ylabel("slate CTR (share of slates with a click)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Engagement vs diversity (mean, 95 % CI over seeds)")
    paths.append(_save(fig, out / "ctr_vs_diversity.png"))

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for agent, m in agg.items():
        _band(ax, m["ctr_per_day"], colors[agent], label(agent))
    ax.set_xlabel("day of the timeline")
    ax.set_ylabel("CTR (clicks / impression)")
    ax.set_title("CTR per day (held-out cohort)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    paths.append(_save(fig, out / "ctr_per_day.png"))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for agent, m in agg.items():
        _band(axes[0], m["sessions_started_per_hour"], colors[agent], label(agent))
        _band(axes[1], m["ctr_per_hour"], colors[agent], label(agent))
    axes[0].set_ylabel("sessions started (per cohort)")
    axes[1].set_ylabel("CTR (clicks / impression)")
    for ax in axes:
        ax.set_xlabel("hour of day")
        ax.set_xticks(range(0, 24, 3))
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle("Sessions and CTR per hour of day")
    paths.append(_save(fig, out / "hourly.png"))
    return paths


def _band(ax: Any, a: ArrayAggregate, color: Any, name: str) -> None:
    x = np.arange(len(a.mean))
    ax.plot(x, a.mean, marker=".", color=color, label=name)
    if not np.all(np.isnan(a.low)):
        ax.fill_between(x, a.low, a.high, color=color, alpha=0.15)


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return str(path)
