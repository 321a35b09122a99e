r"""Cascade doubly robust estimator (Kiyohara et al., WSDM 2022).

## Description

Combines the cascade importance weights of RIPS with a reward model :math:`\hat Q` used as a control
variate: the reward model's prediction for the target policy is added, and the importance-weighted
error of the model on the logged slates corrects it. The correction keeps the estimate unbiased
whatever :math:`\hat Q` is (under the cascade assumption), and a good :math:`\hat Q` removes most of
RIPS's variance.

## Estimator

With prefix weights :math:`w_{i,0:k} = \pi(s_{i,0:k} \mid x_i) / \mu(s_{i,0:k} \mid x_i)`
(:math:`w_{i,0:-1} = 1`):

.. math::

    \hat V_{\mathrm{CDR}}(\pi) = \frac{1}{n} \sum_i \sum_{k} \Big[
        w_{i,0:k} \big(r_{i,k} - \hat Q_k(x_i, s_{i,0:k})\big)
        + w_{i,0:k-1} \sum_{c} \pi(c \mid x_i, s_{i,0:k-1})\, \hat Q_k(x_i, s_{i,0:k-1}, c) \Big]

Here :math:`\hat Q_k(x, s_{0:k-1}, c) = \hat q_k(x, c) + \sum_{l > k} \sum_{c'} \pi(c' \text{ at } l
\mid x)\, \hat q_l(x, c')`: the estimated reward of ``c`` at position ``k`` plus the target policy's
estimated reward further down (its position marginals, when the data has them; otherwise the
continuation is left out). The paper's :math:`\hat Q` conditions the continuation on the prefix; any
:math:`\hat Q` keeps the estimate unbiased, so this simplification costs variance, not bias.
:math:`\hat q` comes from :mod:`slategym.ope.reward_model` (cross-fitted, so a slate's own reward is
never used to predict it).

## Assumptions

Cascade, as RIPS: the reward at ``k`` depends only on the items at positions ``0..k``; and the
logging policy's prefix probabilities cover the target's. Unbiased under cascade and position-based
clicks for any :math:`\hat Q`; biased under MNL.

## Parameters

None. Reads ``rewards``, ``slates``, ``logging_prefix``, ``target_prefix``, ``target_next``,
``q_hat`` and, if present, ``target_marginals``.

## Example

>>> import numpy as np
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.cascade_dr import SlateCascadeDR
>>> from slategym.ope.rips import SlateRIPS
>>> nxt = np.full((1, 2, 2), 0.5)
>>> data = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.array([[1.0, 0.0]]),
...                     logging_prefix=np.array([[0.5, 0.5]]), target_prefix=np.array([[0.5, 0.5]]),
...                     target_next=nxt, q_hat=np.zeros((1, 2, 2)))
>>> SlateCascadeDR().estimate(data).value == SlateRIPS().estimate(data).value  # q_hat = 0: RIPS
True

## References

H. Kiyohara, Y. Saito, T. Matsuhiro, Y. Narita, N. Shimizu, Y. Yamamoto (2022), "Doubly robust
off-policy evaluation for ranking policies under the cascade behavior model", WSDM.

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlateCascadeDR(SlateEstimator):
    """Cascade doubly robust (see the module docstring)."""

    name = "CascadeDR"
    assumption = "cascade: reward at k depends on positions 0..k"

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        w = require(data, "target_prefix", self.name) / require(data, "logging_prefix", self.name)
        nxt = require(data, "target_next", self.name)  # (n, K, C)
        q = require(data, "q_hat", self.name)  # (n, K, C)
        n, k, _ = q.shape
        if data.target_marginals is not None and not np.isnan(data.target_marginals).any():
            per_pos = (np.asarray(data.target_marginals) * q).sum(axis=2)  # (n, K)
            below = np.cumsum(per_pos[:, ::-1], axis=1)[:, ::-1]  # sum over l >= k
            cont = np.concatenate([below[:, 1:], np.zeros((n, 1))], axis=1)  # sum over l > k
        else:
            cont = np.zeros((n, k))
        q_logged = np.take_along_axis(q, np.asarray(data.slates, np.int64)[:, :, None], axis=2)[:, :, 0]
        expected = (nxt * q).sum(axis=2) + cont  # E_pi[Q_k | prefix], (n, K)
        w_before = np.concatenate([np.ones((n, 1)), w[:, :-1]], axis=1)
        rewards = np.asarray(data.rewards, np.float64)
        return (w * (rewards - q_logged - cont) + w_before * expected).sum(axis=1)
