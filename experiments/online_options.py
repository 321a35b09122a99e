"""Options of the online loop: the typed, validated :class:`Options` and the command line.

Split from :mod:`experiments.online_loop`; every check runs before any work starts.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from agents.registry import AGENT_NAMES

#: Agents the loop can run: they learn from ``update(Feedback)`` batches.
LEARNING_AGENTS: tuple[str, ...] = ("greedy", "slategfn_db", "slategfn_tb")
#: Why the other registered agents are refused.
REFUSED_AGENTS: dict[str, str] = {
    "random": "it learns nothing (it is already the 'random' arm of the loop)",
    "oracle": "it reads the simulator's hidden state: an upper bound, not a recommender",
    "ppo": "it trains through stable-baselines3's own env loop (fit), not from update(Feedback)",
}

#: Agent keyword arguments accepted per agent (``--agent-config KEY=VALUE``).
_GREEDY_KEYS = ("prior_strength",)


@dataclass(frozen=True)
class Options:
    """The validated options of a run (see ``--help`` for each)."""

    agent: str = "slategfn_db"
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
#: GFN settings of ``--quick``: small networks (explicit ``--agent-config`` overrides them).
QUICK_GFN: dict[str, Any] = {"item_dim": 8, "state_dim": 8, "hidden": 16, "heads": 2,
                             "feedforward": 16, "layers": 1, "batch_size": 64}  # fmt: skip


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
    learners = ", ".join(LEARNING_AGENTS)
    p.add_argument("--agent", default="slategfn_db", help=f"learning agent, one of: {learners}")
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
                        f"{DEFAULTS['pretrain_epochs']}, quick {QUICK['pretrain_epochs']}); "
                        "greedy counts the log once whatever the value")
    p.add_argument("--online-epochs", type=int, default=1,
                   help="passes over the new feedback at each online update (greedy: always 1)")
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
                   help="agent keyword argument (GFNConfig field for the GFlowNets, e.g. lr=3e-4; "
                        "prior_strength for greedy); repeatable")
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


def _agent_kwargs(agent: str, pairs: Sequence[str], quick: bool) -> dict[str, Any]:
    """Parse and validate ``--agent-config`` pairs for ``agent``."""
    kwargs: dict[str, Any] = dict(QUICK_GFN) if quick and agent.startswith("slategfn") else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _bad("--agent-config", pair, "KEY=VALUE, e.g. lr=3e-4")
        kwargs[key.strip().replace("-", "_")] = _literal(value.strip())
    if agent == "greedy":
        unknown = sorted(set(kwargs) - set(_GREEDY_KEYS))
        if unknown:
            raise _bad("--agent-config", unknown, f"keys among {list(_GREEDY_KEYS)} for greedy")
        value = kwargs.get("prior_strength", 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise _bad("--agent-config prior_strength", value, "a number > 0")
        return kwargs
    from agents.gfn import GFNConfig

    known = {f.name for f in fields(GFNConfig)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise _bad("--agent-config", unknown, f"GFNConfig fields among {sorted(known)}")
    GFNConfig(**kwargs)  # raises ValueError naming the field
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

    if ns.agent not in LEARNING_AGENTS:
        why = REFUSED_AGENTS.get(ns.agent)
        if why is not None:
            raise _bad("--agent", ns.agent, f"one of {list(LEARNING_AGENTS)}: {ns.agent} is "
                       f"refused because {why}")  # fmt: skip
        raise _bad("--agent", ns.agent, f"one of {list(LEARNING_AGENTS)} (registered agents: "
                   f"{list(AGENT_NAMES)})")  # fmt: skip
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
