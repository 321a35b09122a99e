"""Choice models: from the affinities of a slate's items to clicks.

Single-click models (at most one click per slate): :class:`MultinomialLogit`,
:class:`MultinomialProportional`, :class:`ExponentialCascade`, :class:`ProportionalCascade`,
:class:`FirstItem`.
Multi-click models (several clicks allowed): :class:`PositionBased`, :class:`MultiClick`.
"""

from slategym.choice.base import ChoiceModel
from slategym.choice.exponential_cascade import ExponentialCascade
from slategym.choice.first_item import FirstItem
from slategym.choice.mnl import MultinomialLogit
from slategym.choice.multi_click import MultiClick
from slategym.choice.position_based import PositionBased
from slategym.choice.proportional import MultinomialProportional
from slategym.choice.proportional_cascade import ProportionalCascade

__all__ = [
    "ChoiceModel",
    "ExponentialCascade",
    "FirstItem",
    "MultiClick",
    "MultinomialLogit",
    "MultinomialProportional",
    "PositionBased",
    "ProportionalCascade",
]
