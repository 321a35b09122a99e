r"""Self-normalised slate inverse propensity scoring.

## Description

IPS divided by the mean importance weight instead of 1: the estimate stays within the range of the
observed rewards, and the variance drops when the weights vary a lot, at the cost of a bias of order
:math:`1 / n`.

## Estimator

With :math:`w_i = \pi(s_i \mid x_i) / \mu(s_i \mid x_i)` and :math:`R_i = \sum_k r_{i,k}`:

.. math::

    \hat V_{\mathrm{SNIPS}}(\pi) = \frac{\sum_i w_i R_i}{\sum_i w_i}

The standard error is the delta-method one, :math:`\mathrm{sd}(w_i (R_i - \hat V)) / (\bar w \sqrt n)`.

## Assumptions

Absolute continuity, as IPS. Consistent under every click model; biased for small ``n``
(:math:`O(1/n)`), the bias vanishing as the log grows.

## Parameters

None. Reads ``rewards``, ``logging_slate`` and ``target_slate``.

## Example

>>> import numpy as np
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.snips import SlateSNIPS
>>> data = SlateOPEData(slates=np.array([[0, 1], [1, 0]]), rewards=np.array([[1.0, 0.0], [0.0, 0.0]]),
...                     logging_slate=np.array([0.5, 0.5]), target_slate=np.array([0.9, 0.1]))
>>> round(SlateSNIPS().estimate(data).value, 3)
0.9

## References

A. Swaminathan, T. Joachims (2015), "The self-normalized estimator for counterfactual learning",
NeurIPS. A. Kong (1992) on the ratio estimator.

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import Estimate, SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlateSNIPS(SlateEstimator):
    """Self-normalised slate IPS (see the module docstring)."""

    name = "SNIPS"
    assumption = "none (absolute continuity); O(1/n) bias"

    def weights(self, data: SlateOPEData) -> np.ndarray:
        """``(n,)`` slate importance weights."""
        return require(data, "target_slate", self.name) / require(data, "logging_slate", self.name)

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        w = self.weights(data)
        return w * data.slate_reward / max(float(w.mean()), 1e-300)

    def estimate(self, data: SlateOPEData) -> Estimate:
        w = self.weights(data)
        n = w.shape[0]
        if n == 0:
            raise ValueError(f"{self.name} needs at least one logged slate, got an empty log")
        mean_w = float(w.mean())
        if mean_w <= 0:
            return Estimate(float("nan"), float("nan"))
        reward = data.slate_reward
        value = float((w * reward).sum() / w.sum())
        resid = w * (reward - value) / mean_w
        se = float(resid.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        return Estimate(value, se)
