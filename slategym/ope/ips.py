r"""Standard (slate-level) inverse propensity scoring.

## Description

Reweights each logged slate's total reward by how much more (or less) likely the target policy is to
show that exact slate than the logging policy was.

## Estimator

.. math::

    \hat V_{\mathrm{IPS}}(\pi) = \frac{1}{n} \sum_{i=1}^{n}
        \frac{\pi(s_i \mid x_i)}{\mu(s_i \mid x_i)} \sum_{k} r_{i,k}

## Assumptions

Absolute continuity only: :math:`\mu(s \mid x) > 0` wherever :math:`\pi(s \mid x) > 0`. No
assumption on how the reward depends on the slate, so it is unbiased under every click model
(position-based, cascade, MNL). The price is variance: the weights reach
:math:`1 / \mu(s \mid x)`, i.e. :math:`C! / (C - K)!` for a uniform logger.

## Parameters

None. Reads ``rewards``, ``logging_slate`` and ``target_slate``.

## Example

>>> import numpy as np
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.ips import SlateIPS
>>> data = SlateOPEData(slates=np.array([[0, 1], [1, 0]]), rewards=np.array([[1.0, 0.0], [0.0, 1.0]]),
...                     logging_slate=np.array([0.5, 0.5]), target_slate=np.array([1.0, 0.0]))
>>> SlateIPS().estimate(data).value
1.0

## References

D. G. Horvitz, D. J. Thompson (1952). A. Swaminathan et al. (2017), "Off-policy evaluation for
slate recommendation", NeurIPS (the slate IPS baseline).

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlateIPS(SlateEstimator):
    """Slate-level IPS (see the module docstring)."""

    name = "IPS"
    assumption = "none (absolute continuity)"

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        w = require(data, "target_slate", self.name) / require(data, "logging_slate", self.name)
        return w * data.slate_reward
