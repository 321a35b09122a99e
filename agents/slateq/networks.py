r"""SlateQ's networks on the shared encoder: item values, the null item's value, choice scores.

From the user state :math:`h_u` and candidate embeddings :math:`e_i` of
:class:`agents.encoder.ObservationEncoder`:

* :math:`\bar Q(s, i) = \mathrm{MLP}_Q([h_u, e_i])` for every candidate (``(B, C)``);
* :math:`\bar Q(s, \bot) = \mathrm{MLP}_\bot(h_u)` (``(B,)``), the value of no click;
* :math:`u(s, i) = \mathrm{MLP}_u([h_u, e_i])`, the MNL scores of the estimated choice model (the
  null score is fixed at 0, see :mod:`agents.slateq.choice`).

One encoder serves the three heads. The target network is a frozen copy of the whole module whose
value heads give :math:`\bar Q^-`.
"""

from __future__ import annotations

import torch
from torch import nn

from agents.encoder import EncoderConfig, ObservationEncoder
from agents.spec import AgentSpec
from agents.tensors import ObsTensors, mlp

__all__ = ["SlateQNetworks"]


class SlateQNetworks(nn.Module):
    """See the module docstring."""

    def __init__(self, spec: AgentSpec, config: EncoderConfig) -> None:
        super().__init__()
        self.encoder = ObservationEncoder(spec, config)
        pair = config.state_dim + config.item_dim
        ln, dropout, hidden = config.layer_norm, config.dropout, config.hidden
        self.item_q = mlp([pair, hidden, hidden, 1], ln, dropout)
        self.null_q = mlp([config.state_dim, hidden, 1], ln, dropout)
        self.choice = mlp([pair, hidden, 1], ln, dropout)

    def _pairs(self, obs: ObsTensors) -> tuple[torch.Tensor, torch.Tensor]:
        user, cand = self.encoder(obs)  # (B, S), (B, C, D)
        emb = cand.dense()
        pairs = torch.cat([user[:, None, :].expand(-1, emb.shape[1], -1), emb], dim=-1)
        return user, pairs  # (B, S), (B, C, S + D)

    def forward(self, obs: ObsTensors) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Item values ``(B, C)``, null values ``(B,)`` and choice scores ``(B, C)``."""
        user, pairs = self._pairs(obs)
        return (self.item_q(pairs).squeeze(-1), self.null_q(user).squeeze(-1),
                self.choice(pairs).squeeze(-1))  # fmt: skip
