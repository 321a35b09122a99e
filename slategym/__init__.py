"""slategym: a Gymnasium simulation gym for slate recommendation.

``import slategym`` registers ``SlateRec-v0`` (and its native vector env) with Gymnasium::

    import gymnasium as gym
    import slategym

    env = gym.make("SlateRec-v0", num_candidates=50, slate_size=6, choice_model="mnl")
    envs = gym.make_vec("SlateRec-v0", num_envs=64, vectorization_mode="vector_entry_point")
    platform = slategym.Platform(num_users=1000)  # the whole population on one clock
"""

import gymnasium as gym

from slategym.catalog import Catalog
from slategym.config import SlateRecConfig
from slategym.env import SlateRecEnv
from slategym.platform import Platform, Requests
from slategym.registry import (
    make_choice_model,
    make_user_model,
    register_choice_model,
    register_user_model,
    registered_choice_models,
    registered_user_models,
)
from slategym.simulator import Simulator
from slategym.types import SimState, StepOutcome
from slategym.vector_env import SlateRecVectorEnv

__version__ = "0.1.0"

ENV_IDS = ("SlateRec-v0",)

if "SlateRec-v0" not in gym.registry:
    gym.register(
        id="SlateRec-v0",
        entry_point="slategym.env:SlateRecEnv",
        vector_entry_point="slategym.vector_env:SlateRecVectorEnv",
        disable_env_checker=False,
    )

__all__ = [
    "ENV_IDS",
    "Catalog",
    "Platform",
    "Requests",
    "SimState",
    "Simulator",
    "SlateRecConfig",
    "SlateRecEnv",
    "SlateRecVectorEnv",
    "StepOutcome",
    "make_choice_model",
    "make_user_model",
    "register_choice_model",
    "register_user_model",
    "registered_choice_models",
    "registered_user_models",
]
