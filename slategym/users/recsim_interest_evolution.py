r"""RecSim's interest-evolution user: observable interests that move with consumption, a time budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from slategym.catalog import Catalog
from slategym.users.base import (
    Population,
    Response,
    UserModel,
    UserState,
    featureless_population,
    first_click,
    reset_arguments,
)
from slategym.validation import check_float, check_positive

RESPONSE_FIELDS = ("click", "watch_time", "liked", "quality", "cluster_id")
"""Columns of the ``response`` observation, RecSim's ``IEvResponse.create_observation()``."""


@dataclass(frozen=True)
class InterestEvolutionUser(UserModel):
    r"""RecSim's ``interest_evolution`` user (``IEvUserModel`` with ``UtilityModelUserSampler``).

    ## Description

    A user arrives with interests :math:`\theta \in [-1, 1]^D` (one per item cluster, ``D`` the
    items' feature dimension, RecSim: 20) and a time budget of ``time_budget`` minutes. The affinity
    of an item is the dot product of the interests with its features (for RecSim's one-hot items,
    the interest in its cluster). After a click the user watches the item for
    :math:`\min(\text{budget}, \text{length})` minutes, which costs budget, and the item's quality
    gives some back; a slate without a click costs ``step_penalty``. Watching moves the interest in
    the item's cluster, towards or away from the item. The episode ends when the budget is spent.

    The interests are RecSim's user observation (``user``); the time budget is hidden. The model adds
    the observation entry ``response`` (``K x 5``: click, watch time, liked, quality, cluster of each
    slate position, RecSim's response observation; zeros after a reset) and keeps ``time_budget`` and
    ``response`` as extra state. ``satisfaction`` reports the share of the budget left, in [0, 1].

    ## Dynamics

    At reset :math:`\theta \sim U[-1, 1]^D`, :math:`b = b_0`. With the first clicked item ``i``
    (features :math:`x_i`, length :math:`\ell_i`, quality :math:`q_i`, affinity :math:`a_i`):

    .. math::

        w = \min(b, \ell_i), \qquad
        \alpha = -\tfrac{y_0}{x_0} |\theta| + y_0, \qquad
        \Delta = \alpha \odot x_i \odot (x_i - \theta)

        \theta \leftarrow \mathrm{clip}\big(\theta \pm \Delta, -1, 1\big), \quad
        + \text{ with probability } \tfrac{\theta + 1}{2} \cdot x_i

        b \leftarrow b - w + \eta\, w\, (\phi_u a_i + \phi_d q_i)

    and without a click :math:`b \leftarrow b - p`. The episode ends (``terminated``) when
    :math:`b \le 0`. The reward of the preset is the watch time ``w`` (the dwell of the click).

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``time_budget`` | 200.0 | :math:`b_0`, minutes |
    | ``step_penalty`` | 0.5 | :math:`p`, budget lost on a slate without a click |
    | ``user_update_alpha`` | 0.9 / 3.4 | :math:`\eta`, budget returned per minute watched and unit of utility |
    | ``user_quality_factor`` | 0.0 | :math:`\phi_u`, weight of the user's own score in the utility |
    | ``document_quality_factor`` | 1.0 | :math:`\phi_d`, weight of the item's quality |
    | ``alpha_x_intercept`` | 1.0 | :math:`x_0` of the interest step size |
    | ``alpha_y_intercept`` | 0.3 | :math:`y_0` of the interest step size |

    The choice model of the preset is RecSim's: ``MultinomialProportional(min_normalizer=-1,
    no_click_mass=1)``.

    ## RecSim's oddities, kept or not

    * Kept: the interest update touches only the clicked item's cluster (``x_i`` is one-hot), and its
      sign is random; only the first clicked item updates the state (RecSim returns after it);
      ``liked`` is always 0.
    * Kept, with a different form: RecSim's "expected utility" is the choice model's score of the
      clicked item, here its affinity. They differ by the choice model's ``-min_normalizer``, which
      matters only for ``user_quality_factor != 0`` (RecSim's default is 0).
    * Not reproduced (a bug that does not change the dynamics): RecSim returns the interest array
      itself as the observation and then updates it in place, so an observation an agent kept
      changes after the next step. Here every observation is a fresh array.
    * RecSim draws the choice and the update sign from numpy's global generator; here they come from
      the row's own stream.

    ## Example

    >>> import gymnasium as gym
    >>> import slategym
    >>> env = gym.make("SlateRec-InterestEvolution-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs["user"].shape, obs["response"].shape
    ((20,), (2, 5))

    ## References

    E. Ie et al. (2019), "RecSim: A Configurable Simulation Platform for Recommender Systems";
    E. Ie et al. (2019), "SlateQ" (the interest-evolution environment);
    ``recsim/environments/interest_evolution.py``, recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-InterestEvolution-v0).
    """

    time_budget: float = 200.0
    step_penalty: float = 0.5
    user_update_alpha: float = 0.9 / 3.4
    user_quality_factor: float = 0.0
    document_quality_factor: float = 1.0
    alpha_x_intercept: float = 1.0
    alpha_y_intercept: float = 0.3

    EXTRA_STATE = ("time_budget", "response")

    def __post_init__(self) -> None:
        check_positive("time_budget", self.time_budget)
        check_positive("alpha_x_intercept", self.alpha_x_intercept)
        for name in (
            "step_penalty", "user_update_alpha", "user_quality_factor",
            "document_quality_factor", "alpha_y_intercept",
        ):  # fmt: skip
            check_float(name, getattr(self, name))

    # -- population and reset -------------------------------------------------------------------
    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        if catalog.duration is None:
            raise ValueError(
                "the interest-evolution user watches items for their duration: the item model must "
                "give items a duration (catalog.duration is None)"
            )
        return featureless_population(num_users)

    def num_reset_uniforms(self, catalog: Catalog) -> int:
        return int(catalog.latent.shape[1])

    def initial_state(
        self,
        population: Population,
        catalog: Catalog,
        user_ids: np.ndarray,
        uniforms: np.ndarray | None = None,
        slate_size: int | None = None,
    ) -> UserState:
        uniforms, slate_size = reset_arguments(self, catalog, user_ids, uniforms, slate_size)
        n = user_ids.shape[0]
        return UserState(
            user_id=user_ids.astype(np.int64),
            interests=2.0 * uniforms - 1.0,  # RecSim: uniform(-1, 1, D)
            fatigue=np.zeros((n, catalog.num_topics)),
            satisfaction=np.ones(n),
            no_click_streak=np.zeros(n, np.int64),
            extra={
                "time_budget": np.full(n, float(self.time_budget)),
                "response": np.zeros((n, slate_size, len(RESPONSE_FIELDS)), np.float32),
            },
        )

    # -- observation ----------------------------------------------------------------------------
    def observation_spaces(
        self, population: Population, catalog: Catalog, slate_size: int
    ) -> dict[str, spaces.Box]:
        d = catalog.latent.shape[1]
        assert catalog.duration is not None
        quality = max(100.0, float(np.abs(catalog.quality).max()))
        low = np.array([0.0, 0.0, 0.0, -quality, 0.0], np.float32)
        high = np.array(
            [1.0, max(100.0, float(catalog.duration.max())), 1.0, quality, catalog.num_topics - 1],
            np.float32,
        )
        return {
            "user": spaces.Box(-1.0, 1.0, (d,), np.float32),
            "response": spaces.Box(
                np.tile(low, (slate_size, 1)), np.tile(high, (slate_size, 1)), dtype=np.float32
            ),
        }

    def observe(
        self, population: Population, state: UserState, catalog: Catalog
    ) -> dict[str, np.ndarray]:
        return {
            "user": state.interests.astype(np.float32),
            "response": state.extra["response"].copy(),
        }

    # -- behaviour ------------------------------------------------------------------------------
    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        return np.einsum("nkd,nd->nk", catalog.latent.take(item_ids, axis=0), state.interests)

    def num_uniforms(self, slate_size: int) -> int:
        return 1

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
        assert catalog.duration is not None
        n, k = item_ids.shape
        rows = np.arange(n)
        clicked, pos = first_click(clicks)
        item = item_ids[rows, pos]
        budget = state.extra["time_budget"]
        watch = np.where(clicked, np.minimum(budget, catalog.duration.take(item)), 0.0)

        theta = state.interests
        x = catalog.latent.take(item, axis=0)  # (N, D) features of the clicked item
        update = interest_update(theta, x, self.alpha_x_intercept, self.alpha_y_intercept)
        toward = uniforms[:, 0] < np.einsum("nd,nd->n", (theta + 1.0) / 2.0, x)
        moved = np.clip(theta + np.where(toward[:, None], update, -update), -1.0, 1.0)
        interests = np.where(clicked[:, None], moved, theta)

        utility = watch_utility(
            affinities[rows, pos], catalog.quality.take(item),
            self.user_quality_factor, self.document_quality_factor,
        )  # fmt: skip
        budget = np.where(
            clicked,
            budget_after_watch(budget, watch, utility, self.user_update_alpha),
            budget - self.step_penalty,
        )
        spent = budget <= 0.0

        dwell = np.zeros((n, k))
        dwell[rows, pos] = watch
        response = np.zeros((n, k, len(RESPONSE_FIELDS)), np.float32)
        response[:, :, 0] = clicks & (np.arange(k) == pos[:, None]) & clicked[:, None]
        response[:, :, 1] = dwell
        response[:, :, 3] = catalog.quality.take(item_ids)
        response[:, :, 4] = catalog.topic.take(item_ids)
        new_state = UserState(
            user_id=state.user_id,
            interests=interests,
            fatigue=state.fatigue,
            satisfaction=np.clip(budget / self.time_budget, 0.0, 1.0),
            no_click_streak=np.where(clicked, 0, state.no_click_streak + 1),
            extra={"time_budget": budget, "response": response},
        )
        return new_state, Response(
            purchases=np.zeros((n, k), bool),
            dwell=dwell,
            session_end=spent | session_full,
            churn=spent,
            return_multiplier=np.ones(n),
        )


# -- formulas written once (the method above calls them on arrays, slategym.kernels on scalars)


def interest_update(theta: Any, x: Any, x_0: float, y_0: float) -> Any:
    r""":math:`\Delta = \alpha \odot x \odot (x - \theta)`, :math:`\alpha = -\tfrac{y_0}{x_0}|\theta| + y_0`."""
    return ((-y_0 / x_0) * np.abs(theta) + y_0) * x * (x - theta)


def watch_utility(affinity: Any, quality: Any, phi_u: float, phi_d: float) -> Any:
    r""":math:`\phi_u a_i + \phi_d q_i`."""
    return phi_u * affinity + phi_d * quality


def budget_after_watch(budget: Any, watch: Any, utility: Any, eta: float) -> Any:
    r""":math:`b - w + \eta\, w\, u`."""
    return budget - watch + eta * watch * utility
