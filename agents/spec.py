"""What an agent is sized from: a small frozen :class:`AgentSpec` read off an env's spaces.

Every agent is built from the observation and action spaces of the world it acts in, never from a
simulator object: the spaces are the contract every registered world keeps (``docs/concepts.md``,
"Observation contract across worlds"). The spec reads only the standard keys (``user``,
``candidates``, ``candidate_ids``, ``candidate_topics``, ``history_ids``, ``history``, ``time``);
worlds may add keys, which are ignored.

==================  ================================================================
field               read from
==================  ================================================================
slate_size          length of the ``MultiDiscrete`` action (``K``)
num_candidates      ``candidates`` shape ``(C, F)`` (and the action's ``nvec``)
num_features        ``candidates`` shape ``(C, F)``
num_items           ``candidate_ids`` Box high + 1: the item-id range ``[0, num_items)``
num_topics          ``candidate_topics`` Box high + 1
profile_dim         ``user`` shape ``(P,)``
history_length      ``history_ids`` shape ``(L,)``
response_dim        ``history`` shape ``(L, F + R)``: ``R`` response columns per history item
days                ``time`` Box high[0] + 1 (the day of the timeline)
hours               ``time`` Box high[1] + 1 (the hour of the day)
max_session_steps   ``time`` Box high[2] + 1 (the step within a session)
==================  ================================================================

Example:
    >>> import gymnasium as gym
    >>> import slategym
    >>> from agents.spec import AgentSpec
    >>> env = gym.make("SlateRec-v0", num_items=200, num_candidates=20, slate_size=4)
    >>> spec = AgentSpec.from_env(env)
    >>> spec.slate_size, spec.num_candidates, spec.num_items, spec.num_features
    (4, 20, 200, 10)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

__all__ = ["AgentSpec", "ids_mode_hint", "spec_of"]

_BOX_KEYS = ("user", "candidates", "candidate_ids", "history_ids", "history", "time")


@dataclass(frozen=True)
class AgentSpec:
    """The sizes of a world as an agent sees them (see the module docstring)."""

    slate_size: int
    num_candidates: int
    num_features: int
    num_items: int
    profile_dim: int
    history_length: int
    response_dim: int = 2
    num_topics: int = 1
    days: int = 1
    hours: int = 24
    max_session_steps: int = 1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                if not (f.name == "response_dim" and value == 0):
                    raise ValueError(f"{f.name}={value!r} is not allowed: expected an integer >= 1")
            object.__setattr__(self, f.name, int(value))
        if self.slate_size > self.num_candidates:
            raise ValueError(
                f"slate_size={self.slate_size} is not allowed: expected at most "
                f"num_candidates={self.num_candidates}"
            )

    @classmethod
    def from_spaces(cls, observation_space: Any, action_space: Any) -> AgentSpec:
        """The spec of a single (not batched) SlateRec observation space and slate action space.

        Raises ValueError naming what is missing or malformed.
        """
        if not isinstance(observation_space, spaces.Dict):
            raise ValueError(
                f"observation_space must be a gymnasium Dict space with keys {list(_BOX_KEYS)}, "
                f"got {type(observation_space).__name__}"
            )
        missing = [k for k in _BOX_KEYS if k not in observation_space.spaces]
        if missing:
            raise ValueError(
                f"observation_space lacks keys {missing}: expected {list(_BOX_KEYS)}"
                + ids_mode_hint(observation_space.spaces)
            )
        box: dict[str, spaces.Box] = {}
        for key in (*_BOX_KEYS, "candidate_topics"):
            space = observation_space.spaces.get(key)
            if space is None:
                continue
            if not isinstance(space, spaces.Box):
                raise ValueError(f"observation_space[{key!r}] must be a Box, got {space}")
            box[key] = space
        if not isinstance(action_space, spaces.MultiDiscrete) or action_space.nvec.ndim != 1:
            raise ValueError(
                f"action_space must be MultiDiscrete([num_candidates] * slate_size), got {action_space}"
            )
        cand = box["candidates"].shape
        hist = box["history"].shape
        if len(cand) != 2 or len(box["user"].shape) != 1 or len(hist) != 2:
            raise ValueError(
                f"observation_space has candidates {cand}, user {box['user'].shape}, history {hist}: "
                "expected (C, F), (P,) and (L, F + R)"
            )
        c, f = int(cand[0]), int(cand[1])
        if set(action_space.nvec.tolist()) != {c}:
            raise ValueError(
                f"action_space {action_space} does not index the {c} candidates of the observation"
            )
        time_high = np.asarray(box["time"].high, np.float64)
        if time_high.shape != (3,):
            raise ValueError(f"observation_space['time'] has shape {time_high.shape}, expected (3,)")
        topics = box.get("candidate_topics")
        return cls(
            slate_size=int(action_space.nvec.shape[0]),
            num_candidates=c,
            num_features=f,
            num_items=int(np.max(box["candidate_ids"].high)) + 1,
            profile_dim=int(box["user"].shape[0]),
            history_length=int(hist[0]),
            response_dim=int(hist[1]) - f,
            num_topics=1 if topics is None else int(np.max(topics.high)) + 1,
            days=int(time_high[0]) + 1,
            hours=int(time_high[1]) + 1,
            max_session_steps=int(time_high[2]) + 1,
        )

    @classmethod
    def from_env(cls, env: Any) -> AgentSpec:
        """The spec of a Gymnasium env or vector env (its single observation / action spaces)."""
        obs = getattr(env, "single_observation_space", None)
        act = getattr(env, "single_action_space", None)
        if obs is None or act is None:
            obs, act = getattr(env, "observation_space", None), getattr(env, "action_space", None)
        if obs is None or act is None:
            raise ValueError(
                f"cannot read the spaces of {type(env).__name__}: pass an AgentSpec, a Gymnasium env "
                "or a vector env (something with observation_space and action_space)"
            )
        return cls.from_spaces(obs, act)

    def replace(self, **changes: Any) -> AgentSpec:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def ids_mode_hint(keys: Any) -> str:
    """The end of a missing-keys error when ``keys`` are those of an ``observation="ids"`` env."""
    if "history_response" in keys and "candidates" not in keys:
        return (
            '; the env was made with observation="ids" (item ids, no copied item features), '
            'and the agents read the features: make it with observation="full" (the default)'
        )
    return ""


def spec_of(source: Any) -> AgentSpec:
    """``source`` itself if it is an :class:`AgentSpec`, else the spec of its spaces."""
    if isinstance(source, AgentSpec):
        return source
    return AgentSpec.from_env(source)
