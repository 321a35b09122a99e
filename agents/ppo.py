"""PPO (stable-baselines3) on SlateRec-v0, through a user-state observation and a scoring action.

Why these wrappers? The candidates change at every step, so ``MultiDiscrete([C] * K)`` would ask PPO
to learn, per position, which *index* to pick with no notion of what the item at that index is; it
also produces duplicates. Instead the policy outputs a **preference vector** ``w`` over the item
feature space (``F`` numbers in [-1, 1]); every candidate is scored by ``features_c · w`` and the
slate is the top ``K`` (distinct by construction). Scoring is scale-free, so the policy only has to
point ``w`` towards what the user likes, which generalises across candidate sets. The observation the
policy sees is a flat vector describing the user and the moment (the candidates enter through the
scoring), see :func:`user_state_features`.

Both transformations are batched pure functions, used by the Gymnasium wrappers during training and
by :class:`PPOAgent.act` on vector-env or platform batches at evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.base import REQUIRED_KEYS, Feedback, check_observations, top_k
from slategym.validation import check_int

PPO_DEFAULTS: dict[str, Any] = {
    # stable-baselines3 defaults (Raffin et al., 2021), except n_steps per env (8 envs x 256 = 2048
    # transitions per update, SB3's default batch of experience). net_arch [64, 64] (separate
    # policy and value networks) is SB3's MlpPolicy default, written out.
    "learning_rate": 3e-4,
    "n_steps": 256,
    "batch_size": 64,
    "n_epochs": 10,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.0,
    "policy_kwargs": {"net_arch": [64, 64]},
}


def user_state_features(
    obs: dict[str, np.ndarray], days: int, max_session_steps: int
) -> np.ndarray:
    """Flat float32 features ``(n, P + 4 + F + 3)`` of batched observations.

    Columns: the profile (``P``); day / days, sin and cos of the hour, session step / max; the mean
    features and responses of the valid history items (``F + 2``) and the share of the history
    filled.
    """
    profile = obs["user"].astype(np.float32)
    time = obs["time"].astype(np.float32)
    angle = 2 * np.pi * time[:, 1] / 24.0
    clock = np.stack(
        [time[:, 0] / days, np.sin(angle), np.cos(angle), time[:, 2] / max_session_steps], axis=1
    )
    valid = (obs["history_ids"] >= 0).astype(np.float32)  # (n, L)
    count = valid.sum(axis=1, keepdims=True)
    mean_hist = (obs["history"] * valid[:, :, None]).sum(axis=1) / np.maximum(count, 1.0)
    fill = count / valid.shape[1]
    return np.concatenate([profile, clock.astype(np.float32), mean_hist, fill], axis=1).astype(
        np.float32
    )


def weights_to_slates(weights: np.ndarray, candidates: np.ndarray, slate_size: int) -> np.ndarray:
    """Top-``K`` candidates by ``candidates (n, C, F) · weights (n, F)``, best first, ``(n, K)``."""
    scores = np.einsum("ncf,nf->nc", candidates, weights)
    return top_k(scores, slate_size)


class UserStateObservation(gym.ObservationWrapper):
    """Replaces the Dict observation by :func:`user_state_features` (keeps the Dict for scoring)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        c = _config_of(env)
        self.days, self.max_steps = c.days, c.max_session_steps
        space = env.observation_space
        assert isinstance(space, spaces.Dict)
        dim = user_state_features(_dummy_batch(space), c.days, c.max_session_steps)
        self.observation_space = spaces.Box(-np.inf, np.inf, (dim.shape[1],), np.float32)
        self.last_dict: dict[str, np.ndarray] | None = None

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        self.last_dict = observation
        batch = {k: v[None] for k, v in observation.items()}
        return user_state_features(batch, self.days, self.max_steps)[0]


class ScoreWeightsAction(gym.ActionWrapper):
    """Action = preference weights ``Box(-1, 1, (F,))``; the env receives the top-K slate."""

    def __init__(self, env: UserStateObservation) -> None:
        super().__init__(env)
        space = env.unwrapped.observation_space
        assert isinstance(space, spaces.Dict)
        self.features = int(space["candidates"].shape[1])  # type: ignore[index]
        self.slate_size = _config_of(env).slate_size
        self.action_space = spaces.Box(-1.0, 1.0, (self.features,), np.float32)

    def action(self, action: np.ndarray) -> np.ndarray:
        obs = self.env.last_dict  # type: ignore[attr-defined]
        if obs is None:
            raise RuntimeError("reset() the env before step()")
        w = np.asarray(action, np.float32)[None]
        return weights_to_slates(w, obs["candidates"][None], self.slate_size)[0]


def _config_of(env: gym.Env) -> Any:
    return env.unwrapped.config  # type: ignore[attr-defined]


def _dummy_batch(space: spaces.Dict) -> dict[str, np.ndarray]:
    return {k: np.zeros((1, *(s.shape or ())), s.dtype) for k, s in space.spaces.items()}


def make_ppo_env(**config: Any) -> gym.Env:
    """``SlateRec-v0`` with the two PPO wrappers (what PPO trains on)."""
    import slategym  # noqa: F401

    return ScoreWeightsAction(UserStateObservation(gym.make("SlateRec-v0", **config)))


class PPOAgent:
    """stable-baselines3 PPO with the wrappers above. Train with :meth:`fit`, act on any batch.

    PPO is on-policy: it learns from the rollouts of its own :meth:`fit` loop (SB3's
    ``DummyVecEnv`` over ``n_envs`` wrapped single envs); :meth:`update` does not learn from
    externally collected feedback and returns an empty dict.
    """

    name = "ppo"
    learns = False  # update() does not learn: PPO trains on its own rollouts in fit()

    def __init__(
        self,
        slate_size: int,
        env_config: dict[str, Any] | None = None,
        seed: int = 0,
        n_envs: int = 8,
        **ppo_kwargs: Any,
    ) -> None:
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_vec_env

        self.slate_size = check_int("slate_size", slate_size, 1)
        self.env_config = dict(env_config or {})
        if self.env_config.get("slate_size", slate_size) != slate_size:
            raise ValueError(
                f"slate_size={slate_size} differs from env_config['slate_size']="
                f"{self.env_config['slate_size']}"
            )
        self.env_config["slate_size"] = slate_size
        self.seed = seed
        self.n_envs = check_int("n_envs", n_envs, 1)
        params = {**PPO_DEFAULTS, **ppo_kwargs}
        self.vec_env = make_vec_env(
            make_ppo_env, n_envs=self.n_envs, seed=seed, env_kwargs=self.env_config
        )
        probe = self.vec_env.envs[0].unwrapped  # type: ignore[attr-defined]
        self.days, self.max_steps = probe.config.days, probe.config.max_session_steps
        self.model = PPO("MlpPolicy", self.vec_env, seed=seed, verbose=0, device="cpu", **params)

    def fit(self, steps: int, progress: Callable[[int], None] | None = None) -> list[dict[str, float]]:
        """Train for ``steps`` environment steps (summed over the ``n_envs`` envs).

        Returns one dict per PPO update (one per rollout of ``n_steps * n_envs`` steps; SB3 rounds
        ``steps`` up to whole rollouts): SB3's ``train/*`` values of that update.
        """
        from stable_baselines3.common.callbacks import BaseCallback

        check_int("steps", steps, 1)
        logs: list[dict[str, float]] = []

        class _Progress(BaseCallback):
            def _on_step(self) -> bool:
                if progress is not None:
                    progress(self.training_env.num_envs)
                return True

            def _on_rollout_end(self) -> None:  # the values of the previous update, if any
                values = self.logger.name_to_value
                if values:
                    logs.append({k: float(v) for k, v in values.items()})

            def _on_training_end(self) -> None:  # the last update is not followed by a rollout
                self._on_rollout_end()

        self.model.learn(total_timesteps=steps, callback=_Progress(), reset_num_timesteps=False)
        return logs

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        check_observations(observations, self.slate_size, (*REQUIRED_KEYS, "history_ids"))
        features = user_state_features(observations, self.days, self.max_steps)
        weights, _ = self.model.predict(features, deterministic=not explore)
        return weights_to_slates(weights, observations["candidates"], self.slate_size)

    def update(self, feedback: Feedback) -> dict[str, float]:
        return {}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        self.model.save(path.with_suffix(".zip"))
        meta = {"slate_size": self.slate_size, "env_config": self.env_config, "seed": self.seed}
        path.with_suffix(".json").write_text(json.dumps(meta, default=str))

    def load(self, path: str | Path) -> None:
        from stable_baselines3 import PPO

        path = Path(path)
        self.model = PPO.load(path.with_suffix(".zip"), env=self.vec_env, device="cpu")
        meta = json.loads(path.with_suffix(".json").read_text())
        self.slate_size = int(meta["slate_size"])
