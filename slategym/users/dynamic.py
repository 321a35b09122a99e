r"""A user whose tastes change: hour-of-day preferences, and interests that drift from day to day."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from slategym.catalog import Catalog
from slategym.rng import uniforms as counter_uniforms
from slategym.timeline import HOURS, minute_to_day_hour
from slategym.users.base import Population, Response, UserState, standard_normals
from slategym.users.default import DefaultUserModel
from slategym.validation import check_array, check_float


@dataclass(frozen=True)
class DynamicUserModel(DefaultUserModel):
    r"""The default user, whose preferences depend on the hour of the day and drift day by day.

    ## Description

    Everything of :class:`~slategym.users.DefaultUserModel`, plus two kinds of change over time:

    * **Hour of day.** Each topic has a peak hour (by default the even topics peak at 08:00 and the
      odd ones at 21:00: news in the morning, entertainment in the evening); an item's affinity rises
      by up to ``hour_weight`` near its topic's peak hour and falls as much twelve hours away. The
      same user wants different items at 08:00 and at 21:00.
    * **Day to day.** At every new day the interests take one step of a random walk: a step of
      their own (``daily_drift``) and a step shared by the whole population (``trend_drift``, a
      fashion that moves everyone's taste the same way). A ranking learnt on day 0 goes stale.

    The drift of user ``u`` on day ``d`` is a pure function of ``(u, d)`` (counter-based draws from a
    per-user key drawn with the population), so a user's tastes follow the calendar whatever the
    episode, and the state stays one typed object: the model keeps the ``day`` the interests were
    drifted to and the ``hour`` of the pending request as extra state, both set by :meth:`advance`.

    ## Dynamics

    With :math:`h` the hour of the request, :math:`h_t` the peak hour of topic ``t`` and
    :math:`a^0_{ui}` the default affinity:

    .. math::

        a_{ui}(h) = a^0_{ui} + w_h \cos\!\big(2\pi (h + \tfrac12 - h_{\tau_i}) / 24\big)

    When the clock moves from day ``d - 1`` to day ``d`` (once per day crossed):

    .. math::

        \theta_u \leftarrow \theta_u + \sigma_u\, \xi_{u d} + \sigma_s\, \zeta_d, \qquad
        \xi_{u d}, \zeta_d \sim \mathcal{N}(0, I_D / D)

    (so a step has an expected squared length of :math:`\sigma^2`).

    ## Parameters

    Those of :class:`~slategym.users.DefaultUserModel`, and:

    | name | default | meaning |
    |---|---|---|
    | ``hour_weight`` | 1.0 | :math:`w_h` |
    | ``peak_hours`` | (8.0, 21.0) | topic ``t`` peaks at ``peak_hours[t % len(peak_hours)]`` |
    | ``daily_drift`` | 0.3 | :math:`\sigma_u`, per-user step per day |
    | ``trend_drift`` | 0.6 | :math:`\sigma_s`, population-wide step per day |

    ## Example

    >>> import numpy as np
    >>> from slategym.config import SlateRecConfig
    >>> from slategym.items import DefaultItemModel
    >>> from slategym.users import DynamicUserModel
    >>> catalog = DefaultItemModel().generate(SlateRecConfig(num_items=50, num_candidates=10), np.random.default_rng(0))
    >>> model = DynamicUserModel()
    >>> population = model.sample_population(3, catalog, np.random.default_rng(1))
    >>> state = model.initial_state(population, catalog, np.array([0, 1]))
    >>> items = np.array([[0, 1, 2], [0, 1, 2]])
    >>> at_8 = model.affinity(population, model.advance(population, state, catalog, np.full(2, 8 * 60.0)), catalog, items)
    >>> at_21 = model.affinity(population, model.advance(population, state, catalog, np.full(2, 21 * 60.0)), catalog, items)
    >>> bool(np.abs(at_8 - at_21).max() > 0.5)
    True

    ## References

    Time-of-day effects: D. Agarwal et al. (2009), "Spatio-temporal models for estimating
    click-through rate". Concept drift in recommendation: Y. Koren (2009), "Collaborative filtering
    with temporal dynamics".

    ## Version History

    * v0: initial version (SlateRec-Dynamic-v0).
    * v0, slategym 0.2: compiled (``slategym.kernels.dynamic``: the hour term and the drift in the
      step and reset kernels, through :func:`drift_step` and Box-Muller's
      :func:`~slategym.users.base.normal_radius` / :func:`~slategym.users.base.normal_angle`,
      which the numpy path calls too). Trajectories unchanged, bit for bit.
    """

    hour_weight: float = 1.0
    peak_hours: tuple[float, ...] = (8.0, 21.0)
    daily_drift: float = 0.3
    trend_drift: float = 0.6

    EXTRA_STATE = ("day", "hour")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("hour_weight", self.hour_weight, 0.0)
        peaks = check_array("peak_hours", self.peak_hours, low=0.0, high=24.0)
        if peaks.ndim != 1 or peaks.size == 0:
            raise ValueError(
                f"peak_hours={self.peak_hours!r} is not allowed: expected one or more hours in [0, 24]"
            )
        check_float("daily_drift", self.daily_drift, 0.0)
        check_float("trend_drift", self.trend_drift, 0.0)

    def hour_topic(self, num_topics: int) -> np.ndarray:
        """``(24, T)``: the affinity added to an item of topic ``t`` at hour ``h`` (read-only)."""
        return _hour_topic(self.hour_weight, tuple(self.peak_hours), num_topics)

    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        base = super().sample_population(num_users, catalog, rng)
        keys = rng.integers(0, 2**63, size=num_users + 1, dtype=np.uint64)
        extra = {"drift_key": keys[:num_users], "trend_key": keys[num_users:]}
        return dataclasses.replace(base, extra=extra)

    def initial_state(
        self,
        population: Population,
        catalog: Catalog,
        user_ids: np.ndarray,
        uniforms: np.ndarray | None = None,
        slate_size: int | None = None,
    ) -> UserState:
        state = super().initial_state(population, catalog, user_ids, uniforms, slate_size)
        n = user_ids.shape[0]
        extra = {"day": np.zeros(n, np.int64), "hour": np.zeros(n, np.int64)}
        return dataclasses.replace(state, extra=extra)

    def _normals(self, keys: np.ndarray, day: int, dim: int) -> np.ndarray:
        """``(n, D)`` standard normals of ``keys (n,)`` for ``day``: block ``day`` of each key's
        stream, ``2 ceil(D / 2)`` uniforms through Box-Muller."""
        width = 2 * ((dim + 1) // 2)
        u = counter_uniforms(keys, np.full(keys.shape, day, np.uint64), width)
        return standard_normals(u)[:, :dim]

    def advance(
        self, population: Population, state: UserState, catalog: Catalog, minute: np.ndarray
    ) -> UserState:
        day, hour = minute_to_day_hour(minute)
        old = state.extra["day"]
        later = np.flatnonzero(day > old)
        interests = state.interests
        if later.size:
            interests = interests.copy()
            d = interests.shape[1]
            keys = population.extra["drift_key"].take(state.user_id.take(later))
            for today in range(int(old[later].min()) + 1, int(day[later].max()) + 1):
                crossed = (old[later] < today) & (today <= day[later])
                rows = later[crossed]
                own = self._normals(keys[crossed], today, d)
                trend = self._normals(population.extra["trend_key"], today, d)
                interests[rows] += drift_step(own, trend, self.daily_drift, self.trend_drift, d)
        return dataclasses.replace(
            state, interests=interests, extra={"day": np.maximum(day, old), "hour": hour}
        )

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        aff = super().affinity(population, state, catalog, item_ids)
        if self.hour_weight:
            table = self.hour_topic(catalog.num_topics)
            aff += table[state.extra["hour"][:, None], catalog.topic.take(item_ids)]
        return aff

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
        new_state, response = super().respond(
            population, state, catalog, item_ids, affinities, clicks, session_full, uniforms
        )
        return dataclasses.replace(new_state, extra=state.extra), response


def drift_step(own: Any, trend: Any, daily_drift: float, trend_drift: float, dim: int) -> Any:
    """One day's step of the interests, :math:`\\sigma_u \\xi + \\sigma_s \\zeta` with
    :math:`\\xi, \\zeta \\sim \\mathcal{N}(0, I_D / D)` from standard normals ``own`` and ``trend``
    (scalars or arrays; the compiled kernels call it too)."""
    return daily_drift * (own / np.sqrt(dim)) + trend_drift * (trend / np.sqrt(dim))


@lru_cache(maxsize=32)
def _hour_topic(weight: float, peak_hours: tuple[float, ...], num_topics: int) -> np.ndarray:
    peaks = np.resize(np.asarray(peak_hours, np.float64), num_topics)
    hours = np.arange(HOURS)[:, None] + 0.5
    table = weight * np.cos(2.0 * np.pi * (hours - peaks[None, :]) / HOURS)
    table.flags.writeable = False
    return table
