"""GFN4Rec's b_r x reward-scale trade-off on SlateRec-v0: greedy and sampled slate CTR, coverage.

The GFlowNets learn ``P(slate) ∝ R + b_r`` (exactly in the ``"exact"`` loss form, approximately in
the authors' ``"offset"`` form). What matters is the ratio of rewards to the offset: with the env's
click reward (single click under the MNL, ``R ∈ {0, 1}``) times ``reward_scale``, a clicked slate is
worth ``(scale + b_r) / b_r`` times an unclicked one. ``reward_scale = 1 / K`` is GFN4Rec's form, the
mean over positions (``R ∈ {0, 1/6}``).

For every variant (``db``, ``tb``), ``b_r``, reward scale and seed ``s``: the KuaiRand-1K preset of
the variant (``agents.gfn.config``) with ``lr`` (1e-3, as the benchmark) and the given ``b_r`` and
scale; ``iterations`` updates on a native vector env of ``batch_size`` rows of the training cohort
(``population_seed = s``); then, on the held-out cohort (``population_seed = 10 000 + s``, reset
seed ``10 000 + s``), ``eval_steps`` steps of ``eval_users`` users with greedy inference and again
with sampled inference (``act(explore=False)`` with ``inference="greedy"`` / ``"sample"``).
Reported: slate CTR (share of slates with a click), coverage (share of the catalog served at least
once), intra-list diversity (ILD, mean pairwise cosine distance of a slate's items) and novelty.

Each run is appended to ``<out>/runs.jsonl`` as it finishes (a rerun skips the runs already there,
``--fresh`` recomputes); ``<out>/table.md`` holds the mean and 95 % t-interval over seeds.

Run ``nice -n 10 slategym gfn-tradeoff`` (``--help`` for the options).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.gfn import SlateGFN
from agents.loop import make_vector_env, run
from agents.registry import make_agent
from agents.spec import AgentSpec
from experiments.cli_args import checked, parse
from slategym.metrics import MetricsAccumulator, aggregate
from slategym.validation import check_int

EVAL_OFFSET = 10_000


@dataclass(frozen=True)
class Args:
    """The grid and the budget of the trade-off study."""

    variants: tuple[str, ...] = ("db", "tb")
    """GFlowNet variants: db (detailed balance), tb (trajectory balance)."""
    b_r: tuple[float, ...] = (0.1, 0.5)
    """Reward offsets b_r."""
    reward_scales: tuple[float, ...] = (1 / 6, 1.0)
    """Multipliers of the env reward (1/6 = the mean over the 6 positions, GFN4Rec's form)."""
    seeds: int = 3
    """Seeds 0 .. seeds - 1."""
    iterations: int = 300
    """Training updates per run."""
    batch_size: int = 128
    """Rows of the training vector env (slates per update)."""
    eval_users: int = 256
    """Held-out users evaluated per run and inference mode."""
    eval_steps: int = 50
    """Vector-env steps of each evaluation."""
    lr: float = 1e-3
    """Adam learning rate (the benchmark's)."""
    out: Path = Path("results/gfn_tradeoff")
    """Output folder (runs.jsonl, table.md)."""
    threads: int = 1
    """torch intra-op threads."""
    fresh: bool = False
    """Recompute the runs already in out/runs.jsonl."""

    def check(self) -> None:
        for name in ("seeds", "iterations", "batch_size", "eval_users", "eval_steps", "threads"):
            check_int(name, getattr(self, name), 1)
        if not self.variants or set(self.variants) - {"db", "tb"}:
            raise ValueError(f"variants={self.variants!r} is not allowed: expected db and/or tb")
        for name in ("b_r", "reward_scales"):
            values = getattr(self, name)
            if not values or not all(v > 0 and math.isfinite(v) for v in values):
                raise ValueError(f"{name}={values!r} is not allowed: expected values > 0")
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr!r} is not allowed: expected a value > 0")


def evaluate(agent: SlateGFN, seed: int, args: Args, inference: str) -> dict[str, float]:
    """Slate CTR, coverage, ILD and novelty on the held-out cohort of ``seed`` with ``inference``."""
    envs = make_vector_env(args.eval_users, population_seed=EVAL_OFFSET + seed)
    acc = MetricsAccumulator(envs.unwrapped.sim.catalog)  # type: ignore[attr-defined]
    agent.config = agent.config.replace(inference=inference)
    run(agent, envs, EVAL_OFFSET + seed, steps=args.eval_steps,
        on_step=lambda info, served, rewards: acc.add_step(info, served, rewards=rewards))  # fmt: skip
    result = acc.result()
    return {k: float(result[k]) for k in ("slate_ctr", "coverage", "ild", "novelty")}


def run_one(variant: str, b_r: float, scale: float, seed: int, args: Args) -> dict[str, Any]:
    """Train one GFlowNet and evaluate it greedy and sampled."""
    start = time.perf_counter()
    envs = make_vector_env(args.batch_size, population_seed=seed)
    agent = make_agent(f"slategfn_{variant}", AgentSpec.from_env(envs), seed=seed,
                       preset="kuairand1k", lr=args.lr, b_r=b_r, reward_scale=scale)  # fmt: skip
    assert isinstance(agent, SlateGFN)
    agent.plan(args.iterations)
    logs = run(agent, envs, seed=seed, steps=args.iterations, explore=True, learn=True)
    record: dict[str, Any] = {"variant": variant, "b_r": b_r, "reward_scale": scale, "seed": seed,
                              **budget(args), "final_loss": logs[-1]["loss"],
                              "final_entropy": logs[-1]["entropy"]}  # fmt: skip
    for inference in ("greedy", "sample"):
        for key, value in evaluate(agent, seed, args, inference).items():
            record[f"{inference}_{key}"] = value
    record["seconds"] = time.perf_counter() - start
    return record


_BUDGET = ("iterations", "batch_size", "eval_users", "eval_steps", "lr")


def budget(args: Args) -> dict[str, Any]:
    """What a run's result depends on besides its grid point: a rerun reuses only matching runs."""
    return {k: getattr(args, k) for k in _BUDGET}


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["variant"], round(r["b_r"], 9), round(r["reward_scale"], 9), int(r["seed"]),
            *(r.get(k) for k in _BUDGET))  # fmt: skip


def table(records: list[dict[str, Any]]) -> str:
    """Markdown: mean and 95 % t-interval half-width over seeds per (variant, b_r, scale)."""
    cols = ("greedy_slate_ctr", "sample_slate_ctr", "greedy_coverage", "sample_coverage",
            "greedy_ild", "sample_ild")  # fmt: skip
    lines = ["| variant | b_r | reward scale | seeds | greedy CTR | sampled CTR | greedy coverage "
             "| sampled coverage | greedy ILD | sampled ILD |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[tuple[str, float, float], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(_key(r)[:3], []).append(r)
    for (variant, b_r, scale), runs in sorted(groups.items()):
        cells = []
        for col in cols:
            agg = aggregate([r[col] for r in runs])
            half = (agg.high - agg.low) / 2
            cells.append(f"{agg.mean:.3f}" + ("" if math.isnan(half) else f" ± {half:.3f}"))
        lines.append(f"| {variant.upper()} | {b_r:g} | {scale:.3g} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def study(args: Args) -> dict[str, Any]:
    """Run (or resume) the grid; returns the records and the table."""
    import torch

    checked(args)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "runs.jsonl"
    if args.fresh and path.exists():
        path.unlink()
    done = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    have = {_key(r) for r in done}
    records = list(done)
    for seed, variant, b_r, scale in itertools.product(range(args.seeds), args.variants, args.b_r,
                                                       args.reward_scales):  # fmt: skip
        key = (variant, round(b_r, 9), round(scale, 9), seed, *budget(args).values())
        if key in have:
            continue
        record = run_one(variant, b_r, scale, seed, args)
        with open(path, "a") as fh:  # written as it goes: an interrupted study resumes
            fh.write(json.dumps(record) + "\n")
        records.append(record)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}))
    wanted = {(v, round(b, 9), round(s, 9), i, *budget(args).values()) for i, v, b, s in
              itertools.product(range(args.seeds), args.variants, args.b_r, args.reward_scales)}  # fmt: skip
    records = [r for r in records if _key(r) in wanted]
    text = table(records)
    (args.out / "table.md").write_text(text + "\n")
    print(text)
    return {"args": dataclasses.asdict(args), "runs": records, "table": text}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point (tyro): ``slategym gfn-tradeoff --help``."""
    return study(parse(Args, argv, "slategym gfn-tradeoff"))


if __name__ == "__main__":
    main()
