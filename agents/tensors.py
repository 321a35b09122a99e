"""Observations as torch tensors for the learning agents: validation, conversion, MLPs.

Shared by the encoder (:mod:`agents.encoder`), SlateQ, the GFlowNets and the PPO features extractor,
so that every learning agent reads the same keys the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.base import check_observations
from agents.spec import AgentSpec

__all__ = ["OBS_KEYS", "Candidates", "ObsTensors", "check_batch", "mlp", "to_tensors"]

OBS_KEYS = ("user", "candidates", "candidate_ids", "history_ids", "history", "time")
"""The observation keys the learning agents read (``candidate_topics`` is not used)."""


@dataclass(frozen=True)
class ObsTensors:
    """The observation keys the encoder reads, as tensors."""

    user: torch.Tensor  # (B, P) float32 profile
    candidates: torch.Tensor  # (B, C, F) float32 item features
    candidate_ids: torch.Tensor  # (B, C) int64
    history_ids: torch.Tensor  # (B, H) int64, -1 = empty
    history: torch.Tensor  # (B, H, F + R) float32 features, then the R responses
    time: torch.Tensor  # (B, 3) float32 day, hour, session step

    @property
    def size(self) -> int:
        return int(self.user.shape[0])


def check_batch(obs: Any, spec: AgentSpec) -> int:
    """Validate a batch of observations against ``spec``; returns the batch size ``n``.

    Raises ValueError on a missing key, a wrong shape, ids outside ``[0, num_items)`` (``-1``
    allowed in the history) or ``slate_size`` larger than the number of candidates.
    """
    n = check_observations(obs, spec.slate_size, OBS_KEYS)
    c = np.shape(obs["candidates"])[1]
    f, p, r = spec.num_features, spec.profile_dim, spec.response_dim
    length = np.shape(obs["history_ids"])[1:]
    expected = {
        "user": (n, p),
        "candidates": (n, c, f),
        "candidate_ids": (n, c),
        "history_ids": (n, *length),
        "history": (n, *length, f + r),
        "time": (n, 3),
    }
    for key, shape in expected.items():
        if np.shape(obs[key]) != shape or len(length) != 1:
            raise ValueError(
                f"observations[{key!r}] has shape {np.shape(obs[key])}, expected {shape} "
                f"(profile_dim={p}, num_features={f}, history (n, L, F + {r}), time (n, 3))"
            )
    ids, hist = np.asarray(obs["candidate_ids"]), np.asarray(obs["history_ids"])
    top = spec.num_items - 1
    if ids.size and (ids.min() < 0 or ids.max() > top):
        raise ValueError(f"candidate_ids outside [0, {top}] (num_items={spec.num_items})")
    if hist.size and (hist.min() < -1 or hist.max() > top):
        raise ValueError(f"history_ids outside [-1, {top}] (num_items={spec.num_items})")
    return n


def to_tensors(obs: dict[str, Any], history_length: int) -> ObsTensors:
    """Batched observations (numpy or torch) as :class:`ObsTensors`, keeping the last
    ``history_length`` history slots."""
    h = int(history_length)

    def as_tensor(key: str, dtype: torch.dtype) -> torch.Tensor:
        value = obs[key]
        if isinstance(value, torch.Tensor):
            return value.to(dtype)
        return torch.as_tensor(np.asarray(value), dtype=dtype)

    return ObsTensors(
        user=as_tensor("user", torch.float32),
        candidates=as_tensor("candidates", torch.float32),
        candidate_ids=as_tensor("candidate_ids", torch.int64),
        history_ids=as_tensor("history_ids", torch.int64)[:, -h:],
        history=as_tensor("history", torch.float32)[:, -h:],
        time=as_tensor("time", torch.float32),
    )


def mlp(sizes: list[int], layer_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last).

    ``layer_norm`` and ``dropout`` add, after every hidden ReLU, ``Dropout`` then ``LayerNorm`` (the
    order of GFN4Rec's ``DNN`` block).
    """
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            if layer_norm:
                layers.append(nn.LayerNorm(sizes[i + 1]))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class Candidates:
    """Candidate embeddings: per place ``(B, C, D)``, or distinct items ``(U, D)`` and an index."""

    table: torch.Tensor  # (B, C, D), or (U, D) when index is set
    index: torch.Tensor | None  # (B, C) int64 rows of table, or None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(B, C, D)``."""
        if self.index is None:
            b, c, d = self.table.shape
            return int(b), int(c), int(d)
        return int(self.index.shape[0]), int(self.index.shape[1]), int(self.table.shape[1])

    def dense(self) -> torch.Tensor:
        """Every place's embedding ``(B, C, D)``."""
        return self.table if self.index is None else self.table[self.index]

    def scores(self, query: torch.Tensor) -> torch.Tensor:
        """``query (B, D)`` or ``(B, T, D)`` dotted with every candidate: ``(B, C)`` / ``(B, T, C)``."""
        squeeze = query.ndim == 2
        q = query[:, None, :] if squeeze else query  # (B, T, D)
        if self.index is None:
            out = torch.bmm(q, self.table.transpose(1, 2))  # (B, T, C)
        else:
            per_item = q @ self.table.T  # (B, T, U)
            index = self.index[:, None, :].expand(-1, q.shape[1], -1)  # (B, T, C)
            out = per_item.gather(2, index)
        return out[:, 0] if squeeze else out

    def take(self, positions: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(B, T, D)`` of candidate ``positions (B, T)``."""
        if self.index is None:
            return self.table[torch.arange(positions.shape[0])[:, None], positions]
        return self.table[self.index.gather(1, positions)]
