"""Multi-click model: independent clicks or the dependent click model (DCM)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel, sequential_to_first_click, sigmoid
from slategym.kernels import compiled_choice
from slategym.validation import check_choice, check_float, check_positive, check_probability


@dataclass(frozen=True)
class MultiClick(ChoiceModel):
    r"""Multi-click model: every item may be clicked, independently or in a dependent top-down scan.

    ## Description

    The attractiveness of an item is :math:`\alpha_k = \sigma(\beta a_k + b)`. Two modes:

    * ``"independent"``: each position is clicked independently with probability :math:`\alpha_k`.
    * ``"dependent"`` (the dependent click model, DCM): the user scans top-down, clicks an examined
      item with probability :math:`\alpha_k`; after a click they go on with probability
      ``continue_prob`` (:math:`\lambda`) and stop otherwise; after a skip they always go on.

    Both allow **several clicks** per slate.

    ## Probabilities

    Independent: :math:`P(C_k = 1) = \alpha_k`. Dependent: the examination probability follows
    :math:`e_0 = 1,\; e_{k+1} = e_k (1 - \alpha_k + \alpha_k \lambda)` and
    :math:`P(C_k = 1) = e_k \alpha_k`. In both modes the first click is at ``k`` with probability
    :math:`\alpha_k \prod_{j<k} (1 - \alpha_j)` (a user who has not clicked yet has examined every
    earlier position), and there is no click at all with probability :math:`\prod_j (1 - \alpha_j)`;
    :meth:`probabilities` returns this first-click distribution, no click last.

    Sampling draws :math:`2K` uniforms per slate in the dependent mode (one for each click, one for each
    continuation) and :math:`K` in the independent mode.

    ## Parameters

    | name | default | allowed | meaning |
    |---|---|---|---|
    | ``mode`` | ``"dependent"`` | ``"independent"``, ``"dependent"`` | click dependence |
    | ``beta`` | 1.0 | > 0 | slope of the attractiveness in the affinity |
    | ``bias`` | -1.0 | finite | attractiveness logit at zero affinity |
    | ``continue_prob`` | 0.5 | [0, 1] | DCM: probability of scanning on after a click |

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import MultiClick
    >>> model = MultiClick(mode="dependent", beta=1.0, bias=0.0, continue_prob=0.5)
    >>> model.click_probabilities(np.zeros(2)).round(3)  # e_1 = 1 - 0.5 + 0.25 = 0.75
    array([0.5  , 0.375])

    ## References

    F. Guo, C. Liu, Y. M. Wang (2009), "Efficient multiple-click models in web search" (DCM).
    A. Chuklin, I. Markov, M. de Rijke (2015), "Click Models for Web Search", chapter 3.

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    multi_click = True

    mode: str = "dependent"
    beta: float = 1.0
    bias: float = -1.0
    continue_prob: float = 0.5

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("independent", "dependent"))
        check_positive("beta", self.beta)
        check_float("bias", self.bias)
        check_probability("continue_prob", self.continue_prob)

    def attractiveness(self, affinities: np.ndarray) -> np.ndarray:
        """:math:`\\alpha_k = \\sigma(\\beta a_k + b)`, shape ``(..., K)``."""
        return sigmoid(self.beta * np.asarray(affinities, np.float64) + self.bias)

    def click_probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities, marginal=True)
        if compiled is not None:
            return compiled
        alpha = self.attractiveness(affinities)
        if self.mode == "independent":
            return alpha
        go_on = 1.0 - alpha + alpha * self.continue_prob
        examined = np.cumprod(
            np.concatenate([np.ones_like(alpha[..., :1]), go_on[..., :-1]], -1), -1
        )
        return examined * alpha

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        return sequential_to_first_click(self.attractiveness(affinities))

    def num_uniforms(self, slate_size: int) -> int:
        return slate_size if self.mode == "independent" else 2 * slate_size

    def sample_from_uniforms(self, affinities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        alpha = self.attractiveness(affinities)
        k = alpha.shape[-1]
        attracted = uniforms[..., :k] < alpha
        if self.mode == "independent":
            return attracted
        stop = attracted & (uniforms[..., k : 2 * k] >= self.continue_prob)  # click, then leave
        # Position k is examined when no earlier position stopped the scan.
        stopped_before: np.ndarray = np.cumsum(stop, axis=-1) - stop
        return attracted & (stopped_before == 0)
