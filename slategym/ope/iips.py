r"""Independent (position-wise) inverse propensity scoring.

## Description

Reweights each position's reward by the ratio of the *marginal* probabilities that the logged item
sits at that position, instead of the probability of the whole slate: far smaller weights than IPS.

## Estimator

.. math::

    \hat V_{\mathrm{IIPS}}(\pi) = \frac{1}{n} \sum_{i} \sum_{k}
        \frac{\pi(s_{i,k} \text{ at } k \mid x_i)}{\mu(s_{i,k} \text{ at } k \mid x_i)}\, r_{i,k}

## Assumptions

The reward at position ``k`` depends only on the item at position ``k`` (and the context), not on the
other items of the slate: :math:`E[r_k \mid x, s] = q_k(x, s_k)`. The position-based click model
satisfies it; cascades (a click at ``k`` needs no click above) and MNL (items compete) violate it, and
the estimate is then biased.

## Parameters

None. Reads ``rewards``, ``logging_position`` and ``target_position``.

## Example

>>> import numpy as np
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.iips import SlateIIPS
>>> data = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.array([[1.0, 1.0]]),
...                     logging_position=np.array([[0.5, 0.5]]), target_position=np.array([[1.0, 0.25]]))
>>> SlateIIPS().estimate(data).value
2.5

## References

S. Li, Y. Abbasi-Yadkori, B. Kveton, S. Muthukrishnan, V. Vinay, Z. Wen (2018), "Offline evaluation of
ranking policies with click models", KDD.

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlateIIPS(SlateEstimator):
    """Independent (position-wise) IPS (see the module docstring)."""

    name = "IIPS"
    assumption = "reward at k depends on the item at k only"

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        w = require(data, "target_position", self.name) / require(
            data, "logging_position", self.name
        )
        return (w * np.asarray(data.rewards, np.float64)).sum(axis=1)
