"""Save single-env episodes as a Minari dataset (Farama's format for offline RL).

``SlateRec`` observations are a ``Dict`` of ``Box`` spaces and actions a ``MultiDiscrete``: both are
spaces Minari stores, so whole episodes (observations, slates, rewards, terminations) go into a
Minari dataset as they are. What Minari has no column for is per-impression logging data
(propensities, per-position clicks): keep the Parquet impression log (:mod:`slategym.data.recorder`)
for off-policy evaluation; use Minari for offline RL on episodes. Needs ``pip install
'slategym[data]'`` (minari with its ``create`` and ``hdf5`` extras).

Example (not run as a doctest: it writes under ``MINARI_DATASETS_PATH``)::

    dataset = minari_dataset("SlateRec-v0", "slategym/random-v0", episodes=10, seed=0)
    dataset.total_episodes  # 10
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from slategym._optional import require
from slategym.validation import check_int, check_seed

Act = Callable[[Mapping[str, np.ndarray], Any, np.random.Generator], np.ndarray]


def _random_slate(obs: Mapping[str, np.ndarray], env: Any, rng: np.random.Generator) -> np.ndarray:
    c = obs["candidate_ids"].shape[0]
    return np.argsort(rng.random(c))[: env.unwrapped.config.slate_size]


def minari_dataset(
    env_id: str,
    dataset_id: str,
    episodes: int,
    seed: int = 0,
    act: Act | None = None,
    algorithm_name: str = "uniform-random",
    **env_kwargs: Any,
) -> Any:
    """Run ``episodes`` episodes of ``env_id`` with ``act(obs, env, rng)`` (uniform random slates by
    default) and save them as the Minari dataset ``dataset_id`` (returned)."""
    minari = require("minari", "saving Minari datasets")
    check_int("episodes", episodes, 1)
    check_seed(seed)
    act = act or _random_slate
    rng = np.random.default_rng(seed)
    env = minari.DataCollector(gym.make(env_id, **env_kwargs), record_infos=False)
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(act(obs, env, rng))
            done = terminated or truncated
        obs, _ = env.reset()
    dataset = env.create_dataset(dataset_id=dataset_id, algorithm_name=algorithm_name)
    env.close()
    return dataset
