r"""Ground truth for off-policy evaluation: a policy's exact expected slate reward per context.

## Description

The simulator knows every candidate's true affinity (``Simulator.oracle_affinities``) and the choice
model's click probabilities are a pure function of them, so the expected number of clicks of any
slate is exact. Averaging over the policy's slate distribution (enumerated) gives the policy's exact
expected clicks in each context:

.. math::

    V_\pi(x) = \sum_{s} \pi(s \mid x) \sum_{k} P(C_k = 1 \mid a_{x, s_0}, \dots, a_{x, s_{K-1}})

Its mean over the logged contexts is the value the one-step estimators target: each estimator term
minus :math:`V_\pi(x_i)` has mean zero given the past, so their average errors are martingale sums
and the mean error over seeds measures the bias exactly. For long-horizon values (what happens when
:math:`\pi` also changes the future contexts: fatigue, satisfaction, churn) run :math:`\pi`
on-policy (``slategym ope`` reports both).

## Example

>>> import numpy as np
>>> from slategym.choice import PositionBased
>>> from slategym.data.policies import UniformRandom
>>> from slategym.ope.truth import policy_values
>>> model = PositionBased(beta=1.0, bias=0.0, eta=0.0)  # every position examined: P = sigmoid(a)
>>> v = policy_values(UniformRandom(), np.zeros((1, 3)), np.zeros((1, 3)), model, 2)
>>> v.round(6).tolist()  # two positions, each clicked with probability 1/2
[1.0]

## Version History

* v1: initial version.
"""

from __future__ import annotations

import numpy as np

from slategym.choice.base import ChoiceModel
from slategym.data.policies import SlatePolicy, all_slates


def slate_click_sums(
    choice_model: ChoiceModel, affinities: np.ndarray, slates: np.ndarray
) -> np.ndarray:
    """``(n, S)`` expected clicks of each of ``slates (S, K)`` for each row of ``affinities (n, C)``."""
    return choice_model.click_probabilities(np.asarray(affinities)[:, slates]).sum(axis=-1)


def policy_values(
    policy: SlatePolicy,
    scores: np.ndarray,
    affinities: np.ndarray,
    choice_model: ChoiceModel,
    slate_size: int,
    limit: int = 100_000,
) -> np.ndarray:
    """``(n,)`` exact expected clicks of ``policy`` in each context (slates enumerated)."""
    scores = np.asarray(scores, np.float64)
    n, c = scores.shape
    slates = all_slates(c, slate_size, limit)
    out = np.empty(n)
    step = max(1, 1_000_000 // len(slates))
    for lo in range(0, n, step):
        p = policy.slate_probabilities(scores[lo : lo + step], slates)
        out[lo : lo + step] = (p * slate_click_sums(choice_model, affinities[lo : lo + step], slates)).sum(1)
    return out
