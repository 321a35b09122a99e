"""slategym: a Gymnasium simulation gym for slate recommendation.

``import slategym`` registers ``SlateRec-v0`` and the other worlds (:mod:`slategym.worlds`), each
with its native vector env, with Gymnasium::

    import gymnasium as gym
    import slategym

    env = gym.make("SlateRec-v0", num_candidates=50, slate_size=6, choice_model="mnl")
    envs = gym.make_vec("SlateRec-v0", num_envs=64, vectorization_mode="vector_entry_point")
    platform = slategym.Platform(num_users=1000)  # the whole population on one clock
"""

from slategym.catalog import Catalog
from slategym.config import SlateRecConfig
from slategym.env import SlateRecEnv
from slategym.items import ItemModel
from slategym.platform import Platform, Requests
from slategym.registry import (
    make_choice_model,
    make_item_model,
    make_user_model,
    register_choice_model,
    register_item_model,
    register_user_model,
    registered_choice_models,
    registered_item_models,
    registered_user_models,
)
from slategym.simulator import Simulator
from slategym.types import SimState, StepOutcome
from slategym.vector_env import SlateRecVectorEnv
from slategym.worlds import WORLDS, register_worlds, world_config

__version__ = "0.2.0"

ENV_IDS: tuple[str, ...] = tuple(WORLDS)
"""Every registered env id (``SlateRec-v0`` first)."""

register_worlds()

__all__ = [
    "ENV_IDS",
    "WORLDS",
    "Catalog",
    "Platform",
    "Requests",
    "ItemModel",
    "SimState",
    "Simulator",
    "SlateRecConfig",
    "SlateRecEnv",
    "SlateRecVectorEnv",
    "StepOutcome",
    "make_choice_model",
    "make_item_model",
    "make_user_model",
    "register_choice_model",
    "register_item_model",
    "register_user_model",
    "registered_choice_models",
    "registered_item_models",
    "registered_user_models",
    "world_config",
]
