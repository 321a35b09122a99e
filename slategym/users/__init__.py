"""User models: who the users are, what they like, and how they respond to slates."""

from slategym.users.base import Population, Response, UserModel, UserState
from slategym.users.default import DefaultUserModel, deterministic_user_model
from slategym.users.dynamic import DynamicUserModel
from slategym.users.personal import personal_user_model
from slategym.users.recsim_interest_evolution import InterestEvolutionUser
from slategym.users.recsim_interest_exploration import InterestExplorationUser
from slategym.users.recsim_long_term_satisfaction import LongTermSatisfactionUser

__all__ = [
    "DefaultUserModel",
    "DynamicUserModel",
    "InterestEvolutionUser",
    "InterestExplorationUser",
    "LongTermSatisfactionUser",
    "Population",
    "Response",
    "UserModel",
    "UserState",
    "deterministic_user_model",
    "personal_user_model",
]
