"""Agents by name: ``make_agent("slateq", spec_or_env, seed=0, **options)`` builds any agent.

The agent is sized from an :class:`agents.spec.AgentSpec`, or from the spaces of an env / vector env
(no simulator is read, so no env needs to be built just to size an agent). Options are keyword
arguments of the agent's ``from_spec`` (config fields for greedy, SlateQ and the GFlowNets, SB3
arguments for PPO); an unknown option raises ``TypeError`` and a bad value ``ValueError``. When the
source is an env and the agent reads hidden state (the oracle), it is also bound to that env.

================  ========================================  =======================================
name              class                                     kind (protocol of :mod:`agents.base`)
================  ========================================  =======================================
``random``        :class:`agents.random_agent.RandomAgent`  acts only
``greedy``        :class:`agents.greedy.GreedyPopularityAgent`  ``LearnsFromFeedback``
``oracle``        :class:`agents.oracle.OracleAgent`        ``ReadsHiddenState`` (**upper bound**)
``ppo``           :class:`agents.ppo.PPOAgent`              ``TrainsItself``
``slateq``        :class:`agents.slateq.SlateQ`             ``LearnsFromFeedback``
``slategfn_db``   :class:`agents.gfn.SlateGFN_DB`           ``LearnsFromFeedback``
``slategfn_tb``   :class:`agents.gfn.SlateGFN_TB`           ``LearnsFromFeedback``
================  ========================================  =======================================

The kind column is what the classes implement (``tests/test_agents.py`` checks it); callers ask the
protocols, e.g. ``isinstance(agent, LearnsFromFeedback)``, never the name.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.base import Agent, ReadsHiddenState
from agents.spec import AgentSpec, spec_of

_CLASSES: dict[str, str] = {
    "random": "agents.random_agent:RandomAgent",
    "greedy": "agents.greedy:GreedyPopularityAgent",
    "oracle": "agents.oracle:OracleAgent",
    "ppo": "agents.ppo:PPOAgent",
    "slateq": "agents.slateq:SlateQ",
    "slategfn_db": "agents.gfn:SlateGFN_DB",
    "slategfn_tb": "agents.gfn:SlateGFN_TB",
}
AGENT_NAMES: tuple[str, ...] = tuple(_CLASSES)


def check_agent_names(names: Any) -> tuple[str, ...]:
    """Validate a list of agent names (non-empty, known, no repeats); returns them as a tuple."""
    if isinstance(names, str):
        names = [names]
    names = tuple(names)
    if not names:
        raise ValueError(f"agents=() is not allowed: expected one or more of {list(AGENT_NAMES)}")
    unknown = [n for n in names if n not in AGENT_NAMES]
    if unknown:
        raise ValueError(f"unknown agent name(s) {unknown}: expected names from {list(AGENT_NAMES)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"agents lists {repeated} more than once: give each agent once")
    return names


def agent_class(name: str) -> Any:
    """The class registered as ``name`` (imported on first use); it has ``from_spec(spec, seed,
    **options)``."""
    (name,) = check_agent_names([name])
    module, _, attr = _CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def upper_bounds(names: Any = AGENT_NAMES) -> frozenset[str]:
    """The names among ``names`` whose agents read hidden state: reported as upper bounds."""
    return frozenset(n for n in check_agent_names(names)
                     if issubclass(agent_class(n), ReadsHiddenState))  # fmt: skip


def make_agent(name: str, source: Any, seed: int = 0, **options: Any) -> Agent:
    """Build agent ``name`` (one of :data:`AGENT_NAMES`) for ``source``, seeded with ``seed``.

    ``source`` is an :class:`AgentSpec` or anything with Gymnasium spaces (env, vector env).
    """
    cls = agent_class(name)
    agent: Agent = cls.from_spec(spec_of(source), seed=seed, **options)
    if isinstance(agent, ReadsHiddenState) and not isinstance(source, AgentSpec):
        agent.bind(getattr(source, "unwrapped", source))
    return agent
