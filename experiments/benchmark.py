"""The agent comparison benchmark: train every agent, evaluate all on one held-out user cohort.

Protocol, for each seed ``s`` (``s = 0 .. seeds - 1``) and each agent:

1. **Training cohort.** The env config of the run with ``population_seed = s``: the same catalog for
   every seed (``catalog_seed`` is fixed), a fresh population of ``num_users`` users per seed.
2. **Training** with the same number of user interactions (``train_steps``) for every learner,
   by the kind of agent (:mod:`agents.base`): an agent that learns from feedback (greedy, SlateQ,
   the GFlowNets) acts (exploring) on a native vector env of ``batch_size`` rows and gets every
   step's feedback (one ``update`` per step, ``train_steps // batch_size`` in all, declared with
   ``plan``); an agent that trains itself (PPO) gets a factory of single envs of the cohort and
   ``train_steps`` timesteps (SB3 rounds up to whole rollouts of 8 envs x 256 steps). The others
   (random, the oracle) do not train; the oracle reads the simulator's hidden state and is an
   **upper bound**, not a recommender.
3. **Evaluation** on the held-out cohort (``population_seed = 10_000 + s``: users never seen in
   training), identical for every agent of the seed: ``eval_users`` rows of the native vector env,
   reset with seed ``10_000 + s``, each followed through its whole first episode (every
   session over the ``days`` of the timeline, until churn or the horizon); acting greedily
   (``explore=False``), no learning. Every served slate goes into a :class:`slategym.metrics.MetricsAccumulator`.

Each (agent, seed) result is written to ``<out>/runs/<agent>_seed<s>.json`` as soon as it is done,
with the settings it was produced under; a rerun with the same settings reuses it (``--fresh`` to
recompute), so an interrupted benchmark resumes where it stopped. The comparison table (mean and 95 %
Student-t interval over seeds) is rewritten after every run as ``table.md``, ``table.csv`` and
``results.json``, and the plots (``*.png``) at the end (see :mod:`experiments.report`).

Run ``python -m experiments.benchmark --help`` (or ``slategym bench --help``) for the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import slategym
from agents.base import Agent, LearnsFromFeedback, ReadsHiddenState, TrainsItself
from agents.loop import evaluate, make_vector_env, run
from agents.registry import AGENT_NAMES, check_agent_names, make_agent
from agents.spec import AgentSpec
from experiments.report import write_plots, write_table
from slategym.config import SlateRecConfig
from slategym.validation import check_int

ENV_ID = "SlateRec-v0"
"""The world the benchmark runs on."""

EVAL_POPULATION_OFFSET = 10_000
"""The evaluation cohort of seed ``s`` is the population with ``population_seed = 10_000 + s``, and its envs
are reset with seed ``10_000 + s`` (the training envs with ``s``): no shared random streams."""


@dataclass(frozen=True)
class BenchmarkSettings:
    """Everything a benchmark run depends on (documented defaults = the full mode).

    Attributes:
        agents: agent names, a subset of :data:`agents.registry.AGENT_NAMES` (all seven).
        seeds: number of seeds ``0 .. seeds - 1`` (5).
        train_steps: user interactions each learner trains on (100 000).
        batch_size: rows of the training vector env of the agents that learn from feedback, i.e.
            the slates of one update (128, GFN4Rec's batch size).
        eval_users: users of the held-out cohort, each followed over its whole episode (1000).
        env: ``gym.make("SlateRec-v0")`` keywords of the training and evaluation envs; every other
            field keeps its default (see ``docs/configuration.md``).
        agent_options: per agent, keywords of its constructor that override the benchmark's
            defaults :data:`AGENT_DEFAULTS` (e.g. ``{"slategfn_db": {"lr": 1e-3}}``).
    """

    agents: tuple[str, ...] = AGENT_NAMES
    seeds: int = 5
    train_steps: int = 100_000
    batch_size: int = 128
    eval_users: int = 1000
    env: dict[str, Any] = field(default_factory=dict)
    agent_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "agents", check_agent_names(self.agents))
        check_int("seeds", self.seeds, 1)
        check_int("train_steps", self.train_steps, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("eval_users", self.eval_users, 1)
        SlateRecConfig.from_kwargs(**self.env)  # raises on a bad env keyword or value
        check_agent_names(list(self.agent_options) or list(self.agents))
        if self.train_steps < self.batch_size:
            raise ValueError(
                f"train_steps={self.train_steps} is not allowed: expected at least batch_size="
                f"{self.batch_size} (one training iteration)"
            )

    def fingerprint(self) -> dict[str, Any]:
        """What a single (agent, seed) result depends on: used to decide whether to reuse it."""
        return {
            "slategym": slategym.__version__,  # a new simulator version invalidates old results
            "train_steps": self.train_steps,
            "batch_size": self.batch_size,
            "eval_users": self.eval_users,
            "env": {k: self.env[k] for k in sorted(self.env)},
            "agent_options": {k: self.options(k) for k in sorted(self.agents)},
        }

    def options(self, name: str) -> dict[str, Any]:
        """Constructor keywords of agent ``name``: the benchmark defaults, then ``agent_options``."""
        return {**AGENT_DEFAULTS.get(name, {}), **self.agent_options.get(name, {})}


AGENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # GFN4Rec's lr of 1e-4 is for far longer training: at the benchmark's 781 iterations it leaves
    # the GFlowNets barely above random (measured in docs/results.md), so both use 1e-3 here.
    "slategfn_db": {"lr": 1e-3},
    "slategfn_tb": {"lr": 1e-3},
}
"""Constructor keywords the benchmark gives each agent unless ``agent_options`` overrides them."""

QUICK = {"seeds": 3, "train_steps": 8192, "eval_users": 256, "env": {"num_users": 500, "days": 3},
         "agent_options": {"ppo": {"features": "flat"}}}
"""``--quick``: the same protocol on a small budget (about two minutes of CPU: 122 s measured). PPO
keeps its flat view of the observation there: through the shared encoder its 1 280 gradient steps
cost three times as much CPU as every other agent together (``docs/agents/ppo.md``)."""


def train(agent: Agent, seed: int, settings: BenchmarkSettings, progress: Any) -> None:
    """Train ``agent`` on the training cohort of ``seed`` with ``train_steps`` interactions.

    An agent that trains itself gets a factory of single envs of the cohort; an agent that learns
    from feedback acts (exploring) on a vector env of ``batch_size`` rows and gets one update per
    step; an agent that does neither is not trained.
    """
    env = {**settings.env, "population_seed": seed}
    if isinstance(agent, TrainsItself):
        agent.fit(functools.partial(gym.make, ENV_ID, **env), settings.train_steps,
                  progress=progress.update)  # fmt: skip
    elif isinstance(agent, LearnsFromFeedback):
        iterations = settings.train_steps // settings.batch_size
        agent.plan(iterations)
        run(agent, make_vector_env(settings.batch_size, ENV_ID, **env), seed=seed,
            steps=iterations, explore=True, learn=True,
            progress=lambda k: progress.update(k * settings.batch_size))  # fmt: skip
    else:
        progress.update(settings.train_steps)


def evaluation_envs(seed: int, settings: BenchmarkSettings) -> gym.vector.VectorEnv:
    """The held-out cohort of ``seed``: ``eval_users`` rows of the native vector env."""
    env = {**settings.env, "population_seed": EVAL_POPULATION_OFFSET + seed}
    return make_vector_env(settings.eval_users, ENV_ID, **env)


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in metrics.items()}


def run_one(name: str, seed: int, settings: BenchmarkSettings, out: Path, show: bool,
            envs: gym.vector.VectorEnv) -> dict:  # fmt: skip
    """Train and evaluate one agent for one seed on the evaluation ``envs`` of that seed; writes
    ``runs/<name>_seed<seed>.json``. The agent is sized from the spaces of ``envs``."""
    from tqdm.auto import tqdm

    start = time.perf_counter()
    agent = make_agent(name, AgentSpec.from_env(envs), seed=seed, **settings.options(name))
    with tqdm(total=settings.train_steps, desc=f"train {name} s{seed}", unit="step",
              disable=not show, leave=False) as bar:  # fmt: skip
        train(agent, seed, settings, bar)
    trained = time.perf_counter()
    with tqdm(total=settings.eval_users, desc=f"eval  {name} s{seed}", unit="user",
              disable=not show, leave=False) as bar:  # fmt: skip
        metrics = evaluate(agent, envs, seed=EVAL_POPULATION_OFFSET + seed, progress=bar.update)
    record = {
        "agent": name,
        "seed": seed,
        "upper_bound": isinstance(agent, ReadsHiddenState),
        "settings": settings.fingerprint(),
        "train_seconds": trained - start,
        "eval_seconds": time.perf_counter() - trained,
        "metrics": _jsonable(metrics),
    }
    path = out / "runs" / f"{name}_seed{seed}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, allow_nan=True))
    tmp.replace(path)  # atomic: an interrupted write never leaves a half file behind
    return record


def _cached(path: Path, settings: BenchmarkSettings) -> dict | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        return None
    return record if record.get("settings") == settings.fingerprint() else None


def check_output(out: Path) -> Path:
    """Create ``out/runs`` and check it is writable, before any long work starts."""
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"out={str(out)!r} is not a writable folder: {err}") from err
    return out


def check_agents_build(settings: BenchmarkSettings, spec: AgentSpec) -> None:
    """Build every agent once, so a bad agent option fails before any training."""
    for name in settings.agents:
        try:
            make_agent(name, spec, seed=0, **settings.options(name))
        except TypeError as err:
            raise ValueError(
                f"agent_options[{name!r}]={settings.agent_options.get(name)} is not allowed: {err}"
            ) from err


def benchmark(
    settings: BenchmarkSettings, out: Path, fresh: bool = False, plots: bool = True, show: bool = True
) -> dict[str, Any]:
    """Run (or resume) the benchmark; returns the summary also written to ``out/results.json``."""
    check_output(out)
    envs = evaluation_envs(0, settings)
    check_agents_build(settings, AgentSpec.from_env(envs))
    records: list[dict] = []
    for seed in range(settings.seeds):
        envs = envs if seed == 0 else evaluation_envs(seed, settings)
        for name in settings.agents:
            path = out / "runs" / f"{name}_seed{seed}.json"
            record = None if fresh else _cached(path, settings)
            if record is None:
                record = run_one(name, seed, settings, out, show, envs)
            elif show:
                print(f"reusing {path}")
            records.append(record)
            summary = write_table(records, settings, out)
    if plots:
        summary["plots"] = write_plots(records, settings, out)
    return summary


def _agents_arg(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _option_arg(text: str) -> tuple[str, str, Any]:
    """``AGENT.KEY=VALUE`` (VALUE read as JSON when it parses, else as a string)."""
    head, sep, raw = text.partition("=")
    agent, dot, key = head.partition(".")
    if not (sep and dot and agent and key):
        raise argparse.ArgumentTypeError(
            f"--agent-option {text!r} is not allowed: expected AGENT.KEY=VALUE, e.g. slategfn_db.lr=1e-3"
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return agent, key, value


def build_parser() -> argparse.ArgumentParser:
    d = BenchmarkSettings()
    p = argparse.ArgumentParser(
        prog="slategym bench",
        description="Train and evaluate agents on SlateRec-v0 over several seeds; write a table "
        "(Markdown, CSV, JSON) and plots.",
    )
    p.add_argument("--agents", type=_agents_arg, default=d.agents,
                   help=f"comma-separated agent names (default: all of {','.join(AGENT_NAMES)})")
    p.add_argument("--seeds", type=int, default=None, help=f"number of seeds (default {d.seeds})")
    p.add_argument("--train-steps", type=int, default=None,
                   help=f"user interactions per learner (default {d.train_steps})")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"rows of the training env of the agents that learn from feedback (default {d.batch_size})")
    p.add_argument("--eval-users", type=int, default=None,
                   help=f"held-out users evaluated per seed (default {d.eval_users})")
    p.add_argument("--agent-option", type=_option_arg, action="append", default=[],
                   metavar="AGENT.KEY=VALUE",
                   help="override an agent's constructor keyword, e.g. slategfn_db.lr=1e-3 "
                   "(repeatable)")  # fmt: skip
    p.add_argument("--quick", action="store_true",
                   help="small budget, about two minutes: " + json.dumps(QUICK))
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default results/benchmark, or results/quick with --quick)")
    p.add_argument("--fresh", action="store_true", help="recompute runs already in --out")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a busy 2-core machine more threads spin "
                   "against each other and run several times slower)")  # fmt: skip
    env = p.add_argument_group("environment (gym.make keywords; defaults: SlateRecConfig)")
    for name, kind in (("num_items", int), ("num_candidates", int), ("slate_size", int),
                       ("num_users", int), ("days", int), ("choice_model", str),
                       ("user_model", str), ("reward", str)):  # fmt: skip
        env.add_argument("--" + name.replace("_", "-"), dest="env_" + name, type=kind, default=None)
    return p


def settings_from_args(opts: argparse.Namespace) -> BenchmarkSettings:
    """Validated settings: ``--quick`` values first, then every option given explicitly."""
    base: dict[str, Any] = dict(QUICK) if opts.quick else {}
    env = dict(base.pop("env", {}))
    env.update({k[4:]: v for k, v in vars(opts).items() if k.startswith("env_") and v is not None})
    for key in ("seeds", "train_steps", "batch_size", "eval_users"):
        if getattr(opts, key) is not None:
            base[key] = getattr(opts, key)
    options: dict[str, dict[str, Any]] = {}
    for agent, key, value in opts.agent_option:
        options.setdefault(agent, {})[key] = value
    for agent, quick_options in base.pop("agent_options", {}).items():
        options[agent] = {**quick_options, **options.get(agent, {})}
    return BenchmarkSettings(agents=opts.agents, env=env, agent_options=options, **base)


def torch_threads(n: int) -> None:
    """Set torch's intra-op threads (torch is imported by the agents anyway)."""
    import torch

    torch.set_num_threads(n)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Command-line entry point; returns the summary (also in ``<out>/results.json``)."""
    opts = build_parser().parse_args(argv)
    settings = settings_from_args(opts)
    torch_threads(check_int("threads", opts.threads, 1))
    out = check_output(opts.out or Path("results/quick" if opts.quick else "results/benchmark"))
    show = not opts.no_progress
    if show:
        print(f"benchmark: {dataclasses.asdict(settings)} -> {out}")
    summary = benchmark(settings, out, fresh=opts.fresh, plots=not opts.no_plots, show=show)
    print(summary["markdown"])
    print(f"written to {out}/ (table.md, table.csv, results.json" +
          (", *.png)" if not opts.no_plots else ")"))  # fmt: skip
    return summary


if __name__ == "__main__":
    main()
