r"""The TD targets of SlateQ: SARSA and Q-learning on item values (pure tensor functions).

SlateQ learns the *item* value :math:`\bar Q(s, i)`: the long-term value of the user choosing item
:math:`i` (or :math:`\bot`, no click) in state :math:`s`. A transition
:math:`(s, A, i, r, s', A')` (slate :math:`A` served, item :math:`i` chosen, reward :math:`r`, next
state :math:`s'`, next slate :math:`A'`) updates :math:`\bar Q(s, i)` only, towards

.. math::

    \text{SARSA:}\quad y = r + \gamma\,(1 - d) \sum_{j \in A' \cup \{\bot\}} P(j \mid s', A')
        \,\bar Q^-(s', j)

    \text{Q-learning:}\quad y = r + \gamma\,(1 - d) \max_{|A'| = K} \sum_{j \in A' \cup \{\bot\}}
        P(j \mid s', A')\,\bar Q^-(s', j)

with :math:`\bar Q^-` the target network, :math:`d` the end of the episode and :math:`P` the
conditional choice model (:mod:`agents.slateq.choice`). SARSA evaluates the policy that served the
data (the paper's "SlateQ-TD"); Q-learning's max is a slate optimisation
(:mod:`agents.slateq.optimize`). Under the paper's assumptions (one choice per slate; reward and
transition depend only on the chosen item) the slate value :math:`Q(s, A) = \sum_{i \in A \cup
\{\bot\}} P(i \mid s, A) \bar Q(s, i)` is then exact (Ie et al., 2019, Prop. 1 and 2).

Shapes: ``B`` rows, ``C`` candidates, ``K`` positions.
"""

from __future__ import annotations

import torch

from agents.slateq.choice import slate_value
from agents.slateq.optimize import best_slates

__all__ = ["q_learning_target", "sarsa_target"]


def sarsa_target(
    reward: torch.Tensor, done: torch.Tensor, gamma: float, next_logits: torch.Tensor,
    next_null_logit: torch.Tensor, next_q: torch.Tensor, next_null_q: torch.Tensor,
    next_slates: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """``(B,)`` SARSA targets. ``reward``, ``done``: ``(B,)``; ``next_*``: the choice logits
    ``(B, C)`` / ``(B,)``, the target network's values ``(B, C)`` / ``(B,)`` at :math:`s'`, and the
    slates ``(B, K)`` served there."""
    with torch.no_grad():
        future = slate_value(next_logits, next_null_logit, next_q, next_null_q, next_slates)
        return reward + gamma * (1.0 - done.to(reward.dtype)) * future.to(reward.dtype)


def q_learning_target(
    reward: torch.Tensor, done: torch.Tensor, gamma: float, next_logits: torch.Tensor,
    next_null_logit: torch.Tensor, next_q: torch.Tensor, next_null_q: torch.Tensor,
    slate_size: int, optimizer: str,
) -> torch.Tensor:  # fmt: skip
    """``(B,)`` Q-learning targets: the max over slates is taken by ``optimizer`` (``"exact"``,
    ``"lp"`` and ``"enumerate"`` give the true max; ``"greedy"`` and ``"topk"`` the paper's
    approximations "GT" and "TT")."""
    with torch.no_grad():
        best = best_slates(optimizer, next_logits, next_null_logit, next_q, next_null_q, slate_size)
        future = slate_value(next_logits, next_null_logit, next_q, next_null_q, best)
        return reward + gamma * (1.0 - done.to(reward.dtype)) * future.to(reward.dtype)
