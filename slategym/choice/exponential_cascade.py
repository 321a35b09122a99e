"""Exponential cascade choice model (single click), with RecSim's semantics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel, sequential_to_first_click
from slategym.kernels import compiled_choice
from slategym.validation import check_positive, check_probability


@dataclass(frozen=True)
class ExponentialCascade(ChoiceModel):
    r"""Exponential cascade: the user scans the slate top-down and stops at the first click.

    ## Description

    RecSim's ``ExponentialCascadeChoiceModel``. The user examines position 0, 1, ... in order. Having
    reached position ``k`` without clicking, they click it with probability ``attention_prob`` times
    ``score_scaling * exp(affinity)``; the first click ends the scan. At most one click per slate.
    For equal affinities the click probability never increases further down the slate.

    RecSim asserts ``score_scaling * exp(a) <= 1``; here the product is clipped to ``[0, 1]`` so that a
    large affinity means "certain click if examined" instead of a crash in the middle of a run.

    ## Probabilities

    With :math:`c_k = \alpha \cdot \min(1, \sigma e^{a_k})` (``alpha`` = ``attention_prob``,
    ``sigma`` = ``score_scaling``):

    .. math::

        P(k) = c_k \prod_{j<k} (1 - c_j), \qquad P(\text{no click}) = \prod_{j} (1 - c_j)

    ## Parameters

    | name | default | allowed | meaning |
    |---|---|---|---|
    | ``attention_prob`` | 0.9 | [0, 1] | probability of examining a position reached without a click |
    | ``score_scaling`` | 0.1 | > 0 | converts ``exp(affinity)`` into a click probability |

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import ExponentialCascade
    >>> model = ExponentialCascade(attention_prob=1.0, score_scaling=0.5)
    >>> model.probabilities(np.zeros(2)).round(3)  # c = 0.5 at both positions
    array([0.5 , 0.25, 0.25])

    ## References

    N. Craswell et al. (2008), "An experimental comparison of click position-bias models".
    E. Ie et al. (2019), "RecSim", ``recsim/choice_model.py`` (``ExponentialCascadeChoiceModel``).

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    attention_prob: float = 0.9
    score_scaling: float = 0.1

    def __post_init__(self) -> None:
        check_probability("attention_prob", self.attention_prob)
        check_positive("score_scaling", self.score_scaling)

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        scores = np.minimum(self.score_scaling * np.exp(np.asarray(affinities, np.float64)), 1.0)
        return sequential_to_first_click(self.attention_prob * scores)
