r"""The conditional choice model of SlateQ: a multinomial logit over the slate and the null item.

SlateQ (Ie et al., 2019) assumes a user picks at most one item of the slate :math:`A` (or the null
item :math:`\bot`, no click) with a conditional choice model :math:`P(i \mid s, A)`. For the
multinomial logit (MNL) family, with a score :math:`u(s, i)` per item and :math:`u_\bot(s)` for the
null item,

.. math::

    P(i \mid s, A) = \frac{e^{u(s, i)}}{e^{u_\bot(s)} + \sum_{j \in A} e^{u(s, j)}}, \qquad
    P(\bot \mid s, A) = \frac{e^{u_\bot(s)}}{e^{u_\bot(s)} + \sum_{j \in A} e^{u(s, j)}}.

slategym's MNL (``beta a + `` no-click logit) and the multinomial proportional model (scores
:math:`s_i > 0`, i.e. :math:`u = \log s`) are of this form. SlateQ either knows :math:`u` (a
function of the observations) or estimates it from the served slates and their clicks by maximum
likelihood, :func:`choice_nll`, with :math:`u_\bot = 0` fixed (the MNL is invariant to a common
shift, so one score must be pinned).

Shapes: ``B`` rows, ``C`` candidates, ``K`` slate positions.
"""

from __future__ import annotations

import torch

__all__ = ["choice_nll", "slate_choice_log_probs", "slate_value"]


def slate_choice_log_probs(
    item_logits: torch.Tensor, null_logit: torch.Tensor, slates: torch.Tensor
) -> torch.Tensor:
    r"""``(B, K + 1)`` :math:`\log P(\cdot \mid s, A)` of the slate's positions, then :math:`\bot`.

    Args:
        item_logits: ``(B, C)`` :math:`u(s, i)` of every candidate.
        null_logit: ``(B,)`` :math:`u_\bot(s)`.
        slates: ``(B, K)`` int64 candidate indices.
    """
    chosen = item_logits.gather(1, slates)  # (B, K)
    return torch.log_softmax(torch.cat([chosen, null_logit[:, None]], dim=1), dim=1)


def slate_value(
    item_logits: torch.Tensor,
    null_logit: torch.Tensor,
    q: torch.Tensor,
    null_q: torch.Tensor,
    slates: torch.Tensor,
) -> torch.Tensor:
    r"""``(B,)`` the SlateQ decomposition :math:`Q(s, A) = \sum_{i \in A \cup \{\bot\}}
    P(i \mid s, A)\, \bar Q(s, i)`, from item values ``q (B, C)`` and ``null_q (B,)``."""
    probs = slate_choice_log_probs(item_logits, null_logit, slates).exp()  # (B, K + 1)
    values = torch.cat([q.gather(1, slates), null_q[:, None]], dim=1)  # (B, K + 1)
    return (probs * values).sum(dim=1)


def choice_nll(
    item_logits: torch.Tensor, null_logit: torch.Tensor, slates: torch.Tensor, choice: torch.Tensor
) -> torch.Tensor:
    """Mean negative log-likelihood of the observed ``choice (B,)`` (position in ``[0, K)``, or
    ``K`` for no click) under the MNL: the loss that estimates the choice model."""
    log_probs = slate_choice_log_probs(item_logits, null_logit, slates)  # (B, K + 1)
    return -log_probs.gather(1, choice[:, None]).mean()
