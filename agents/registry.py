"""Agents by name: ``make_agent("slategfn_db", envs, seed=0)`` sizes any agent for a SlateRec source.

A *source* is anything that exposes the simulator as ``.sim`` directly or through ``.unwrapped``: a
``gym.make("SlateRec-v0")`` env, a native vector env, or a :class:`slategym.platform.Platform`. The
agent is built for that source's configuration (slate size, item ids, feature sizes); the oracle is
also bound to it, since it reads the source's hidden state.

======================  ==============================================================  ===========
name                    agent                                                           learns by
======================  ==============================================================  ===========
``random``              :class:`agents.random_agent.RandomAgent`                        —
``greedy``              :class:`agents.greedy.GreedyPopularityAgent`                    ``update``
``oracle``              :class:`agents.oracle.OracleAgent` (**upper bound**)             —
``ppo``                 :class:`agents.ppo.PPOAgent`                                    ``fit``
``slategfn_db``         :class:`agents.gfn.SlateGFN_DB`                                 ``update``
``slategfn_tb``         :class:`agents.gfn.SlateGFN_TB`                                 ``update``
======================  ==============================================================  ===========

Keyword arguments are passed to the agent's constructor (for the GFlowNets they are
:class:`agents.gfn.GFNConfig` fields; for PPO, stable-baselines3 PPO arguments).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agents.base import Agent

AGENT_NAMES: tuple[str, ...] = ("random", "greedy", "oracle", "ppo", "slategfn_db", "slategfn_tb")
#: Agents that read the simulator's hidden state: reported as upper bounds, never as recommenders.
UPPER_BOUNDS: frozenset[str] = frozenset({"oracle"})


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


def simulator_of(source: Any) -> Any:
    """The :class:`slategym.simulator.Simulator` behind an env, vector env or platform."""
    for candidate in (source, getattr(source, "unwrapped", None)):
        sim = getattr(candidate, "sim", None)
        if sim is not None:
            return sim
    raise ValueError(
        f"cannot find the SlateRec simulator of {type(source).__name__}: pass a SlateRec-v0 env, "
        "its native vector env or a slategym Platform"
    )


def env_kwargs(config: Any) -> dict[str, Any]:
    """A ``SlateRecConfig`` as ``gym.make`` keyword arguments."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def make_agent(name: str, source: Any, seed: int = 0, **kwargs: Any) -> Agent:
    """Build agent ``name`` (one of :data:`AGENT_NAMES`) for ``source``, seeded with ``seed``."""
    (name,) = check_agent_names([name])
    sim = simulator_of(source)
    config = sim.config
    k = int(config.slate_size)
    if name == "random":
        from agents.random_agent import RandomAgent

        return RandomAgent(k, seed=seed, **kwargs)
    if name == "greedy":
        from agents.greedy import GreedyPopularityAgent

        return GreedyPopularityAgent(k, int(sim.catalog.total), seed=seed, **kwargs)
    if name == "oracle":
        from agents.oracle import OracleAgent

        oracle = OracleAgent(k, seed=seed, **kwargs)
        oracle.bind(getattr(source, "unwrapped", source))
        return oracle
    if name == "ppo":
        from agents.ppo import PPOAgent

        return PPOAgent(k, env_config=env_kwargs(config), seed=seed, **kwargs)
    from agents.gfn import GFNConfig, SlateGFN_DB, SlateGFN_TB

    cls = SlateGFN_DB if name == "slategfn_db" else SlateGFN_TB
    space = sim.observation_space
    return cls(
        slate_size=k,
        num_items=int(sim.catalog.total),
        num_features=int(space["candidates"].shape[-1]),
        profile_dim=int(space["user"].shape[-1]),
        config=GFNConfig(**kwargs) if kwargs else None,
        seed=seed,
    )
