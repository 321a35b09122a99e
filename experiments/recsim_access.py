"""RecSim 0.2.4 access for the reference figures: its environments and random agent, seeding, the
model parameters read from the live objects, the package versions.

Part of the *RecSim side* (:mod:`experiments.recsim_reference`, whose docstring describes the
commands, the random policy and the seeding): like it, this module imports ``recsim`` and ``numpy``
only and never imports slategym, since it runs in RecSim's own venv.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys
import warnings
from importlib import metadata
from typing import Any

import numpy as np

ENV_NAMES = ("interest_evolution", "interest_exploration", "long_term_satisfaction")
RUNNER_MAX_STEPS = 27000
"""``recsim.simulator.runner_lib.Runner``'s default ``max_steps_per_episode`` (runner_lib.py:94)."""
DEFAULT_MAX_STEPS = {
    "interest_evolution": RUNNER_MAX_STEPS,
    "interest_exploration": 100,
    "long_term_satisfaction": RUNNER_MAX_STEPS,
}


def _import_recsim() -> None:
    """Imports the RecSim modules quietly: TensorFlow/gym chatter goes to stderr, never stdout."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    with contextlib.redirect_stdout(sys.stderr):
        for name in ENV_NAMES:
            importlib.import_module(f"recsim.environments.{name}")


def make_env(env_name: str, num_candidates: int, slate_size: int, resample: bool, seed: int) -> Any:
    """RecSim's gym env exactly as the module's ``create_environment(env_config)`` builds it."""
    _import_recsim()
    module = importlib.import_module(f"recsim.environments.{env_name}")
    env_config = {
        "num_candidates": num_candidates,
        "slate_size": slate_size,
        "resample_documents": resample,
        "seed": seed,
    }
    return module.create_environment(env_config)


class ShuffleRandomAgent:
    """The draw of RecSim's ``RandomAgent`` (random_agent.py:32-59), for when it cannot be imported.

    ``recsim.agents/__init__.py`` imports the DQN agents, which need ``dopamine.agents``: that
    module is gone from dopamine-rl 4.x, so ``import recsim.agents.random_agent`` fails unless
    ``dopamine-rl<4`` is installed. The environments do not need it.
    """

    def __init__(self, slate_size: int, seed: int) -> None:
        self._slate_size = slate_size
        self._rng = np.random.RandomState(seed)

    def begin_episode(self, observation: dict[str, Any]) -> list[int]:
        return self.step(0.0, observation)

    def step(self, reward: float, observation: dict[str, Any]) -> list[int]:
        del reward
        doc_ids = list(range(len(observation["doc"])))
        self._rng.shuffle(doc_ids)
        return doc_ids[: self._slate_size]


def make_agent(env: Any, seed: int) -> Any:
    """RecSim's ``RandomAgent`` (shuffle ``range(num_candidates)``, take the first ``slate_size``)."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module("recsim.agents.random_agent")
    except ImportError:
        return ShuffleRandomAgent(env.environment.slate_size, seed)
    return module.RandomAgent(env.action_space, random_seed=seed)


def episode_seeds(seed: int, episode: int) -> list[int]:
    """Four independent 32-bit seeds for episode ``episode``: user, documents, np.random, policy."""
    return [int(word) for word in np.random.SeedSequence([seed, episode]).generate_state(4)]


def reseed_for_episode(env: Any, seeds: list[int], resample: bool) -> None:
    """Gives the next episode its own streams (see the module docstring, ``--seeding episode``)."""
    raw = env.environment
    raw.user_model._user_sampler._rng = np.random.RandomState(seeds[0])
    raw._document_sampler._rng = np.random.RandomState(seeds[1])
    np.random.seed(seeds[2])  # noqa: NPY002 (RecSim draws from the global RNG)
    if not resample:
        raw._do_resample_documents()  # reset() keeps the candidate set when not resampling


def user_state(env: Any) -> Any:
    return env.environment.user_model._user_state


def model_parameters(env_name: str, env: Any) -> dict[str, Any]:
    """The model constants as read from the live RecSim objects (a sampled user, the samplers)."""
    raw = env.environment
    state = user_state(env)
    doc_sampler = raw._document_sampler
    choice: Any = getattr(raw.user_model, "choice_model", None)
    params: dict[str, Any] = {
        "user_sampler": type(raw.user_model._user_sampler).__name__,
        "document_sampler": type(doc_sampler).__name__,
        "choice_model": type(choice).__name__ if choice is not None else None,
        "reward": env._reward_aggregator.__name__,
    }
    if env_name == "interest_evolution":
        module = importlib.import_module("recsim.environments.interest_evolution")
        params.update(
            num_features=int(state.NUM_FEATURES),
            time_budget=float(state.time_budget),
            step_penalty=float(state.step_penalty),
            no_click_mass=float(state.choice_features["no_click_mass"]),
            min_normalizer=float(state.choice_features["min_normalizer"]),
            score_scaling=float(state.choice_features["score_scaling"]),
            attention_prob=float(state.choice_features["attention_prob"]),
            user_update_alpha=float(state.user_update_alpha),
            user_quality_factor=float(state.user_quality_factor),
            document_quality_factor=float(state.document_quality_factor),
            alpha_x_intercept=float(raw.user_model._alpha_x_intercept),
            alpha_y_intercept=float(raw.user_model._alpha_y_intercept),
            video_length=float(doc_sampler._video_length),
            cluster_quality_means=[float(m) for m in doc_sampler.cluster_means],
            cluster_quality_std=0.1,
            max_video_length=float(module.IEvVideo.MAX_VIDEO_LENGTH),
        )
    elif env_name == "interest_exploration":
        sampler = raw.user_model._user_sampler
        params.update(
            user_type_distribution=list(sampler._user_type_dist),
            user_document_mean_affinity_matrix=[list(r) for r in sampler._user_doc_means],
            user_document_stddev_affinity_matrix=[list(r) for r in sampler._user_doc_stddev],
            topic_distribution=list(doc_sampler._topic_dist),
            topic_quality_mean=list(doc_sampler._topic_quality_mean),
            topic_quality_stddev=list(doc_sampler._topic_quality_stddev),
            no_click_mass=float(choice._no_click_mass),
        )
    else:
        params.update(
            {
                k: float(v)
                for k, v in raw.user_model._user_sampler._state_parameters.items()
                if k != "net_positive_exposure"
            }
        )
        params["max_engagement_magnitude"] = float(
            importlib.import_module(
                f"recsim.environments.{env_name}"
            ).LTSResponse.MAX_ENGAGEMENT_MAGNITUDE
        )
    return params


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("recsim", "numpy", "gym", "gin-config", "tensorflow", "scipy", "absl-py"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found
