"""First-item choice model: the user always clicks position 0 (RecSim's long-term satisfaction)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slategym.choice.base import ChoiceModel
from slategym.kernels import compiled_choice


@dataclass(frozen=True)
class FirstItem(ChoiceModel):
    r"""The user clicks the item at position 0, whatever the affinities.

    ## Description

    RecSim's long-term-satisfaction user "always clicks the first item" of the slate
    (``LTSUserModel.simulate_response``): the recommender's whole decision is which item to put on
    top, and the user's response (engagement, satisfaction) carries the consequences. Exactly one
    click per slate; the affinities are ignored.

    ## Probabilities

    .. math::

        P(0) = 1, \qquad P(k) = 0 \ (k \ge 1), \qquad P(\text{no click}) = 0

    ## Parameters

    None.

    ## Example

    >>> import numpy as np
    >>> from slategym.choice import FirstItem
    >>> FirstItem().probabilities(np.array([0.3, 2.0, -1.0])).tolist()
    [1.0, 0.0, 0.0, 0.0]

    ## References

    E. Ie et al. (2019), "RecSim"; ``recsim/environments/long_term_satisfaction.py``, recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-LongTermSatisfaction-v0).
    """

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        compiled = compiled_choice(self, affinities)
        if compiled is not None:
            return compiled
        aff = np.asarray(affinities, dtype=np.float64)
        probs = np.zeros((*aff.shape[:-1], aff.shape[-1] + 1))
        probs[..., 0] = 1.0
        return probs
