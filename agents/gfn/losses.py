r"""Detailed-balance and trajectory-balance residuals of GFN4Rec, as pure tensor functions.

A slate of ``K`` items is generated left to right: :math:`s_0` is the user state with an empty
slate, action :math:`a_t` (``t = 1..K``) appends one candidate to :math:`s_{t-1}` giving
:math:`s_t`, and :math:`s_K` is the finished ordered slate with reward :math:`R \ge 0`. Every state
has exactly one parent (the slate prefix is ordered), so the generation graph is a tree and the
backward policy is :math:`P_B = 1`: it drops out of both losses.

Two loss forms
--------------

The name of a form says which formula the loss computes, nothing more (the training procedure around
it is another matter: see the deviation table in ``docs/agents/slategfn.md``).

**offset** is the loss formula as the GFN4Rec authors coded it: the forward-policy term is
:math:`\log(P_F(a_t \mid s_{t-1}) + b_f)` with an offset :math:`b_f > 0` *inside* the log
(:math:`P_F` a probability), and every transition carries a bias :math:`b_z`. The offset keeps the
log bounded below (``log b_f``), which stabilises training with large candidate sets, but
:math:`P_F + b_f` is no longer a distribution: the fixed point of the loss is *not* the distribution
:math:`\propto R + b_r`. With ``b_f = 1`` every term lies in ``[0, log 2]``, so the policy cannot
express reward ratios above :math:`2^K` and the learnt distribution is flatter than the target.

**exact** is the textbook GFlowNet loss (Bengio et al. 2021, Malkin et al. 2022): ``b_f = 0`` and the
term is the masked log-softmax :math:`\log P_F` itself (passed as a log, so nothing underflows).
The bias :math:`b_z` does not move the fixed point: at zero loss

.. math::

    \textstyle\prod_t P_F(a_t \mid s_{t-1}) = \frac{R(s_K) + b_r}{\sum_{s'} (R(s') + b_r)},

with :math:`\log F(s_t) = \log \sum_{s_K \succ s_t}(R + b_r) - (K + 1 - t)\,b_z` for DB and
:math:`\log Z = \log \sum (R + b_r) - b_z` for TB: :math:`b_z` only shifts the learnt flows.

Both functions check shapes and raise ``ValueError`` on a mismatch.
"""

from __future__ import annotations

import math

import torch

__all__ = ["LOSS_FORMS", "check_form", "db_loss", "forward_term", "log_reward_offset", "tb_loss"]

LOSS_FORMS = ("offset", "exact")
r"""``"offset"``: :math:`\log(P_F + b_f)` (the authors' formula); ``"exact"``: :math:`\log P_F`."""


def check_form(form: str) -> str:
    """``form`` if it is one of :data:`LOSS_FORMS`, else ValueError."""
    if form not in LOSS_FORMS:
        raise ValueError(f"loss_form={form!r} is not allowed: expected one of {LOSS_FORMS}")
    return form


def _check(name: str, tensor: torch.Tensor, shape: tuple[int, ...]) -> None:
    if tuple(tensor.shape) != shape:
        raise ValueError(f"{name} has shape {tuple(tensor.shape)}, expected {shape}")


def _check_offsets(b_f: float, b_r: float, form: str) -> None:
    check_form(form)
    if b_r < 0 or not math.isfinite(b_r):
        raise ValueError(f"b_r={b_r!r} is not allowed: expected a finite value >= 0")
    if form == "offset" and not (b_f > 0 and math.isfinite(b_f)):
        raise ValueError(
            f"b_f={b_f!r} is not allowed with loss_form='offset': expected a finite value > 0"
        )
    if form == "exact" and b_f != 0:
        raise ValueError(
            f"b_f={b_f!r} is not allowed with loss_form='exact': the exact loss uses log P_F itself "
            "(b_f = 0)"
        )


def forward_term(log_pf: torch.Tensor, b_f: float, form: str) -> torch.Tensor:
    r"""The per-step forward term: :math:`\log(P_F + b_f)` (offset) or :math:`\log P_F` (exact).

    ``log(P_F + b_f)`` is computed as ``logaddexp(log P_F, log b_f)``, which equals it exactly and
    stays finite for any ``log P_F``.
    """
    if check_form(form) == "offset":
        return torch.logaddexp(log_pf, torch.full_like(log_pf, math.log(b_f)))
    return log_pf


def log_reward_offset(log_reward: torch.Tensor, b_r: float) -> torch.Tensor:
    r""":math:`\log(R + b_r)` from :math:`\log R` (``-inf`` for ``R = 0`` is fine when ``b_r > 0``)."""
    if b_r == 0:
        return log_reward
    return torch.logaddexp(log_reward, torch.full_like(log_reward, math.log(b_r)))


def db_loss(
    log_flow: torch.Tensor,
    log_pf: torch.Tensor,
    log_reward: torch.Tensor,
    b_f: float,
    b_z: float,
    b_r: float,
    form: str,
) -> dict[str, torch.Tensor]:
    r"""Detailed-balance loss of a batch of ``B`` slates of ``K`` items.

    .. math::

        \mathcal{L}_{DB} = \frac{1}{BK}\sum_{u,t=1}^{K}
            \big[\log F(s_{t-1}) + \ell_F(a_t \mid s_{t-1}) + b_z - \log F(s_t)\big]^2
          + \frac{1}{B}\sum_u \big[\log F(s_K) + b_z - \log(R + b_r)\big]^2

    with :math:`\ell_F = \log(P_F + b_f)` (offset) or :math:`\log P_F` (exact, ``b_f = 0``).

    Args:
        log_flow: ``(B, K+1)`` :math:`\log F(s_0), \dots, \log F(s_K)`.
        log_pf: ``(B, K)`` :math:`\log P_F(a_t \mid s_{t-1})`, the masked log-softmax.
        log_reward: ``(B,)`` :math:`\log R` (may be ``-inf`` where ``R = 0`` if ``b_r > 0``).
        b_f, b_z, b_r: the offsets above.
        form: ``"offset"`` (the GFN4Rec code's formula) or ``"exact"``.

    Returns:
        ``{"loss", "flow_loss", "terminal_loss"}`` scalars; ``loss`` is their sum.
    """
    if log_pf.ndim != 2:
        raise ValueError(f"log_pf has shape {tuple(log_pf.shape)}, expected (B, K)")
    b, k = log_pf.shape
    _check("log_flow", log_flow, (b, k + 1))  # (B, K+1)
    _check("log_reward", log_reward, (b,))  # (B,)
    _check_offsets(b_f, b_r, form)
    step = forward_term(log_pf, b_f, form)  # (B, K)
    residual = log_flow[:, :-1] + step + b_z - log_flow[:, 1:]  # (B, K)
    terminal = log_flow[:, -1] + b_z - log_reward_offset(log_reward, b_r)  # (B,)
    flow_loss = residual.pow(2).mean()
    terminal_loss = terminal.pow(2).mean()
    return {
        "loss": flow_loss + terminal_loss,
        "flow_loss": flow_loss,
        "terminal_loss": terminal_loss,
    }


def tb_loss(
    log_z: torch.Tensor,
    log_pf: torch.Tensor,
    reward: torch.Tensor,
    b_f: float,
    b_z: float,
    b_r: float,
    form: str,
) -> dict[str, torch.Tensor]:
    r"""Trajectory-balance loss of a batch of ``B`` slates of ``K`` items.

    .. math::

        \mathcal{L}_{TB} = \frac{1}{B}\sum_u \Big[\log Z(u) + b_z
            + \sum_{t=1}^{K} \ell_F(a_t \mid s_{t-1}) - \log(R + b_r)\Big]^2

    with :math:`\ell_F` as in :func:`db_loss`.

    Args:
        log_z: ``(B,)`` per-user :math:`\log Z(u)`.
        log_pf: ``(B, K)`` :math:`\log P_F(a_t \mid s_{t-1})`, the masked log-softmax.
        reward: ``(B,)`` :math:`R` itself; needs ``R + b_r > 0``.
        b_f, b_z, b_r: the offsets above.
        form: ``"offset"`` (the GFN4Rec code's formula) or ``"exact"``.

    Returns:
        ``{"loss", "log_z"}``: the loss and the mean :math:`\log Z` (detached).
    """
    if log_pf.ndim != 2:
        raise ValueError(f"log_pf has shape {tuple(log_pf.shape)}, expected (B, K)")
    b = log_pf.shape[0]
    _check("log_z", log_z, (b,))  # (B,)
    _check("reward", reward, (b,))  # (B,)
    _check_offsets(b_f, b_r, form)
    total = forward_term(log_pf, b_f, form).sum(dim=1)  # (B,)
    residual = log_z + b_z + total - torch.log(reward + b_r)  # (B,)
    return {"loss": residual.pow(2).mean(), "log_z": log_z.detach().mean()}
