"""Options of the online loop: the typed, validated :class:`Options` and the command line.

Split from :mod:`experiments.online_loop`; every check runs before any work starts.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.base import LearnsFromFeedback, ReadsHiddenState, TrainsItself
from agents.registry import AGENT_NAMES, agent_class
from agents.spec import AgentSpec

#: A small spec on which ``--agent-config`` is checked by building the agent before any work.
_CHECK_SPEC = AgentSpec(slate_size=2, num_candidates=3, num_features=2, num_items=5, profile_dim=2,
                        history_length=2)  # fmt: skip


@dataclass(frozen=True)
class Options:
    """The validated options of a run (see ``--help`` for each)."""

    agent: str = "slategfn_db"
    minibatch: int = 128
    users: int = 2000
    days: int = 4
    seeds: tuple[int, ...] = (0, 1, 2)
    update_every: int = 1
    pretrain_epochs: int = 5
    online_epochs: int = 1
    explore: bool = True
    items: int = 1000
    candidates: int = 50
    slate_size: int = 6
    agent_config: dict[str, Any] = field(default_factory=dict)
    out: Path = Path("results/online")
    plot: bool = False
    smooth: int = 6
    progress: bool = True
    quick: bool = False
    threads: int = 1


#: Defaults of a normal run and of ``--quick`` (explicit options override both).
DEFAULTS: dict[str, Any] = {
    "users": 2000,
    "days": 4,
    "seeds": 3,
    "pretrain_epochs": 5,
    "items": 1000,
    "candidates": 50,
    "slate_size": 6,
}
QUICK: dict[str, Any] = {
    "users": 60,
    "days": 2,
    "seeds": 2,
    "pretrain_epochs": 1,
    "items": 200,
    "candidates": 20,
    "slate_size": 4,
}
#: Agent options of ``--quick`` per agent: small networks (explicit ``--agent-config`` overrides).
_QUICK_ENCODER = {"item_dim": 8, "state_dim": 8, "hidden": 16, "heads": 2, "feedforward": 16,
                  "layers": 1, "history_length": 10}  # fmt: skip
QUICK_AGENT_OPTIONS: dict[str, dict[str, Any]] = {
    "slategfn_db": {"encoder": _QUICK_ENCODER, "batch_size": 64},
    "slategfn_tb": {"encoder": _QUICK_ENCODER, "batch_size": 64},
    "slateq": {"encoder": _QUICK_ENCODER, "batch_size": 64},
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line raises ValueError (so ``main`` can be tested)."""

    def error(self, message: str) -> Any:
        raise ValueError(f"{message} (see --help for the allowed options)")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` only for options with a fixed default (presets are in the text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, [], False):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options (``None`` defaults are filled from DEFAULTS or QUICK)."""
    p = _Parser(
        prog="python -m experiments.online_loop",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=_Help,
    )
    p.add_argument("--agent", default="slategfn_db",
                   help="a registered agent that learns from feedback (greedy, slateq, "
                        "slategfn_db, slategfn_tb)")
    p.add_argument("--minibatch", type=int, default=None,
                   help="rows per update in pre-training and online updates (default 128, quick 64)")
    p.add_argument("--users", type=int, default=None,
                   help=f"users in the population (default {DEFAULTS['users']}, quick {QUICK['users']})")
    p.add_argument("--days", type=int, default=None,
                   help=f"days of the timeline, >= 2; day 0 is the random logging day "
                        f"(default {DEFAULTS['days']}, quick {QUICK['days']})")
    p.add_argument("--seeds", type=int, default=None,
                   help=f"number of seeds, run as 0..N-1 (default {DEFAULTS['seeds']}, quick "
                        f"{QUICK['seeds']}); ignored with --seed-list")
    p.add_argument("--seed-list", type=int, nargs="+", default=None, metavar="SEED",
                   help="explicit seeds, e.g. --seed-list 3 7 (overrides --seeds)")
    p.add_argument("--update-every", type=int, default=1,
                   help="slots between two updates of the online arm (1 = every slot)")
    p.add_argument("--pretrain-epochs", type=int, default=None,
                   help=f"passes over the day-0 log in pre-training (default "
                        f"{DEFAULTS['pretrain_epochs']}, quick {QUICK['pretrain_epochs']})")
    p.add_argument("--online-epochs", type=int, default=1,
                   help="passes over the new feedback at each online update")
    p.add_argument("--explore", action=argparse.BooleanOptionalAction, default=True,
                   help="act with exploration (GFN: sample + epsilon-greedy; greedy: Thompson) in "
                        "both learning arms; --no-explore acts greedily")
    p.add_argument("--items", type=int, default=None,
                   help=f"catalog size num_items (default {DEFAULTS['items']}, quick {QUICK['items']})")
    p.add_argument("--candidates", type=int, default=None,
                   help=f"num_candidates per request (default {DEFAULTS['candidates']}, quick "
                        f"{QUICK['candidates']})")
    p.add_argument("--slate-size", type=int, default=None,
                   help=f"items per slate K (default {DEFAULTS['slate_size']}, quick "
                        f"{QUICK['slate_size']})")
    p.add_argument("--agent-config", action="append", default=[], metavar="KEY=VALUE",
                   help="agent option, e.g. lr=3e-4 (a GFNConfig / SlateQConfig field; "
                        "prior_strength for greedy; JSON values: encoder='{\"item_dim\": 8}'); "
                        "repeatable")
    p.add_argument("--out", default="results/online", help="output folder")
    p.add_argument("--plot", action="store_true", help="write the PNG figures into --out")
    p.add_argument("--smooth", type=int, default=6,
                   help="rolling window (slots) of the CTR-per-slot figure")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="show a tqdm progress bar over slots")
    p.add_argument("--quick", action="store_true",
                   help="tiny run for tests: 60 users, 2 days, 2 seeds, small catalog and networks")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    return p  # fmt: skip


def _bad(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is not allowed: expected {allowed}")


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(name, value, f"an integer >= {minimum}")
    return value


def _literal(text: str) -> Any:
    """``"3e-4"`` -> 3e-4, ``"true"`` -> True, ``"null"`` -> None, else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _check_agent(agent: str) -> None:
    """The loop needs an agent that learns from feedback and is a recommender."""
    if agent not in AGENT_NAMES:
        raise _bad("--agent", agent, f"a registered agent that learns from feedback (registered: "
                   f"{list(AGENT_NAMES)})")  # fmt: skip
    cls = agent_class(agent)
    why = None
    if issubclass(cls, ReadsHiddenState):
        why = "it reads hidden state: an upper bound, not a recommender"
    elif issubclass(cls, TrainsItself):
        why = "it trains itself with fit() on envs of its own, not from update(feedback)"
    elif not issubclass(cls, LearnsFromFeedback):
        why = "it does not learn (no update(feedback))"
    if why is not None:
        raise _bad("--agent", agent, f"an agent that learns from feedback: {agent} is refused "
                   f"because {why}")  # fmt: skip


def _agent_kwargs(agent: str, pairs: Sequence[str], quick: bool) -> dict[str, Any]:
    """Parse ``--agent-config`` pairs for ``agent`` and check them by building the agent."""
    kwargs: dict[str, Any] = dict(QUICK_AGENT_OPTIONS.get(agent, {})) if quick else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _bad("--agent-config", pair, "KEY=VALUE, e.g. lr=3e-4")
        kwargs[key.strip().replace("-", "_")] = _literal(value.strip())
    try:
        agent_class(agent).from_spec(_CHECK_SPEC, **kwargs)
    except TypeError as err:
        raise _bad("--agent-config", sorted(kwargs), f"options of {agent}: {err}") from err
    return kwargs


def _check_out(path: Path) -> Path:
    """Create ``path`` and check that a file can be written there."""
    if path.exists() and not path.is_dir():
        raise _bad("--out", str(path), "a folder (or a path where one can be created)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise _bad("--out", str(path), f"a writable folder ({exc.strerror})") from exc
    return path


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Parse and validate the command line; raises ValueError before any work is done."""
    ns = build_parser().parse_args(None if argv is None else list(argv))
    preset = QUICK if ns.quick else DEFAULTS

    def pick(name: str) -> Any:
        value = getattr(ns, name)
        return preset[name] if value is None else value

    _check_agent(ns.agent)
    users = _positive("--users", pick("users"))
    days = _positive("--days", pick("days"), 2)
    if ns.seed_list is not None:
        seeds = tuple(ns.seed_list)
        for s in seeds:
            _positive("--seed-list", s, 0)
        if len(set(seeds)) != len(seeds):
            raise _bad("--seed-list", list(seeds), "distinct seeds")
    else:
        seeds = tuple(range(_positive("--seeds", pick("seeds"))))
    items = _positive("--items", pick("items"))
    candidates = _positive("--candidates", pick("candidates"))
    slate_size = _positive("--slate-size", pick("slate_size"))
    if candidates > items:
        raise _bad("--candidates", candidates, f"at most --items={items}")
    if slate_size > candidates:
        raise _bad("--slate-size", slate_size, f"at most --candidates={candidates}")
    checked: dict[str, Any] = {
        "update_every": _positive("--update-every", ns.update_every),
        "pretrain_epochs": _positive("--pretrain-epochs", pick("pretrain_epochs"), 0),
        "online_epochs": _positive("--online-epochs", ns.online_epochs),
        "minibatch": _positive("--minibatch", ns.minibatch if ns.minibatch is not None
                               else (64 if ns.quick else 128)),  # fmt: skip
        "smooth": _positive("--smooth", ns.smooth),
        "threads": _positive("--threads", ns.threads),
        "agent_config": _agent_kwargs(ns.agent, ns.agent_config, ns.quick),
    }
    return Options(
        agent=ns.agent,
        users=users,
        days=days,
        seeds=seeds,
        explore=bool(ns.explore),
        items=items,
        candidates=candidates,
        slate_size=slate_size,
        plot=bool(ns.plot),
        progress=bool(ns.progress),
        quick=bool(ns.quick),
        out=_check_out(Path(ns.out)),  # last: the only check that touches the disk
        **checked,
    )
