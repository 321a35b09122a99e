"""Item models: the catalog of a world, the candidates offered per request, and corpus dynamics."""

from slategym.items.base import ItemModel
from slategym.items.default import DefaultItemModel
from slategym.items.recsim_interest_evolution import InterestEvolutionItems
from slategym.items.recsim_interest_exploration import InterestExplorationItems
from slategym.items.recsim_long_term_satisfaction import LongTermSatisfactionItems
from slategym.items.table import TableItemModel

__all__ = [
    "DefaultItemModel",
    "InterestEvolutionItems",
    "InterestExplorationItems",
    "ItemModel",
    "LongTermSatisfactionItems",
    "TableItemModel",
]
