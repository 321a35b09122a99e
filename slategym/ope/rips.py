r"""Reward-interaction (cascade) inverse propensity scoring.

## Description

Reweights the reward at position ``k`` by the ratio of the probabilities of the slate's *top*
``k + 1`` positions: what the user saw down to where the reward was earned.

## Estimator

.. math::

    \hat V_{\mathrm{RIPS}}(\pi) = \frac{1}{n} \sum_{i} \sum_{k}
        \frac{\pi(s_{i,0:k} \mid x_i)}{\mu(s_{i,0:k} \mid x_i)}\, r_{i,k}

## Assumptions

Cascade: the reward at position ``k`` depends only on the items at positions ``0..k``,
:math:`E[r_k \mid x, s] = q_k(x, s_{0:k})`. Cascade click models and the position-based model satisfy
it; MNL violates it (an item's click chance depends on the items below it too).

## Parameters

None. Reads ``rewards``, ``logging_prefix`` and ``target_prefix``.

## Example

>>> import numpy as np
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.rips import SlateRIPS
>>> data = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.array([[1.0, 1.0]]),
...                     logging_prefix=np.array([[0.5, 0.25]]), target_prefix=np.array([[1.0, 0.25]]))
>>> SlateRIPS().estimate(data).value
3.0

## References

J. McInerney, B. Brost, P. Chandar, R. Mehrotra, B. Carterette (2020), "Counterfactual evaluation
of slate recommendations with sequential reward interactions", KDD.

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlateRIPS(SlateEstimator):
    """Cascade (reward-interaction) IPS (see the module docstring)."""

    name = "RIPS"
    assumption = "cascade: reward at k depends on positions 0..k"

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        w = require(data, "target_prefix", self.name) / require(data, "logging_prefix", self.name)
        return (w * np.asarray(data.rewards, np.float64)).sum(axis=1)
