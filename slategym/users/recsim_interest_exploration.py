r"""RecSim's interest-exploration user: a hidden user type with log-normal affinities per topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from slategym.catalog import Catalog
from slategym.kernels import xp
from slategym.users.base import (
    Population,
    Response,
    UserModel,
    UserState,
    featureless_population,
    reset_arguments,
    standard_normals,
)
from slategym.validation import check_array

RESPONSE_FIELDS = ("click", "quality", "cluster_id")
"""Columns of the ``response`` observation, RecSim's ``IEResponse.create_observation()``."""


@dataclass(frozen=True)
class InterestExplorationUser(UserModel):
    r"""RecSim's ``interest_exploration`` user (``IEUserModel`` with ``IEClusterUserSampler``).

    ## Description

    Each user is of a hidden type (RecSim: two types, 30 % / 70 %); the type sets the log-normal
    distribution of the user's affinity for each item topic. The affinity of an item is the user's
    topic affinity plus the item's quality, and the preset's choice model is a multinomial logit with
    a no-click logit of 5. The user never changes and never leaves: RecSim's episode has no end, so
    the preset cuts it after ``max_session_steps = 100`` slates (``truncated``), the cap of the
    reference runs.

    This is RecSim's illustration of popularity bias: the topic with the better quality gets clicks
    from every user, so a myopic policy neglects the users whose affinity is for the other topic.

    Everything about the user is hidden (RecSim's user observation is empty; ``user`` is a single
    constant 0). The model adds the observation entry ``response`` (``K x 3``: click, quality,
    topic of each slate position, RecSim's response observation; zeros after a reset).
    ``satisfaction`` is not modelled (always 1).

    ## Dynamics

    At reset, type :math:`y \sim \mathrm{Categorical}(\pi)` and, for every topic ``t``,
    :math:`g_t \sim \mathrm{LogNormal}(M_{y t}, S_{y t}^2)`. The affinity of item ``i`` (topic
    :math:`\tau_i`, quality :math:`q_i`) is

    .. math::

        a_i = g_{\tau_i} + q_i

    and the state never changes.

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``user_type_distribution`` | (0.3, 0.7) | :math:`\pi` |
    | ``user_document_mean_affinity_matrix`` | ((0.1, 0.7), (0.7, 0.1)) | :math:`M`, types x topics |
    | ``user_document_stddev_affinity_matrix`` | ((0.1, 0.1), (0.1, 0.1)) | :math:`S`, types x topics |

    ## Example

    >>> import gymnasium as gym
    >>> import slategym
    >>> env = gym.make("SlateRec-InterestExploration-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs["user"].tolist(), obs["response"].shape
    ([0.0], (2, 3))

    ## References

    E. Ie et al. (2019), "RecSim"; ``recsim/environments/interest_exploration.py``, recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-InterestExploration-v0).
    """

    user_type_distribution: tuple[float, ...] = (0.3, 0.7)
    user_document_mean_affinity_matrix: tuple[tuple[float, ...], ...] = ((0.1, 0.7), (0.7, 0.1))
    user_document_stddev_affinity_matrix: tuple[tuple[float, ...], ...] = ((0.1, 0.1), (0.1, 0.1))

    EXTRA_STATE = ("response",)

    def __post_init__(self) -> None:
        types = check_array("user_type_distribution", self.user_type_distribution, low=0.0)
        if types.ndim != 1 or types.size == 0 or not np.isclose(types.sum(), 1.0):
            raise ValueError(
                f"user_type_distribution={self.user_type_distribution!r} is not allowed: expected "
                "non-negative shares summing to 1"
            )
        mean = check_array("user_document_mean_affinity_matrix", self.user_document_mean_affinity_matrix)
        if mean.ndim != 2 or mean.shape[0] != types.size:
            raise ValueError(
                f"user_document_mean_affinity_matrix has shape {mean.shape}: expected "
                f"({types.size}, num_topics), one row per user type"
            )
        check_array(
            "user_document_stddev_affinity_matrix",
            self.user_document_stddev_affinity_matrix,
            mean.shape,
            low=0.0,
        )

    @property
    def num_topics(self) -> int:
        """Topics the affinities are drawn for."""
        return len(self.user_document_mean_affinity_matrix[0])

    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        if catalog.num_topics != self.num_topics:
            raise ValueError(
                f"the interest-exploration user has affinities for {self.num_topics} topics: the "
                f"catalog has num_topics={catalog.num_topics}"
            )
        return featureless_population(num_users)

    def num_reset_uniforms(self, catalog: Catalog) -> int:
        return 1 + 2 * ((self.num_topics + 1) // 2)  # the type, then Box-Muller pairs

    def initial_state(
        self,
        population: Population,
        catalog: Catalog,
        user_ids: np.ndarray,
        uniforms: np.ndarray | None = None,
        slate_size: int | None = None,
    ) -> UserState:
        uniforms, slate_size = reset_arguments(self, catalog, user_ids, uniforms, slate_size)
        n, t = user_ids.shape[0], self.num_topics
        cdf = np.cumsum(self.user_type_distribution)
        kind = np.minimum(np.searchsorted(cdf, uniforms[:, 0], side="right"), cdf.size - 1)
        z = standard_normals(uniforms[:, 1:])[:, :t]
        mean = np.asarray(self.user_document_mean_affinity_matrix, np.float64)[kind]
        std = np.asarray(self.user_document_stddev_affinity_matrix, np.float64)[kind]
        return UserState(
            user_id=user_ids.astype(np.int64),
            interests=topic_affinity(mean, std, z),  # (N, T) topic affinities, hidden
            fatigue=np.zeros((n, t)),
            satisfaction=np.ones(n),
            no_click_streak=np.zeros(n, np.int64),
            extra={"response": np.zeros((n, slate_size, len(RESPONSE_FIELDS)), np.float32)},
        )

    def observation_spaces(
        self, population: Population, catalog: Catalog, slate_size: int
    ) -> dict[str, spaces.Box]:
        high = np.array([1.0, catalog.feature_high, catalog.num_topics - 1], np.float32)
        return {
            "user": spaces.Box(0.0, 1.0, (1,), np.float32),
            "response": spaces.Box(
                np.zeros((slate_size, 3), np.float32), np.tile(high, (slate_size, 1))
            ),
        }

    def observe(
        self, population: Population, state: UserState, catalog: Catalog
    ) -> dict[str, np.ndarray]:
        n = state.user_id.shape[0]
        return {"user": np.zeros((n, 1), np.float32), "response": state.extra["response"].copy()}

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        topic = catalog.topic.take(item_ids)
        rows = np.arange(item_ids.shape[0])[:, None]
        return state.interests[rows, topic] + catalog.quality.take(item_ids)

    def num_uniforms(self, slate_size: int) -> int:
        return 0

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
        n, k = item_ids.shape
        response = np.empty((n, k, len(RESPONSE_FIELDS)), np.float32)
        response[:, :, 0] = clicks
        response[:, :, 1] = catalog.quality.take(item_ids)
        response[:, :, 2] = catalog.topic.take(item_ids)
        new_state = UserState(
            user_id=state.user_id,
            interests=state.interests,
            fatigue=state.fatigue,
            satisfaction=state.satisfaction,
            no_click_streak=np.where(clicks.any(axis=1), 0, state.no_click_streak + 1),
            extra={"response": response},
        )
        return new_state, Response(
            purchases=np.zeros((n, k), bool),
            dwell=np.zeros((n, k)),
            session_end=session_full.copy(),
            churn=np.zeros(n, bool),
            return_multiplier=np.ones(n),
        )


def topic_affinity(mean: Any, std: Any, z: Any) -> Any:
    r""":math:`g = e^{M + S z}` with :math:`z` standard normal (written once: the method above calls
    it on arrays, slategym.kernels on scalars)."""
    return xp.exp(mean + std * z)
