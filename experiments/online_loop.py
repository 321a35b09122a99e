"""The online recommendation loop on the platform view: log a day, pre-train, then serve and learn.

On the platform view of a world (``SlateRec-Dynamic-v0`` by default: new items every day, drifting
interests; every user on one global clock, served one hourly slot at a time), for every agent that
learns from feedback (greedy, SlateQ, SlateGFN_DB, SlateGFN_TB by default):

1. **Day 0, logging.** A uniform random policy serves every request of the first day; the
   feedback (observation, slate, clicks, purchases, reward, next observation) is logged.
2. **Offline pre-training.** Each learning agent is trained on that same log:
   ``--pretrain-epochs`` passes over the logged rows, shuffled and cut into minibatches of the
   agent's ``batch_size`` (128 for the GFlowNets), one ``agent.update(Feedback)`` call per minibatch,
   i.e. one gradient step each for the GFlowNets. The pre-trained agent is checkpointed (``save``),
   and both of its arms start from that checkpoint (``load``): frozen and online start identical.
3. **Days 1+, deployment.** For each hourly slot: the users active in the slot ask for slates (as
   often as their sessions go on inside the hour), the policy answers them (``act``, exploring as
   configured), the platform returns the simulated feedback. Every arm starts from the same
   platform state at the end of day 0 (same users, same day-0 log):

   * ``random``: the logging policy, kept for the whole timeline (the floor);
   * ``<agent>-frozen``: the pre-trained agent, never updated;
   * ``<agent>-online``: the pre-trained agent, updated every ``--update-every`` slots from the
     feedback of those slots (``--online-epochs`` passes, minibatches as in pre-training).

Reported per slot and per day, per arm and seed: active users, slates served, CTR (clicks per
impression and share of slates with a click), purchase rate (purchases per slate and per click),
intra-list diversity (cosine, on the items' latent vectors) and mean reward. Day 0 is the logging
day, identical in every arm; comparisons use days 1+.

Outputs in ``--out`` (default ``results/online``):

* ``{arm}_seed{s}_slots.csv`` and ``{arm}_seed{s}_days.csv``: appended as each slot / day finishes,
  so an interrupted run keeps what it had finished;
* ``pretrained_{agent}_seed{s}.ckpt``: the pre-trained checkpoint of each seed;
* ``summary.json``: per arm, the days-1+ metrics as mean over seeds and 95% Student-t interval
  (:func:`slategym.metrics.aggregate_runs`), the per-day curves, and per agent the paired
  differences online - frozen, online - random, frozen - random per seed with their intervals;
* with ``--plot``: ``online_ctr_per_slot.png``, ``online_ctr_per_day.png``,
  ``online_active_users.png``.

Run: ``slategym online --plot`` (defaults: every learner, SlateRec-Dynamic-v0, 2000 users, 4 days,
5 seeds); ``--quick`` for a tiny smoke run. See ``docs/online_loop.md``.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from agents.base import Agent, Feedback
from agents.loop import serve_slot, train_on_log
from agents.registry import make_agent
from agents.spec import AgentSpec
from experiments.online_options import Options, parse_options
from experiments.online_report import COUNTS, METRICS, arm_names, plot, print_report, summarize
from slategym.metrics import MetricsAccumulator
from slategym.platform import Platform
from slategym.timeline import HOURS
from slategym.worlds import world_config

LOGGING_POLICY = "random"
"""The registered agent that serves day 0 and the ``random`` arm."""

SLOT_COLUMNS: tuple[str, ...] = (
    "seed",
    "arm",
    "slot",
    "day",
    "hour",
    "active_users",
    "live_users",
    *COUNTS,
    *METRICS,
    "updates",
    "loss",
)
DAY_COLUMNS: tuple[str, ...] = (
    "seed",
    "arm",
    "day",
    "active_users",
    "live_users",
    *COUNTS,
    *METRICS,
    "updates",
)


# -- slots --------------------------------------------------------------------------------------
def serve(
    platform: Platform,
    agent: Agent,
    explore: bool,
    accumulators: Sequence[MetricsAccumulator],
    served: np.ndarray,
) -> list[Feedback]:
    """Serve every request of the current slot with ``agent`` (:func:`agents.loop.serve_slot`).

    Every outcome goes into each accumulator; ``served (U,)`` is set True for the users served.
    """

    def record(batch: Any, outcome: Any) -> None:
        served[batch.rows] = True
        for acc in accumulators:
            acc.add_step(outcome)

    return serve_slot(agent, platform, explore, on_outcome=record)


def train(agent: Agent, parts: Sequence[Feedback], opts: Options, epochs: int,
          rng: np.random.Generator) -> list[dict[str, float]]:  # fmt: skip
    """``epochs`` shuffled passes over the feedback ``parts``, one update per minibatch."""
    if not parts or epochs == 0:
        return []
    return train_on_log(agent, Feedback.concat(list(parts)), epochs, opts.minibatch, rng)


def _losses(logs: list[dict[str, float]]) -> list[float]:
    return [float(m["loss"]) for m in logs if "loss" in m]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


class _Writer:
    """The per-slot and per-day CSV files of one arm and seed, appended as rows come."""

    def __init__(self, out: Path, arm: str, seed: int) -> None:
        self.paths = {
            "slots": out / f"{arm}_seed{seed}_slots.csv",
            "days": out / f"{arm}_seed{seed}_days.csv",
        }
        self.columns = {"slots": SLOT_COLUMNS, "days": DAY_COLUMNS}
        for kind, path in self.paths.items():
            with open(path, "w", newline="") as fh:
                csv.writer(fh).writerow(self.columns[kind])

    def write(self, kind: str, row: dict[str, Any]) -> None:
        with open(self.paths[kind], "a", newline="") as fh:
            csv.writer(fh).writerow([_fmt(row[c]) for c in self.columns[kind]])


def _metrics_of(acc: MetricsAccumulator) -> dict[str, Any]:
    result = acc.result()
    out: dict[str, Any] = {k: int(result[k]) for k in COUNTS}
    out.update({k: float(result[k]) for k in METRICS})
    return out


@dataclass
class _Arm:
    """One arm of one seed: its platform copy, policy, and what it has recorded."""

    name: str
    platform: Platform
    agent: Agent
    explore: bool
    learn: bool
    writer: _Writer
    total: MetricsAccumulator  # days 1+
    slots: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    pending: list[Feedback] = field(default_factory=list)


class _SeedRun:
    """Day 0, pre-training and days 1+ of every arm, for one seed."""

    def __init__(self, opts: Options, seed: int, bar: Any) -> None:
        self.opts, self.seed, self.bar = opts, seed, bar
        config = world_config(opts.world, **opts.env(), catalog_seed=seed, population_seed=seed)
        self.platform = Platform(config)
        # User u draws from the stream keyed by (seed, u): seeds never share a stream.
        self.platform.reset(seed=seed)
        self.catalog = self.platform.sim.catalog
        self.rng = np.random.default_rng([seed, 1])  # minibatch shuffling
        self.log: list[Feedback] = []  # day-0 feedback of the random policy

    def accumulator(self) -> MetricsAccumulator:
        return MetricsAccumulator(self.catalog, num_days=self.opts.days)

    def play_day(self, arms: Sequence[_Arm]) -> None:
        """24 slots of ``arms[0]``'s platform and policy, recorded in every arm of ``arms``.

        Several arms share day 0 (one platform, the random policy); later days have one arm each.
        """
        lead = arms[0]
        plat, opts = lead.platform, self.opts
        day_index = plat.day
        day_acc = self.accumulator()
        day_served = np.zeros(opts.num_users, bool)
        day_live, day_updates = int((~plat.state.done).sum()), 0
        names = "/".join(a.name for a in arms)
        self.bar.set_postfix_str(f"seed {self.seed} {names} day {day_index}")
        for _ in range(HOURS):
            slot_acc = self.accumulator()
            served = np.zeros(opts.num_users, bool)
            live = int((~plat.state.done).sum())
            accs = [slot_acc, day_acc] + ([lead.total] if day_index > 0 else [])
            feedback = serve(plat, lead.agent, lead.explore, accs, served)
            day_served |= served
            updates, losses = 0, []
            if lead.learn:
                lead.pending.extend(feedback)
                deployed = plat.slot - HOURS + 1  # slots served since the start of day 1
                if deployed % opts.update_every == 0 and lead.pending:
                    logs = train(lead.agent, lead.pending, opts, opts.online_epochs, self.rng)
                    updates, losses = len(logs), _losses(logs)
                    lead.pending = []
            elif day_index == 0:
                self.log.extend(feedback)
            day_updates += updates
            row = {
                "seed": self.seed,
                "slot": plat.slot,
                "day": plat.day,
                "hour": plat.hour,
                "active_users": int(served.sum()),
                "live_users": live,
                **_metrics_of(slot_acc),
                "updates": updates,
                "loss": float(np.mean(losses)) if losses else float("nan"),
            }
            for arm in arms:
                arm.slots.append({**row, "arm": arm.name})
                arm.writer.write("slots", arm.slots[-1])
            plat.next_slot()
            self.bar.update(len(arms))
        day_row = {
            "seed": self.seed,
            "day": day_index,
            "active_users": int(day_served.sum()),
            "live_users": day_live,
            **_metrics_of(day_acc),
            "updates": day_updates,
        }
        for arm in arms:
            arm.days.append({**day_row, "arm": arm.name})
            arm.writer.write("days", arm.days[-1])

    def pretrain(self, agent: str, spec: AgentSpec) -> tuple[Path, dict[str, Any]]:
        """Train ``agent`` on the day-0 log; returns its checkpoint and the pre-training figures."""
        opts, seed = self.opts, self.seed
        learner = make_agent(agent, spec, seed=seed, **opts.agent_options(agent))
        start = time.perf_counter()
        logs = train(learner, self.log, opts, opts.pretrain_epochs, np.random.default_rng([seed, 1]))
        losses = _losses(logs)
        checkpoint = opts.out / f"pretrained_{agent}_seed{seed}.ckpt"
        learner.save(checkpoint)
        return checkpoint, {
            "logged_slates": int(sum(p.size for p in self.log)),
            "epochs": opts.pretrain_epochs,
            "updates": len(logs),
            "loss_first": losses[0] if losses else float("nan"),
            "loss_last": losses[-1] if losses else float("nan"),
            "seconds": time.perf_counter() - start,
        }

    def run(self) -> dict[str, Any]:
        opts, seed = self.opts, self.seed
        spec = AgentSpec.from_env(self.platform)  # the platform's spaces size the agents
        random_agent = make_agent(LOGGING_POLICY, spec, seed=seed)
        arms = arm_names(opts.agents)
        writers = {name: _Writer(opts.out, name, seed) for name in arms}
        day0 = {name: _Arm(name, self.platform, random_agent, False, False, writers[name],
                           self.accumulator()) for name in arms}  # fmt: skip
        # Day 0: the random logging policy, one platform, recorded as day 0 of every arm.
        self.play_day(list(day0.values()))

        # Offline pre-training on the day-0 log; both arms of an agent start from its checkpoint.
        out: dict[str, Any] = {"pretrain": {}, "arms": {}}
        checkpoints = {}
        for learner in opts.agents:
            checkpoints[learner], out["pretrain"][learner] = self.pretrain(learner, spec)
        self.log = []

        for name, old in day0.items():
            # Every arm continues from the same platform state at the start of day 1.
            plat = copy.deepcopy(self.platform)
            agent_name, _, role = name.rpartition("-")
            agent: Agent = copy.deepcopy(random_agent)
            explore = False
            if agent_name:
                agent = make_agent(agent_name, spec, seed=seed, **opts.agent_options(agent_name))
                agent.load(checkpoints[agent_name])
                explore = opts.explore
            arm = _Arm(name, plat, agent, explore, role == "online", old.writer, old.total,
                       old.slots, old.days)  # fmt: skip
            self.rng = np.random.default_rng([seed, 2])  # minibatch shuffling, the same per arm
            start = time.perf_counter()
            for _ in range(1, opts.days):
                self.play_day([arm])
            out["arms"][name] = {
                "slots": arm.slots,
                "days": arm.days,
                "days_1_plus": {k: v for k, v in arm.total.result().items() if np.ndim(v) == 0},
                "seconds": time.perf_counter() - start,
            }
        return out


# -- entry point ----------------------------------------------------------------------------------
def run(opts: Options) -> dict[str, Any]:
    """Run every seed, write the summary (and figures); returns the summary."""
    torch.set_num_threads(opts.threads)
    start = time.perf_counter()
    runs: dict[int, dict[str, Any]] = {}
    slots_per_seed = len(arm_names(opts.agents)) * opts.days * HOURS
    with tqdm(total=slots_per_seed * len(opts.seed_values), unit="slot", disable=not opts.progress,
              desc="online loop") as bar:  # fmt: skip
        for seed in opts.seed_values:
            runs[seed] = _SeedRun(opts, seed, bar).run()
    summary = summarize(opts, runs)
    summary["runtime_seconds"] = time.perf_counter() - start
    if opts.plot:
        summary["figures"] = [str(p) for p in plot(opts, runs, summary)]
    with open(opts.out / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=2, allow_nan=False)
    print_report(summary)
    return summary


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` (checked before any work: ValueError naming the flag) and run the loop."""
    return run(parse_options(argv))


if __name__ == "__main__":
    main()
