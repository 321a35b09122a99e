"""``slategym bench``: every agent x every world x seeds, tuned on validation, reported on test.

The protocol (:mod:`experiments.protocol`, :mod:`experiments.grid`):

1. **Validation.** For every (agent, world) cell in the grid, every point of the agent's
   hyperparameter grid trains on the validation training cohorts (``population_seed = 100 + v``,
   ``v < --validation-seeds``) and is evaluated on the validation cohort (``20 000 + v``).
2. **Selection.** The point with the best mean world reward per slate on validation is chosen
   (``<out>/selection.json``). Agents with nothing to tune skip 1 and 2.
3. **Test.** The chosen point trains on the training cohort of each seed ``s < --seeds``
   (``population_seed = s``) with the same budget of interactions, and is evaluated on the test
   cohort (``10 000 + s``), with its learning curve at ``--checkpoints``. Only these are reported.

One (agent, world, seed) task is the unit of work. Tasks run on Ray (``ray.init()`` on this machine
with ``--workers`` CPUs, the machine's cores by default, or ``--address`` of a cluster), or serially
with ``--workers 1`` or without Ray installed; the records are the same either way. Each record is
written to ``<out>/runs/`` as its task finishes and reused by a rerun of the same task, so an
interrupted run resumes; one progress bar covers the whole grid. At the end the report
(:mod:`experiments.report`) writes the tables, the claim check and the figures to ``<out>``.

``slategym bench --quick`` runs the same pipeline on a small budget (about two minutes).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import slategym
from agents.registry import AGENT_NAMES, check_agent_names
from experiments import cli_args, protocol
from experiments.executor import Executor, Store, make_executor
from experiments.grid import Budget, Task
from experiments.report import write_report
from slategym.validation import check_int


@dataclass(frozen=True)
class Args:
    """Train and compare the agents on every world (see ``docs/results.md``)."""

    agents: tuple[str, ...] = AGENT_NAMES
    """Agents of the grid."""
    worlds: tuple[str, ...] = protocol.WORLDS
    """Registered worlds of the grid."""
    seeds: int = 5
    """Test seeds 0 .. seeds - 1 (the reported numbers)."""
    validation_seeds: int = 1
    """Seeds per grid point on the validation cohort."""
    train_steps: int = 16_384
    """User interactions every learner trains on."""
    batch_size: int = 128
    """Rows of the training vector env of the agents that learn from feedback."""
    eval_users: int = 500
    """Users of the validation / test cohort, each through one whole episode."""
    curve_users: int = 100
    """Test-cohort users evaluated at each checkpoint of the learning curve."""
    checkpoints: tuple[int, ...] = (0, 2048, 4096, 8192, 16_384)
    """Interactions at which the learning curve is measured."""
    grid_limit: int | None = None
    """Keep only the first N points of each agent's hyperparameter grid."""
    agent_option: tuple[str, ...] = ()
    """Options given to every grid point, as AGENT.KEY=VALUE (VALUE read as JSON when it parses),
    e.g. ppo.features=flat."""
    num_items: int | None = None
    """Catalog size of every world (default: each world's)."""
    num_candidates: int | None = None
    """Candidates per request of every world (default: each world's)."""
    slate_size: int | None = None
    """Items per slate of every world (default: each world's)."""
    num_users: int | None = None
    """Users of every world's population (default: each world's)."""
    days: int | None = None
    """Days of every world's timeline (default: each world's)."""
    workers: int | None = None
    """Tasks in parallel: Ray with this many CPUs (default: the machine's cores, or the cluster's);
    1 runs serially without Ray."""
    address: str | None = None
    """Address of a running Ray cluster to join (e.g. ray://head:10001); default: a local Ray."""
    quick: bool = False
    """The whole pipeline on a small budget (about two minutes): see QUICK."""
    out: Path | None = None
    """Results folder (default results/benchmark, or results/quick with --quick)."""
    fresh: bool = False
    """Recompute tasks already in --out."""
    plots: bool = True
    """Write the figures."""
    progress: bool = True
    """Show the progress bar."""

    def check(self) -> None:
        """Validate every option (ValueError naming it); called by :func:`parse` and the run."""
        check_agent_names(self.agents)
        unknown = [w for w in self.worlds if w not in slategym.WORLDS]
        if not self.worlds or unknown:
            raise ValueError(f"--worlds {' '.join(self.worlds)} is not allowed: expected registered "
                             f"worlds {sorted(slategym.WORLDS)}")  # fmt: skip
        check_int("seeds", self.seeds, 1)
        check_int("validation_seeds", self.validation_seeds, 1)
        if self.grid_limit is not None:
            check_int("grid_limit", self.grid_limit, 1)
        if self.workers is not None:
            check_int("workers", self.workers, 1)
        self.budget()  # validates the budget and the world keywords
        self.agent_options()

    def env(self) -> dict[str, Any]:
        names = ("num_items", "num_candidates", "slate_size", "num_users", "days")
        env = {k: getattr(self, k) for k in names if getattr(self, k) is not None}
        for world in self.worlds:
            try:
                slategym.world_config(world, **env)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{err} (in world {world})") from err
        return env

    def budget(self) -> Budget:
        return Budget(self.train_steps, self.batch_size, self.eval_users, tuple(self.checkpoints),
                      self.curve_users, self.env())  # fmt: skip

    def agent_options(self) -> dict[str, dict[str, Any]]:
        """``--agent-option`` as ``{agent: {key: value}}``."""
        return cli_args.agent_options(self.agent_option, AGENT_NAMES)


QUICK: dict[str, Any] = {
    "worlds": ("SlateRec-v0", "SlateRec-Dynamic-v0"),
    "seeds": 2,
    "validation_seeds": 1,
    "train_steps": 4096,
    "batch_size": 64,
    "eval_users": 100,
    "curve_users": 50,
    "checkpoints": (0, 2048, 4096),
    "grid_limit": 2,
    "num_users": 300,
    "days": 2,
    "agent_option": ("ppo.features=flat",),
}
"""``--quick``: every agent on two worlds (the Dynamic one for the regret), the first two points of
each grid, small cohorts and a 2-day timeline. PPO keeps its flat view there (through the shared
encoder it costs three times the CPU of every other agent together, ``docs/agents/ppo.md``)."""


def plan(args: Args) -> tuple[list[Task], dict[tuple[str, str], list[tuple[str, dict]]]]:
    """The validation tasks, and per (agent, world) cell its grid points (name, options)."""
    budget, extra = args.budget(), args.agent_options()
    cells: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    validation: list[Task] = []
    for world in args.worlds:
        for agent in args.agents:
            if not protocol.applies(agent, world):
                continue
            points = [(name, {**options, **extra.get(agent, {})})
                      for name, options in protocol.grid_points(agent, limit=args.grid_limit)]  # fmt: skip
            cells[agent, world] = points
            if len(points) > 1:
                validation += [Task(agent, world, v, "validation", options, name, budget)
                               for name, options in points for v in range(args.validation_seeds)]  # fmt: skip
    return validation, cells


def test_tasks(args: Args, agent: str, world: str, name: str, options: dict) -> list[Task]:
    return [Task(agent, world, s, "test", options, name, args.budget()) for s in range(args.seeds)]


def benchmark(args: Args, out: Path, executor: Executor | None = None) -> dict[str, Any]:
    """Run (or resume) the grid and write the report; returns the summary."""
    from tqdm.auto import tqdm

    cli_args.checked(args)
    store = Store(out)
    validation, cells = plan(args)
    total = len(validation) + len(cells) * args.seeds
    executor = executor or make_executor(args.workers, args.address)
    records: list[dict[str, Any]] = []
    waiting = {cell: len(points) * args.validation_seeds for cell, points in cells.items()
               if len(points) > 1}  # fmt: skip
    found: dict[tuple[str, str], list[dict[str, Any]]] = {cell: [] for cell in waiting}
    selection: dict[str, dict[str, Any]] = {}
    cached: deque[tuple[Task, dict[str, Any]]] = deque()
    start = time.perf_counter()

    rank = {world: i for i, world in enumerate(args.worlds)}

    def offer(task: Task) -> None:
        record = None if args.fresh else store.get(task)
        if record is None:  # world by world, a world's test tasks first (see executor)
            executor.submit(task, (rank[task.world], task.cohort != "test"))
        else:
            cached.append((task, record))

    def choose(agent: str, world: str, name: str) -> None:
        options = dict(cells[agent, world])[name]
        for task in test_tasks(args, agent, world, name, options):
            offer(task)

    def handle(task: Task, record: dict[str, Any]) -> None:
        records.append(record)
        bar.update(1)
        bar.set_postfix_str(f"{task.cohort} {task.agent} {task.world} s{task.seed}", refresh=False)
        cell = (task.agent, task.world)
        if task.cohort == "validation":
            found[cell].append(record)
            waiting[cell] -= 1
            if waiting[cell] == 0:
                order = [name for name, _ in cells[cell]]
                chosen = protocol.select(found[cell], order)
                selection.setdefault(task.world, {})[task.agent] = chosen
                choose(task.agent, task.world, chosen["config"])

    with tqdm(total=total, desc="bench", unit="task", disable=not args.progress,
              smoothing=0.05) as bar:  # fmt: skip
        for task in validation:
            offer(task)
        for cell, points in cells.items():
            if len(points) == 1:
                choose(*cell, points[0][0])
        try:
            while True:
                while cached:
                    handle(*cached.popleft())
                for task, record in executor.results():
                    store.put(task, record)
                    handle(task, record)
                    while cached:
                        handle(*cached.popleft())
                if not cached:
                    break
        finally:
            executor.close()
    wall = time.perf_counter() - start
    (out / "selection.json").write_text(json.dumps(selection, indent=1))
    settings = {"args": {k: str(v) for k, v in dataclasses.asdict(args).items()},
                "workers": executor.workers, "wall_seconds": wall, "tasks": total,
                "not_applicable": [list(k) + [v] for k, v in protocol.NOT_APPLICABLE.items()
                                   if k[0] in args.agents and k[1] in args.worlds]}  # fmt: skip
    return write_report(records, selection, settings, out, plots=args.plots)


def parse(argv: Sequence[str] | None) -> Args:
    """The checked arguments, with ``--quick`` values under every option given explicitly."""
    return cli_args.parse(Args, argv, "slategym bench", quick=QUICK)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Command-line entry point; returns the summary (also in ``<out>/summary.json``)."""
    args = parse(argv)
    out = args.out or Path("results/quick" if args.quick else "results/benchmark")
    summary = benchmark(args, out)
    print(summary["markdown"])
    print(f"written to {out}/ (results.md, summary.json, tables, figures); "
          f"{summary['settings']['wall_seconds']:.0f} s with {summary['settings']['workers']} worker(s)")
    return summary


if __name__ == "__main__":
    main()
