"""RecSim's three environments as presets: their maths in closed form, and RecSim's own figures."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import slategym
from experiments.recsim_compare import Args, compare_file
from slategym.users import InterestEvolutionUser, LongTermSatisfactionUser
from slategym.users.base import standard_normals

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = sorted((ROOT / "docs" / "data" / "recsim_reference").glob("*.json"))


def _sim(env_id: str, **kwargs: object) -> slategym.Simulator:
    return gym.make(env_id, **kwargs).unwrapped.sim  # type: ignore[attr-defined]


def test_interest_evolution_items_follow_recsim() -> None:
    sim = _sim("SlateRec-InterestEvolution-v0", num_items=2000)
    cat = sim.catalog
    assert np.array_equal(np.bincount(cat.topic), np.full(20, 100))  # stratified clusters
    means = np.concatenate([np.linspace(-3, 0, 14), np.linspace(0, 3, 6)])
    per_cluster = np.array([cat.quality[cat.topic == c].mean() for c in range(20)])
    np.testing.assert_allclose(per_cluster, means, atol=4 * 0.1 / np.sqrt(100))
    assert np.array_equal(cat.features[:-1], np.eye(20, dtype=np.float32)[cat.topic])
    assert np.all(cat.duration == 4.0)


def test_interest_evolution_user_step_in_closed_form() -> None:
    sim = _sim("SlateRec-InterestEvolution-v0", num_items=200, slate_size=3)
    model, cat, pop = sim.user_model, sim.catalog, sim.population
    assert isinstance(model, InterestEvolutionUser)
    ids = np.array([0, 1, 2])
    u = np.array([[0.5] * 20, [0.9] * 20, [0.1] * 20])  # interests = 2 u - 1: 0, 0.8, -0.8
    state = model.initial_state(pop, cat, ids, u, 3)
    state.extra["time_budget"][:] = [200.0, 3.0, 200.0]
    items = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    clicks = np.array([[False, True, False], [True, False, False], [False, False, False]])
    aff = model.affinity(pop, state, cat, items)
    np.testing.assert_allclose(aff, state.interests[np.arange(3)[:, None], cat.topic[items]])
    flip = np.array([[0.0], [0.99], [0.5]])  # toward for row 0, away for row 1
    new, resp = model.respond(pop, state, cat, items, aff, clicks, np.zeros(3, bool), flip)
    q0, q1 = cat.quality[1], cat.quality[3]
    w1 = 3.0  # min(budget, length)
    expected = [200 - 4 + 0.9 / 3.4 * 4 * q0, 3 - w1 + 0.9 / 3.4 * w1 * q1, 200 - 0.5]
    np.testing.assert_allclose(new.extra["time_budget"], expected)
    np.testing.assert_allclose(resp.dwell, [[0, 4, 0], [w1, 0, 0], [0, 0, 0]])
    c0, c1 = cat.topic[1], cat.topic[3]
    step0 = 0.3 * (1 - 0.0) * (1 - 0.0)  # alpha (1 - |u|) times (1 - u), at u = 0
    step1 = 0.3 * (1 - 0.8) * (1 - 0.8)
    assert new.interests[0, c0] == pytest.approx(step0)
    assert new.interests[1, c1] == pytest.approx(0.8 - step1)
    changed = new.interests != state.interests
    assert changed.sum() == 2 and changed[0, c0] and changed[1, c1]  # only the clicked cluster
    assert list(resp.churn) == [False, expected[1] <= 0, False]
    assert np.array_equal(new.extra["response"][:, :, 0], clicks)
    np.testing.assert_allclose(new.extra["response"][:, :, 3], cat.quality[items], rtol=1e-6)


def test_long_term_satisfaction_episodes_are_sixty_clicks_on_the_top_item() -> None:
    env = gym.make("SlateRec-LongTermSatisfaction-v0", num_items=500)
    env.reset(seed=0)
    for _ in range(3):
        for step in range(60):
            _, reward, terminated, truncated, info = env.step([3, 7])
            assert info["clicks"].tolist() == [True, False] and reward > 0
            assert terminated == (step == 59) and not truncated
        env.reset()


def test_long_term_satisfaction_user_step_in_closed_form() -> None:
    sim = _sim("SlateRec-LongTermSatisfaction-v0", num_items=100)
    model, cat, pop = sim.user_model, sim.catalog, sim.population
    assert isinstance(model, LongTermSatisfactionUser)
    state = model.initial_state(pop, cat, np.array([0, 1]), np.array([[0.2], [0.8]]), 2)
    npe0 = (np.array([0.2, 0.8]) - 0.5) / 0.3
    np.testing.assert_allclose(state.extra["net_positive_exposure"], npe0)
    sat0 = 1 / (1 + np.exp(-0.01 * npe0))
    np.testing.assert_allclose(state.satisfaction, sat0)
    items = np.array([[5, 6], [7, 8]])
    clicks = np.array([[True, False], [True, False]])
    u = np.array([[0.3, 0.6], [0.9, 0.1]])
    new, resp = model.respond(pop, state, cat, items, model.affinity(pop, state, cat, items),
                              clicks, np.zeros(2, bool), u)  # fmt: skip
    b = cat.latent[[5, 7], 0]
    z = standard_normals(u)
    np.testing.assert_allclose(resp.dwell[:, 0], np.exp((5 * b + 4 * (1 - b)) * sat0 + z[:, 0]))
    npe1 = 0.7 * npe0 - 2 * (b - 0.5) + 0.05 * z[:, 1]
    np.testing.assert_allclose(new.extra["net_positive_exposure"], npe1)
    np.testing.assert_allclose(new.satisfaction, 1 / (1 + np.exp(-0.01 * npe1)))
    np.testing.assert_allclose(new.extra["time_budget"], 59.0)


def test_interest_exploration_is_cut_at_one_hundred_steps() -> None:
    env = gym.make("SlateRec-InterestExploration-v0", num_items=500)
    env.reset(seed=2)
    for step in range(100):
        _, reward, terminated, truncated, _ = env.step([0, 1])
        assert not terminated and truncated == (step == 99)
        assert reward in (0.0, 1.0)


def test_interest_exploration_click_probabilities() -> None:
    """MNL with a no-click logit of 5 over topic affinity + quality, checked by a chi-square test."""
    sim = _sim("SlateRec-InterestExploration-v0", num_items=500)
    model, cat, pop = sim.user_model, sim.catalog, sim.population
    n = 20_000
    state = model.initial_state(pop, cat, np.zeros(n, np.int64),
                                np.random.default_rng(0).random((n, 3)), 2)  # fmt: skip
    kind = state.interests[:, 0] < state.interests[:, 1]  # type 0 prefers topic 1
    assert abs(kind.mean() - 0.3) < 0.02
    items = np.tile([0, 1], (n, 1))
    aff = model.affinity(pop, state, cat, items)
    expected = np.exp(aff) / (np.exp(aff).sum(1, keepdims=True) + np.exp(5.0))
    clicks = sim.choice_model.sample(aff, np.random.default_rng(1))
    observed = [clicks[:, 0].sum(), clicks[:, 1].sum(), (~clicks.any(1)).sum()]
    p = expected.sum(0)
    chi = stats.chisquare(observed, [p[0], p[1], n - p.sum()])
    assert chi.pvalue > 1e-3


@pytest.mark.skipif(not REFERENCES, reason="no RecSim reference figures in docs/data/recsim_reference")
@pytest.mark.parametrize("reference", REFERENCES, ids=[p.stem for p in REFERENCES])
def test_random_policy_matches_recsim(reference: Path) -> None:
    """1000 slategym episodes against RecSim's 5000: every mean within 3.3 standard errors."""
    result = compare_file(reference, Args(episodes=1000, seed=7, batch=1000))
    for name, row in result["statistics"].items():
        assert abs(row["z"]) < 3.3, (name, row)
