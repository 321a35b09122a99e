"""Slate OPE estimators against exact truths: exact expectations, sampled unbiasedness, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from slategym.choice import ExponentialCascade, MultinomialLogit, PositionBased
from slategym.data.policies import (
    EpsilonGreedy,
    PlackettLuce,
    UniformRandom,
    all_slates,
    uniform_gamma,
)
from slategym.ope import (
    ESTIMATORS,
    SlateIIPS,
    SlateIPS,
    SlateOPEData,
    SlatePseudoInverse,
    ope_data_from_scores,
    policy_values,
)

C, K = 5, 3
WORLDS = {
    "position_based": PositionBased(beta=1.0, bias=-0.5, eta=1.0),
    "exponential_cascade": ExponentialCascade(attention_prob=0.9, score_scaling=0.3),
    "mnl": MultinomialLogit(beta=1.5, no_click_logit=1.0),
}
HOLDS = {  # estimator -> worlds where its assumption holds
    "IPS": set(WORLDS), "SNIPS": set(), "IIPS": {"position_based"}, "PI": {"position_based"},
    "RIPS": {"position_based", "exponential_cascade"},
    "CascadeDR": {"position_based", "exponential_cascade"},
}  # fmt: skip


def _exact_expectation(name, model, logging, target, rng):
    """E_mu[estimator term] in one context, exactly: every slate weighted by its logging
    probability, rewards replaced by their expected values (every estimator is linear in them)."""
    aff = rng.normal(size=(1, C))
    log_scores, tgt_scores = rng.normal(size=(1, C)), aff * 2.0
    slates = all_slates(C, K)
    s = len(slates)
    mu = logging.slate_probabilities(log_scores, slates)[0]
    expected_clicks = model.click_probabilities(aff[0][slates])  # (S, K)
    data = ope_data_from_scores(
        slates, expected_clicks, logging, np.repeat(log_scores, s, 0), target, np.repeat(tgt_scores, s, 0)
    )
    q_hat = np.broadcast_to(rng.random((1, K, C)), (s, K, C))  # any reward model, same per context
    data = SlateOPEData(**{**data.__dict__, "q_hat": q_hat})
    terms = ESTIMATORS[name]().round_values(data)
    truth = policy_values(target, tgt_scores, aff, model, K)[0]
    return float(mu @ terms), float(truth)


@pytest.mark.parametrize("world", list(WORLDS))
@pytest.mark.parametrize("name", ["IPS", "IIPS", "RIPS", "PI", "CascadeDR"])
@pytest.mark.parametrize("logging", [UniformRandom(), EpsilonGreedy(0.5)], ids=["uniform", "eps"])
def test_exact_expectation_matches_truth_iff_assumption_holds(world, name, logging):
    rng = np.random.default_rng(7)
    gaps = []
    for _ in range(3):
        expectation, truth = _exact_expectation(name, WORLDS[world], logging, PlackettLuce(0.5), rng)
        gaps.append(abs(expectation - truth))
    if world in HOLDS[name]:
        assert max(gaps) < 1e-9
    else:
        assert max(gaps) > 1e-3  # the estimator is biased when its assumption is violated


def test_pseudo_inverse_weights_reproduce_target_marginals():
    """E_mu[w(s) 1_s] = theta_pi exactly, for uniform and for context-dependent logging."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(1, C))
    slates = all_slates(C, K)
    index = np.zeros((len(slates), K * C))
    index[np.arange(len(slates))[:, None], np.arange(K) * C + slates] = 1.0
    target = PlackettLuce(0.8)
    theta = target.marginals(scores, K).reshape(-1)
    np.testing.assert_allclose(uniform_gamma(C, K), index.T @ index / len(slates), atol=1e-15)
    for logging in (UniformRandom(), EpsilonGreedy(0.4), PlackettLuce(1.5)):
        mu = logging.slate_probabilities(scores, slates)[0]
        data = SlateOPEData(
            slates=slates, rewards=np.ones((len(slates), K)),
            logging_gamma=np.repeat(logging.gamma(scores, K), 1, 0)
            if logging.gamma(scores, K).shape[0] == 1 else np.repeat(logging.gamma(scores, K), len(slates), 0),
            target_marginals=np.repeat(target.marginals(scores, K), len(slates), 0),
        )  # fmt: skip
        w = SlatePseudoInverse().weights(data)
        np.testing.assert_allclose((mu * w) @ index, theta, atol=1e-9)


def test_ips_and_pi_unbiased_on_a_small_world():
    """On a position-based world (both assumptions hold) IPS and PI land within 4 standard errors
    of the exact truth averaged over the logged contexts (the violated case is tested exactly above)."""
    from experiments.ope import Args, _collect
    from slategym.data.scorers import make_scorer

    args = Args(num_candidates=6, slate_size=3, num_items=100, num_users=300, num_envs=200)
    logging, target = UniformRandom(), PlackettLuce(0.5)
    log = _collect(args, "position_based", 0, logging, make_scorer("popularity"), make_scorer("oracle"), 8000)
    truth = policy_values(target, log["tgt"], log["aff"], PositionBased(), 3).mean()
    data = ope_data_from_scores(log["slates"], log["clicks"], logging, log["log"], target, log["tgt"])
    for est in (SlateIPS(), SlatePseudoInverse()):
        e = est.estimate(data)
        assert abs(e.value - truth) < 4 * e.std_error, (est.name, e, truth)
    assert SlateIPS().estimate(data).std_error < 0.05  # the log is informative, not trivially wide


def test_estimators_refuse_missing_propensities():
    data = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.ones((1, 2)), target_slate=np.ones(1))
    with pytest.raises(ValueError, match="IPS needs logging_slate"):
        SlateIPS().estimate(data)
    nan = SlateOPEData(slates=np.array([[0, 1]]), rewards=np.ones((1, 2)),
                       logging_position=np.full((1, 2), np.nan), target_position=np.ones((1, 2)))  # fmt: skip
    with pytest.raises(ValueError, match=r"IIPS needs logging_position.*unknown \(nan\)"):
        SlateIIPS().estimate(nan)
    empty = SlateOPEData(slates=np.zeros((0, 2), np.int64), rewards=np.zeros((0, 2)),
                         logging_slate=np.zeros(0), target_slate=np.zeros(0))  # fmt: skip
    with pytest.raises(ValueError, match="empty log"):
        SlateIPS().estimate(empty)


def test_slategym_ope_command_writes_table(tmp_path):
    from experiments.ope import main

    result = main(["--out", str(tmp_path), "--worlds", "position_based", "--seeds", "2", "--sizes",
                   "200", "400", "--on-policy-slates", "200", "--num-envs", "50", "--num-users", "100"])  # fmt: skip
    assert len(result["summary"]) == 2 * len(ESTIMATORS)
    table = (tmp_path / "table.md").read_text()
    assert "| position_based | 400 | PI | yes |" in table and "on-policy" in table
    with pytest.raises(ValueError, match="estimators"):
        main(["--out", str(tmp_path), "--estimators", "DM"])
