"""The benchmark's figures, drawn from the report's summary (:mod:`experiments.report`).

* ``curves.png``: test-cohort slate CTR against training interactions, one panel per world, every
  learner with its 95 % band over seeds; random and the oracle (upper bound) as dashed levels.
* ``claim.png``: reward per slate against ILD on the test cohort, one panel per world; the
  GFlowNets as filled markers (GFN4Rec's claim: up and to the right of every other learner).
* ``regret_<world>.png``: cumulative regret per user against the oracle over the timeline's hours,
  for every world with a timeline of several days (the Dynamic world's is the one reported).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from experiments.report import is_gfn


def _grid(n: int) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _colors(summary: dict[str, Any]) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    agents = list(dict.fromkeys(a for w in summary["worlds"].values() for a in w))
    return {a: plt.get_cmap("tab10")(i) for i, a in enumerate(agents)}


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def _label(agent: str, entry: dict[str, Any]) -> str:
    return f"{agent} (upper bound)" if entry["upper_bound"] else agent


def curves(summary: dict[str, Any], out: Path) -> str:
    colors = _colors(summary)
    fig, axes = _grid(len(summary["worlds"]))
    for ax, (world, agents) in zip(axes, summary["worlds"].items()):
        for agent, e in agents.items():
            if "curve" in e:
                x = np.array([p["interactions"] for p in e["curve"]])
                y = np.array([p["slate_ctr"]["mean"] for p in e["curve"]])
                lo = np.array([p["slate_ctr"]["low"] for p in e["curve"]])
                hi = np.array([p["slate_ctr"]["high"] for p in e["curve"]])
                ax.plot(x, y, marker="o", ms=3, color=colors[agent], label=agent)
                if np.isfinite(lo).any():
                    ax.fill_between(x, lo, hi, color=colors[agent], alpha=0.15)
            elif not e["learns"]:
                ax.axhline(e["slate_ctr"]["mean"], ls="--", color=colors[agent],
                           label=_label(agent, e))  # fmt: skip
        ax.set(title=world, xlabel="training interactions", ylabel="test slate CTR")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, out / "curves.png")


def claim(summary: dict[str, Any], out: Path) -> str:
    colors = _colors(summary)
    fig, axes = _grid(len(summary["worlds"]))
    for ax, (world, agents) in zip(axes, summary["worlds"].items()):
        for agent, e in agents.items():
            x, y = e["ild"], e["mean_reward"]
            if not (math.isfinite(x["mean"]) and math.isfinite(y["mean"])):
                continue
            err = [[x["mean"] - x["low"]], [x["high"] - x["mean"]]] if math.isfinite(x["low"]) else None
            yerr = [[y["mean"] - y["low"]], [y["high"] - y["mean"]]] if math.isfinite(y["low"]) else None
            ax.errorbar(x["mean"], y["mean"], xerr=err, yerr=yerr, capsize=3, color=colors[agent],
                        fmt="o" if is_gfn(agent) else "s", mfc=colors[agent] if is_gfn(agent) else "none",
                        label=_label(agent, e))  # fmt: skip
        ax.set(title=world, xlabel="ILD (intra-list diversity)", ylabel="reward per slate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, out / "claim.png")


def regret(summary: dict[str, Any], out: Path) -> list[str]:
    colors = _colors(summary)
    paths = []
    for world, by_agent in summary["regret"].items():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.2))
        for agent, r in by_agent.items():
            if not r:
                continue
            x = np.arange(1, r["hours"] + 1) / 24
            ax.plot(x, r["mean"], color=colors[agent], label=agent)
            lo, hi = np.asarray(r["low"], float), np.asarray(r["high"], float)
            if np.isfinite(lo).any():
                ax.fill_between(x, lo, hi, color=colors[agent], alpha=0.15)
        ax.set(title=f"{world}: cumulative regret against the oracle (upper bound)",
               xlabel="day of the timeline", ylabel="cumulative regret (reward per user)")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        paths.append(_save(fig, out / f"regret_{world}.png"))
    return paths


def write_figures(summary: dict[str, Any], out: Path) -> list[str]:
    """Every figure of the module docstring; returns their paths."""
    return [curves(summary, out), claim(summary, out), *regret(summary, out)]
