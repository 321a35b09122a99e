"""Worlds: registered env ids that are presets of the same parts, never second simulators.

A world is a :class:`World`: an id and the ``gym.make`` keywords (item, user and choice model, reward,
episode scope, sizes) that turn the one batched simulator into that world. ``import slategym``
registers every world with Gymnasium (single env and native vector env), so

>>> import gymnasium as gym
>>> import slategym
>>> env = gym.make("SlateRec-InterestEvolution-v0", num_candidates=20)
>>> env.unwrapped.config.num_candidates, env.unwrapped.config.user_model
(20, 'recsim_interest_evolution')

and :func:`world_config` gives a world's :class:`~slategym.config.SlateRecConfig` for the platform
view or the agents' helpers. Keywords given to ``gym.make`` override the preset's (a ``*_kwargs``
dict replaces the preset's dict as a whole). ``docs/worlds.md`` describes each world and the
measurements that show its purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slategym.config import SlateRecConfig


@dataclass(frozen=True)
class World:
    """A registered world: its id, what it models, where it comes from, and its preset."""

    id: str
    models: str  # what the world models, one sentence
    source: str  # where the model comes from
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # gym.make keywords of the preset


RECSIM_SIZES: dict[str, Any] = {
    "num_candidates": 10,
    "slate_size": 2,
    "num_items": 10_000,
    "num_users": 1000,
    "days": 1,
    "episode": "session",
}
"""What the three RecSim presets share. RecSim has no default sizes (its ``main.py`` uses 5
candidates and slates of 2); 10 / 2 is the configuration of the reference figures. ``num_items`` is
the size of the catalog the fresh candidates of every request are drawn from (RecSim draws new items
each time; the catalog is a stratified sample of the same distribution)."""

RECSIM_RUNNER_CAP = 27_000
"""RecSim's ``Runner`` default ``max_steps_per_episode``: the cap on an episode of the two RecSim
environments that end by themselves (never reached by a random policy)."""

WORLDS: dict[str, World] = {
    world.id: world
    for world in (
        World(
            "SlateRec-v0",
            "users on a daily timeline of sessions, MNL clicks, purchases, satisfaction and churn",
            "slategym",
        ),
        World(
            "SlateRec-Personal-v0",
            "taste heterogeneity dominates: the best slate depends on who the user is",
            "slategym (the default world with the shared part of the affinity switched off)",
            {"user_model": "personal"},
        ),
        World(
            "SlateRec-Dynamic-v0",
            "a world that changes: items released every day, drifting interests, hour-of-day tastes",
            "slategym",
            {"user_model": "dynamic", "new_items_per_day": 100},
        ),
        World(
            "SlateRec-InterestEvolution-v0",
            "RecSim's interest evolution: observable interests that move with what is watched, "
            "a time budget that quality replenishes",
            "RecSim 0.2.4 interest_evolution (Ie et al. 2019)",
            {
                **RECSIM_SIZES,
                "num_topics": 20,
                "latent_dim": 20,
                "max_session_steps": RECSIM_RUNNER_CAP,
                "item_model": "recsim_interest_evolution",
                "user_model": "recsim_interest_evolution",
                "choice_model": "proportional",
                "choice_model_kwargs": {"min_normalizer": -1.0, "no_click_mass": 1.0},
                "reward": "engagement",
            },
        ),
        World(
            "SlateRec-InterestExploration-v0",
            "RecSim's interest exploration: hidden user types, a high-quality niche topic "
            "(popularity bias)",
            "RecSim 0.2.4 interest_exploration (Ie et al. 2019)",
            {
                **RECSIM_SIZES,
                "num_topics": 2,
                "latent_dim": 2,
                "max_session_steps": 100,
                "item_model": "recsim_interest_exploration",
                "user_model": "recsim_interest_exploration",
                "choice_model": "mnl",
                "choice_model_kwargs": {"beta": 1.0, "no_click_logit": 5.0},
                "reward": "click",
            },
        ),
        World(
            "SlateRec-LongTermSatisfaction-v0",
            "RecSim's long-term satisfaction (choc/kale): clickbait pays now, costs satisfaction",
            "RecSim 0.2.4 long_term_satisfaction (Ie et al. 2019)",
            {
                **RECSIM_SIZES,
                "num_topics": 1,
                "latent_dim": 1,
                "max_session_steps": RECSIM_RUNNER_CAP,
                "item_model": "recsim_long_term_satisfaction",
                "user_model": "recsim_long_term_satisfaction",
                "choice_model": "first_item",
                "reward": "engagement",
            },
        ),
    )
}
"""Every registered world by id."""


def world_config(env_id: str, **overrides: Any) -> SlateRecConfig:
    """The :class:`~slategym.config.SlateRecConfig` of world ``env_id`` with ``overrides`` applied."""
    if env_id not in WORLDS:
        raise ValueError(f"env_id={env_id!r} is not allowed: expected one of {sorted(WORLDS)}")
    return SlateRecConfig.from_kwargs(**{**WORLDS[env_id].kwargs, **overrides})


def register_worlds() -> None:
    """Register every world (single env and native vector env) with Gymnasium, once."""
    import gymnasium as gym

    for world in WORLDS.values():
        if world.id not in gym.registry:
            gym.register(
                id=world.id,
                entry_point="slategym.env:SlateRecEnv",
                vector_entry_point="slategym.vector_env:SlateRecVectorEnv",
                disable_env_checker=False,
                kwargs=dict(world.kwargs),
            )
