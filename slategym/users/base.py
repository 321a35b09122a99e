"""The user-model contract: a population, a per-row dynamic state, affinities and responses.

A user model owns user *behaviour*; the simulator owns time, candidates, slates and bookkeeping. The
simulator calls, in this order:

1. ``sample_population(num_users, catalog, rng)`` and ``observation_spaces(population, catalog,
   slate_size)`` once, at construction;
2. ``initial_state(population, catalog, user_ids, uniforms, slate_size)`` when rows start an episode
   (``uniforms``: ``num_reset_uniforms(catalog)`` per row, for users drawn afresh every episode as
   RecSim does), then ``advance(population, state, catalog, minute)`` with the minute of the first request;
3. ``observe(population, state, catalog)`` for the user part of every observation (the ``user`` key
   and any keys the model adds);
4. ``affinity(population, state, catalog, item_ids)`` for the items of each slate;
5. ``respond(...)`` with the clicks the choice model drew, to get purchases, dwell times, the updated
   state and the session decisions (leave, churn, return multiplier), then ``advance(...)`` with the
   minute of the row's next request (time-of-day and day-to-day dynamics live there).

A model adds state of its own (a time budget, a last response, ...) as named arrays in
:attr:`UserState.extra`, declared in :attr:`UserModel.EXTRA_STATE`; the simulator and the env shells
carry them without knowing what they are.

Every method is batched over a leading row axis and pure: randomness comes in as uniforms.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from slategym.catalog import Catalog
from slategym.kernels import xp

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
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)  # model-specific (N, ...) arrays

    FIELDS: ClassVar[tuple[str, ...]] = (
        "user_id",
        "interests",
        "fatigue",
        "satisfaction",
        "no_click_streak",
    )
    """The names of the fields every user model fills, in order (``extra`` aside)."""

    def take(self, rows: np.ndarray) -> UserState:
        """The sub-state of ``rows``."""
        return UserState(
            **{f: getattr(self, f)[rows] for f in _USER_FIELDS},
            extra={k: v[rows] for k, v in self.extra.items()},
        )

    def put(self, rows: np.ndarray, sub: UserState) -> None:
        """Write ``sub`` into ``rows`` in place."""
        for f in _USER_FIELDS:
            getattr(self, f)[rows] = getattr(sub, f)
        for k, v in self.extra.items():
            v[rows] = sub.extra[k]

    def copy(self) -> UserState:
        """A deep copy."""
        return replace(
            self,
            **{f: getattr(self, f).copy() for f in _USER_FIELDS},
            extra={k: v.copy() for k, v in self.extra.items()},
        )

    @property
    def nbytes(self) -> int:
        """Bytes of every array of the state, the extra ones included."""
        core = sum(getattr(self, f).nbytes for f in _USER_FIELDS)
        return core + sum(v.nbytes for v in self.extra.values())

    def unshared(self, other: UserState) -> UserState:
        """This state with private copies of the arrays it shares memory with ``other``."""
        changes = {
            f: getattr(self, f).copy()
            for f in _USER_FIELDS
            if np.may_share_memory(getattr(self, f), getattr(other, f))
        }
        extra = {
            k: v.copy() if k in other.extra and np.may_share_memory(v, other.extra[k]) else v
            for k, v in self.extra.items()
        }
        if any(extra[k] is not self.extra[k] for k in extra):
            changes["extra"] = extra
        return replace(self, **changes) if changes else self


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

    EXTRA_STATE: ClassVar[tuple[str, ...]] = ()
    """Names of the model's own state arrays in :attr:`UserState.extra` (checked at every reset)."""

    @abstractmethod
    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        """Draw ``num_users`` users with an explicit generator."""

    def num_reset_uniforms(self, catalog: Catalog) -> int:
        """Uniforms per row that :meth:`initial_state` reads (0: users are fixed by the population)."""
        return 0

    def initial_state(
        self,
        population: Population,
        catalog: Catalog,
        user_ids: np.ndarray,
        uniforms: np.ndarray | None = None,
        slate_size: int | None = None,
    ) -> UserState:
        """The state of rows starting an episode as ``user_ids`` (no fatigue, no streak).

        Args:
            user_ids: ``(N,)`` rows of the population.
            uniforms: ``(N, num_reset_uniforms(catalog))`` in ``[0, 1)``, for models that draw a
                user afresh every episode; unused here.
            slate_size: ``K``, for models whose state has one entry per slate position; unused here.
        """
        n = user_ids.shape[0]
        return UserState(
            user_id=user_ids.astype(np.int64),
            interests=population.interests[user_ids].astype(np.float64),
            fatigue=np.zeros((n, catalog.num_topics)),
            satisfaction=population.initial_satisfaction[user_ids].astype(np.float64),
            no_click_streak=np.zeros(n, dtype=np.int64),
        )

    def advance(
        self, population: Population, state: UserState, catalog: Catalog, minute: np.ndarray
    ) -> UserState:
        """The state at ``minute (N,)``, the time of each row's next request (default: unchanged).

        Called after :meth:`initial_state` and after every :meth:`respond`; a model whose users
        change with the hour of the day or from day to day updates its state here.
        """
        return state

    def observation_spaces(
        self, population: Population, catalog: Catalog, slate_size: int
    ) -> dict[str, spaces.Box]:
        """Spaces (one row) of the observation entries :meth:`observe` returns.

        The default is the standard ``user`` entry, the observable profile. A model may replace it
        (keeping the key) and add entries of its own; the simulator's keys (``candidates``, ``time``,
        ...) are reserved.
        """
        p = population.profile.shape[1]
        return {"user": spaces.Box(0.0, 1.0, (p,), np.float32)}

    def observe(
        self, population: Population, state: UserState, catalog: Catalog
    ) -> dict[str, np.ndarray]:
        """The user part of the observation, batched ``(N, ...)``, fresh arrays, keys as
        :meth:`observation_spaces`."""
        return {"user": population.profile.take(state.user_id, axis=0)}

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


def featureless_population(num_users: int) -> Population:
    """``num_users`` users with no attributes of their own, for models that draw each user afresh
    at every reset (RecSim's user samplers): an empty profile (one column of zeros), a flat
    hour-of-day profile, one session a day, no price sensitivity, patience 1, satisfaction 1.
    The per-user arrays are read-only broadcast views (no memory per user)."""
    flat = np.broadcast_to(np.full(24, 1.0 / 24.0), (num_users, 24))

    def const(value: float, dtype: type = np.float64) -> np.ndarray:
        return np.broadcast_to(np.array(value, dtype), (num_users,))

    return Population(
        profile=np.broadcast_to(np.zeros(1, np.float32), (num_users, 1)),
        chronotype=const(0, np.int64),
        hour_profile=flat,
        activity=const(1.0),
        interests=np.broadcast_to(np.zeros(1), (num_users, 1)),
        price_sensitivity=const(0.0),
        patience=const(1.0),
        initial_satisfaction=const(1.0),
    )


def first_click(clicks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(clicked, position)``: whether each row of ``clicks (N, K)`` has a click, and the position
    of its first (top-most) click (0 where there is none)."""
    return np.any(clicks, axis=1), np.argmax(clicks, axis=1)


def standard_normals(uniforms: np.ndarray) -> np.ndarray:
    """Box-Muller: ``(N, 2 m)`` uniforms in ``[0, 1)`` to ``(N, 2 m)`` independent standard normals.

    With ``r = sqrt(-2 log(1 - u_j))`` and ``theta = 2 pi u_{m + j}``, the normals are
    ``r cos(theta)`` (columns ``0 .. m - 1``) and ``r sin(theta)`` (columns ``m .. 2 m - 1``).
    """
    m = uniforms.shape[1] // 2
    r = normal_radius(uniforms[:, :m])
    theta = normal_angle(uniforms[:, m : 2 * m])
    return np.concatenate([r * xp.cos(theta), r * xp.sin(theta)], axis=1)


def normal_radius(u: Any) -> Any:
    """Box-Muller's radius ``sqrt(-2 log(1 - u))`` (scalars or arrays)."""
    return normal_radius_from_log(xp.log1p(-u))


def normal_radius_from_log(log_survival: Any) -> Any:
    """:func:`normal_radius` from ``log(1 - u)`` (the compiled kernels compute the logarithms of
    several draws at once, then call this)."""
    return np.sqrt(-2.0 * log_survival)


def normal_angle(u: Any) -> Any:
    """Box-Muller's angle ``2 pi u``."""
    return 2.0 * np.pi * u


def reset_arguments(
    model: UserModel,
    catalog: Catalog,
    user_ids: np.ndarray,
    uniforms: np.ndarray | None,
    slate_size: int | None,
) -> tuple[np.ndarray, int]:
    """The ``uniforms`` and ``slate_size`` of a model that needs them at reset, or ValueError."""
    expected = (user_ids.shape[0], model.num_reset_uniforms(catalog))
    if uniforms is None or np.shape(uniforms) != expected or slate_size is None:
        raise ValueError(
            f"{type(model).__name__}.initial_state() needs uniforms of shape {expected} (got "
            f"{None if uniforms is None else np.shape(uniforms)}) and slate_size (got {slate_size})"
        )
    return np.asarray(uniforms, np.float64), int(slate_size)
