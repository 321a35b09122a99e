"""The default user model equals its documented formulas at non-neutral parameters.

Expected values are computed here, row by row in scalar Python, from the formulas of the
``DefaultUserModel`` docstring; the model is only called to produce the values under test.
Probabilities that ``respond`` turns into yes/no decisions (purchase, leave, churn) are pinned by
feeding uniforms just below and just above the expected probability: the decision must flip exactly
there.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest

from slategym.catalog import Catalog, generate_catalog
from slategym.users import DefaultUserModel, Population, UserState, deterministic_user_model
from tests.conftest import SMALL

K = 3
EPS = 1e-9
# The uniforms respond reads per row, in order: K for purchases, K for the dwell draws, one for
# leaving the session, one for churning (DefaultUserModel.num_uniforms(K) == 2 K + 2).
U_BUY, U_DWELL, U_LEAVE, U_CHURN = slice(0, K), slice(K, 2 * K), 2 * K, 2 * K + 1

MODEL = DefaultUserModel(
    quality_weight=0.7, popularity_weight=0.3, fatigue_weight=0.4, fatigue_decay=0.7,
    interest_drift=0.15, purchase_bias=-0.8, purchase_affinity=0.6, purchase_quality=0.9,
    dwell_minutes=3.0, dwell_affinity=0.4, dwell_cap=12.0, satisfaction_rate=0.3,
    leave_bias=-1.2, leave_satisfaction=2.0, leave_streak=1.5, churn_bias=-2.0,
    churn_satisfaction=4.0, return_satisfaction=1.2,
)  # fmt: skip
ITEMS = np.array([[0, 5, 9], [3, 3, 12], [7, 1, 2], [11, 4, 8]])  # (N, K) item ids
CLICKS = np.array([[True, False, True], [False, False, False], [False, True, False],
                   [True, True, True]])  # fmt: skip
AFF = np.array([[0.9, -0.4, 1.6], [0.2, 0.2, -1.1], [-0.7, 1.3, 0.5], [2.2, 0.1, -0.3]])


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _world(model: DefaultUserModel = MODEL) -> tuple[Catalog, Population, UserState]:
    catalog = generate_catalog(16, 3, 4, 1, 0, 0.5, np.random.default_rng(3))
    pop = model.sample_population(6, catalog, np.random.default_rng(4))
    pop = dataclasses.replace(
        pop,
        price_sensitivity=np.array([0.6, 1.4, 0.9, 2.0, 1.1, 0.3]),
        patience=np.array([1.5, 2.5, 3.0, 4.0, 1.2, 2.0]),
    )
    state = model.initial_state(pop, catalog, np.array([2, 0, 5, 3]))
    state = dataclasses.replace(
        state,
        fatigue=np.array([[0.5, 0.0, 1.2], [0.3, 0.8, 0.0], [0.0, 0.4, 0.6], [1.5, 0.2, 0.9]]),
        satisfaction=np.array([0.35, 0.8, 0.55, 0.1]),
        no_click_streak=np.array([2, 1, 0, 3]),
    )
    return catalog, pop, state


def _respond(uniforms: np.ndarray, full: np.ndarray | None = None, model=MODEL):  # type: ignore[no-untyped-def]
    catalog, pop, state = _world(model)
    n = ITEMS.shape[0]
    full = np.zeros(n, bool) if full is None else full
    return model.respond(pop, state, catalog, ITEMS, AFF, CLICKS.copy(), full, uniforms)


def _uniforms(fill: float = 0.5) -> np.ndarray:
    assert MODEL.num_uniforms(K) == 2 * K + 2
    return np.full((ITEMS.shape[0], 2 * K + 2), fill)


def _expected_state() -> dict[str, list]:
    """Next satisfaction, streak, interests and fatigue of every row, from the docstring."""
    catalog, _, state = _world()
    out: dict[str, list] = {"satisfaction": [], "streak": [], "interests": [], "fatigue": []}
    m = MODEL
    for r in range(ITEMS.shape[0]):
        clicked = [k for k in range(K) if CLICKS[r, k]]
        n = len(clicked)
        happy = sum(_sig(AFF[r, k] + catalog.quality[ITEMS[r, k]]) for k in clicked) / max(1, n)
        out["satisfaction"].append(
            (1 - m.satisfaction_rate) * state.satisfaction[r] + m.satisfaction_rate * happy
        )
        out["streak"].append(0 if n else state.no_click_streak[r] + 1)
        theta = state.interests[r]
        # theta + eta sum_k C_k (v_k - theta), the pull on theta capped at 1 (here eta n <= 0.45)
        pulled = sum((catalog.latent[ITEMS[r, k]] for k in clicked), np.zeros_like(theta))
        out["interests"].append(theta + m.interest_drift * pulled - m.interest_drift * n * theta)
        fatigue = [m.fatigue_decay * f for f in state.fatigue[r]]
        for k in clicked:
            fatigue[catalog.topic[ITEMS[r, k]]] += 1.0
        out["fatigue"].append(fatigue)
    return out


# -- affinity -------------------------------------------------------------------------------------
def test_affinity_is_match_plus_quality_plus_popularity_minus_fatigue() -> None:
    catalog, pop, state = _world()
    got = MODEL.affinity(pop, state, catalog, ITEMS)
    for r, row in enumerate(ITEMS):
        for k, i in enumerate(row):
            expected = (
                float(np.dot(state.interests[r], catalog.latent[i]))
                + 0.7 * catalog.quality[i]
                + 0.3 * catalog.popularity_z[i]
                - 0.4 * state.fatigue[r, catalog.topic[i]]
            )
            assert got[r, k] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_fatigue_lowers_the_affinity_of_its_topic() -> None:
    catalog, pop, state = _world()
    tired = dataclasses.replace(state, fatigue=state.fatigue + 2.0)
    drop = MODEL.affinity(pop, state, catalog, ITEMS) - MODEL.affinity(pop, tired, catalog, ITEMS)
    np.testing.assert_allclose(drop, 0.4 * 2.0, rtol=1e-12)


# -- purchases and dwell --------------------------------------------------------------------------
def test_purchase_probability_is_a_logistic_of_affinity_quality_and_price() -> None:
    catalog, pop, state = _world()
    p = np.empty(ITEMS.shape)
    for r, row in enumerate(ITEMS):
        rho = pop.price_sensitivity[state.user_id[r]]
        for k, i in enumerate(row):
            p[r, k] = _sig(-0.8 + 0.6 * AFF[r, k] + 0.9 * catalog.quality[i]
                           - rho * catalog.price_z[i])  # fmt: skip
    below, above = _uniforms(), _uniforms()
    below[:, U_BUY], above[:, U_BUY] = p - EPS, p + EPS
    assert np.array_equal(_respond(below)[1].purchases, CLICKS)  # buys every clicked item ...
    assert not _respond(above)[1].purchases.any()  # ... and nothing just above the probability
    assert not _respond(_uniforms(0.0))[1].purchases[~CLICKS].any()  # never without a click


def test_dwell_is_capped_exponential_scaled_by_affinity() -> None:
    u = _uniforms()
    u[:, U_DWELL] = [[0.3, 0.9, 0.95], [0.5, 0.5, 0.5], [0.1, 0.7, 0.2], [0.6, 0.2, 0.99]]
    dwell = _respond(u)[1].dwell
    for r in range(ITEMS.shape[0]):
        for k in range(K):
            e = -math.log(1.0 - u[r, K + k])
            expected = min(12.0, 3.0 * math.exp(0.4 * AFF[r, k]) * e) if CLICKS[r, k] else 0.0
            assert dwell[r, k] == pytest.approx(expected, rel=1e-12)
    assert dwell[0, 2] == 12.0  # 3 e^0.64 (-log 0.05) = 17.0, capped


# -- state updates --------------------------------------------------------------------------------
def test_satisfaction_streak_interests_and_fatigue_follow_the_formulas() -> None:
    u = _uniforms(0.999999)  # nobody leaves: fatigue and streak are not reset
    state, resp = _respond(u)
    assert not resp.session_end.any()
    expected = _expected_state()
    np.testing.assert_allclose(state.satisfaction, expected["satisfaction"], rtol=1e-12)
    assert state.no_click_streak.tolist() == expected["streak"]
    np.testing.assert_allclose(state.interests, np.array(expected["interests"]), rtol=1e-12,
                               atol=1e-15)  # fmt: skip
    np.testing.assert_allclose(state.fatigue, np.array(expected["fatigue"]), rtol=1e-12)
    np.testing.assert_allclose(resp.return_multiplier,
                               np.exp(1.2 * (np.array(expected["satisfaction"]) - 0.5)),
                               rtol=1e-12)  # fmt: skip


def test_interest_drift_pull_is_capped_at_one() -> None:
    """With eta * clicks > 1 the old interests are replaced, never flipped: theta' = eta sum v_k."""
    model = dataclasses.replace(MODEL, interest_drift=0.4)  # 3 clicks on row 3: 1.2 -> 1
    catalog, _, state = _world(model)
    new, _ = _respond(_uniforms(0.999999), model=model)
    expected = 0.4 * catalog.latent[ITEMS[3]].sum(axis=0)
    np.testing.assert_allclose(new.interests[3], expected, rtol=1e-12, atol=1e-15)
    theta = state.interests[0]  # 2 clicks: 0.8 <= 1, the plain formula
    pulled = catalog.latent[ITEMS[0, 0]] + catalog.latent[ITEMS[0, 2]]
    np.testing.assert_allclose(new.interests[0], theta + 0.4 * pulled - 0.8 * theta, rtol=1e-12)


# -- session decisions ----------------------------------------------------------------------------
def _leave_and_churn_probabilities() -> tuple[np.ndarray, np.ndarray]:
    _, pop, state = _world()
    exp = _expected_state()
    leave, churn = [], []
    for r in range(ITEMS.shape[0]):
        s, n, kappa = exp["satisfaction"][r], exp["streak"][r], pop.patience[state.user_id[r]]
        leave.append(_sig(-1.2 + 2.0 * (0.5 - s) + 1.5 * n / kappa))
        churn.append(_sig(-2.0 + 4.0 * (0.5 - s)))
    return np.array(leave), np.array(churn)


def test_leave_probability_uses_satisfaction_and_streak_over_patience() -> None:
    p_leave, _ = _leave_and_churn_probabilities()
    below, above = _uniforms(0.999999), _uniforms(0.999999)
    below[:, U_LEAVE], above[:, U_LEAVE] = p_leave - EPS, p_leave + EPS
    state, resp = _respond(below)
    assert resp.session_end.all()
    assert not _respond(above)[1].session_end.any()
    # the session end resets fatigue and the streak
    assert not state.fatigue.any() and not state.no_click_streak.any()


def test_churn_probability_given_a_session_end() -> None:
    _, p_churn = _leave_and_churn_probabilities()
    below, above = _uniforms(), _uniforms()
    below[:, U_LEAVE] = above[:, U_LEAVE] = 0.0  # everybody leaves the session
    below[:, U_CHURN], above[:, U_CHURN] = p_churn - EPS, p_churn + EPS
    assert _respond(below)[1].churn.all()
    assert not _respond(above)[1].churn.any()
    stay = _uniforms(0.999999)
    stay[:, U_CHURN] = 0.0  # a churn draw without a session end is no churn
    assert not _respond(stay)[1].churn.any()


def test_a_full_session_ends_whatever_the_leave_draw() -> None:
    full = np.array([True, False, True, False])
    state, resp = _respond(_uniforms(0.999999), full=full)
    assert resp.session_end.tolist() == full.tolist()
    assert not state.fatigue[full].any() and state.fatigue[~full].any(axis=1).all()


# -- population -----------------------------------------------------------------------------------
def test_population_follows_its_documented_distributions() -> None:
    model = DefaultUserModel(mean_sessions_per_day=3.0, activity_dispersion=0.4,
                             price_sensitivity_mean=1.5, patience_mean=4.0, interest_strength=2.5,
                             chronotype_weights=(0.5, 0.2, 0.3), chronotype_age_effect=0.0)  # fmt: skip
    catalog = generate_catalog(50, 4, 6, 1, 0, 0.5, np.random.default_rng(0))
    pop = model.sample_population(40_000, catalog, np.random.default_rng(1))
    se = 1.0 / math.sqrt(40_000)
    # lambda_u ~ LogNormal(log 3, 0.4^2): median 3, log-sd 0.4
    assert abs(np.mean(np.log(pop.activity)) - math.log(3.0)) < 5 * 0.4 * se
    assert abs(np.std(np.log(pop.activity)) - 0.4) < 0.01
    # rho_u log-normal with median 1.5, log-sd 0.5; kappa_u = 1 + Gamma with mean 4
    assert abs(np.mean(np.log(pop.price_sensitivity)) - math.log(1.5)) < 5 * 0.5 * se
    assert abs(np.std(np.log(pop.price_sensitivity)) - 0.5) < 0.01
    assert pop.patience.min() >= 1.0 and abs(pop.patience.mean() - 4.0) < 0.05
    # interests of norm s_theta; chronotype shares equal the weights without an age effect
    np.testing.assert_allclose(np.linalg.norm(pop.interests, axis=1), 2.5, rtol=1e-9)
    shares = np.bincount(pop.chronotype, minlength=3) / 40_000
    np.testing.assert_allclose(shares, [0.5, 0.2, 0.3], atol=5 * 0.5 * se)
    np.testing.assert_allclose(pop.hour_profile.sum(axis=1), 1.0, rtol=1e-12)
    assert pop.hour_profile.min() > 0


def test_deterministic_preset_removes_every_source_of_taste_noise() -> None:
    model = deterministic_user_model()
    assert (model.interest_noise, model.interest_drift, model.fatigue_weight, model.quality_weight,
            model.popularity_weight) == (0.0, 0.0, 0.0, 0.0, 0.0)  # fmt: skip
    assert model.hour_profile_concentration == math.inf and model.interest_strength == 3.0
    assert deterministic_user_model(interest_strength=1.0).interest_strength == 1.0


# -- hidden state read by oracles -----------------------------------------------------------------
def _formula_affinities(state: UserState, catalog: Catalog, items: np.ndarray) -> np.ndarray:
    m = DefaultUserModel()  # the defaults SlateRec-v0 runs with
    out = np.empty(items.shape)
    for r, row in enumerate(items):
        for j, i in enumerate(row):
            out[r, j] = (float(np.dot(state.interests[r], catalog.latent[i]))
                         + m.quality_weight * catalog.quality[i]
                         + m.popularity_weight * catalog.popularity_z[i]
                         - m.fatigue_weight * state.fatigue[r, catalog.topic[i]])  # fmt: skip
    return out


def test_oracle_affinities_are_the_affinities_of_every_candidate() -> None:
    envs = gym.make_vec("SlateRec-v0", 3, vectorization_mode="vector_entry_point", **SMALL)
    single = gym.make("SlateRec-v0", **SMALL).unwrapped
    for env in (envs.unwrapped, single):
        with pytest.raises(RuntimeError, match="reset"):
            env.oracle_affinities()
    envs.reset(seed=[4, 5, 6])
    single.reset(seed=5)
    for _ in range(3):  # after some clicks: fatigue and drift matter
        envs.step(np.tile(np.arange(4), (3, 1)))
        single.step(np.arange(4))
    state, catalog = envs.unwrapped.state, envs.unwrapped.sim.catalog
    expected = _formula_affinities(state.user, catalog, state.candidates)
    np.testing.assert_allclose(envs.unwrapped.oracle_affinities(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(single.oracle_affinities(), expected[1], rtol=1e-12, atol=1e-12)


def test_user_state_copy_is_deep() -> None:
    _, _, state = _world()
    clone = state.copy()
    for name in UserState.FIELDS:
        assert np.array_equal(getattr(clone, name), getattr(state, name))
        assert not np.shares_memory(getattr(clone, name), getattr(state, name))


@dataclasses.dataclass(frozen=True)
class _ProfileLover(DefaultUserModel):
    """A model whose affinity reads the population: + 3 x the user's age."""

    def affinity(self, population, state, catalog, item_ids):  # type: ignore[no-untyped-def]
        base = super().affinity(population, state, catalog, item_ids)
        return base + 3.0 * population.profile[state.user_id, 0][:, None]


def test_oracle_affinities_use_the_models_affinity_with_the_population() -> None:
    envs = gym.make_vec("SlateRec-v0", 3, vectorization_mode="vector_entry_point", **SMALL,
                        user_model=_ProfileLover())  # fmt: skip
    envs.reset(seed=0)
    sim, state = envs.unwrapped.sim, envs.unwrapped.state
    expected = _formula_affinities(state.user, sim.catalog, state.candidates)
    expected += 3.0 * sim.population.profile[state.user.user_id, 0][:, None]
    np.testing.assert_allclose(envs.unwrapped.oracle_affinities(), expected, rtol=1e-6)
