"""What PPO's policy sees: the shared encoder as an SB3 features extractor, or the flat features.

* ``features="shared"`` (default): the observation keys of :data:`agents.tensors.OBS_KEYS`, as
  float32 Boxes, go through :class:`SharedEncoderExtractor`, an SB3 ``BaseFeaturesExtractor``
  around :class:`agents.encoder.ObservationEncoder` (the encoder of SlateQ and the GFlowNets: item-id
  embeddings, features, history with responses). Its output is the user state :math:`h_u` joined
  with an attention summary of the candidates, :math:`\\sum_i \\mathrm{softmax}_i(W h_u \\cdot e_i)
  e_i`, so the policy also sees what is on offer (``S + D`` numbers).
* ``features="flat"`` (the PPO of slategym 0.1): :func:`user_state_features`, a flat vector of the
  profile, the moment and the *mean* features and responses of the history (no item ids).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.encoder import EncoderConfig, ObservationEncoder
from agents.spec import AgentSpec
from agents.tensors import OBS_KEYS, to_tensors

__all__ = ["FEATURES", "SharedEncoderExtractor", "extractor_kwargs", "policy_space", "policy_view",
           "user_state_features"]

FEATURES = ("shared", "flat")


def user_state_features(obs: dict[str, np.ndarray], spec: AgentSpec) -> np.ndarray:
    """Flat float32 features ``(n, P + 4 + F + R + 1)`` of batched observations (``"flat"``).

    Columns: the profile (``P``); day / days, sin and cos of the hour, session step / max; the mean
    features and responses of the valid history items (``F + R``) and the share of the history
    filled.
    """
    profile = obs["user"].astype(np.float32)
    time = obs["time"].astype(np.float32)
    angle = 2 * np.pi * time[:, 1] / spec.hours
    clock = np.stack([time[:, 0] / spec.days, np.sin(angle), np.cos(angle),
                      time[:, 2] / spec.max_session_steps], axis=1)  # fmt: skip
    valid = (obs["history_ids"] >= 0).astype(np.float32)  # (n, L)
    count = valid.sum(axis=1, keepdims=True)
    mean_hist = (obs["history"] * valid[:, :, None]).sum(axis=1) / np.maximum(count, 1.0)
    fill = count / valid.shape[1]
    return np.concatenate([profile, clock.astype(np.float32), mean_hist, fill], axis=1).astype(
        np.float32
    )


def policy_space(spec: AgentSpec, features: str) -> spaces.Space:
    """The observation space of PPO's policy for ``features``."""
    if features == "flat":
        dim = spec.profile_dim + 4 + spec.num_features + spec.response_dim + 1
        return spaces.Box(-np.inf, np.inf, (dim,), np.float32)
    c, f, h = spec.num_candidates, spec.num_features, spec.history_length
    shapes = {"user": (spec.profile_dim,), "candidates": (c, f), "candidate_ids": (c,),
              "history_ids": (h,), "history": (h, f + spec.response_dim), "time": (3,)}  # fmt: skip
    return spaces.Dict({k: spaces.Box(-np.inf, np.inf, shapes[k], np.float32) for k in OBS_KEYS})


def policy_view(obs: dict[str, np.ndarray], spec: AgentSpec, features: str) -> Any:
    """Batched observations as the policy sees them (``(n, ...)``)."""
    if features == "flat":
        return user_state_features(obs, spec)
    return {k: np.asarray(obs[k], np.float32) for k in OBS_KEYS}


class SharedEncoderExtractor(BaseFeaturesExtractor):
    """SB3 features extractor: the shared encoder's user state and attention-pooled candidates.

    Built by SB3 as ``SharedEncoderExtractor(observation_space, spec=..., encoder=...)`` (plain
    dicts, so that the policy's keyword arguments are saved with the model).
    """

    def __init__(self, observation_space: gym.Space, spec: dict[str, int],
                 encoder: dict[str, Any]) -> None:  # fmt: skip
        config = EncoderConfig.coerce(encoder)
        super().__init__(observation_space, config.state_dim + config.item_dim)
        self.history_length = config.history_length
        self.encoder = ObservationEncoder(AgentSpec(**spec), config)
        self.attend = nn.Linear(config.state_dim, config.item_dim)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        user, cand = self.encoder(to_tensors(observations, self.history_length))
        emb = cand.dense()  # (B, C, D)
        weights = torch.softmax(cand.scores(self.attend(user)), dim=-1)  # (B, C)
        pooled = (weights[:, :, None] * emb).sum(dim=1)  # (B, D)
        return torch.cat([user, pooled], dim=-1)


def extractor_kwargs(spec: AgentSpec, encoder: EncoderConfig) -> dict[str, Any]:
    """``policy_kwargs`` entries that plug :class:`SharedEncoderExtractor` into an SB3 policy."""
    return {
        "features_extractor_class": SharedEncoderExtractor,
        "features_extractor_kwargs": {"spec": dataclasses.asdict(spec),
                                      "encoder": dataclasses.asdict(encoder)},  # fmt: skip
    }
