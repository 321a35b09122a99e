r"""The default user model: profiles, latent interests, chronotypes, purchases, drift, fatigue, churn."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from slategym._arrays import take_rows
from slategym.catalog import Catalog
from slategym.choice.base import sigmoid
from slategym.kernels import xp
from slategym.timeline import CHRONOTYPES, chronotype_profiles
from slategym.users.base import NUM_PROFILE_FEATURES, Population, Response, UserModel, UserState
from slategym.validation import check_array, check_float, check_positive, check_probability


@dataclass(frozen=True)
class DefaultUserModel(UserModel):
    r"""Users with observable profiles, hidden interests, hour-of-day habits and a satisfaction state.

    ## Description

    **Population.** Each user has an observable profile ``x`` (10 columns: age in [0, 1], gender,
    region one-hot (4), device one-hot (3), tenure in [0, 1]); a chronotype (morning / evening /
    night, more often morning for older users) whose hour-of-day profile is jittered per user; a daily
    activity (expected sessions per day); hidden latent interests that depend on the profile; a price
    sensitivity; a patience (tolerated slates in a row without a click); an initial satisfaction.

    **Affinity** of user ``u`` for item ``i`` mixes interest match, hidden quality, popularity and
    boredom with the item's topic. A choice model turns affinities into clicks.

    **Responses.** A click may lead to a purchase and has a dwell time. Consumption pulls the
    interests toward the consumed item, adds boredom to its topic and moves satisfaction; satisfaction
    and the no-click streak drive abandonment of the session, and satisfaction drives churn (at the end
    of a session) and how soon the user comes back.

    ## Dynamics

    Population (``W`` a fixed random ``P x D`` matrix, ``\mu`` a shared interest direction):

    .. math::

        z_u = W^\top (x_u - \bar x) + w_s \mu + \sigma_\theta \varepsilon_u, \qquad
        \theta_u = s_\theta\, z_u / \lVert z_u \rVert

        \pi_u \sim \mathrm{Dirichlet}(\kappa\, \pi_{c_u}), \qquad
        \lambda_u \sim \mathrm{LogNormal}(\log \bar\lambda, \sigma_\lambda^2)

    Affinity (``v_i`` latent item vector, ``q_i`` hidden quality, ``z_i`` standardised
    log-popularity, ``f_{u,t}`` fatigue for topic ``t``):

    .. math::

        a_{ui} = \theta_u \cdot v_i + w_q q_i + w_p z_i - w_f f_{u,\tau_i}

    Responses to a slate with clicks :math:`C_k` (``r_i`` standardised log-price, :math:`\rho_u` price
    sensitivity, :math:`E \sim \mathrm{Exp}(1)`):

    .. math::

        P(\text{buy}_k \mid C_k) = \sigma(b_0 + b_a a_k + b_q q_k - \rho_u r_k), \qquad
        \text{dwell}_k = \min(d_{\max},\; \bar d\, e^{\gamma a_k} E)

        \theta \leftarrow \theta + \eta \sum_k C_k v_k - \min\Big(1, \eta \sum_k C_k\Big)\, \theta, \qquad
        f \leftarrow \delta f + \sum_k C_k\, e_{\tau_k}

        h = \frac{\sum_k C_k \sigma(a_k + q_k)}{\max(1, \sum_k C_k)}, \qquad
        s \leftarrow (1 - \alpha) s + \alpha h

    The interest update is :math:`\theta + \eta \sum_k C_k (v_k - \theta)` as long as
    :math:`\eta \sum_k C_k \le 1`; beyond, the old interests are replaced, never flipped in sign.
    ``f`` is the per-topic fatigue vector (:math:`e_t` the unit vector of topic ``t``), ``s`` the
    satisfaction after the slate.

    Session decisions (``n`` the no-click streak after this slate, :math:`\kappa_u` patience):

    .. math::

        P(\text{leave}) = \sigma(\ell_0 + \ell_s (0.5 - s) + \ell_n\, n / \kappa_u), \qquad
        P(\text{churn} \mid \text{leave}) = \sigma(\chi_0 + \chi_s (0.5 - s)), \qquad
        m = e^{\omega (s - 0.5)}

    A session also ends when it reaches ``max_session_steps``. At the end of a session fatigue and the
    streak reset to zero. ``m`` multiplies the user's session rate until the next session starts.

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``chronotype_weights`` | (0.35, 0.45, 0.2) | shares of morning / evening / night users at age 0.5 |
    | ``chronotype_age_effect`` | 2.0 | older users lean to morning, younger to night |
    | ``hour_profile_concentration`` | 200.0 | :math:`\kappa`; ``inf`` gives every user the exact chronotype profile |
    | ``mean_sessions_per_day`` | 2.0 | :math:`\bar\lambda` |
    | ``activity_dispersion`` | 0.5 | :math:`\sigma_\lambda` |
    | ``interest_strength`` | 2.0 | :math:`s_\theta`, norm of the interests |
    | ``shared_interest`` | 0.5 | :math:`w_s`, weight of the population-wide taste |
    | ``interest_noise`` | 0.7 | :math:`\sigma_\theta`, taste not explained by the profile |
    | ``price_sensitivity_mean`` | 1.0 | median of :math:`\rho_u` (log-normal, sd 0.5) |
    | ``patience_mean`` | 3.0 | mean of :math:`\kappa_u` (1 + Gamma) |
    | ``quality_weight`` | 0.5 | :math:`w_q` |
    | ``popularity_weight`` | 0.2 | :math:`w_p` |
    | ``fatigue_weight`` | 0.3 | :math:`w_f` |
    | ``fatigue_decay`` | 0.8 | :math:`\delta` per slate |
    | ``interest_drift`` | 0.05 | :math:`\eta` |
    | ``purchase_bias``, ``purchase_affinity``, ``purchase_quality`` | -1.5, 0.5, 0.5 | :math:`b_0, b_a, b_q` |
    | ``dwell_minutes``, ``dwell_affinity``, ``dwell_cap`` | 2.0, 0.3, 30.0 | :math:`\bar d, \gamma, d_{\max}` |
    | ``satisfaction_rate`` | 0.2 | :math:`\alpha` |
    | ``leave_bias``, ``leave_satisfaction``, ``leave_streak`` | -2.5, 3.0, 2.5 | :math:`\ell_0, \ell_s, \ell_n` |
    | ``churn_bias``, ``churn_satisfaction`` | -5.0, 5.0 | :math:`\chi_0, \chi_s` |
    | ``return_satisfaction`` | 1.5 | :math:`\omega` |

    ## Example

    >>> import numpy as np
    >>> from slategym.catalog import generate_catalog
    >>> from slategym.users import DefaultUserModel
    >>> catalog = generate_catalog(50, 4, 8, 7, 0, 0.5, np.random.default_rng(0))
    >>> model = DefaultUserModel()
    >>> population = model.sample_population(3, catalog, np.random.default_rng(1))
    >>> state = model.initial_state(population, catalog, np.array([0, 2]))
    >>> model.affinity(population, state, catalog, np.array([[0, 1, 2], [3, 4, 5]])).shape
    (2, 3)

    ## References

    E. Ie et al. (2019), "RecSim" (interest evolution: consumption moves interests; satisfaction and
    session budgets). Chronotypes: T. Roenneberg et al. (2003), "Life between clocks".

    ## Version History

    * v0: initial version (SlateRec-v0).
    """

    chronotype_weights: tuple[float, ...] = (0.35, 0.45, 0.2)
    chronotype_age_effect: float = 2.0
    hour_profile_concentration: float = 200.0
    mean_sessions_per_day: float = 2.0
    activity_dispersion: float = 0.5
    interest_strength: float = 2.0
    shared_interest: float = 0.5
    interest_noise: float = 0.7
    price_sensitivity_mean: float = 1.0
    patience_mean: float = 3.0
    quality_weight: float = 0.5
    popularity_weight: float = 0.2
    fatigue_weight: float = 0.3
    fatigue_decay: float = 0.8
    interest_drift: float = 0.05
    purchase_bias: float = -1.5
    purchase_affinity: float = 0.5
    purchase_quality: float = 0.5
    dwell_minutes: float = 2.0
    dwell_affinity: float = 0.3
    dwell_cap: float = 30.0
    satisfaction_rate: float = 0.2
    leave_bias: float = -2.5
    leave_satisfaction: float = 3.0
    leave_streak: float = 2.5
    churn_bias: float = -5.0
    churn_satisfaction: float = 5.0
    return_satisfaction: float = 1.5

    def __post_init__(self) -> None:
        w = check_array("chronotype_weights", self.chronotype_weights, (len(CHRONOTYPES),), 0.0)
        if w.sum() <= 0:
            raise ValueError(
                f"chronotype_weights={self.chronotype_weights!r} is not allowed: expected "
                f"{len(CHRONOTYPES)} non-negative weights ({', '.join(CHRONOTYPES)}) with a positive sum"
            )
        if self.hour_profile_concentration != math.inf:
            check_positive("hour_profile_concentration", self.hour_profile_concentration)
        for name in ("mean_sessions_per_day", "dwell_minutes", "dwell_cap"):
            check_positive(name, getattr(self, name))
        for name in (
            "activity_dispersion", "interest_strength", "shared_interest", "interest_noise",
            "price_sensitivity_mean", "quality_weight", "popularity_weight", "fatigue_weight",
            "dwell_affinity",
        ):  # fmt: skip
            check_float(name, getattr(self, name), 0.0)
        check_float("patience_mean", self.patience_mean, 1.0)
        for name in ("fatigue_decay", "interest_drift", "satisfaction_rate"):
            check_probability(name, getattr(self, name))
        for name in (
            "chronotype_age_effect", "purchase_bias", "purchase_affinity", "purchase_quality",
            "leave_bias", "leave_satisfaction", "leave_streak", "churn_bias",
            "churn_satisfaction", "return_satisfaction",
        ):  # fmt: skip
            check_float(name, getattr(self, name))

    # -- population ---------------------------------------------------------------------------
    def sample_population(
        self, num_users: int, catalog: Catalog, rng: np.random.Generator
    ) -> Population:
        n = num_users
        latent_dim = int(catalog.latent.shape[1])
        profile = np.zeros((n, NUM_PROFILE_FEATURES), dtype=np.float32)
        age = rng.beta(2.0, 3.0, size=n)
        profile[:, 0] = age
        profile[:, 1] = rng.random(n) < 0.5
        profile[np.arange(n), 2 + rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])] = 1.0
        profile[np.arange(n), 6 + rng.choice(3, size=n, p=[0.6, 0.3, 0.1])] = 1.0
        profile[:, 9] = rng.random(n)

        weights = np.asarray(self.chronotype_weights, dtype=np.float64)
        logits = np.log(np.maximum(weights, 1e-300)) + self.chronotype_age_effect * np.outer(
            age - 0.5, [1.0, 0.0, -1.0]
        )
        logits[:, weights == 0] = -np.inf
        gumbel = -np.log(-np.log(rng.random((n, len(CHRONOTYPES)))))
        chronotype = np.argmax(logits + gumbel, axis=1).astype(np.int64)
        base = chronotype_profiles()[chronotype]  # (n, 24)
        if self.hour_profile_concentration == math.inf:
            hour_profile = base.copy()
        else:
            hour_profile = rng.gamma(self.hour_profile_concentration * base)
            hour_profile = np.maximum(hour_profile, 1e-12)
            hour_profile /= hour_profile.sum(axis=1, keepdims=True)

        activity = self.mean_sessions_per_day * np.exp(
            self.activity_dispersion * rng.normal(size=n)
        )
        projection = rng.normal(size=(NUM_PROFILE_FEATURES, latent_dim)) / np.sqrt(
            NUM_PROFILE_FEATURES
        )
        shared: np.ndarray = rng.normal(size=latent_dim)
        shared /= np.linalg.norm(shared)
        centred = profile - profile.mean(axis=0, keepdims=True)
        z = centred @ projection + self.shared_interest * shared
        z = z + self.interest_noise * rng.normal(size=(n, latent_dim))
        interests = self.interest_strength * z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)
        return Population(
            profile=profile,
            chronotype=chronotype,
            hour_profile=hour_profile,
            activity=activity,
            interests=interests,
            price_sensitivity=self.price_sensitivity_mean * np.exp(0.5 * rng.normal(size=n)),
            patience=1.0 + rng.gamma(2.0, (self.patience_mean - 1.0) / 2.0 + 1e-12, size=n),
            initial_satisfaction=rng.beta(5.0, 5.0, size=n),
        )

    # -- behaviour ----------------------------------------------------------------------------
    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        d = state.interests.shape[1]
        items = catalog.gather(item_ids)  # (N, K, D + 3): latent | quality | popularity_z | price_z
        match = np.einsum("nkd,nd->nk", items[..., :d], state.interests)
        fatigue: Any = 0.0
        if self.fatigue_weight:
            fatigue = take_rows(state.fatigue, catalog.topic.take(item_ids))
        return affinity(
            match, items[..., d], items[..., d + 1], fatigue,
            self.quality_weight, self.popularity_weight, self.fatigue_weight,
        )  # fmt: skip

    def num_uniforms(self, slate_size: int) -> int:
        return 2 * slate_size + 2

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
        uid = state.user_id
        d = state.interests.shape[1]
        items = catalog.gather(item_ids)  # (N, K, D + 3): latent | quality | popularity_z | price_z
        quality = items[..., d]
        rho = population.price_sensitivity.take(uid)[:, None]
        buy = buy_probability(
            affinities, quality, items[..., d + 2], rho,
            self.purchase_bias, self.purchase_affinity, self.purchase_quality,
        )  # fmt: skip
        purchases = clicks & (uniforms[:, :k] < buy)
        dwell = dwell_minutes(
            affinities, uniforms[:, k : 2 * k], self.dwell_minutes, self.dwell_affinity, self.dwell_cap
        )
        dwell *= clicks

        n_clicks = np.add.reduce(clicks, axis=1)
        happiness = np.add.reduce(clicks * sigmoid(affinities + quality), axis=1) / np.maximum(
            n_clicks, 1
        )
        satisfaction = satisfaction_after(state.satisfaction, happiness, self.satisfaction_rate)
        streak = np.where(n_clicks > 0, 0, state.no_click_streak + 1)

        interests = state.interests
        if self.interest_drift:
            pulled = np.einsum("nk,nkd->nd", clicks.astype(np.float64), items[..., :d])
            interests = interests_after(interests, pulled, n_clicks[:, None], self.interest_drift)
        fatigue = self.fatigue_decay * state.fatigue
        if self.fatigue_weight:
            t = fatigue.shape[1]
            flat = (np.arange(n)[:, None] * t + catalog.topic.take(item_ids)).ravel()
            fatigue += np.bincount(flat, weights=clicks.ravel(), minlength=n * t).reshape(n, t)

        leave = leave_probability(
            satisfaction, streak, population.patience.take(uid),
            self.leave_bias, self.leave_satisfaction, self.leave_streak,
        )  # fmt: skip
        session_end = session_full | (uniforms[:, 2 * k] < leave)
        churn_p = churn_probability(satisfaction, self.churn_bias, self.churn_satisfaction)
        churn = session_end & (uniforms[:, 2 * k + 1] < churn_p)
        fatigue[session_end] = 0.0
        streak = np.where(session_end, 0, streak)

        new_state = UserState(
            user_id=uid,
            interests=interests,
            fatigue=fatigue,
            satisfaction=satisfaction,
            no_click_streak=streak,
        )
        response = Response(
            purchases=purchases,
            dwell=dwell,
            session_end=session_end,
            churn=churn,
            return_multiplier=return_multiplier(satisfaction, self.return_satisfaction),
        )
        return new_state, response


# -- the formulas of the Dynamics section, written once: the methods above call them on (N, K)
# arrays, the compiled kernel (slategym.kernels) on scalars. Each is an expression of its arguments
# in a fixed order of operations, so both give the same floats.


def affinity(
    match: Any, quality: Any, popularity_z: Any, fatigue: Any, w_q: float, w_p: float, w_f: float
) -> Any:
    r""":math:`a = \theta \cdot v + w_q q + w_p z - w_f f_\tau` (``match`` is the dot product)."""
    aff = match + w_q * quality
    if w_p:
        aff = aff + w_p * popularity_z
    if w_f:
        aff = aff - w_f * fatigue
    return aff


def buy_probability(
    aff: Any, quality: Any, price_z: Any, rho: Any, b_0: float, b_a: float, b_q: float
) -> Any:
    r""":math:`P(\text{buy} \mid \text{click}) = \sigma(b_0 + b_a a + b_q q - \rho r)`."""
    return xp.sigmoid(buy_logit(aff, quality, price_z, rho, b_0, b_a, b_q))


def buy_logit(
    aff: Any, quality: Any, price_z: Any, rho: Any, b_0: float, b_a: float, b_q: float
) -> Any:
    r"""The argument of :func:`buy_probability`'s sigmoid, :math:`b_0 + b_a a + b_q q - \rho r`."""
    return b_0 + b_a * aff + b_q * quality - rho * price_z


def dwell_minutes(aff: Any, u: Any, mean: float, w_a: float, cap: float) -> Any:
    r""":math:`\min(d_{\max}, \bar d e^{\gamma a} E)` with :math:`E = -\log(1 - u)`."""
    return dwell_from(xp.exp(w_a * aff), xp.log1p(-u), mean, cap)


def dwell_from(growth: Any, log_survival: Any, mean: float, cap: float) -> Any:
    r""":func:`dwell_minutes` from :math:`e^{\gamma a}` and :math:`\log(1 - u)` (the compiled
    kernel computes those two for a whole slate at once)."""
    return np.minimum(cap, mean * growth * -log_survival)


def satisfaction_after(s: Any, happiness: Any, rate: float) -> Any:
    r""":math:`(1 - \alpha) s + \alpha h`."""
    return (1.0 - rate) * s + rate * happiness


def interests_after(theta: Any, pulled: Any, n_clicks: Any, drift: float) -> Any:
    r""":math:`\theta + \eta \sum_k C_k v_k - \min(1, \eta \sum_k C_k)\, \theta`."""
    return theta + drift * pulled - np.minimum(drift * n_clicks, 1.0) * theta


def leave_probability(
    s: Any, streak: Any, patience: Any, l_0: float, l_s: float, l_n: float
) -> Any:
    r""":math:`\sigma(\ell_0 + \ell_s (0.5 - s) + \ell_n n / \kappa)`."""
    return xp.sigmoid(leave_logit(s, streak, patience, l_0, l_s, l_n))


def leave_logit(s: Any, streak: Any, patience: Any, l_0: float, l_s: float, l_n: float) -> Any:
    r"""The logit of :func:`leave_probability`:
    :math:`\ell_0 + \ell_s (0.5 - s) + \ell_n n / \kappa`."""
    return l_0 + l_s * (0.5 - s) + l_n * streak / patience


def churn_probability(s: Any, c_0: float, c_s: float) -> Any:
    r""":math:`\sigma(\chi_0 + \chi_s (0.5 - s))`."""
    return xp.sigmoid(churn_logit(s, c_0, c_s))


def churn_logit(s: Any, c_0: float, c_s: float) -> Any:
    r"""The logit of :func:`churn_probability`: :math:`\chi_0 + \chi_s (0.5 - s)`."""
    return c_0 + c_s * (0.5 - s)


def return_multiplier(s: Any, omega: float) -> Any:
    r""":math:`m = e^{\omega (s - 0.5)}`."""
    return xp.exp(return_exponent(s, omega))


def return_exponent(s: Any, omega: float) -> Any:
    r"""The exponent of :func:`return_multiplier`: :math:`\omega (s - 0.5)`."""
    return omega * (s - 0.5)


def deterministic_user_model(**overrides: float) -> DefaultUserModel:
    """The ``"deterministic"`` preset: an easy user for learning-sanity checks.

    Tastes are a deterministic, stationary function of the observable profile (no taste noise,
    no drift, no fatigue, no hidden quality or popularity in the affinity, exact chronotype profiles),
    and stronger (``interest_strength=3``), so a policy that reads the profile and the candidates'
    features can learn the best slate. Clicks, purchases and session decisions stay random.
    """
    params: dict[str, float] = {
        "interest_noise": 0.0,
        "interest_drift": 0.0,
        "fatigue_weight": 0.0,
        "quality_weight": 0.0,
        "popularity_weight": 0.0,
        "hour_profile_concentration": math.inf,
        "interest_strength": 3.0,
    }
    params.update(overrides)
    return DefaultUserModel(**params)  # type: ignore[arg-type]
