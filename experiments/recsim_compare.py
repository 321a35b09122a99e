"""RecSim side by side: slategym's RecSim presets against RecSim 0.2.4, under a uniform random policy.

For every reference file of ``--reference-dir`` (written by ``experiments/recsim_reference.py`` in a
RecSim venv: per-episode figures of RecSim's own environments under RecSim's ``RandomAgent``), this
runs the matching slategym preset with the same configuration (``num_candidates``, ``slate_size``,
``resample_documents``, the episode cap) under ``agents``' random agent (uniform slates of distinct
candidates, as RecSim's ``RandomAgent``), ``--episodes`` episodes each (rows of the native vector env,
each followed through one whole episode), and compares per-episode

* the return (sum of rewards),
* the length (steps),
* the clicks per step (each episode's clicks / length, averaged over episodes; the reference's
  ``clicks_per_step``),

by their means and 95 % intervals (1.96 standard errors) on both sides, and a two-sample z test of the
difference (Welch: ``z = (m_s - m_r) / sqrt(se_s^2 + se_r^2)``). "Matches within sampling error" means
``|z| < 1.96``; with many comparisons a few percent of them fail that by chance, so the p-values are
reported. A statistic without variance on both sides (long-term satisfaction's fixed length) is
compared exactly.

Run: ``slategym recsim-compare`` (``--episodes 5000`` by default, about a minute per file on this
machine); ``--out`` receives ``recsim_compare.json`` and the Markdown table of ``docs/worlds.md``.
``--truth`` adds a third, independent figure: the expectations under the random policy computed by
Monte Carlo straight from RecSim's formulas (written here from RecSim's source, not with slategym's
models): interest exploration's click rate per step at ``K = 2`` and long-term satisfaction's
episode return.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from scipy import stats

import slategym  # noqa: F401  (registers the worlds)
from agents.registry import make_agent
from experiments.cli_args import parse
from slategym.validation import check_int

PRESETS = {
    "interest_evolution": "SlateRec-InterestEvolution-v0",
    "interest_exploration": "SlateRec-InterestExploration-v0",
    "long_term_satisfaction": "SlateRec-LongTermSatisfaction-v0",
}
"""RecSim environment name -> the slategym world that reproduces it."""
STATISTICS = ("return", "length", "clicks_per_step")
Z_95 = 1.96


@dataclass(frozen=True)
class Args:
    """Compare slategym's RecSim presets with RecSim's reference figures (see the module docstring)."""

    reference_dir: Path = Path("docs/data/recsim_reference")
    """Folder of the reference JSON files."""
    files: tuple[str, ...] = ()
    """Reference file names to compare (default: every ``*.json`` of ``--reference-dir``)."""
    episodes: int = 5000
    """slategym episodes per configuration."""
    seed: int = 0
    """Seed of the slategym runs (episodes use the row streams ``(seed + b, i)`` of batch ``b``)."""
    batch: int = 1000
    """Episodes run side by side in one native vector env."""
    out: Path = Path("results/recsim_compare")
    """Folder of ``recsim_compare.json`` and ``recsim_compare.md``."""
    truth: bool = False
    """Also compute the formulas' expectations by Monte Carlo (about a minute)."""

    def check(self) -> None:
        check_int("episodes", self.episodes, 2)
        check_int("batch", self.batch, 1)
        check_int("seed", self.seed, 0)


def reference_files(args: Args) -> list[Path]:
    """The reference files to compare, sorted by name (ValueError if there are none)."""
    if args.files:
        paths = [args.reference_dir / name for name in args.files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"files={list(args.files)} is not allowed: no such file(s) {missing}")
        return paths
    paths = sorted(args.reference_dir.glob("*.json"))
    if not paths:
        raise ValueError(
            f"reference_dir={str(args.reference_dir)!r} holds no reference JSON file: run "
            "experiments/recsim_reference.py in a RecSim venv first (see its docstring)"
        )
    return paths


def preset_kwargs(reference: dict[str, Any]) -> dict[str, Any]:
    """``gym.make`` keywords of the slategym preset that matches a reference file's configuration."""
    config = reference["env_config"]
    kwargs: dict[str, Any] = {
        "num_candidates": int(config["num_candidates"]),
        "slate_size": int(config["slate_size"]),
        "max_session_steps": int(reference["max_steps"]),
    }
    if not config["resample_documents"]:
        kwargs["item_model_kwargs"] = {"resample_documents": False}
    return kwargs


def run_episodes(
    env_id: str, episodes: int, seed: int, batch: int, **kwargs: Any
) -> dict[str, np.ndarray]:
    """Per-episode return, length and clicks of the random agent, ``episodes`` whole episodes."""
    out: dict[str, list[np.ndarray]] = {"return": [], "length": [], "clicks": []}
    for b, start in enumerate(range(0, episodes, batch)):
        n = min(batch, episodes - start)
        envs = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
        agent = make_agent("random", envs, seed=seed + b)
        obs, _ = envs.reset(seed=seed + b)
        total, length, clicks = np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64)
        finished = np.zeros(n, bool)
        while not finished.all():
            obs, rewards, terminated, truncated, info = envs.step(agent.act(obs))
            live = ~finished
            total += np.where(live, rewards, 0.0)
            length += live
            clicks += np.where(live, info["clicks"].sum(axis=1), 0)
            finished |= terminated | truncated
        envs.close()
        out["return"].append(total)
        out["length"].append(length)
        out["clicks"].append(clicks)
    return {k: np.concatenate(v) for k, v in out.items()}


def summary(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation and 95 % half-width (1.96 standard errors) of per-episode values."""
    n = values.size
    std = float(values.std(ddof=1))
    return {"n": n, "mean": float(values.mean()), "std": std, "ci95": Z_95 * std / math.sqrt(n)}


def z_test(ours: dict[str, float], ref: dict[str, float]) -> dict[str, float]:
    """Two-sample z statistic and two-sided p-value of the difference of two means."""
    se = math.sqrt((ours["ci95"] / Z_95) ** 2 + (ref["ci95"] / Z_95) ** 2)
    diff = ours["mean"] - ref["mean"]
    if se == 0.0:
        return {"diff": diff, "z": 0.0 if diff == 0 else math.inf, "p": 1.0 if diff == 0 else 0.0}
    z = diff / se
    return {"diff": diff, "z": z, "p": float(2.0 * stats.norm.sf(abs(z)))}


def compare_file(path: Path, args: Args) -> dict[str, Any]:
    """The side-by-side figures of one reference file."""
    reference = json.loads(path.read_text())
    env_id = PRESETS[reference["env"]]
    kwargs = preset_kwargs(reference)
    episodes = run_episodes(env_id, args.episodes, args.seed, args.batch, **kwargs)
    ours = {
        "return": summary(episodes["return"]),
        "length": summary(episodes["length"].astype(np.float64)),
        "clicks_per_step": summary(episodes["clicks"] / episodes["length"]),
    }
    rows = {}
    for stat in STATISTICS:
        ref = reference["summary"][stat]
        rows[stat] = {"recsim": ref, "slategym": ours[stat], **z_test(ours[stat], ref)}
    return {
        "file": path.name,
        "env": reference["env"],
        "env_id": env_id,
        "env_config": reference["env_config"],
        "seeding": reference["seeding"],
        "max_steps": reference["max_steps"],
        "recsim_episodes": reference["episodes"],
        "slategym_episodes": args.episodes,
        "gym_make_kwargs": kwargs,
        "statistics": rows,
    }


def formula_expectations(seed: int = 0) -> dict[str, dict[str, float]]:
    """Expectations under a uniform random policy with fresh items, from RecSim's formulas.

    * interest exploration, ``K = 2``: ``E[(e^{s_1} + e^{s_2}) / (e^{s_1} + e^{s_2} + e^5)]`` with
      ``s_j = g_{tau_j} + q_j``, user type 0 / 1 with probability 0.3 / 0.7, topic affinities
      ``g ~ LogNormal(M[type], 0.1)``, ``M = ((0.1, 0.7), (0.7, 0.1))``, item topics 0 / 1 with
      probability 0.2 / 0.8, qualities ``q ~ LogNormal((0.8, 0.2)[tau], 0.1)`` (2e7 slates), and
      the same with the items drawn from the preset's finite catalog (how much the catalog moves it);
    * long-term satisfaction: the sum over 60 clicks of ``exp((4 + b) S + z)``, ``b ~ U(0, 1)``,
      ``S = sigmoid(0.01 NPE)``, ``NPE_0 = (U(0, 1) - 0.5) / 0.3``,
      ``NPE <- 0.7 NPE - 2 (b - 0.5) + 0.05 z'`` (2e6 episodes).

    Returns ``{name: {"mean", "ci95"}}``.
    """
    rng = np.random.default_rng(seed)
    catalog = gym.make(PRESETS["interest_exploration"]).unwrapped.sim.catalog  # type: ignore[attr-defined]
    n = 5_000_000
    clicks: dict[str, list[np.ndarray]] = {"fresh": [], "catalog": []}
    for _ in range(4):  # 4 chunks of 5e6 slates: bounded memory
        kind = (rng.random(n) >= 0.3).astype(np.int64)
        mean = np.array([[0.1, 0.7], [0.7, 0.1]])[kind]
        affinity = np.exp(mean + 0.1 * rng.standard_normal((n, 2)))
        topic = (rng.random((n, 2)) >= 0.2).astype(np.int64)
        quality = np.exp(np.array([0.8, 0.2])[topic] + 0.1 * rng.standard_normal((n, 2)))
        items = rng.integers(0, catalog.total, (n, 2))  # the same, with the preset's finite catalog
        for name, t, q in (("fresh", topic, quality),
                           ("catalog", catalog.topic[items], catalog.quality[items])):  # fmt: skip
            weight = np.exp(np.take_along_axis(affinity, t, axis=1) + q).sum(axis=1)
            clicks[name].append(weight / (weight + np.exp(5.0)))
    m = 2_000_000
    npe, total = (rng.random(m) - 0.5) / 0.3, np.zeros(m)
    for _ in range(60):
        b = rng.random(m)
        satisfaction = 1.0 / (1.0 + np.exp(-0.01 * npe))
        total += np.exp((4.0 + b) * satisfaction + rng.standard_normal(m))
        npe = 0.7 * npe - 2.0 * (b - 0.5) + 0.05 * rng.standard_normal(m)
    return {
        "interest_exploration_clicks_per_step_k2": summary(np.concatenate(clicks["fresh"])),
        "interest_exploration_clicks_per_step_k2_with_the_preset_catalog": summary(
            np.concatenate(clicks["catalog"])
        ),
        "long_term_satisfaction_return": summary(total),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    """The side-by-side table: mean ± 95 % half-width on both sides, z and p."""
    lines = [
        "| RecSim env | C | K | candidates | statistic | RecSim 0.2.4 | slategym | z | p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["env_config"]
        resample = "fresh per request" if c["resample_documents"] else "fixed per episode"
        if r["seeding"] != "episode":
            resample += f" ({r['seeding']} seeding)"
        for stat, row in r["statistics"].items():
            ref, ours = row["recsim"], row["slategym"]
            digits = 4 if stat == "clicks_per_step" else 2
            lines.append(
                f"| {r['env']} | {c['num_candidates']} | {c['slate_size']} | {resample} | {stat} | "
                f"{ref['mean']:.{digits}f} ± {ref['ci95']:.{digits}f} | "
                f"{ours['mean']:.{digits}f} ± {ours['ci95']:.{digits}f} | "
                f"{row['z']:+.2f} | {row['p']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(Args, argv, "slategym recsim-compare")
    paths = reference_files(args)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for path in paths:
        results.append(compare_file(path, args))
        (args.out / "recsim_compare.json").write_text(json.dumps(results, indent=1))
        (args.out / "recsim_compare.md").write_text(markdown(results))
        worst = min(row["p"] for row in results[-1]["statistics"].values())
        print(f"{path.name}: smallest p {worst:.3f}", flush=True)
    table = markdown(results)
    print("\n" + table)
    tests = [row for r in results for row in r["statistics"].values()]
    failed = sum(abs(row["z"]) >= Z_95 for row in tests)
    print(f"{failed} of {len(tests)} comparisons with |z| >= {Z_95}")
    out: dict[str, Any] = {"results": results, "table": table, "comparisons": len(tests),
                           "failed": failed}  # fmt: skip
    if args.truth:
        out["truth"] = formula_expectations(args.seed)
        (args.out / "truth.json").write_text(json.dumps(out["truth"], indent=1))
        for name, value in out["truth"].items():
            print(f"formulas, Monte Carlo: {name} = {value['mean']:.5f} ± {value['ci95']:.5f}")
    return out


if __name__ == "__main__":
    main()
