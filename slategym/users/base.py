"""The user-model contract: a population, a per-row dynamic state, affinities and responses.

A user model owns user *behaviour*; the simulator owns time, candidates, slates and bookkeeping. The
simulator calls, in this order:

1. ``sample_population(num_users, catalog, rng)`` once, at construction;
2. ``initial_state(population, user_ids)`` when rows start an episode;
3. ``affinity(population, state, catalog, item_ids)`` for the items of each slate;
4. ``respond(...)`` with the clicks the choice model drew, to get purchases, dwell times, the updated
   state and the session decisions (leave, churn, return multiplier).

Every method is batched over a leading row axis and pure: randomness comes in as uniforms.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from slategym.catalog import Catalog

NUM_PROFILE_FEATURES = 10
"""Columns of ``Population.profile``: age, gender, region (4, one-hot), device (3, one-hot), tenure."""


@dataclass(frozen=True)
class Population:
    """Static attributes of ``U`` users; rows are user ids."""

    profile: np.ndarray  # (U, P) float32 in [0, 1], observable
    chronotype: np.ndarray  # (U,) int64 index into timeline.CHRONOTYPES
    hour_profile: np.ndarray  # (U, 24) float64, rows sum to 1, entries > 0
    activity: np.ndarray  # (U,) float64 expected sessions per day, > 0
    interests: np.ndarray  # (U, D) float64 hidden latent interests
    price_sensitivity: np.ndarray  # (U,) float64 >= 0
    patience: np.ndarray  # (U,) float64 >= 1, tolerated no-click streak
    initial_satisfaction: np.ndarray  # (U,) float64 in [0, 1]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # model-specific (U, ...) arrays

    @property
    def size(self) -> int:
        """Number of users ``U``."""
        return int(self.activity.shape[0])


@dataclass(frozen=True)
class UserState:
    """Dynamic state of ``N`` simulated rows (one user each)."""

    user_id: np.ndarray  # (N,) int64 index into the population
    interests: np.ndarray  # (N, D) float64 current interests (drift over time)
    fatigue: np.ndarray  # (N, T) float64 per-topic boredom, >= 0
    satisfaction: np.ndarray  # (N,) float64 in [0, 1]
    no_click_streak: np.ndarray  # (N,) int64 slates in a row without a click in this session

    FIELDS: ClassVar[tuple[str, ...]] = (
        "user_id",
        "interests",
        "fatigue",
        "satisfaction",
        "no_click_streak",
    )
    """The field names, in order."""

    def take(self, rows: np.ndarray) -> UserState:
        """The sub-state of ``rows``."""
        return UserState(*(getattr(self, f)[rows] for f in _USER_FIELDS))

    def put(self, rows: np.ndarray, sub: UserState) -> None:
        """Write ``sub`` into ``rows`` in place."""
        for f in _USER_FIELDS:
            getattr(self, f)[rows] = getattr(sub, f)

    def copy(self) -> UserState:
        """A deep copy."""
        return replace(self, **{f: getattr(self, f).copy() for f in _USER_FIELDS})


_USER_FIELDS = UserState.FIELDS


@dataclass(frozen=True)
class Response:
    """What ``N`` users did with their slates besides clicking."""

    purchases: np.ndarray  # (N, K) bool, only where clicked
    dwell: np.ndarray  # (N, K) float64 minutes, 0 where not clicked
    session_end: np.ndarray  # (N,) bool: the user leaves after this slate
    churn: np.ndarray  # (N,) bool: the user leaves the platform for good (only if session_end)
    return_multiplier: np.ndarray  # (N,) float64 > 0, scales the rate of the next session


class UserModel(ABC):
    """Base class of user models. Subclass :class:`~slategym.users.DefaultUserModel` to change one
    part (usually :meth:`affinity`), or this class to write a model from scratch."""

    @abstractmethod
    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        """Draw ``num_users`` users with an explicit generator."""

    def initial_state(
        self, population: Population, catalog: Catalog, user_ids: np.ndarray
    ) -> UserState:
        """The state of rows starting an episode as ``user_ids`` (no fatigue, no streak)."""
        n = user_ids.shape[0]
        return UserState(
            user_id=user_ids.astype(np.int64),
            interests=population.interests[user_ids].astype(np.float64),
            fatigue=np.zeros((n, catalog.num_topics)),
            satisfaction=population.initial_satisfaction[user_ids].astype(np.float64),
            no_click_streak=np.zeros(n, dtype=np.int64),
        )

    @abstractmethod
    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        """Affinities ``(N, K)`` of each row's user for ``item_ids (N, K)``."""

    @abstractmethod
    def num_uniforms(self, slate_size: int) -> int:
        """Uniforms per row that :meth:`respond` reads."""

    @abstractmethod
    def respond(
        self,
        population: Population,
        state: UserState,
        catalog: Catalog,
        item_ids: np.ndarray,
        affinities: np.ndarray,
        clicks: np.ndarray,
        session_full: np.ndarray,
        uniforms: np.ndarray,
    ) -> tuple[UserState, Response]:
        """Purchases, dwell, session decisions and the next state after a slate.

        Args:
            item_ids: ``(N, K)`` items shown.
            affinities: ``(N, K)`` from :meth:`affinity` for the same items and state.
            clicks: ``(N, K)`` bool drawn by the choice model.
            session_full: ``(N,)`` bool, the session reached its maximum length and ends anyway.
            uniforms: ``(N, num_uniforms(K))`` in ``[0, 1)``.
        """
