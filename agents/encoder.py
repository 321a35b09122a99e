r"""The shared observation encoder of every learning agent (SlateQ, the GFlowNets, PPO).

One module turns a batch of observations into a **user state** :math:`h_u` and one **embedding per
candidate** :math:`e_i`, from the same inputs for every agent, so that differences between the
agents come from their algorithms, not from what they see:

* **Item embedding** :math:`e_i = E_{\mathrm{id}}[i] + \mathrm{MLP}(x_i)`: a learnt vector per item
  id plus an MLP of the observable item features (``item_dim``). An empty history slot (id ``-1``)
  has a zero id vector.
* **History**: a causal transformer over the clicked history items (item embedding and the ``R``
  observed responses, with a learnt position embedding; ``heads``, ``feedforward``, ``layers``),
  masked on empty slots; its output at the last valid position (a learnt vector when the history is
  empty) summarises the history.
* **User state** :math:`h_u = \mathrm{MLP}([\mathrm{MLP}(p_u, \tau), \text{history summary}])` of
  size ``state_dim``, with :math:`p_u` the profile and :math:`\tau` the moment (day / days, sine and
  cosine of the hour, session step / max; ``use_time``).

``layer_norm`` and ``dropout`` add a LayerNorm / Dropout after every hidden layer of the MLPs (and
dropout inside the transformer), as GFN4Rec's networks do; both are off by default.

Example:
    >>> import gymnasium as gym, slategym, torch
    >>> from agents.encoder import EncoderConfig, ObservationEncoder
    >>> from agents.spec import AgentSpec
    >>> from agents.tensors import to_tensors
    >>> env = gym.make_vec("SlateRec-v0", num_envs=3, vectorization_mode="vector_entry_point")
    >>> obs, _ = env.reset(seed=0)
    >>> encoder = ObservationEncoder(AgentSpec.from_env(env), EncoderConfig(history_length=10))
    >>> user, cand = encoder(to_tensors(obs, 10))
    >>> tuple(user.shape), cand.shape
    ((3, 32), (3, 50, 32))
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from agents.spec import AgentSpec
from agents.tensors import Candidates, ObsTensors, mlp

__all__ = ["EncoderConfig", "ItemEncoder", "ObservationEncoder", "UserEncoder"]


@dataclass(frozen=True)
class EncoderConfig:
    """Sizes of the shared encoder (defaults: GFN4Rec's 32-d state and 2-layer, 4-head history
    transformer with feed-forward 64 over the last 50 items).

    Attributes:
        item_dim: ``D``, item embedding size (32).
        state_dim: ``S``, user state size (32).
        hidden: width of the hidden MLP layers (64).
        history_length: most recent history slots read (50; SlateRec's history holds 10).
        heads, feedforward, layers: the history transformer (4, 64, 2).
        dropout: dropout rate of the MLPs and the transformer (0.0).
        layer_norm: LayerNorm after every hidden MLP layer (False).
        use_time: feed the moment (day, hour, session step) to the user state (True).
    """

    item_dim: int = 32
    state_dim: int = 32
    hidden: int = 64
    history_length: int = 50
    heads: int = 4
    feedforward: int = 64
    layers: int = 2
    dropout: float = 0.0
    layer_norm: bool = False
    use_time: bool = True

    def __post_init__(self) -> None:
        for name in ("item_dim", "state_dim", "hidden", "history_length", "heads", "feedforward",
                     "layers"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} is not allowed: expected an integer >= 1")
        if self.state_dim % self.heads:
            raise ValueError(
                f"heads={self.heads} is not allowed: expected a divisor of state_dim={self.state_dim}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout!r} is not allowed: expected a value in [0, 1)")
        for name in ("layer_norm", "use_time"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected a bool")

    @classmethod
    def coerce(cls, value: Any) -> EncoderConfig:
        """``value`` itself, or an EncoderConfig from a dict of its fields (None: the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValueError(f"encoder has unknown field(s) {unknown}: expected {sorted(known)}")
            return cls(**value)
        raise ValueError(f"encoder={value!r} is not allowed: expected an EncoderConfig or a dict")

    def replace(self, **changes: Any) -> EncoderConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


class ItemEncoder(nn.Module):
    """:math:`e_i = E_{id}[i] + MLP(x_i)`; id ``-1`` (empty slot) gets a zero id vector."""

    def __init__(self, num_items: int, num_features: int, config: EncoderConfig) -> None:
        super().__init__()
        self.num_items = num_items
        self.ids = nn.Embedding(num_items + 1, config.item_dim, padding_idx=num_items)
        nn.init.normal_(self.ids.weight, std=0.1)
        with torch.no_grad():
            self.ids.weight[num_items].zero_()
        self.features = mlp([num_features, config.hidden, config.item_dim], config.layer_norm,
                            config.dropout)  # fmt: skip

    def forward(self, ids: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        # ids (...,) int64 in [-1, num_items); features (..., F) -> (..., D)
        safe = torch.where(ids < 0, torch.full_like(ids, self.num_items), ids)
        return self.ids(safe) + self.features(features)

    def embed_candidates(self, ids: torch.Tensor, features: torch.Tensor) -> Candidates:
        """Embeddings of candidates ``ids (B, C)`` with ``features (B, C, F)``.

        A batch usually repeats items (every row holds them all when the candidates are the whole
        catalog). When an id always comes with the same features and there are at most ``C``
        distinct ids, each distinct item is embedded once (:class:`Candidates` with an index);
        otherwise every place is embedded.
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
    """Profile (and moment) MLP + causal transformer over the history, merged into ``S`` numbers."""

    def __init__(self, profile_dim: int, response_dim: int, config: EncoderConfig) -> None:
        super().__init__()
        c = config
        self.heads = c.heads
        self.profile = mlp([profile_dim + (4 if c.use_time else 0), c.hidden, c.state_dim],
                           c.layer_norm, c.dropout)  # fmt: skip
        self.token = nn.Linear(c.item_dim + response_dim, c.state_dim)
        self.position = nn.Parameter(torch.zeros(c.history_length, c.state_dim))
        nn.init.normal_(self.position, std=0.1)
        layer = nn.TransformerEncoderLayer(
            c.state_dim, c.heads, c.feedforward, dropout=c.dropout, batch_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.empty = nn.Parameter(torch.zeros(c.state_dim))
        self.merge = mlp([2 * c.state_dim, c.hidden, c.state_dim], c.layer_norm, c.dropout)

    def forward(
        self,
        profile: torch.Tensor,
        hist_emb: torch.Tensor,
        responses: torch.Tensor,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        # profile (B, P [+ 4]); hist_emb (B, H, D); responses (B, H, R); valid (B, H) -> (B, S)
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


class ObservationEncoder(nn.Module):
    """User states ``(B, S)`` and candidate embeddings ``(B, C, D)`` of a batch (module docstring)."""

    def __init__(self, spec: AgentSpec, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.config = config = EncoderConfig.coerce(config)
        self.item = ItemEncoder(spec.num_items, spec.num_features, config)
        self.user = UserEncoder(spec.profile_dim, spec.response_dim, config)

    def moment(self, time: torch.Tensor) -> torch.Tensor:
        """``(B, 4)``: day / days, sine and cosine of the hour, session step / max steps."""
        s = self.spec
        angle = 2 * math.pi * time[:, 1] / s.hours
        return torch.stack([time[:, 0] / s.days, torch.sin(angle), torch.cos(angle),
                            time[:, 2] / s.max_session_steps], dim=1)  # fmt: skip

    def forward(self, obs: ObsTensors) -> tuple[torch.Tensor, Candidates]:
        f = self.spec.num_features
        cand = self.item.embed_candidates(obs.candidate_ids, obs.candidates)
        valid = obs.history_ids >= 0  # (B, H)
        hist = self.item(obs.history_ids, obs.history[..., :f])  # (B, H, D)
        profile = obs.user
        if self.config.use_time:
            profile = torch.cat([profile, self.moment(obs.time)], dim=1)
        user = self.user(profile, hist, obs.history[..., f:], valid)  # (B, S)
        return user, cand
