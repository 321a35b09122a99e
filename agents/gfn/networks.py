r"""The networks of GFN4Rec on top of the shared encoder: policy, flow and log Z heads.

The user state :math:`h_u` and the candidate embeddings :math:`e_i` come from
:class:`agents.encoder.ObservationEncoder` (shared with SlateQ and PPO). On top of it:

* **Generation state** :math:`s_t = (h_u, e_{a_1}, \dots, e_{a_t}, 0, \dots, 0)` of size
  ``state_dim + K item_dim``: the user state, then the chosen items in their slots, zeros after.
* **Policy head** logits :math:`\mathrm{MLP}(s_t) \cdot e_i` over the candidates ``i`` (with
  ``layer_norm``, a LayerNorm on the query vector, as GFN4Rec's ``pForwardNorm``).
* **Flow head** :math:`\log F(s_t) = \mathrm{MLP}(s_t)` on every prefix ``t = 0..K`` (DB).
* **log Z head** :math:`\log Z(u) = \mathrm{MLP}(h_u)` (TB).
"""

from __future__ import annotations

import torch
from torch import nn

from agents.encoder import EncoderConfig, ObservationEncoder
from agents.spec import AgentSpec
from agents.tensors import Candidates, ObsTensors, mlp

__all__ = ["GFNNetworks"]


class GFNNetworks(nn.Module):
    """All learnt parts of a SlateGFN (see the module docstring)."""

    def __init__(self, spec: AgentSpec, config: EncoderConfig) -> None:
        super().__init__()
        self.slate_size = spec.slate_size
        self.item_dim = config.item_dim
        self.encoder = ObservationEncoder(spec, config)
        gen_dim = config.state_dim + spec.slate_size * config.item_dim
        ln, dropout, hidden = config.layer_norm, config.dropout, config.hidden
        self.policy = mlp([gen_dim, hidden, hidden, config.item_dim], ln, dropout)
        self.query_norm: nn.Module = nn.LayerNorm(config.item_dim) if ln else nn.Identity()
        self.flow = mlp([gen_dim, hidden, hidden, 1], ln, dropout)
        self.log_z = mlp([config.state_dim, hidden, 1], ln, dropout)

    def encode(self, obs: ObsTensors) -> tuple[torch.Tensor, Candidates]:
        """User states ``(B, S)`` and the candidates' embeddings (``(B, C, D)`` in effect)."""
        user, cand = self.encoder(obs)
        return user, cand

    def logits(self, states: torch.Tensor, cand: Candidates) -> torch.Tensor:
        """Policy logits ``(B, [T,] C)`` of states ``(B, [T,] S + K D)`` over the candidates."""
        return cand.scores(self.query_norm(self.policy(states)))

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
