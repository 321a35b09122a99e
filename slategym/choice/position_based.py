"""Position-based click model (several clicks per slate)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel, sequential_to_first_click, sigmoid
from slategym.kernels import compiled_choice
from slategym.validation import check_array, check_float, check_positive


@dataclass(frozen=True)
class PositionBased(ChoiceModel):
    r"""Position-based model (PBM): a click needs the position examined and the item attractive.

    ## Description

    Each position ``k`` is examined with a probability :math:`\gamma_k` that depends only on the
    position; an examined item is clicked with an attractiveness that depends only on its affinity.
    Examination and attraction are independent, and so are positions: a slate may receive **several
    clicks** (this is a multi-click model).

    ## Probabilities

    .. math::

        P(C_k = 1) = \gamma_k \, \sigma(\beta a_k + b), \qquad
        \gamma_k = (k + 1)^{-\eta} \text{ unless ``examination`` is given}

    with :math:`\sigma` the logistic function. :meth:`probabilities` returns the distribution of the
    first (top-most) click, :math:`P(\text{first}=k) = p_k \prod_{j<k}(1 - p_j)`, and the probability
    of no click at all, :math:`\prod_j (1 - p_j)`, last.

    ## Parameters

    | name | default | allowed | meaning |
    |---|---|---|---|
    | ``beta`` | 1.0 | > 0 | slope of the attractiveness in the affinity |
    | ``bias`` | -1.0 | finite | attractiveness logit at zero affinity |
    | ``eta`` | 1.0 | >= 0 | power-law decay of examination with position (``examination=None``) |
    | ``examination`` | ``None`` | ``K`` values in [0, 1] | explicit :math:`\gamma_k`; its length must equal ``K`` |

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import PositionBased
    >>> model = PositionBased(beta=1.0, bias=0.0, eta=1.0)
    >>> model.click_probabilities(np.zeros(2)).round(3)  # gamma = (1, 1/2), attractiveness 1/2
    array([0.5 , 0.25])

    ## References

    N. Craswell et al. (2008), "An experimental comparison of click position-bias models".
    A. Chuklin, I. Markov, M. de Rijke (2015), "Click Models for Web Search", chapter 3.

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    multi_click = True

    beta: float = 1.0
    bias: float = -1.0
    eta: float = 1.0
    examination: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        check_positive("beta", self.beta)
        check_float("bias", self.bias)
        check_float("eta", self.eta, 0.0)
        if self.examination is not None:
            arr = check_array("examination", self.examination, low=0.0, high=1.0)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(
                    f"examination={self.examination!r} is not allowed: expected a non-empty "
                    "sequence of probabilities, one per slate position"
                )
            object.__setattr__(self, "examination", tuple(float(x) for x in arr))

    def examination_probabilities(self, slate_size: int) -> np.ndarray:
        """The examination probabilities :math:`\\gamma_0..\\gamma_{K-1}`, shape ``(K,)``."""
        if self.examination is None:
            return (np.arange(1, slate_size + 1, dtype=np.float64)) ** (-self.eta)
        if len(self.examination) != slate_size:
            raise ValueError(
                f"examination has {len(self.examination)} entries but the slate has "
                f"slate_size={slate_size} positions: give one probability per position"
            )
        return np.asarray(self.examination, dtype=np.float64)

    def click_probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities, marginal=True)
        if compiled is not None:
            return compiled
        aff = np.asarray(affinities, np.float64)
        gamma = self.examination_probabilities(aff.shape[-1])
        return gamma * sigmoid(self.beta * aff + self.bias)

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        return sequential_to_first_click(self.click_probabilities(affinities))

    def num_uniforms(self, slate_size: int) -> int:
        return slate_size

    def sample_from_uniforms(self, affinities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        return uniforms < self.click_probabilities(affinities)
