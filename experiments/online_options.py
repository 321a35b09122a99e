"""Options of the online loop (``slategym online``): a typed dataclass read by tyro, checked before
any work (``experiments/cli_args.py``: a bad value is a ``ValueError`` naming the flag)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import slategym
from agents.base import LearnsFromFeedback, ReadsHiddenState, TrainsItself
from agents.registry import AGENT_NAMES, agent_class
from agents.spec import AgentSpec
from experiments import cli_args
from experiments.cli_args import parse

#: A small spec on which ``--agent-option`` is checked by building the agent before any work.
_CHECK_SPEC = AgentSpec(slate_size=2, num_candidates=3, num_features=2, num_items=5, profile_dim=2,
                        history_length=2)  # fmt: skip

LEARNERS: tuple[str, ...] = tuple(a for a in AGENT_NAMES
                                  if issubclass(agent_class(a), LearnsFromFeedback))  # fmt: skip
"""Every registered agent that learns from ``update(feedback)``: the agents of the loop."""


@dataclass(frozen=True)
class Options:
    """Pre-train on a logged day, then serve frozen or updated online (``docs/online_loop.md``)."""

    agents: tuple[str, ...] = LEARNERS
    """Agents that learn from feedback; each gets a frozen and an online arm."""
    world: str = "SlateRec-Dynamic-v0"
    """Registered world (its platform view)."""
    num_users: int = 2000
    """Users of the population."""
    days: int = 4
    """Days of the timeline, >= 2 (day 0 is the random logging day)."""
    num_items: int | None = None
    """Catalog size (default: the world's)."""
    num_candidates: int | None = None
    """Candidates per request (default: the world's)."""
    slate_size: int | None = None
    """Items per slate (default: the world's)."""
    seeds: int = 5
    """Seeds 0 .. seeds - 1 (ignored with --seed-list)."""
    seed_list: tuple[int, ...] | None = None
    """Explicit seeds, e.g. --seed-list 3 7."""
    minibatch: int = 128
    """Rows per update in pre-training and online updates."""
    update_every: int = 1
    """Slots between two updates of an online arm (1 = every hourly slot)."""
    pretrain_epochs: int = 5
    """Passes over the day-0 log in pre-training (0 = deploy untrained)."""
    online_epochs: int = 1
    """Passes over the new feedback at each online update."""
    explore: bool = True
    """Act with exploration in both learning arms (GFN: sample + epsilon; greedy: Thompson)."""
    agent_option: tuple[str, ...] = ()
    """Agent options as AGENT.KEY=VALUE (VALUE read as JSON when it parses), e.g. slategfn_db.lr=3e-4."""
    out: Path = Path("results/online")
    """Output folder."""
    plot: bool = False
    """Write the PNG figures into --out."""
    smooth: int = 6
    """Trailing window (slots) of the CTR-per-slot figure."""
    progress: bool = True
    """Show a progress bar over slots."""
    quick: bool = False
    """Tiny run: 60 users, 2 days, 2 seeds, a 200-item catalog and small networks."""
    threads: int = 1
    """torch threads."""

    @property
    def seed_values(self) -> tuple[int, ...]:
        return tuple(self.seed_list) if self.seed_list is not None else tuple(range(self.seeds))

    def env(self) -> dict[str, Any]:
        """``gym.make`` keywords of the world given here."""
        names = ("num_users", "days", "num_items", "num_candidates", "slate_size")
        return {k: getattr(self, k) for k in names if getattr(self, k) is not None}

    def agent_options(self, agent: str) -> dict[str, Any]:
        """Options of ``agent``: the quick networks under ``--quick``, then ``--agent-option``."""
        options: dict[str, Any] = dict(QUICK_AGENT_OPTIONS.get(agent, {})) if self.quick else {}
        given = cli_args.agent_options(self.agent_option, AGENT_NAMES, example="slategfn_db.lr=3e-4")
        options.update(given.get(agent, {}))
        return options

    def check(self) -> None:
        """Every check, before any work (the output folder last: it touches the disk)."""
        if not self.agents:
            raise ValueError(f"agents=() is not allowed: expected some of {list(LEARNERS)}")
        for agent in self.agents:
            _check_agent(agent)
        if len(set(self.agents)) != len(self.agents):
            raise ValueError(f"agents={list(self.agents)} is not allowed: give each agent once")
        if self.world not in slategym.WORLDS:
            raise ValueError(f"world={self.world!r} is not allowed: expected one of "
                             f"{sorted(slategym.WORLDS)}")  # fmt: skip
        for name in ("num_users", "seeds", "minibatch", "update_every", "online_epochs", "smooth",
                     "threads"):  # fmt: skip
            _positive(name, getattr(self, name))
        _positive("days", self.days, 2)
        _positive("pretrain_epochs", self.pretrain_epochs, 0)
        for name in ("num_items", "num_candidates", "slate_size"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if self.seed_list is not None:
            for s in self.seed_list:
                _positive("seed_list", s, 0)
            if not self.seed_list or len(set(self.seed_list)) != len(self.seed_list):
                raise _bad("seed_list", list(self.seed_list), "distinct seeds")
        try:
            slategym.world_config(self.world, **self.env())
        except (TypeError, ValueError) as err:
            raise ValueError(f"{err} (in world {self.world})") from err
        for agent in self.agents:
            options = self.agent_options(agent)
            try:
                agent_class(agent).from_spec(_CHECK_SPEC, **options)
            except (TypeError, ValueError) as err:
                raise _bad("agent_option", sorted(options), f"options of {agent}: {err}") from err
        _check_out(self.out)


QUICK: dict[str, Any] = {"num_users": 60, "days": 2, "seeds": 2, "pretrain_epochs": 1,
                         "num_items": 200, "num_candidates": 20, "slate_size": 4, "minibatch": 64}  # fmt: skip
"""``--quick`` values (explicit options override them)."""
_QUICK_ENCODER = {"item_dim": 8, "state_dim": 8, "hidden": 16, "heads": 2, "feedforward": 16,
                  "layers": 1, "history_length": 10}  # fmt: skip
QUICK_AGENT_OPTIONS: dict[str, dict[str, Any]] = {
    "slategfn_db": {"encoder": _QUICK_ENCODER, "batch_size": 64},
    "slategfn_tb": {"encoder": _QUICK_ENCODER, "batch_size": 64},
    "slateq": {"encoder": _QUICK_ENCODER, "batch_size": 64},
}
"""Agent options of ``--quick``: small networks (``--agent-option`` overrides)."""


def _bad(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is not allowed: expected {allowed}")


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(name, value, f"an integer >= {minimum}")
    return value


def _check_agent(agent: str) -> None:
    """The loop needs a recommender that learns from feedback."""
    if agent not in AGENT_NAMES:
        raise _bad("agents", agent, f"agents that learn from feedback {list(LEARNERS)} (registered: "
                   f"{list(AGENT_NAMES)})")  # fmt: skip
    cls = agent_class(agent)
    why = None
    if issubclass(cls, ReadsHiddenState):
        why = "it reads hidden state: an upper bound, not a recommender"
    elif issubclass(cls, TrainsItself):
        why = "it trains itself with fit() on envs of its own, not from update(feedback)"
    elif not issubclass(cls, LearnsFromFeedback):
        why = "it does not learn (no update(feedback)); random is already an arm"
    if why is not None:
        raise _bad("agents", agent, f"agents that learn from feedback: {agent} is refused because {why}")


def _check_out(path: Path) -> None:
    """Create ``path`` and check that a file can be written there."""
    if path.exists() and not path.is_dir():
        raise _bad("out", str(path), "a folder (or a path where one can be created)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise _bad("out", str(path), f"a writable folder ({exc.strerror})") from exc


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Parse and check the command line; ``--quick`` values sit under explicit options."""
    return parse(Options, argv, "slategym online", quick=QUICK)
