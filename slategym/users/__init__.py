"""User models: who the users are, what they like, and how they respond to slates."""

from slategym.users.base import Population, Response, UserModel, UserState
from slategym.users.default import DefaultUserModel, deterministic_user_model

__all__ = [
    "DefaultUserModel",
    "Population",
    "Response",
    "UserModel",
    "UserState",
    "deterministic_user_model",
]
