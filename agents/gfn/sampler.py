r"""The autoregressive masked sampler of a slate, and teacher-forced scoring of given slates.

Position ``t = 0..K-1`` of a slate is chosen from the policy over the candidates

.. math::

    P_F(i \mid s_t) = \frac{\exp(\ell_t(i))\,[i \notin s_t]}{\sum_j \exp(\ell_t(j))\,[j \notin s_t]},

the softmax of the policy logits with the items already in the slate masked out, so a slate never
repeats an item. :func:`sample_slates` draws a slate (``"sample"``), or takes the most likely item
at every position (``"greedy"``); with probability ``epsilon`` a position is instead drawn uniformly
from the items still available (epsilon-greedy exploration): one coin per row and position
(``coin="position"``), or one coin for the whole call (``coin="batch"``, as the GFN4Rec code does:
then either every slate of the batch is uniform or none). The returned :math:`\log P_F` is always
that of the *policy* (not of the epsilon mixture): the GFlowNet losses are off-policy.

:func:`score_slates` recomputes, with gradients, :math:`\log P_F` and :math:`\log F` for slates
given from outside (the replay buffer): all ``K`` positions in one batched pass (teacher forcing).
All randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.gfn.networks import GFNNetworks
from agents.tensors import ObsTensors

__all__ = ["COINS", "MODES", "SlateScores", "sample_slates", "score_slates"]

MODES = ("sample", "greedy")
COINS = ("position", "batch")


@dataclass(frozen=True)
class SlateScores:
    """Slates and their scores under the current networks."""

    slates: torch.Tensor  # (B, K) int64 candidate indices
    log_pf: torch.Tensor  # (B, K) log P_F(a_t | s_{t-1}), masked log-softmax
    pf: torch.Tensor  # (B, K) P_F(a_t | s_{t-1}) = exp(log_pf), for the faithful offset
    log_flow: torch.Tensor | None  # (B, K+1) log F(s_0..s_K), or None if not asked for
    log_z: torch.Tensor | None  # (B,) log Z(u), or None if not asked for
    entropy: torch.Tensor  # (B, K) entropy of P_F(. | s_{t-1})


def _entropy(log_probs: torch.Tensor) -> torch.Tensor:
    # log_probs (..., C) with -inf on masked items -> (...)
    probs = log_probs.exp()
    return -(probs * log_probs.masked_fill(probs == 0, 0.0)).sum(dim=-1)


def _draw(weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row with probability proportional to ``weights (B, C) >= 0`` (inverse CDF).

    Costs one uniform per row (``torch.multinomial`` draws one exponential per entry). Entries of
    weight zero are never drawn.
    """
    cdf = weights.double().cumsum(dim=1)  # (B, C)
    total = cdf[:, -1:]  # (B, 1)
    u = torch.rand(weights.shape[0], 1, dtype=torch.float64, generator=generator) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))  # u < total, always
    # The first entry with cdf > u; an entry of weight zero repeats its predecessor's cdf, so it is
    # never the first.
    return torch.searchsorted(cdf, u, right=True).squeeze(1)


def sample_slates(
    nets: GFNNetworks,
    obs: ObsTensors,
    mode: str,
    epsilon: float,
    generator: torch.Generator,
    with_flow: bool = True,
    with_log_z: bool = False,
    coin: str = "position",
) -> SlateScores:
    """Generate ``(B, K)`` slates of distinct candidates position by position (module docstring).

    ``mode`` is ``"sample"`` or ``"greedy"``; ``epsilon`` in ``[0, 1]`` is the probability of a
    uniform choice among the available items, per ``coin`` (``"position"`` or ``"batch"``). Call
    under ``torch.no_grad()`` when acting.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not allowed: expected one of {MODES}")
    if coin not in COINS:
        raise ValueError(f"coin={coin!r} is not allowed: expected one of {COINS}")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon={epsilon!r} is not allowed: expected a value in [0, 1]")
    k = nets.slate_size
    user, cand = nets.encode(obs)  # (B, S), candidates (B, C, D)
    b, c, d = cand.shape
    if k > c:
        raise ValueError(f"slate_size={k} is not allowed: only {c} candidates")
    rows = torch.arange(b)
    taken = torch.zeros(b, c, dtype=torch.bool)  # (B, C)
    chosen = torch.zeros(b, k, d)  # (B, K, D) embeddings of the chosen items, zeros after
    slates = torch.zeros(b, k, dtype=torch.int64)
    log_pf = torch.zeros(b, k)
    entropy = torch.zeros(b, k)
    batch_uniform = coin == "batch" and epsilon > 0 and float(torch.rand(1, generator=generator)) < epsilon
    for t in range(k):
        state = torch.cat([user, chosen.reshape(b, k * d)], dim=-1)  # (B, S + K D)
        logits = nets.logits(state, cand).masked_fill(taken, float("-inf"))  # (B, C)
        log_probs = torch.log_softmax(logits, dim=-1)  # (B, C)
        if mode == "greedy":
            action = log_probs.argmax(dim=-1)
        else:
            action = _draw(log_probs.exp(), generator)
        if batch_uniform:
            action = _draw((~taken).float(), generator)
        elif coin == "position" and epsilon > 0:
            explore = torch.rand(b, generator=generator) < epsilon  # (B,)
            uniform = _draw((~taken).float(), generator)
            action = torch.where(explore, uniform, action)
        slates[:, t] = action
        log_pf[:, t] = log_probs[rows, action]
        entropy[:, t] = _entropy(log_probs)
        taken[rows, action] = True
        chosen = chosen.clone()  # keep the autograd graph valid when called with gradients
        chosen[:, t] = cand.take(action[:, None])[:, 0]
    log_flow = nets.log_flow(nets.prefix_states(user, chosen)) if with_flow else None
    log_z = nets.log_partition(user) if with_log_z else None
    return SlateScores(slates, log_pf, log_pf.exp(), log_flow, log_z, entropy)


def score_slates(
    nets: GFNNetworks,
    obs: ObsTensors,
    slates: torch.Tensor,
    with_flow: bool = True,
    with_log_z: bool = True,
) -> SlateScores:
    """:math:`\\log P_F` ``(B, K)`` and :math:`\\log F` ``(B, K+1)`` of given slates, with gradients.

    ``slates`` ``(B, K)`` holds distinct candidate indices; a repeated index raises ``ValueError``
    (its probability would be zero).
    """
    k = nets.slate_size
    user, cand = nets.encode(obs)  # (B, S), candidates (B, C, D)
    b, c, d = cand.shape
    if tuple(slates.shape) != (b, k):
        raise ValueError(f"slates have shape {tuple(slates.shape)}, expected {(b, k)}")
    if slates.numel() and (int(slates.min()) < 0 or int(slates.max()) >= c):
        raise ValueError(f"slates hold indices outside [0, {c - 1}]")
    ordered = slates.sort(dim=1).values
    if (ordered[:, 1:] == ordered[:, :-1]).any():
        raise ValueError("slates repeat a candidate: the sampler never generates such a slate")
    chosen = cand.take(slates)  # (B, K, D)
    states = nets.prefix_states(user, chosen)  # (B, K+1, S + K D)
    logits = nets.logits(states[:, :k], cand)  # (B, K, C)
    # Position t masks the items chosen at positions < t.
    taken = torch.zeros(b, k, c, dtype=torch.bool)  # (B, K, C)
    rows = torch.arange(b)
    for t in range(1, k):
        taken[:, t] = taken[:, t - 1]
        taken[rows, t, slates[:, t - 1]] = True
    log_probs = torch.log_softmax(logits.masked_fill(taken, float("-inf")), dim=-1)  # (B, K, C)
    log_pf = log_probs.gather(2, slates[:, :, None]).squeeze(2)  # (B, K)
    log_flow = nets.log_flow(states) if with_flow else None  # (B, K+1)
    log_z = nets.log_partition(user) if with_log_z else None  # (B,)
    return SlateScores(slates, log_pf, log_pf.exp(), log_flow, log_z, _entropy(log_probs.detach()))
