"""``slategym ope``: slate off-policy estimators against the simulator's exact truth.

    nice -n 10 slategym ope --out results/ope --seeds 10 --sizes 1000 10000 100000

For each world (a choice model on a small ``SlateRec-v0``: every slate can be enumerated) and seed,
a logging policy serves slates on the native vector env; the log keeps, per served slate, the
oracle affinities of its candidates. The target policy's exact expected clicks in each logged
context (:func:`slategym.ope.policy_values`) is the truth; every estimator is run on the first ``n``
slates for each log size ``n``. Per estimator x world x size the report gives the mean truth, bias
(mean error) with its standard error, the standard deviation of the estimates and the RMSE, over
seeds. A second table gives the long-horizon truth: the target's mean clicks per slate when it runs
on-policy (its own contexts), next to the one-step value the estimators target.

Rows are appended to ``runs.csv`` as they are computed; ``table.md`` is rewritten at the end.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro

import slategym  # noqa: F401  (registers the env ids)
from slategym.data.policies import SlatePolicy, make_policy
from slategym.data.scorers import make_scorer
from slategym.ope import ESTIMATORS, ope_data_from_scores, policy_values
from slategym.ope.reward_model import position_item_means
from slategym.validation import check_int

ASSUMPTION_HOLDS = {
    # estimator -> choice models under which its assumption holds
    "IPS": {"position_based", "exponential_cascade", "mnl", "proportional_cascade", "multi_click"},
    "SNIPS": {"position_based", "exponential_cascade", "mnl", "proportional_cascade", "multi_click"},
    "IIPS": {"position_based"},
    "PI": {"position_based"},
    "RIPS": {"position_based", "exponential_cascade", "proportional_cascade"},
    "CascadeDR": {"position_based", "exponential_cascade", "proportional_cascade"},
}


@dataclass
class Args:
    """Bias, standard deviation and RMSE of slate OPE estimators against the exact truth."""

    out: str = "results/ope"
    """directory for runs.csv and table.md"""
    worlds: tuple[str, ...] = ("position_based", "exponential_cascade", "mnl")
    """choice models, one world each"""
    sizes: tuple[int, ...] = (1_000, 10_000)
    """log sizes (slates); each run uses the first n slates of one log"""
    seeds: int = 5
    """independent logs per world"""
    estimators: tuple[str, ...] = tuple(ESTIMATORS)
    logging_policy: Literal["uniform", "epsilon-greedy", "softmax"] = "uniform"
    logging_scorer: Literal["popularity", "oracle", "noisy-oracle", "zero"] = "popularity"
    logging_temperature: float = 1.0
    logging_epsilon: float = 0.5
    target_policy: Literal["uniform", "epsilon-greedy", "softmax"] = "softmax"
    target_scorer: Literal["popularity", "oracle", "noisy-oracle", "zero"] = "oracle"
    target_temperature: float = 0.5
    target_epsilon: float = 0.2
    num_items: int = 200
    num_candidates: int = 8
    slate_size: int = 3
    num_users: int = 1000
    num_envs: int = 500
    on_policy_slates: int = 20_000
    """slates served on-policy by the target for the long-horizon truth (0 = skip)"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def _collect(
    args: Args, world: str, seed: int, policy: SlatePolicy, scorer: Any, target_scorer: Any, n: int
) -> dict[str, np.ndarray]:
    """Serve at least ``n`` slates with ``policy``; keep what OPE and the truth need per slate."""
    envs = _make(args, world)
    base: Any = envs.unwrapped
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    obs, _ = envs.reset(seed=seed)
    keep: dict[str, list[np.ndarray]] = {k: [] for k in ("slates", "clicks", "aff", "log", "tgt", "cand", "reward")}
    served_total = 0
    while served_total < n:
        aff = base.oracle_affinities()
        log_scores = scorer(obs, aff)
        slates = policy.sample(log_scores, args.slate_size, rng)
        tgt_scores = target_scorer(obs, aff)
        cand = obs["candidate_ids"].copy()
        obs, rewards, _, _, info = envs.step(slates)
        rows = np.flatnonzero(info["_clicks"])
        for key, value in (
            ("slates", slates), ("clicks", info["clicks"]), ("aff", aff), ("log", log_scores),
            ("tgt", tgt_scores), ("cand", cand), ("reward", rewards),
        ):  # fmt: skip
            keep[key].append(np.asarray(value)[rows])
        served_total += rows.size
    envs.close()
    return {k: np.concatenate(v)[:n] for k, v in keep.items()}


def _make(args: Args, world: str) -> Any:
    return gym.make_vec(
        "SlateRec-v0",
        num_envs=args.num_envs,
        vectorization_mode="vector_entry_point",
        choice_model=world,
        num_items=args.num_items,
        num_candidates=args.num_candidates,
        slate_size=args.slate_size,
        num_users=args.num_users,
        reward="click",
        **args.env_kwargs,
    )


def _on_policy(args: Args, world: str, seed: int, target: SlatePolicy, scorer: Any) -> tuple[float, float]:
    """Mean clicks per slate (and its standard error) when the target serves on-policy."""
    envs = _make(args, world)
    base: Any = envs.unwrapped
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 1,)))
    obs, _ = envs.reset(seed=seed + 10_000)
    rewards_all: list[np.ndarray] = []
    served = 0
    while served < args.on_policy_slates:
        slates = target.sample(scorer(obs, base.oracle_affinities()), args.slate_size, rng)
        obs, rewards, _, _, info = envs.step(slates)
        rows = np.flatnonzero(info["_clicks"])
        rewards_all.append(rewards[rows])
        served += rows.size
    envs.close()
    r = np.concatenate(rewards_all)
    return float(r.mean()), float(r.std(ddof=1) / np.sqrt(r.size))


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bias, its standard error, sd and RMSE per estimator x world x size, over seeds."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["world"], r["estimator"], r["size"]), []).append(r)
    out = []
    for (world, est, size), rs in groups.items():
        e = np.array([r["estimate"] for r in rs])
        t = np.array([r["truth"] for r in rs])
        err = e - t
        out.append(
            {
                "world": world,
                "estimator": est,
                "size": size,
                "seeds": len(rs),
                "assumption_holds": world in ASSUMPTION_HOLDS.get(est, set()),
                "truth": float(t.mean()),
                "bias": float(err.mean()),
                "bias_se": float(err.std(ddof=1) / np.sqrt(len(rs))) if len(rs) > 1 else float("nan"),
                "std": float(e.std(ddof=1)) if len(rs) > 1 else float("nan"),
                "rmse": float(np.sqrt((err**2).mean())),
            }
        )
    return sorted(out, key=lambda r: (r["world"], r["size"], list(ESTIMATORS).index(r["estimator"])))


def markdown(summary: list[dict[str, Any]], on_policy: list[dict[str, Any]]) -> str:
    lines = [
        "| world | n | estimator | assumption holds | truth | bias (± se) | std | RMSE |",
        "|---|---:|---|:---:|---:|---:|---:|---:|",
    ]
    for r in summary:
        lines.append(
            f"| {r['world']} | {r['size']} | {r['estimator']} | {'yes' if r['assumption_holds'] else '**no**'} "
            f"| {r['truth']:.4f} | {r['bias']:+.4f} ± {r['bias_se']:.4f} | {r['std']:.4f} | {r['rmse']:.4f} |"
        )
    if on_policy:
        lines += ["", "| world | one-step truth (logged contexts) | on-policy clicks per slate (± se) |", "|---|---:|---:|"]
        for r in on_policy:
            lines.append(f"| {r['world']} | {r['one_step']:.4f} | {r['on_policy']:.4f} ± {r['on_policy_se']:.4f} |")
    return "\n".join(lines) + "\n"


def run(args: Args) -> dict[str, Any]:
    for size in args.sizes:
        check_int("sizes", size, 2)
    check_int("seeds", args.seeds, 1)
    unknown = sorted(set(args.estimators) - set(ESTIMATORS))
    if unknown:
        raise ValueError(f"estimators={unknown} are not allowed: expected names among {list(ESTIMATORS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logging = make_policy(args.logging_policy, args.logging_epsilon, args.logging_temperature)
    target = make_policy(args.target_policy, args.target_epsilon, args.target_temperature)
    log_scorer = make_scorer(args.logging_scorer)
    tgt_scorer = make_scorer(args.target_scorer)
    n_max = max(args.sizes)
    rows: list[dict[str, Any]] = []
    on_policy: list[dict[str, Any]] = []
    start = time.perf_counter()
    with open(out / "runs.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["world", "seed", "size", "estimator", "estimate", "std_error", "truth"])
        writer.writeheader()
        for world in args.worlds:
            one_step, on_vals = [], []
            for seed in range(args.seeds):
                log = _collect(args, world, seed, logging, log_scorer, tgt_scorer, n_max)
                base: Any = _make(args, world).unwrapped
                truth = policy_values(target, log["tgt"], log["aff"], base.sim.choice_model, args.slate_size)
                full = ope_data_from_scores(log["slates"], log["clicks"], logging, log["log"], target, log["tgt"])
                one_step.append(float(truth.mean()))
                for size in args.sizes:
                    q = position_item_means(
                        np.take_along_axis(log["cand"][:size], log["slates"][:size], axis=1),
                        log["clicks"][:size], log["cand"][:size],
                    )
                    data = dataclasses.replace(full.head(size), q_hat=q)
                    for name in args.estimators:
                        est = ESTIMATORS[name]().estimate(data)
                        row = {"world": world, "seed": seed, "size": size, "estimator": name,
                               "estimate": est.value, "std_error": est.std_error,
                               "truth": float(truth[:size].mean())}  # fmt: skip
                        writer.writerow(row)
                        rows.append(row)
                    fh.flush()
                if args.on_policy_slates:
                    on_vals.append(_on_policy(args, world, seed, target, tgt_scorer))
            if on_vals:
                vals = np.array(on_vals)
                on_policy.append({"world": world, "one_step": float(np.mean(one_step)),
                                  "on_policy": float(vals[:, 0].mean()),
                                  "on_policy_se": float(vals[:, 0].std(ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else float(vals[0, 1])})  # fmt: skip
    summary = summarise(rows)
    (out / "table.md").write_text(markdown(summary, on_policy))
    (out / "summary.json").write_text(json.dumps({"args": dataclasses.asdict(args), "summary": summary, "on_policy": on_policy}, indent=1))
    return {"summary": summary, "on_policy": on_policy, "seconds": round(time.perf_counter() - start, 1), "out": str(out)}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv)
    result = run(args)
    print((Path(args.out) / "table.md").read_text())
    print(f"{result['seconds']} s")
    return result


if __name__ == "__main__":
    main()
