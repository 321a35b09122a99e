"""The online loop's summary (means and paired differences over seeds) and its figures.

Split from :mod:`experiments.online_loop`, which runs the loop and calls :func:`summarize`,
:func:`plot` and :func:`print_report` on the per-seed results.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from experiments.online_options import Options
from slategym.metrics import aggregate, aggregate_runs
from slategym.timeline import HOURS

LOGGING_ARM = "random"
"""The arm served by the logging policy for the whole timeline (the floor)."""


def arm_names(agents: tuple[str, ...]) -> list[str]:
    """The arms of a run, in the order they run: random, then each agent frozen and online."""
    return [LOGGING_ARM, *(f"{a}-{role}" for a in agents for role in ("frozen", "online"))]


#: Metrics recorded per slot and per day (and aggregated in the summary).
METRICS: tuple[str, ...] = (
    "ctr",
    "slate_ctr",
    "purchases_per_slate",
    "conversion_rate",
    "ild",
    "mean_reward",
)
COUNTS: tuple[str, ...] = ("slates", "impressions", "clicks", "purchases")

# -- summary --------------------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    """JSON-safe: nan -> None, numpy -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    return value


def summarize(opts: Options, runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Mean over seeds and 95% t-interval of every metric, per arm and paired between arms."""
    seeds = list(runs)
    keys = (*METRICS, *COUNTS)
    arms: dict[str, Any] = {}
    for arm in arm_names(opts.agents):
        totals = [{k: runs[s]["arms"][arm]["days_1_plus"][k] for k in keys} for s in seeds]
        agg = aggregate_runs(totals)
        per_day = aggregate_runs(
            [
                {k: np.array([d[k] for d in runs[s]["arms"][arm]["days"]], float)
                 for k in (*METRICS, "active_users", "slates")}
                for s in seeds
            ]
        )  # fmt: skip
        arms[arm] = {
            "days_1_plus": {
                k: {"mean": a.mean, "low": a.low, "high": a.high,
                    "per_seed": [t[k] for t in totals]}
                for k, a in agg.items()
            },
            "per_day": {
                k: {"mean": a.mean, "low": a.low, "high": a.high} for k, a in per_day.items()
            },
        }  # fmt: skip
    paired: dict[str, Any] = {}
    pairs = [(f"{g}-{a}", f"{g}-{b}" if b else LOGGING_ARM) for g in opts.agents
             for a, b in (("online", "frozen"), ("online", None), ("frozen", None))]  # fmt: skip
    for a, b in pairs:
        diffs: dict[str, Any] = {}
        for k in METRICS:
            d = [runs[s]["arms"][a]["days_1_plus"][k] - runs[s]["arms"][b]["days_1_plus"][k]
                 for s in seeds]  # fmt: skip
            g = aggregate(d)
            base = arms[b]["days_1_plus"][k]["mean"]
            diffs[k] = {"mean": g.mean, "low": g.low, "high": g.high, "per_seed": d,
                        "relative": g.mean / base if base else float("nan")}  # fmt: skip
        paired[f"{a}_minus_{b}"] = diffs
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()}
    return _clean(
        {
            "options": options,
            "compared_days": f"1..{opts.days - 1} (day 0 is the shared random logging day)",
            "confidence": 0.95,
            "seeds": seeds,
            "arms": arms,
            "paired": paired,
            "pretrain": {str(s): runs[s]["pretrain"] for s in seeds},
            "arm_seconds": {
                arm: [runs[s]["arms"][arm]["seconds"] for s in seeds] for arm in arm_names(opts.agents)
            },
        }
    )


# -- figures --------------------------------------------------------------------------------------
def _style(arm: str, agents: tuple[str, ...]) -> dict[str, Any]:
    """Colour per agent (random grey), solid line online, dashed frozen."""
    import matplotlib.pyplot as plt

    if arm == LOGGING_ARM:
        return {"color": "tab:gray", "ls": ":"}
    agent, _, role = arm.rpartition("-")
    return {"color": plt.get_cmap("tab10")(agents.index(agent)), "ls": "-" if role == "online" else "--"}


def _rolling_ratio(num: np.ndarray, den: np.ndarray, window: int) -> np.ndarray:
    """Trailing-window ``sum(num) / sum(den)`` (pooled over the window), nan without impressions."""
    kernel = np.ones(window)
    n = np.convolve(num, kernel)[: num.size]
    d = np.convolve(den, kernel)[: den.size]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)


def plot(opts: Options, runs: dict[int, dict[str, Any]], summary: dict[str, Any]) -> list[Path]:
    """The three figures of the run, written into ``opts.out``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = list(runs)
    paths = []
    label = f"{opts.world}, {opts.num_users} users, {len(seeds)} seeds"
    arms = arm_names(opts.agents)

    fig, ax = plt.subplots(figsize=(10, 4.5))
    for arm in arms:
        curves = []
        for s in seeds:
            rows = runs[s]["arms"][arm]["slots"]
            clicks = np.array([r["clicks"] for r in rows], float)
            imps = np.array([r["impressions"] for r in rows], float)
            curves.append(_rolling_ratio(clicks, imps, opts.smooth))
        agg = aggregate_runs([{"c": c} for c in curves], nan_policy="omit")["c"]
        x = np.arange(len(curves[0])) / HOURS
        ax.plot(x, agg.mean, label=arm, **_style(arm, opts.agents))
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.text(1.02, 0.98, "deployment (day 1)", transform=ax.get_xaxis_transform(), va="top")
    ax.set(xlabel="day", ylabel=f"CTR (trailing {opts.smooth}-slot window)",
           title=f"CTR per slot, mean over seeds and 95% CI ({label})")  # fmt: skip
    ax.legend(fontsize=7, ncol=3)
    paths.append(opts.out / "online_ctr_per_slot.png")
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    days = np.arange(opts.days)
    for i, arm in enumerate(arms):
        d = summary["arms"][arm]["per_day"]["ctr"]
        mean = np.array(d["mean"], float)
        low = np.array([np.nan if v is None else v for v in d["low"]], float)
        high = np.array([np.nan if v is None else v for v in d["high"]], float)
        err = np.vstack([mean - low, high - mean]) if len(seeds) > 1 else None
        ax.errorbar(days + (i - len(arms) / 2) * 0.03, mean, yerr=err, marker="o", ms=3,
                    capsize=2, label=arm, **_style(arm, opts.agents))  # fmt: skip
    ax.set(xlabel="day (0 = random logging day)", ylabel="CTR (clicks / impression)",
           title="CTR per day, mean and 95% CI over seeds", xticks=days)  # fmt: skip
    ax.legend(fontsize=7, ncol=2)
    paths.append(opts.out / "online_ctr_per_day.png")
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 4.5))
    for arm in arms:
        users = np.mean([[r["active_users"] for r in runs[s]["arms"][arm]["slots"]]
                         for s in seeds], axis=0)  # fmt: skip
        ax.plot(np.arange(users.size) / HOURS, users, label=arm, **_style(arm, opts.agents))
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set(xlabel="day", ylabel="users served in the slot",
           title=f"Active users per slot, mean over seeds ({label})")  # fmt: skip
    ax.legend(fontsize=7, ncol=3)
    paths.append(opts.out / "online_active_users.png")
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def print_report(summary: dict[str, Any]) -> None:
    def ci(m: dict[str, Any], scale: float = 1.0) -> str:
        if m["low"] is None:
            return f"{m['mean'] * scale:.4f}"
        half = (m["high"] - m["low"]) / 2 * scale
        return f"{m['mean'] * scale:.4f} ± {half:.4f}"

    print(f"days 1+ ({len(summary['seeds'])} seeds, mean ± 95% CI half-width):")
    print(f"{'arm':>20} {'ctr':>18} {'slate_ctr':>18} {'purch/slate':>18} {'ild':>18}")
    for arm, res in summary["arms"].items():
        m = res["days_1_plus"]
        print(f"{arm:>20} {ci(m['ctr']):>18} {ci(m['slate_ctr']):>18} "
              f"{ci(m['purchases_per_slate']):>18} {ci(m['ild']):>18}")  # fmt: skip
    for name, diffs in summary["paired"].items():
        print(f"{name:>36}: reward {ci(diffs['mean_reward'])}, slate_ctr {ci(diffs['slate_ctr'])}")
    print("CTR per day:")
    for arm, res in summary["arms"].items():
        print(f"{arm:>20} " + " ".join(f"{v:.4f}" for v in res["per_day"]["ctr"]["mean"]))
    print(f"runtime {summary['runtime_seconds']:.1f} s")
