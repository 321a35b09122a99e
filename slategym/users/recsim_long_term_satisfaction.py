r"""RecSim's long-term-satisfaction user: clickbait pays now and costs satisfaction later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from slategym.catalog import Catalog
from slategym.choice.base import sigmoid
from slategym.kernels import xp
from slategym.users.base import (
    Population,
    Response,
    UserModel,
    UserState,
    featureless_population,
    first_click,
    reset_arguments,
    standard_normals,
)
from slategym.validation import check_float, check_positive

MAX_ENGAGEMENT = 100.0
"""RecSim's ``LTSResponse.MAX_ENGAGEMENT_MAGNITUDE``: the observed engagement is clipped to it."""


@dataclass(frozen=True)
class LongTermSatisfactionUser(UserModel):
    r"""RecSim's ``long_term_satisfaction`` user ("Choc/Kale", ``LTSUserModel``, ``LTSStaticUserSampler``).

    ## Description

    The user clicks one item per slate (with the preset's ``first_item`` choice model, the top one)
    and engages with it: clickbaity items (clickbait score :math:`b` near 1, "chocolate") bring
    more engagement, the others ("kale") less. Engagement also scales with a hidden satisfaction,
    which follows the user's *net positive exposure*: kale raises it, chocolate lowers it. Every
    click costs one unit of a time budget; the episode ends when it is spent (60 clicks).

    Everything about the user is hidden (RecSim's user observation is empty; ``user`` is a single
    constant 0 here so that agents sized from it work). The model adds the observation entry
    ``response`` (``K x 2``: click, engagement clipped to [0, 100], RecSim's response observation;
    zeros after a reset), and keeps ``net_positive_exposure``, ``time_budget`` and ``response`` as
    extra state; ``satisfaction`` is the hidden satisfaction.

    ## Dynamics

    At reset :math:`\mathrm{NPE} = (u - 0.5) / (1 - \gamma)`, :math:`u \sim U[0, 1)`, and
    :math:`s = \sigma(\kappa\,\mathrm{NPE})`. For the first clicked item (clickbait :math:`b`):

    .. math::

        \log e \sim \mathcal{N}\big((b\,\mu_c + (1 - b)\,\mu_k)\, s,\;
        (b\,\sigma_c + (1 - b)\,\sigma_k)^2\big)

        \mathrm{NPE} \leftarrow \gamma\,\mathrm{NPE} - 2 (b - 0.5) + \varepsilon, \quad
        \varepsilon \sim \mathcal{N}(0, \sigma_\varepsilon^2), \qquad
        s \leftarrow \sigma(\kappa\,\mathrm{NPE}), \qquad B \leftarrow B - 1

    The engagement uses the satisfaction *before* the update (RecSim simulates the response, then
    updates the state). The episode ends (``terminated``) when :math:`B \le 0`. The reward of the
    preset is the engagement :math:`e` (the dwell of the click), not clipped. The affinity of an item
    is the mean of its log-engagement, :math:`(b\,\mu_c + (1 - b)\,\mu_k)\, s`.

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``memory_discount`` | 0.7 | :math:`\gamma` |
    | ``sensitivity`` | 0.01 | :math:`\kappa` |
    | ``innovation_stddev`` | 0.05 | :math:`\sigma_\varepsilon` |
    | ``choc_mean``, ``choc_stddev`` | 5.0, 1.0 | :math:`\mu_c, \sigma_c` |
    | ``kale_mean``, ``kale_stddev`` | 4.0, 1.0 | :math:`\mu_k, \sigma_k` |
    | ``time_budget`` | 60 | :math:`B` at reset, clicks per episode |

    ## RecSim's oddities, kept

    * The class docstring of RecSim's ``LTSUserModel`` writes the update as
      :math:`+ 2 (b - 0.5)`; its code (and this model) subtracts, so that kale raises satisfaction.
    * With :math:`\kappa = 0.01` and :math:`|\mathrm{NPE}| \le 1/(1 - \gamma)`, the satisfaction stays
      within 0.5 ± 0.01: the long-term effect is tiny and the myopic policy (always chocolate) is
      close to optimal. These are RecSim's defaults; pass a larger ``sensitivity`` for a stronger
      trade-off.
    * RecSim's ``create_environment`` ignores ``env_config["seed"]`` for this environment; here the
      stream of each row is seeded as everywhere in slategym.

    ## Example

    >>> import gymnasium as gym
    >>> import slategym
    >>> env = gym.make("SlateRec-LongTermSatisfaction-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step([0, 1])
    >>> info["clicks"].tolist(), reward > 0
    ([True, False], True)

    ## References

    E. Ie et al. (2019), "RecSim"; ``recsim/environments/long_term_satisfaction.py``, recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-LongTermSatisfaction-v0).
    """

    memory_discount: float = 0.7
    sensitivity: float = 0.01
    innovation_stddev: float = 0.05
    choc_mean: float = 5.0
    choc_stddev: float = 1.0
    kale_mean: float = 4.0
    kale_stddev: float = 1.0
    time_budget: float = 60.0

    EXTRA_STATE = ("net_positive_exposure", "time_budget", "response")

    def __post_init__(self) -> None:
        check_float("memory_discount", self.memory_discount, 0.0, 1.0, high_open=True)
        for name in ("sensitivity", "innovation_stddev", "choc_stddev", "kale_stddev"):
            check_float(name, getattr(self, name), 0.0)
        check_float("choc_mean", self.choc_mean)
        check_float("kale_mean", self.kale_mean)
        check_positive("time_budget", self.time_budget)

    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        if catalog.latent.shape[1] != 1:
            raise ValueError(
                f"the long-term-satisfaction user reads one clickbait score per item: the items "
                f"have {catalog.latent.shape[1]} latent dimensions, expected 1"
            )
        return featureless_population(num_users)

    def num_reset_uniforms(self, catalog: Catalog) -> int:
        return 1

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
        npe = initial_exposure(uniforms[:, 0], self.memory_discount)
        return UserState(
            user_id=user_ids.astype(np.int64),
            interests=np.zeros((n, 1)),
            fatigue=np.zeros((n, catalog.num_topics)),
            satisfaction=sigmoid(self.sensitivity * npe),
            no_click_streak=np.zeros(n, np.int64),
            extra={
                "net_positive_exposure": npe,
                "time_budget": np.full(n, float(self.time_budget)),
                "response": np.zeros((n, slate_size, 2), np.float32),
            },
        )

    def observation_spaces(
        self, population: Population, catalog: Catalog, slate_size: int
    ) -> dict[str, spaces.Box]:
        high = np.tile(np.array([1.0, MAX_ENGAGEMENT], np.float32), (slate_size, 1))
        return {
            "user": spaces.Box(0.0, 1.0, (1,), np.float32),
            "response": spaces.Box(np.zeros_like(high), high, dtype=np.float32),
        }

    def observe(
        self, population: Population, state: UserState, catalog: Catalog
    ) -> dict[str, np.ndarray]:
        n = state.user_id.shape[0]
        return {"user": np.zeros((n, 1), np.float32), "response": state.extra["response"].copy()}

    def _location(self, clickbait: np.ndarray, satisfaction: np.ndarray) -> np.ndarray:
        return location(clickbait, satisfaction, self.choc_mean, self.kale_mean)

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        clickbait = catalog.latent[:, 0].take(item_ids)
        return self._location(clickbait, state.satisfaction[:, None])

    def num_uniforms(self, slate_size: int) -> int:
        return 2  # one Box-Muller pair: the engagement noise and the innovation

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
        rows = np.arange(n)
        clicked, pos = first_click(clicks)
        b = catalog.latent[:, 0].take(item_ids[rows, pos])
        z = standard_normals(uniforms[:, :2])
        engaged = engagement(
            b, state.satisfaction, z[:, 0],
            self.choc_mean, self.choc_stddev, self.kale_mean, self.kale_stddev,
        )  # fmt: skip
        npe = state.extra["net_positive_exposure"]
        moved = exposure_after(npe, b, z[:, 1], self.memory_discount, self.innovation_stddev)
        npe = np.where(clicked, moved, npe)
        budget = state.extra["time_budget"] - clicked
        spent = budget <= 0.0
        dwell = np.zeros((n, k))
        dwell[rows, pos] = np.where(clicked, engaged, 0.0)
        response = np.zeros((n, k, 2), np.float32)
        response[rows, pos, 0] = clicked
        response[:, :, 1] = np.clip(dwell, 0.0, MAX_ENGAGEMENT)
        new_state = UserState(
            user_id=state.user_id,
            interests=state.interests,
            fatigue=state.fatigue,
            satisfaction=np.where(clicked, sigmoid(self.sensitivity * npe), state.satisfaction),
            no_click_streak=np.where(clicked, 0, state.no_click_streak + 1),
            extra={"net_positive_exposure": npe, "time_budget": budget, "response": response},
        )
        return new_state, Response(
            purchases=np.zeros((n, k), bool),
            dwell=dwell,
            session_end=spent | session_full,
            churn=spent,
            return_multiplier=np.ones(n),
        )


# -- formulas written once (the methods above call them on arrays, slategym.kernels on scalars)


def initial_exposure(u: Any, gamma: float) -> Any:
    r""":math:`\mathrm{NPE} = (u - 0.5) / (1 - \gamma)`."""
    return (u - 0.5) / (1.0 - gamma)


def location(b: Any, s: Any, mu_c: float, mu_k: float) -> Any:
    r""":math:`(b\,\mu_c + (1 - b)\,\mu_k)\, s`, the mean of the log-engagement."""
    return (b * mu_c + (1.0 - b) * mu_k) * s


def engagement(
    b: Any, s: Any, z: Any, mu_c: float, sigma_c: float, mu_k: float, sigma_k: float
) -> Any:
    r""":math:`e = \exp(\text{location} + (b\,\sigma_c + (1 - b)\,\sigma_k)\, z)`."""
    return xp.exp(location(b, s, mu_c, mu_k) + (b * sigma_c + (1.0 - b) * sigma_k) * z)


def exposure_after(npe: Any, b: Any, z: Any, gamma: float, sigma: float) -> Any:
    r""":math:`\gamma\,\mathrm{NPE} - 2 (b - 0.5) + \sigma z`."""
    return gamma * npe - 2.0 * (b - 0.5) + sigma * z
