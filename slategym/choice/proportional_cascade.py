"""Proportional cascade choice model (single click), with RecSim's semantics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel, sequential_to_first_click
from slategym.kernels import compiled_choice
from slategym.validation import check_float, check_positive, check_probability


@dataclass(frozen=True)
class ProportionalCascade(ChoiceModel):
    r"""Proportional cascade: a top-down scan where the click chance is linear in the affinity.

    ## Description

    RecSim's ``ProportionalCascadeChoiceModel``. The user examines positions in order; having reached
    position ``k`` without clicking, they click it with probability ``attention_prob`` times
    ``score_scaling * (affinity - min_normalizer)``; the first click ends the scan. At most one click
    per slate. For equal affinities the click probability never increases further down the slate.

    RecSim asserts that the scaled score lies in ``[0, 1]``; here it is clipped to ``[0, 1]``.

    ## Probabilities

    With :math:`c_k = \alpha \cdot \mathrm{clip}(\sigma (a_k - m), 0, 1)` (``alpha`` =
    ``attention_prob``, ``sigma`` = ``score_scaling``, ``m`` = ``min_normalizer``):

    .. math::

        P(k) = c_k \prod_{j<k} (1 - c_j), \qquad P(\text{no click}) = \prod_{j} (1 - c_j)

    ## Parameters

    | name | default | allowed | meaning |
    |---|---|---|---|
    | ``attention_prob`` | 0.9 | [0, 1] | probability of examining a position reached without a click |
    | ``score_scaling`` | 0.1 | > 0 | converts the offset affinity into a click probability |
    | ``min_normalizer`` | -3.0 | finite | offset subtracted from the affinity |

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import ProportionalCascade
    >>> model = ProportionalCascade(attention_prob=1.0, score_scaling=0.25, min_normalizer=0.0)
    >>> model.probabilities(np.array([2.0, 2.0])).round(3)  # c = 0.5 at both positions
    array([0.5 , 0.25, 0.25])

    ## References

    E. Ie et al. (2019), "RecSim", ``recsim/choice_model.py`` (``ProportionalCascadeChoiceModel``).

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    attention_prob: float = 0.9
    score_scaling: float = 0.1
    min_normalizer: float = -3.0

    def __post_init__(self) -> None:
        check_probability("attention_prob", self.attention_prob)
        check_positive("score_scaling", self.score_scaling)
        check_float("min_normalizer", self.min_normalizer)

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        offset = np.asarray(affinities, np.float64) - self.min_normalizer
        scores = np.clip(self.score_scaling * offset, 0.0, 1.0)
        return sequential_to_first_click(self.attention_prob * scores)
