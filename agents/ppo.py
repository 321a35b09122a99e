"""PPO (stable-baselines3) on any SlateRec world, acting through a scoring action.

Why a scoring action? The candidates change at every step, so ``MultiDiscrete([C] * K)`` would ask
PPO to learn, per position, which *index* to pick with no notion of what the item at that index is;
it also produces duplicates. Instead the policy outputs a **preference vector** ``w`` over the item
feature space (``F`` numbers in [-1, 1]); every candidate is scored by ``features_c · w`` and the
slate is the top ``K`` (distinct by construction). What the policy *sees* is the shared encoder of
every learning agent through an SB3 features extractor (``features="shared"``), or the flat features
of slategym 0.1 (``features="flat"``); see :mod:`agents.ppo_features`.

PPO implements :class:`agents.base.TrainsItself`: :meth:`PPOAgent.fit` trains on ``n_envs`` envs it
builds with the ``make_env`` it is given (SB3's ``DummyVecEnv``), so it trains on any world.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import check_observations, top_k
from agents.encoder import EncoderConfig
from agents.ppo_features import FEATURES, extractor_kwargs, policy_space, policy_view
from agents.spec import AgentSpec, spec_of
from agents.tensors import OBS_KEYS
from slategym.validation import check_int

__all__ = ["PPO_DEFAULTS", "PPOAgent", "ScoringWrapper", "weights_to_slates"]

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


def weights_to_slates(weights: np.ndarray, candidates: np.ndarray, slate_size: int) -> np.ndarray:
    """Top-``K`` candidates by ``candidates (n, C, F) · weights (n, F)``, best first, ``(n, K)``."""
    scores = np.einsum("ncf,nf->nc", candidates, weights)
    return top_k(scores, slate_size)


class ScoringWrapper(gym.Wrapper):
    """A SlateRec env as PPO trains on it: the policy's view of the observation, and preference
    weights ``Box(-1, 1, (F,))`` as the action (the env receives their top-K slate)."""

    def __init__(self, env: gym.Env, spec: AgentSpec, features: str) -> None:
        super().__init__(env)
        self.agent_spec, self.features = spec, features  # (gym.Wrapper.spec is the EnvSpec)
        self.observation_space = policy_space(spec, features)
        self.action_space = spaces_box(spec.num_features)
        self._last: dict[str, np.ndarray] | None = None

    def _view(self, obs: dict[str, np.ndarray]) -> Any:
        self._last = obs
        batch = policy_view({k: np.asarray(v)[None] for k, v in obs.items()}, self.agent_spec,
                            self.features)  # fmt: skip
        return batch[0] if isinstance(batch, np.ndarray) else {k: v[0] for k, v in batch.items()}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return self._view(obs), info

    def step(self, action: np.ndarray) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if self._last is None:
            raise RuntimeError("reset() the env before step()")
        w = np.asarray(action, np.float32)[None]
        slate = weights_to_slates(w, self._last["candidates"][None], self.agent_spec.slate_size)[0]
        obs, reward, terminated, truncated, info = self.env.step(slate)
        return self._view(obs), reward, terminated, truncated, info


def spaces_box(dim: int) -> gym.spaces.Box:
    return gym.spaces.Box(-1.0, 1.0, (dim,), np.float32)


def _env_seed(seed: int, index: int) -> int:
    """The reset seed of training env ``index``: keyed by ``(seed, index)``, never shared."""
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1)[0])


class PPOAgent:
    """stable-baselines3 PPO over a scoring action. Train with :meth:`fit`, act on any batch.

    Args:
        spec: the world's sizes.
        seed: seed of the policy initialisation and of the training envs (env ``i`` is reset with a
            seed keyed by ``(seed, i)``). SB3's ``PPO(seed=...)`` also seeds the global ``random``,
            numpy and torch generators.
        n_envs: training envs of :meth:`fit` (8).
        features: ``"shared"`` (the shared encoder) or ``"flat"`` (:mod:`agents.ppo_features`).
        encoder: the shared encoder's sizes (``features="shared"`` only).
        **ppo_kwargs: SB3 ``PPO`` arguments overriding :data:`PPO_DEFAULTS`.
    """

    name = "ppo"

    def __init__(self, spec: AgentSpec, seed: int = 0, n_envs: int = 8, features: str = "shared",
                 encoder: EncoderConfig | dict[str, Any] | None = None,
                 **ppo_kwargs: Any) -> None:  # fmt: skip
        from stable_baselines3 import PPO

        self.spec = spec_of(spec)
        self.seed = int(seed)
        self.n_envs = check_int("n_envs", n_envs, 1)
        if features not in FEATURES:
            raise ValueError(f"features={features!r} is not allowed: expected one of {FEATURES}")
        self.features = features
        self.encoder = EncoderConfig.coerce(encoder)
        params = {**PPO_DEFAULTS, **ppo_kwargs}
        policy_kwargs = dict(params.pop("policy_kwargs", None) or {})
        if features == "shared":
            policy_kwargs.update(extractor_kwargs(self.spec, self.encoder))
        policy = "MultiInputPolicy" if features == "shared" else "MlpPolicy"
        self.model = PPO(policy, None, seed=self.seed, verbose=0, device="cpu",  # type: ignore[arg-type]
                         policy_kwargs=policy_kwargs, _init_setup_model=False, **params)  # fmt: skip
        self.model.observation_space = policy_space(self.spec, features)
        self.model.action_space = spaces_box(self.spec.num_features)
        self.model.n_envs = self.n_envs
        self.model._setup_model()
        self._quiet_logger()
        self._make_env: Callable[[], gym.Env] | None = None

    @classmethod
    def from_spec(cls, spec: AgentSpec, seed: int = 0, **options: Any) -> PPOAgent:
        """An agent for ``spec`` (``options``: the constructor's keywords)."""
        return cls(spec, seed=seed, **options)

    def _quiet_logger(self) -> None:
        """Keep SB3's values in memory only: its default logger makes an ``SB3-*`` folder in the
        temp directory on every ``learn`` call."""
        from stable_baselines3.common.logger import Logger

        self.model.set_logger(Logger(folder=None, output_formats=[]))

    def _training_envs(self, make_env: Callable[[], gym.Env]) -> Any:
        from stable_baselines3.common.monitor import Monitor
        from stable_baselines3.common.vec_env import DummyVecEnv

        def factory(index: int) -> Callable[[], gym.Env]:
            def build() -> gym.Env:
                env = ScoringWrapper(Monitor(make_env()), self.spec, self.features)
                env.reset(seed=_env_seed(self.seed, index))  # later resets continue this stream
                return env

            return build

        return DummyVecEnv([factory(i) for i in range(self.n_envs)])

    def fit(self, make_env: Callable[[], gym.Env], steps: int,
            progress: Callable[[int], None] | None = None) -> list[dict[str, float]]:  # fmt: skip
        """Train for ``steps`` environment steps (summed over the ``n_envs`` envs of ``make_env``).

        Returns one dict per PPO update (one per rollout of ``n_steps * n_envs`` steps; SB3 rounds
        ``steps`` up to whole rollouts): SB3's ``train/*`` values of that update.
        """
        from stable_baselines3.common.callbacks import BaseCallback

        check_int("steps", steps, 1)
        if make_env is not self._make_env:
            self.model.set_env(self._training_envs(make_env))
            self._make_env = make_env
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
        check_observations(observations, self.spec.slate_size, OBS_KEYS)
        view = policy_view(observations, self.spec, self.features)
        weights, _ = self.model.predict(view, deterministic=not explore)
        return weights_to_slates(weights, observations["candidates"], self.spec.slate_size)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        self.model.save(path.with_suffix(".zip"))
        meta = {"spec": dataclasses.asdict(self.spec), "features": self.features, "seed": self.seed,
                "n_envs": self.n_envs}  # fmt: skip
        path.with_suffix(".json").write_text(json.dumps(meta))

    def load(self, path: str | Path) -> None:
        from stable_baselines3 import PPO

        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        self.spec, self.features = AgentSpec(**meta["spec"]), meta["features"]
        self.model = PPO.load(path.with_suffix(".zip"), device="cpu")
        self._quiet_logger()
        self._make_env = None
