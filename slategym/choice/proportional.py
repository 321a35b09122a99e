"""Multinomial proportional choice model (single click), with RecSim's semantics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel
from slategym.kernels import compiled_choice
from slategym.validation import check_float


@dataclass(frozen=True)
class MultinomialProportional(ChoiceModel):
    r"""Multinomial proportional: click probability proportional to the offset affinity.

    ## Description

    RecSim's ``MultinomialProportionalChoiceModel``: every score, the no-click mass included, is
    offset by ``-min_normalizer`` so that it is non-negative, and the user picks one option with
    probability proportional to its offset score. At most one click per slate.

    RecSim asserts that the offset scores are non-negative; a simulator should not crash in the middle
    of a run, so here an offset score below zero is clipped to zero (that item is never chosen). If all
    offset scores are zero the user does not click.

    ## Probabilities

    With offset scores :math:`s_k = \max(a_k - m, 0)` and :math:`s_\varnothing = \max(c - m, 0)`,
    where :math:`m` is ``min_normalizer`` and :math:`c` is ``no_click_mass``:

    .. math::

        P(k) = \frac{s_k}{s_\varnothing + \sum_j s_j}, \qquad
        P(\text{no click}) = \frac{s_\varnothing}{s_\varnothing + \sum_j s_j}

    (and :math:`P(\text{no click}) = 1` when the denominator is zero).

    ## Parameters

    | name | default | allowed | meaning |
    |---|---|---|---|
    | ``min_normalizer`` | -3.0 | finite | offset subtracted from every score (RecSim: the least expected score) |
    | ``no_click_mass`` | 1.0 | finite | the no-click score before the offset |

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import MultinomialProportional
    >>> model = MultinomialProportional(min_normalizer=0.0, no_click_mass=1.0)
    >>> model.probabilities(np.array([1.0, 2.0])).round(3)
    array([0.25, 0.5 , 0.25])

    ## References

    E. Ie et al. (2019), "RecSim: A Configurable Simulation Platform for Recommender Systems",
    ``recsim/choice_model.py``.

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    min_normalizer: float = -3.0
    no_click_mass: float = 1.0

    def __post_init__(self) -> None:
        check_float("min_normalizer", self.min_normalizer)
        check_float("no_click_mass", self.no_click_mass)

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        aff = np.asarray(affinities, dtype=np.float64)
        scores = np.empty((*aff.shape[:-1], aff.shape[-1] + 1))
        np.subtract(aff, self.min_normalizer, out=scores[..., :-1])
        scores[..., -1] = self.no_click_mass - self.min_normalizer
        np.maximum(scores, 0.0, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        empty = total[..., 0] <= 0.0
        scores[empty, -1] = 1.0
        total[empty] = 1.0
        return scores / total
