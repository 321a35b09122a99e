"""World checks: does each world show what it is for? Measured with the random, greedy and oracle agents.

Three checks (``slategym worlds --checks lift dynamic``):

``lift``
    The benchmark's protocol (``experiments/benchmark.py``) on each world of ``--worlds``: for seed
    ``s``, greedy trains on the cohort ``population_seed = s`` (``--train-steps`` interactions on a
    ``--batch-size``-row native vector env, exploring by Thompson sampling, learning from every
    step) and random, greedy and the oracle (an upper bound that reads hidden state) are evaluated
    on the held-out cohort ``population_seed = 10 000 + s``: ``--eval-users`` users, each through
    their whole first episode, no exploration. The *lift ratio* of a seed is
    ``(greedy - random) / (oracle - random)`` in slate CTR (share of slates with a click); its mean
    and 95 % Student-t interval over seeds are reported. ``SlateRec-Personal-v0`` must keep it at
    or below 0.5 (taste heterogeneity dominates); ``SlateRec-v0`` gives about 0.9.

``dynamic``
    Non-stationarity of ``SlateRec-Dynamic-v0`` on the platform view (every user on one clock,
    served slot by slot): per seed, a greedy agent serves day 0 (Thompson sampling) and is fitted
    on day 0's feedback at the end of the day; from the same platform state two arms continue,
    *frozen* (never updated again) and *refit* (updated with each day's feedback at the end of the
    day), both acting as on day 0. Reported: slate CTR over days 1+ of each arm, the paired
    difference refit - frozen per seed with its 95 % interval over seeds (it must exclude 0), the
    CTR per day of each arm, and, from the random agent, CTR per hour of day and the share of clicks
    on the even ("morning") topics per hour: what users want at 08:00 differs from 21:00.

``table``
    The random / greedy / oracle slate CTR of every registered world (the ``lift`` protocol with
    the seeds given), for the table of ``docs/worlds.md``.

Each finished unit (a world and seed of ``lift``, a seed of ``dynamic``) is written to
``--out/runs/*.json`` as soon as it is done and reused by a rerun with the same settings; the summary
goes to ``--out/summary.json`` (and figures with ``--plot``). Machines here have 2 shared cores: run it
``nice``'d, torch is not used.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np

import slategym
from agents.base import Agent, Feedback
from agents.loop import evaluate, run
from agents.registry import make_agent
from experiments.cli_args import checked, parse
from experiments.executor import check_output
from experiments.world_checks_report import (
    lift_ratio,
    plot,
    print_summary,
    summarize_dynamic,
    summarize_lift,
)
from slategym.platform import Platform
from slategym.timeline import HOURS
from slategym.validation import check_int

EVAL_POPULATION_OFFSET = 10_000
"""As in the benchmark: the held-out cohort of seed ``s`` is ``population_seed = 10 000 + s``."""

Check = Literal["lift", "dynamic", "table"]


@dataclass(frozen=True)
class Args:
    """Measure what each world is for (see the module docstring)."""

    checks: tuple[Check, ...] = ("lift", "dynamic")
    """Which checks to run."""
    worlds: tuple[str, ...] = ("SlateRec-v0", "SlateRec-Personal-v0")
    """Worlds of the ``lift`` check (``table`` uses every registered world)."""
    seeds: int = 5
    """Seeds 0 .. seeds - 1."""
    train_steps: int = 100_000
    """User interactions greedy trains on (``lift``, ``table``)."""
    batch_size: int = 128
    """Rows of the training vector env (``lift``, ``table``)."""
    eval_users: int = 1000
    """Held-out users, each through one whole episode (``lift``, ``table``)."""
    num_users: int = 2000
    """Users of the platform (``dynamic``)."""
    days: int | None = None
    """Days of the timeline (``dynamic``; default: the world's, 7)."""
    out: Path = Path("results/world_checks")
    """Folder of the results."""
    plot: bool = False
    """Write the figures of ``docs/worlds.md`` to ``--out``."""
    quick: bool = False
    """A tiny budget (a smoke run in seconds; the figures mean nothing)."""
    env: tuple[str, ...] = ()
    """Extra ``gym.make`` keywords for every world as ``KEY=VALUE`` (VALUE read as JSON when it
    parses), e.g. ``--env num_items=300 num_candidates=20``."""

    def check(self) -> None:
        for name in ("seeds", "train_steps", "batch_size", "eval_users", "num_users"):
            check_int(name, getattr(self, name), 1)
        if self.days is not None:
            check_int("days", self.days, 2)
        unknown = [w for w in self.worlds if w not in slategym.WORLDS]
        if unknown:
            raise ValueError(
                f"worlds={list(self.worlds)} is not allowed: {unknown} are not registered worlds "
                f"{sorted(slategym.WORLDS)}"
            )
        parse_env(self.env)
        if self.train_steps < self.batch_size:
            raise ValueError(
                f"train_steps={self.train_steps} is not allowed: expected at least batch_size="
                f"{self.batch_size}"
            )

    @property
    def overrides(self) -> dict[str, Any]:
        """``--env`` as ``gym.make`` keywords."""
        return parse_env(self.env)


def parse_env(items: Sequence[str]) -> dict[str, Any]:
    """``("num_items=300", ...)`` as ``gym.make`` keywords (ValueError naming a bad item)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"env item {item!r} is not allowed: expected KEY=VALUE, e.g. num_items=300")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    try:
        slategym.SlateRecConfig.from_kwargs(**out)  # a bad keyword or value fails here, named
    except TypeError as err:  # an unknown keyword
        raise ValueError(f"env={list(items)} is not allowed: {err}") from err
    return out


QUICK = {"seeds": 2, "train_steps": 256, "batch_size": 64, "eval_users": 32, "num_users": 60, "days": 3}
"""``--quick``: a smoke run of every step in seconds."""


# -- the lift protocol ------------------------------------------------------------------------------
def vector_env(world: str, num_envs: int, **env: Any) -> gym.vector.VectorEnv:
    """The native vector env of ``world`` with keyword overrides."""
    return gym.make_vec(world, num_envs=num_envs, vectorization_mode="vector_entry_point", **env)


def evaluate_on_cohort(agent: Agent, world: str, seed: int, eval_users: int, **env: Any) -> dict:
    """Metrics of ``agent`` on the held-out cohort of ``seed``, each user through one whole episode."""
    envs = vector_env(world, eval_users, **{**env, "population_seed": EVAL_POPULATION_OFFSET + seed})
    return evaluate(agent, envs, seed=EVAL_POPULATION_OFFSET + seed)


def lift_seed(world: str, seed: int, args: Args) -> dict[str, Any]:
    """Random, greedy and oracle slate CTR of one seed of ``world`` (the benchmark's protocol)."""
    train = vector_env(world, args.batch_size, **{**args.overrides, "population_seed": seed})
    agents = {name: make_agent(name, train, seed=seed) for name in ("random", "greedy", "oracle")}
    run(agents["greedy"], train, seed=seed, steps=args.train_steps // args.batch_size, explore=True,
        learn=True)  # fmt: skip
    result: dict[str, Any] = {"world": world, "seed": seed}
    for name, agent in agents.items():
        metrics = evaluate_on_cohort(agent, world, seed, args.eval_users, **args.overrides)
        result[name] = {k: metrics[k] for k in ("slate_ctr", "ctr", "mean_reward", "slates")}
    result["lift_ratio"] = lift_ratio(*(result[n]["slate_ctr"] for n in ("random", "greedy", "oracle")))
    result["reward_lift_ratio"] = lift_ratio(
        *(result[n]["mean_reward"] for n in ("random", "greedy", "oracle"))
    )
    return result


# -- the dynamic check ------------------------------------------------------------------------------
@dataclass
class _Arm:
    """One arm of the dynamic check: a platform, its agent, and what it served per day and hour."""

    platform: Platform
    agent: Any
    learns: bool
    slates: np.ndarray  # (days,) slates served
    clicked: np.ndarray  # (days,) slates with a click
    hour_slates: np.ndarray  # (24,)
    hour_clicked: np.ndarray  # (24,)
    hour_even_clicks: np.ndarray  # (24,) clicks on items of even topics
    hour_clicks: np.ndarray  # (24,)


def _new_arm(platform: Platform, agent: Any, learns: bool, days: int) -> _Arm:
    return _Arm(platform, agent, learns, np.zeros(days), np.zeros(days), *np.zeros((4, HOURS)))


def serve_day(arm: _Arm) -> list[Feedback]:
    """Serve every request of the platform's current day with the arm's agent (exploring)."""
    plat, feedback = arm.platform, []
    topic = plat.sim.catalog.topic
    day = plat.day
    while not plat.finished and plat.day == day:
        while (batch := plat.requests()) is not None:
            slates = np.asarray(arm.agent.act(batch.observations, explore=True), np.int64)
            outcome = plat.serve(slates)
            clicked = outcome.clicks.any(axis=1)
            arm.slates[day] += batch.size
            arm.clicked[day] += clicked.sum()
            np.add.at(arm.hour_slates, outcome.hour, 1)
            np.add.at(arm.hour_clicked, outcome.hour, clicked)
            even = (topic.take(outcome.item_ids) % 2 == 0) & outcome.clicks
            np.add.at(arm.hour_even_clicks, outcome.hour, even.sum(axis=1))
            np.add.at(arm.hour_clicks, outcome.hour, outcome.clicks.sum(axis=1))
            feedback.append(
                Feedback(batch.observations, slates, outcome.clicks, outcome.purchases,
                         outcome.reward)  # fmt: skip
            )
        plat.next_slot()
    return feedback


def learn(agent: Any, feedback: list[Feedback]) -> None:
    """Update ``agent`` with a day's feedback, batch by batch, in the order it was served."""
    for batch in feedback:
        agent.update(batch)


def dynamic_seed(seed: int, args: Args, world: str = "SlateRec-Dynamic-v0") -> dict[str, Any]:
    """Frozen vs refit greedy (and random) on the platform view of ``world``, one seed."""
    overrides = {**args.overrides, "num_users": args.num_users, "population_seed": seed}
    if args.days is not None:
        overrides["days"] = args.days
    platform = Platform(slategym.world_config(world, **overrides))
    days = platform.config.days
    platform.reset(seed=seed)
    greedy = make_agent("greedy", platform, seed=seed)
    random_agent = make_agent("random", platform, seed=seed)
    random_arm = _new_arm(copy.deepcopy(platform), random_agent, False, days)
    day0 = _new_arm(platform, greedy, True, days)
    learn(greedy, serve_day(day0))
    frozen = _new_arm(copy.deepcopy(platform), copy.deepcopy(greedy), False, days)
    refit = _new_arm(platform, greedy, True, days)
    for arm in (frozen, refit):
        arm.slates[0], arm.clicked[0] = day0.slates[0], day0.clicked[0]
    for arm in (random_arm, frozen, refit):
        while not arm.platform.finished:
            feedback = serve_day(arm)
            if arm.learns:
                learn(arm.agent, feedback)
    result: dict[str, Any] = {"seed": seed}
    for name, arm in (("random", random_arm), ("frozen", frozen), ("refit", refit)):
        result[name] = {
            "slate_ctr_days_1plus": float(arm.clicked[1:].sum() / arm.slates[1:].sum()),
            "slate_ctr_per_day": (arm.clicked / np.maximum(arm.slates, 1)).tolist(),
            "slate_ctr_per_hour": (arm.hour_clicked / np.maximum(arm.hour_slates, 1)).tolist(),
            "even_topic_click_share_per_hour": (
                arm.hour_even_clicks / np.maximum(arm.hour_clicks, 1)
            ).tolist(),
            "slates": int(arm.slates.sum()),
        }
    result["refit_minus_frozen"] = (
        result["refit"]["slate_ctr_days_1plus"] - result["frozen"]["slate_ctr_days_1plus"]
    )
    return result


# -- running ------------------------------------------------------------------------------------------
def _cached(path: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        return None
    return record if record.get("settings") == settings else None


def _write(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)


def _unit(path: Path, settings: dict[str, Any], compute: Any) -> dict[str, Any]:
    """The record at ``path`` if it was produced with ``settings``, else ``compute()`` (saved)."""
    record = _cached(path, settings)
    if record is None:
        record = {"settings": settings, **compute()}
        _write(path, record)
    return record


def world_checks(args: Args) -> dict[str, Any]:
    """Run the checks of ``args``; returns the summary also written to ``out/summary.json``."""
    checked(args)
    out = check_output(args.out)
    version = {"slategym": slategym.__version__, "env": args.overrides}
    summary: dict[str, Any] = {"args": {k: str(v) for k, v in asdict(args).items()}}
    lift_worlds = list(args.worlds) if "lift" in args.checks else []
    if "table" in args.checks:
        lift_worlds += [w for w in slategym.WORLDS if w not in lift_worlds]
    if lift_worlds:
        settings = {**version, "train_steps": args.train_steps, "batch_size": args.batch_size,
                    "eval_users": args.eval_users}  # fmt: skip
        records = []
        for world in lift_worlds:
            for seed in range(args.seeds):
                path = out / "runs" / f"lift_{world}_seed{seed}.json"
                records.append(_unit(path, {**settings, "world": world, "seed": seed},
                                     lambda w=world, s=seed: lift_seed(w, s, args)))  # fmt: skip
                print(f"lift {world} seed {seed}: ratio {records[-1]['lift_ratio']:.3f}", flush=True)
        summary["lift"] = summarize_lift(records)
    if "dynamic" in args.checks:
        settings = {**version, "num_users": args.num_users, "days": args.days}
        records = []
        for seed in range(args.seeds):
            path = out / "runs" / f"dynamic_seed{seed}.json"
            records.append(_unit(path, {**settings, "seed": seed},
                                 lambda s=seed: dynamic_seed(s, args)))  # fmt: skip
            print(f"dynamic seed {seed}: refit - frozen {records[-1]['refit_minus_frozen']:+.4f}",
                  flush=True)  # fmt: skip
        summary["dynamic"] = summarize_dynamic(records)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    if args.plot:
        summary["plots"] = plot(summary, out)
    print_summary(summary)
    return summary


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return world_checks(parse(Args, argv, "slategym worlds", quick=QUICK))


if __name__ == "__main__":
    main()
