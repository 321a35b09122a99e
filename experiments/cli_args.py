"""One way to build a command line: a typed dataclass read by tyro, checked, errors naming the flag.

Every ``slategym <command>`` module holds an ``Args`` dataclass (documented fields, glossary names:
``num_items``, ``num_candidates``, ``num_users``, ``slate_size``) and calls :func:`parse`:

* tyro turns the fields into flags (``--num-items``) and rejects what it cannot parse (a wrong type,
  an unknown flag) with a message naming the flag and exit code 2;
* then ``Args.check()``, if the class has one, validates the values; its ``ValueError``
  ("``seeds=0 is not allowed: ...``") is re-raised naming the flag ("``--seeds=0 is not allowed:
  ...``"), so ``main(argv)`` can be tested and ``slategym`` prints it without a traceback.

The checks live in ``check()``, not ``__post_init__``: tyro would catch a ``ValueError`` raised while
it builds the object and exit, which a test of ``main(argv)`` cannot inspect.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import tyro

T = TypeVar("T")


def flag(name: str) -> str:
    """The flag of a field: ``num_items`` -> ``--num-items``."""
    return "--" + name.replace("_", "-")


def checked(args: T) -> T:
    """``args`` after its ``check()`` (if any); a ValueError names the flag of the bad field."""
    check = getattr(args, "check", None)
    if check is None:
        return args
    try:
        check()
    except ValueError as err:
        message = str(err)
        for f in dataclasses.fields(args):  # type: ignore[arg-type]
            message = re.sub(rf"^{f.name}=", f"{flag(f.name)}=", message)
        raise ValueError(message) from err
    return args


def parse(cls: type[T], argv: Sequence[str] | None, prog: str,
          quick: Mapping[str, Any] | None = None) -> T:  # fmt: skip
    """Parse ``argv`` into ``cls`` with tyro, then :func:`checked`.

    With ``quick`` and ``--quick`` given, the values of ``quick`` replace the defaults, under every
    option given explicitly (an option given with its default value counts as not given).
    """
    args = tyro.cli(cls, args=None if argv is None else list(argv), prog=prog)
    if quick and getattr(args, "quick", False):
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        given = {k: getattr(args, k) for k in defaults if getattr(args, k) != defaults[k]}
        args = cls(**{**defaults, **quick, **given})
    return checked(args)


def agent_options(items: Sequence[str], agents: Sequence[str], name: str = "agent_option",
                  example: str = "ppo.features=flat") -> dict[str, dict[str, Any]]:  # fmt: skip
    """``AGENT.KEY=VALUE`` options (``VALUE`` read as JSON when it parses) as ``{agent: {key: value}}``.

    >>> agent_options(["ppo.learning_rate=1e-3", "ppo.features=flat"], ["ppo"])
    {'ppo': {'learning_rate': 0.001, 'features': 'flat'}}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, raw = item.partition("=")
        agent, dot, key = head.partition(".")
        if not (sep and dot and key) or agent not in agents:
            raise ValueError(f"{name}={item!r} is not allowed: expected AGENT.KEY=VALUE with AGENT "
                             f"one of {list(agents)}, e.g. {example}")  # fmt: skip
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(agent, {})[key.replace("-", "_")] = value
    return out
