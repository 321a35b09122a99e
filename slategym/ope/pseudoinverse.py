r"""The pseudo-inverse estimator for slates (Swaminathan et al., NeurIPS 2017).

## Description

Assumes the slate reward is *additive*: a sum over positions of an unknown per-(position, item)
value. It then only needs the logging policy's second moments of the (position, item) indicators,
not the probability of whole slates, and its weights are far smaller than IPS's.

## Estimator

Let :math:`\mathbb 1_s \in \{0, 1\}^{K C}` indicate which candidate sits at each position of slate
:math:`s` (index ``k * C + c``), :math:`\Gamma_\mu(x) = E_{\mu}[\mathbb 1_s \mathbb 1_s^\top]` and
:math:`\theta_\pi(x) = E_{\pi}[\mathbb 1_s]` (the target's position marginals). Then

.. math::

    \hat V_{\mathrm{PI}}(\pi) = \frac{1}{n} \sum_i \big(\theta_\pi(x_i)^\top
        \Gamma_\mu(x_i)^{\dagger}\, \mathbb 1_{s_i}\big) \sum_k r_{i,k}

with :math:`\dagger` the Moore–Penrose pseudo-inverse. The weights satisfy
:math:`E_\mu[w(s)\, \mathbb 1_s] = \Gamma_\mu \Gamma_\mu^\dagger \theta_\pi = \theta_\pi`, which is
what makes the estimate unbiased for additive rewards (checked exactly in the tests). For a uniform
logger :math:`\Gamma_\mu` does not depend on the context and is inverted once.

## Assumptions

Linearity: :math:`E[\sum_k r_k \mid x, s] = \sum_k \phi_x(k, s_k)` for some unknown :math:`\phi`;
and :math:`\theta_\pi(x)` in the range of :math:`\Gamma_\mu(x)` (true for a uniform logger). Under
these the estimate is unbiased. The position-based click model is additive; cascades and MNL are
not, and the estimate is then biased.

## Parameters

| name | default | meaning |
|---|---|---|
| ``chunk`` | 512 | contexts per batched pseudo-inverse when :math:`\Gamma_\mu` varies with the context |

Reads ``rewards``, ``slates``, ``logging_gamma`` and ``target_marginals``.

## Example

>>> import numpy as np
>>> from slategym.data.policies import uniform_gamma
>>> from slategym.ope.base import SlateOPEData
>>> from slategym.ope.pseudoinverse import SlatePseudoInverse
>>> marg = np.array([[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]])  # target: candidates 0 and 1, any order
>>> data = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.array([[1.0, 0.0]]),
...                     logging_gamma=uniform_gamma(3, 2)[None], target_marginals=marg)
>>> round(SlatePseudoInverse().estimate(data).value, 6)
3.0

## References

A. Swaminathan, A. Krishnamurthy, A. Agarwal, M. Dudík, J. Langford, D. Jose, I. Zitouni (2017),
"Off-policy evaluation for slate recommendation", NeurIPS.

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.ope.base import SlateEstimator, SlateOPEData, require


@dataclass(frozen=True)
class SlatePseudoInverse(SlateEstimator):
    """The pseudo-inverse (PI) estimator (see the module docstring)."""

    chunk: int = 512
    name = "PI"
    assumption = "additive (linear) slate reward"

    def weights(self, data: SlateOPEData) -> np.ndarray:
        """``(n,)`` PI weights :math:`\\theta_\\pi^\\top \\Gamma_\\mu^\\dagger \\mathbb 1_s`."""
        gamma = require(data, "logging_gamma", self.name)
        theta = require(data, "target_marginals", self.name)  # (n, K, C)
        n, k, c = theta.shape
        if gamma.shape[1:] != (k * c, k * c) or gamma.shape[0] not in (1, n):
            raise ValueError(
                f"logging_gamma has shape {gamma.shape}: expected (1 or {n}, {k * c}, {k * c})"
            )
        theta = theta.reshape(n, k * c)
        index = np.arange(k) * c + np.asarray(data.slates, np.int64)  # (n, K)
        if gamma.shape[0] == 1:
            projected = theta @ np.linalg.pinv(gamma[0], hermitian=True)  # (n, K*C)
        else:
            projected = np.empty_like(theta)
            for lo in range(0, n, self.chunk):
                inv = np.linalg.pinv(gamma[lo : lo + self.chunk], hermitian=True)
                projected[lo : lo + self.chunk] = np.einsum("na,nab->nb", theta[lo : lo + self.chunk], inv)
        return np.take_along_axis(projected, index, axis=1).sum(axis=1)

    def round_values(self, data: SlateOPEData) -> np.ndarray:
        return self.weights(data) * data.slate_reward
