r"""The networks of GFN4Rec: item embedding, user-state encoder, policy, flow and log Z heads.

* **Item embedding** :math:`e_i = E_{\mathrm{id}}[i] + \mathrm{MLP}(x_i)`: a learnt vector per item
  id plus an MLP of the observable item features (``item_dim`` = 32).
* **User state** :math:`h_u`: an MLP of the profile, and a causal transformer (2 layers, 4 heads,
  feed-forward 64, as in the paper) over the history items (item embedding and the two observed
  responses, with a learnt position embedding), masked on empty slots (``history_ids == -1``); its
  output at the last valid position (a learnt vector when the history is empty) joins the profile
  code in an MLP to a ``state_dim`` = 32 vector.
* **Generation state** :math:`s_t = (h_u, e_{a_1}, \dots, e_{a_t}, 0, \dots, 0)` of size
  ``state_dim + K item_dim``: the user state, then the chosen items in their slots, zeros after.
* **Policy head** logits :math:`\mathrm{MLP}(s_t) \cdot e_i` over the candidates ``i``.
* **Flow head** :math:`\log F(s_t) = \mathrm{MLP}(s_t)` on every prefix ``t = 0..K`` (DB).
* **log Z head** :math:`\log Z(u) = \mathrm{MLP}(h_u)` (TB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.base import check_observations

__all__ = [
    "OBS_KEYS",
    "Candidates",
    "GFNNetworks",
    "ObsTensors",
    "check_batch",
    "mlp",
    "to_tensors",
]

OBS_KEYS = ("user", "candidates", "candidate_ids", "history_ids", "history")
"""The observation keys the networks read (``candidate_topics`` and ``time`` are not used)."""


@dataclass(frozen=True)
class ObsTensors:
    """The observation keys the networks read, as tensors."""

    user: torch.Tensor  # (B, P) float32 profile
    candidates: torch.Tensor  # (B, C, F) float32 item features
    candidate_ids: torch.Tensor  # (B, C) int64
    history_ids: torch.Tensor  # (B, H) int64, -1 = empty
    history: torch.Tensor  # (B, H, F + 2) float32 features, purchased, dwell / 30

    @property
    def size(self) -> int:
        return int(self.user.shape[0])


def check_batch(
    obs: Any, slate_size: int, num_items: int, num_features: int, profile_dim: int
) -> int:
    """Validate a batch of observations for networks of these sizes; returns the batch size ``n``.

    Raises ValueError on a missing key, a wrong shape, ids outside ``[0, num_items)`` (``-1``
    allowed in the history) or ``slate_size`` larger than the number of candidates.
    """
    n = check_observations(obs, slate_size, OBS_KEYS)
    c = np.shape(obs["candidates"])[1]
    f, p = num_features, profile_dim
    length = np.shape(obs["history_ids"])[1:]
    expected = {
        "user": (n, p),
        "candidates": (n, c, f),
        "candidate_ids": (n, c),
        "history_ids": (n, *length),
        "history": (n, *length, f + 2),
    }
    for key, shape in expected.items():
        if np.shape(obs[key]) != shape or len(length) != 1:
            raise ValueError(
                f"observations[{key!r}] has shape {np.shape(obs[key])}, expected {shape} "
                f"(profile_dim={p}, num_features={f}, history (n, L, F + 2))"
            )
    ids, hist = np.asarray(obs["candidate_ids"]), np.asarray(obs["history_ids"])
    if ids.size and (ids.min() < 0 or ids.max() >= num_items):
        raise ValueError(f"candidate_ids outside [0, {num_items - 1}] (num_items={num_items})")
    if hist.size and (hist.min() < -1 or hist.max() >= num_items):
        raise ValueError(f"history_ids outside [-1, {num_items - 1}] (num_items={num_items})")
    return n


def to_tensors(obs: dict[str, np.ndarray], history_length: int) -> ObsTensors:
    """Batched numpy observations to :class:`ObsTensors`, keeping the last ``history_length`` slots."""
    h = int(history_length)
    return ObsTensors(
        user=torch.as_tensor(np.asarray(obs["user"], np.float32)),
        candidates=torch.as_tensor(np.asarray(obs["candidates"], np.float32)),
        candidate_ids=torch.as_tensor(np.asarray(obs["candidate_ids"], np.int64)),
        history_ids=torch.as_tensor(np.asarray(obs["history_ids"], np.int64)[:, -h:]),
        history=torch.as_tensor(np.asarray(obs["history"], np.float32)[:, -h:]),
    )


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
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


class ItemEncoder(nn.Module):
    """:math:`e_i = E_{id}[i] + MLP(x_i)`; id ``-1`` (empty slot) gets a zero id vector."""

    def __init__(self, num_items: int, num_features: int, dim: int, hidden: int) -> None:
        super().__init__()
        self.num_items = num_items
        self.ids = nn.Embedding(num_items + 1, dim, padding_idx=num_items)
        nn.init.normal_(self.ids.weight, std=0.1)
        with torch.no_grad():
            self.ids.weight[num_items].zero_()
        self.features = mlp([num_features, hidden, dim])

    def forward(self, ids: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        # ids (...,) int64 in [-1, num_items); features (..., F) -> (..., dim)
        safe = torch.where(ids < 0, torch.full_like(ids, self.num_items), ids)
        return self.ids(safe) + self.features(features)

    def embed_candidates(self, ids: torch.Tensor, features: torch.Tensor) -> Candidates:
        """Embeddings of candidates ``ids (B, C)`` with ``features (B, C, F)``.

        A batch usually repeats items (every row holds them all when the candidates are the whole
        catalog). When an id always comes with the same features and there are at most ``C``
        distinct ids, each distinct item is embedded once and the policy scores the distinct items
        (:class:`Candidates`); otherwise every place is embedded.
        """
        b, c = ids.shape
        flat_ids = ids.reshape(-1)  # (N,)
        flat_features = features.reshape(-1, features.shape[-1])  # (N, F)
        unique, inverse = torch.unique(flat_ids, return_inverse=True)  # (U,), (N,)
        if unique.numel() <= c:
            first = torch.full((unique.numel(),), flat_ids.numel(), dtype=torch.int64)
            first = first.scatter_reduce(0, inverse, torch.arange(flat_ids.numel()), "amin")
            unique_features = flat_features[first]  # (U, F)
            if torch.equal(unique_features[inverse], flat_features):
                return Candidates(self.forward(unique, unique_features), inverse.reshape(b, c))
        return Candidates(self.forward(ids, features), None)


class UserEncoder(nn.Module):
    """Profile MLP + causal transformer over the history, merged into a ``state_dim`` vector."""

    def __init__(
        self,
        profile_dim: int,
        item_dim: int,
        state_dim: int,
        hidden: int,
        history_length: int,
        heads: int,
        feedforward: int,
        layers: int,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.profile = mlp([profile_dim, hidden, state_dim])
        self.token = nn.Linear(item_dim + 2, state_dim)
        self.position = nn.Parameter(torch.zeros(history_length, state_dim))
        nn.init.normal_(self.position, std=0.1)
        layer = nn.TransformerEncoderLayer(
            state_dim, heads, feedforward, dropout=0.0, batch_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.empty = nn.Parameter(torch.zeros(state_dim))
        self.merge = mlp([2 * state_dim, hidden, state_dim])

    def forward(
        self,
        profile: torch.Tensor,
        hist_emb: torch.Tensor,
        responses: torch.Tensor,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        # profile (B, P); hist_emb (B, H, D); responses (B, H, 2); valid (B, H) bool -> (B, S)
        b, h = valid.shape
        tokens = self.token(torch.cat([hist_emb, responses], dim=-1))  # (B, H, S)
        tokens = tokens + self.position[-h:]
        # Position i attends to valid j <= i, and always to itself (no empty softmax rows; an empty
        # slot's output is never read by a valid one).
        causal = torch.ones(h, h, dtype=torch.bool).tril()  # (H, H)
        eye = torch.eye(h, dtype=torch.bool)
        allowed = (causal & valid[:, None, :]) | eye  # (B, H, H)
        mask = (~allowed).repeat_interleave(self.heads, dim=0)  # (B * heads, H, H), True = blocked
        out = self.transformer(tokens, mask=mask)  # (B, H, S)
        positions = torch.arange(h).expand(b, h)
        last = torch.where(valid, positions, torch.full_like(positions, -1)).max(dim=1).values
        summary = out[torch.arange(b), last.clamp(min=0)]  # (B, S)
        summary = torch.where((last >= 0)[:, None], summary, self.empty.expand(b, -1))
        return self.merge(torch.cat([self.profile(profile), summary], dim=-1))


class GFNNetworks(nn.Module):
    """All learnt parts of a SlateGFN (see the module docstring)."""

    def __init__(
        self,
        slate_size: int,
        num_items: int,
        num_features: int,
        profile_dim: int,
        item_dim: int = 32,
        state_dim: int = 32,
        hidden: int = 64,
        history_length: int = 50,
        heads: int = 4,
        feedforward: int = 64,
        layers: int = 2,
    ) -> None:
        super().__init__()
        self.slate_size = slate_size
        self.item_dim = item_dim
        self.item = ItemEncoder(num_items, num_features, item_dim, hidden)
        self.user = UserEncoder(
            profile_dim, item_dim, state_dim, hidden, history_length, heads, feedforward, layers
        )
        gen_dim = state_dim + slate_size * item_dim
        self.policy = mlp([gen_dim, hidden, hidden, item_dim])
        self.flow = mlp([gen_dim, hidden, hidden, 1])
        self.log_z = mlp([state_dim, hidden, 1])

    def encode(self, obs: ObsTensors) -> tuple[torch.Tensor, Candidates]:
        """User states ``(B, S)`` and the candidates' embeddings (``(B, C, D)`` in effect)."""
        num_features = obs.candidates.shape[-1]
        cand = self.item.embed_candidates(obs.candidate_ids, obs.candidates)
        valid = obs.history_ids >= 0  # (B, H)
        hist = self.item(obs.history_ids, obs.history[..., :num_features])  # (B, H, D)
        user = self.user(obs.user, hist, obs.history[..., num_features:], valid)  # (B, S)
        return user, cand

    def logits(self, states: torch.Tensor, cand: Candidates) -> torch.Tensor:
        """Policy logits ``(B, [T,] C)`` of states ``(B, [T,] S + K D)`` over the candidates."""
        return cand.scores(self.policy(states))

    def log_flow(self, states: torch.Tensor) -> torch.Tensor:
        """``log F(s)`` of states ``(..., S + K D)`` -> ``(...)``."""
        return self.flow(states).squeeze(-1)

    def log_partition(self, user: torch.Tensor) -> torch.Tensor:
        """``log Z(u)`` of user states ``(B, S)`` -> ``(B,)``."""
        return self.log_z(user).squeeze(-1)

    def prefix_states(self, user: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """Every prefix state ``s_0..s_K`` ``(B, K+1, S + K D)`` from ``chosen`` ``(B, K, D)``."""
        b, k, d = chosen.shape
        keep = torch.ones(k + 1, k, dtype=torch.bool).tril(diagonal=-1)  # (K+1, K): slot j < t
        slots = chosen[:, None, :, :] * keep[None, :, :, None].to(chosen.dtype)  # (B, K+1, K, D)
        users = user[:, None, :].expand(b, k + 1, user.shape[-1])  # (B, K+1, S)
        return torch.cat([users, slots.reshape(b, k + 1, k * d)], dim=-1)
