"""The benchmark's report: per-world tables, ranks, the GFN4Rec claim check, regret, figures.

Everything here reads **test-cohort** records only, except two choices made on validation records
(never on test): the hyperparameters of every learner (:func:`experiments.protocol.select`, done by
the benchmark) and the comparator of the claim check (the non-GFlowNet learner with the best
validation reward in the world). Numbers are means over the test seeds with 95 % Student-t
intervals (:func:`slategym.metrics.aggregate`); differences between two agents are paired by seed
(same training cohort, same test cohort).

Outputs in ``<out>``: ``results.md`` (every table), ``summary.json`` (the same numbers), and the
figures of :mod:`experiments.figures`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.gfn import SlateGFN
from agents.registry import agent_class
from slategym.metrics import aggregate
from slategym.timeline import HOURS

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mean_reward", "reward / slate"),
    ("slate_ctr", "slate CTR"),
    ("ctr", "CTR / impr."),
    ("purchases_per_slate", "purch. / slate"),
    ("ild", "ILD"),
    ("coverage", "coverage"),
    ("novelty", "novelty"),
    ("churn_rate_per_episode", "churn / user"),
)
"""(metric, column title) of the per-world tables."""
COST: tuple[tuple[str, str], ...] = (
    ("interactions", "interactions"),
    ("gradient_steps", "grad. steps"),
    ("train_seconds", "train s (wall)"),
    ("train_cpu_seconds", "train s (CPU)"),
)


def is_gfn(agent: str) -> bool:
    """Whether the agent is one of the GFlowNets (by its class, never its name)."""
    return issubclass(agent_class(agent), SlateGFN)


def interval(values: Iterable[float]) -> dict[str, float]:
    """Mean and 95 % Student-t interval (nan bounds with one value; nan values left out)."""
    finite = [float(v) for v in values if math.isfinite(float(v))]
    if not finite:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    agg = aggregate(np.asarray(finite, np.float64))
    return {"mean": agg.mean, "low": agg.low, "high": agg.high, "n": len(finite)}


def fmt(a: dict[str, float], digits: int = 3) -> str:
    if not math.isfinite(a["mean"]):
        return "n/a"
    if not math.isfinite(a["low"]):
        return f"{a['mean']:.{digits}f}"
    return f"{a['mean']:.{digits}f} ± {(a['high'] - a['low']) / 2:.{digits}f}"


def _test(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[int, dict[str, Any]]]]:
    """Test records as ``{world: {agent: {seed: record}}}``, in the order they appear."""
    out: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for r in records:
        t = r["task"]
        if t["cohort"] == "test":
            out.setdefault(t["world"], {}).setdefault(t["agent"], {})[t["seed"]] = r
    return out


def _paired(a: dict[int, dict], b: dict[int, dict], metric: str) -> dict[str, float]:
    seeds = sorted(set(a) & set(b))
    return interval([a[s]["metrics"][metric] - b[s]["metrics"][metric] for s in seeds])


def world_summary(agents: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """Per agent: config, metrics and cost with intervals, and the learning curve."""
    out: dict[str, Any] = {}
    for agent, runs in agents.items():
        rs = [runs[s] for s in sorted(runs)]
        entry: dict[str, Any] = {
            "config": rs[0]["task"]["config"],
            "seeds": sorted(runs),
            "upper_bound": rs[0]["upper_bound"],
            "learns": rs[0]["learns"],
        }
        for key, _ in COLUMNS:
            entry[key] = interval([r["metrics"][key] for r in rs])
        for key, _ in COST:
            entry[key] = interval([r[key] for r in rs])
        if rs[0]["curve"]:
            steps = [[p["interactions"] for p in r["curve"]] for r in rs]
            entry["curve"] = [
                {"interactions": float(np.mean([s[i] for s in steps])),
                 "slate_ctr": interval([r["curve"][i]["slate_ctr"] for r in rs]),
                 "mean_reward": interval([r["curve"][i]["mean_reward"] for r in rs])}
                for i in range(min(len(r["curve"]) for r in rs))
            ]  # fmt: skip
        out[agent] = entry
    return out


def ranks(summary: dict[str, Any]) -> dict[str, int]:
    """Rank (1 = best) of every recommender (not the upper bounds) by test reward per slate."""
    means = {a: e["mean_reward"]["mean"] for a, e in summary.items() if not e["upper_bound"]}
    order = sorted(means, key=lambda a: -means[a] if math.isfinite(means[a]) else math.inf)
    return {a: 1 + sum(means[b] > means[a] for b in order) for a in order}


def regret(oracle: dict[int, dict], runs: dict[int, dict]) -> dict[str, Any]:
    """Cumulative regret per user against the oracle over the timeline's hours, paired by seed."""
    curves = []
    for s in sorted(set(oracle) & set(runs)):
        o, r = oracle[s]["metrics"], runs[s]["metrics"]
        diff = np.asarray(o["reward_per_hour"]) / o["users"] - np.asarray(r["reward_per_hour"]) / r["users"]
        curves.append(np.cumsum(diff))
    if not curves:
        return {}
    arr = np.stack(curves)
    bands = [interval(arr[:, h]) for h in range(arr.shape[1])]
    return {"hours": arr.shape[1], "mean": [b["mean"] for b in bands],
            "low": [b["low"] for b in bands], "high": [b["high"] for b in bands],
            "final": interval(arr[:, -1])}  # fmt: skip


def claim(world: str, agents: dict[str, dict[int, dict]], selection: dict[str, Any]) -> dict[str, Any]:
    """GFN4Rec's claim in ``world``: does a GFlowNet beat the best non-GFlowNet learner on reward
    *and* diversity (ILD)? The comparator is chosen on validation reward."""
    chosen = selection.get(world, {})
    rivals = {a: chosen[a]["ranking"][0][1] for a in agents
              if a in chosen and not is_gfn(a) and not agents[a][min(agents[a])]["upper_bound"]}  # fmt: skip
    if not rivals:
        return {"comparator": None}
    comparator = max(rivals, key=lambda a: rivals[a])
    out: dict[str, Any] = {"comparator": comparator, "validation_reward": rivals, "gfn": {}}
    for agent in (a for a in agents if is_gfn(a)):
        reward = _paired(agents[agent], agents[comparator], "mean_reward")
        ild = _paired(agents[agent], agents[comparator], "ild")
        coverage = _paired(agents[agent], agents[comparator], "coverage")
        if reward["low"] > 0 and ild["low"] > 0:
            verdict = "yes"
        elif reward["high"] < 0 or ild["high"] < 0:
            verdict = "no"
        else:
            verdict = "not resolved"
        out["gfn"][agent] = {"config": agents[agent][min(agents[agent])]["task"]["config"],
                             "reward_diff": reward, "ild_diff": ild, "coverage_diff": coverage,
                             "verdict": verdict}  # fmt: skip
    return out


def _markdown(summary: dict[str, Any], settings: dict[str, Any]) -> str:
    lines: list[str] = []
    for world, agents in summary["worlds"].items():
        lines += [f"### {world}", ""]
        header = ["agent", "config", "seeds", *(t for _, t in COLUMNS), *(t for _, t in COST)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for agent, e in agents.items():
            name = f"{agent} (upper bound)" if e["upper_bound"] else agent
            cells = [name, f"`{e['config']}`", str(len(e["seeds"]))]
            cells += [fmt(e[k]) for k, _ in COLUMNS]
            cells += [fmt(e[k], 0) for k, _ in COST[:2]] + [fmt(e[k], 1) for k, _ in COST[2:]]
            lines.append("| " + " | ".join(cells) + " |")
        missing = [f"{a} ({why})" for a, w, why in settings.get("not_applicable", []) if w == world]
        if missing:
            lines += ["", "Not run here: " + "; ".join(missing) + "."]
        lines.append("")
    worlds = list(summary["worlds"])
    agents = list(dict.fromkeys(a for w in worlds for a in summary["ranks"][w]))
    lines += ["### Rank per world (test reward per slate; 1 = best; upper bounds left out)", "",
              "| agent | " + " | ".join(worlds) + " | mean rank |", "|" + "---|" * (len(worlds) + 2)]
    for agent in agents:
        rs = [summary["ranks"][w].get(agent) for w in worlds]
        known = [r for r in rs if r is not None]
        mean = f"{np.mean(known):.2f}" if known else "n/a"
        lines.append(f"| {agent} | " + " | ".join("–" if r is None else str(r) for r in rs) + f" | {mean} |")
    lines += ["", "### GFN4Rec's claim: a GFlowNet beats the best other learner on reward and ILD", "",
              "| world | comparator (chosen on validation) | GFlowNet (config) | reward diff. | ILD diff. "
              "| coverage diff. | verdict |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for world, c in summary["claim"].items():
        for agent, g in (c.get("gfn") or {}).items():
            lines.append(f"| {world} | {c['comparator']} | {agent} (`{g['config']}`) | "
                         f"{fmt(g['reward_diff'])} | {fmt(g['ild_diff'])} | {fmt(g['coverage_diff'])} "
                         f"| {g['verdict']} |")  # fmt: skip
    if summary["regret"]:
        lines += ["", "### Cumulative regret per user against the oracle at the end of the timeline", "",
                  "| world | agent | regret (reward per user) |", "|---|---|---|"]  # fmt: skip
        for world, by_agent in summary["regret"].items():
            for agent, r in by_agent.items():
                lines.append(f"| {world} | {agent} | {fmt(r['final'], 2)} |")
    return "\n".join(lines)


def write_report(records: Sequence[dict[str, Any]], selection: dict[str, Any],
                 settings: dict[str, Any], out: Path, plots: bool = True) -> dict[str, Any]:  # fmt: skip
    """Write ``results.md``, ``summary.json`` and (with ``plots``) the figures; returns the summary."""
    test = _test(records)
    summary: dict[str, Any] = {"settings": settings, "selection": selection, "worlds": {},
                               "ranks": {}, "claim": {}, "regret": {}}  # fmt: skip
    for world, agents in test.items():
        ws = world_summary(agents)
        summary["worlds"][world] = ws
        summary["ranks"][world] = ranks(ws)
        summary["claim"][world] = claim(world, agents, selection)
        oracles = [a for a in agents if ws[a]["upper_bound"]]
        days = max(len(r["metrics"]["reward_per_hour"]) for a in agents.values() for r in a.values())
        if oracles and days > HOURS:  # a timeline of several days
            summary["regret"][world] = {a: regret(agents[oracles[0]], runs)
                                        for a, runs in agents.items() if a not in oracles}  # fmt: skip
    markdown = _markdown(summary, settings)
    summary["markdown"] = markdown
    (out / "results.md").write_text(markdown + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=True))
    if plots:
        from experiments.figures import write_figures

        summary["figures"] = write_figures(summary, out)
    return summary
