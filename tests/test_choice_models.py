"""Choice models: probabilities are distributions, sampling matches them, structural properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from slategym.choice import (
    ChoiceModel,
    ExponentialCascade,
    MultiClick,
    MultinomialLogit,
    MultinomialProportional,
    PositionBased,
    ProportionalCascade,
)
from tests.chi2 import chi2_pvalue

MODELS: dict[str, ChoiceModel] = {
    "mnl": MultinomialLogit(beta=1.5, no_click_logit=1.0),
    "proportional": MultinomialProportional(min_normalizer=-3.0, no_click_mass=1.0),
    "exponential_cascade": ExponentialCascade(attention_prob=0.8, score_scaling=0.15),
    "proportional_cascade": ProportionalCascade(attention_prob=0.9, score_scaling=0.12),
    "position_based": PositionBased(beta=1.2, bias=-0.5, eta=0.8),
    "multi_click_independent": MultiClick(mode="independent", beta=1.0, bias=-0.5),
    "multi_click_dependent": MultiClick(mode="dependent", beta=1.0, bias=0.0, continue_prob=0.4),
}
AFFINITIES = [
    np.array([0.0, 0.0, 0.0, 0.0]),
    np.array([2.0, -1.0, 0.5, 1.0]),
    np.array([-2.0, 1.5, 1.5, -0.5]),
    np.array([1.0, 2.5, -2.5, 0.3]),
]
DRAWS = 20_000
ALPHA = 1e-3  # chi-square significance; seeds are fixed so the outcome is reproducible


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("aff", AFFINITIES, ids=range(len(AFFINITIES)))
def test_probabilities_are_distributions(name: str, aff: np.ndarray) -> None:
    p = MODELS[name].probabilities(aff)
    assert p.shape == (aff.size + 1,)
    assert np.all(p >= 0)
    assert math.isclose(p.sum(), 1.0, abs_tol=1e-12)
    marg = MODELS[name].click_probabilities(aff)
    assert np.all((marg >= 0) & (marg <= 1))


def test_batched_probabilities_match_rowwise() -> None:
    batch = np.stack(AFFINITIES)
    for model in MODELS.values():
        rows = np.stack([model.probabilities(a) for a in AFFINITIES])
        assert np.allclose(model.probabilities(batch), rows)


@pytest.mark.parametrize("name", MODELS)
def test_first_click_frequencies_match_probabilities(name: str) -> None:
    model = MODELS[name]
    rng = np.random.default_rng(2024)
    for aff in AFFINITIES:
        clicks = model.sample(np.tile(aff, (DRAWS, 1)), rng)
        if not model.multi_click:
            assert clicks.sum(axis=1).max() <= 1
        first = np.where(clicks.any(axis=1), clicks.argmax(axis=1), aff.size)
        counts = np.bincount(first, minlength=aff.size + 1)
        assert chi2_pvalue(counts, model.probabilities(aff)) > ALPHA


def _joint_probability(model: ChoiceModel, aff: np.ndarray, pattern: tuple[int, ...]) -> float:
    """Exact probability of a click pattern for the multi-click models, from their definitions."""
    independent = isinstance(model, MultiClick) and model.mode == "independent"
    if isinstance(model, PositionBased) or independent:
        p = model.click_probabilities(aff)
        return float(np.prod([pk if c else 1 - pk for pk, c in zip(p, pattern)]))
    assert isinstance(model, MultiClick)
    return _dcm_joint(model.attractiveness(aff), pattern, model.continue_prob)


def _dcm_joint(alpha: np.ndarray, pattern: tuple[int, ...], lam: float) -> float:
    """DCM, scanning top-down: skip -> go on; click -> go on with ``lam``, else stop for good."""
    if not pattern:
        return 1.0
    a, clicked, rest = alpha[0], pattern[0], pattern[1:]
    if not clicked:
        return (1 - a) * _dcm_joint(alpha[1:], rest, lam)
    stop = 0.0 if any(rest) else 1.0
    return a * (lam * _dcm_joint(alpha[1:], rest, lam) + (1 - lam) * stop)


@pytest.mark.parametrize("name", [n for n, m in MODELS.items() if m.multi_click])
def test_joint_click_patterns_match_definition(name: str) -> None:
    model = MODELS[name]
    rng = np.random.default_rng(7)
    for aff in AFFINITIES:
        patterns = list(itertools.product((0, 1), repeat=aff.size))
        probs = np.array([_joint_probability(model, aff, p) for p in patterns])
        assert math.isclose(probs.sum(), 1.0, abs_tol=1e-12)
        clicks = model.sample(np.tile(aff, (DRAWS, 1)), rng)
        codes = clicks.astype(int) @ (2 ** np.arange(aff.size)[::-1])
        counts = np.bincount(codes, minlength=len(patterns))
        assert chi2_pvalue(counts, probs) > ALPHA
        # the exposed marginals agree with the joint distribution
        marg = np.array(
            [sum(p for p, pat in zip(probs, patterns) if pat[k]) for k in range(aff.size)]
        )
        assert np.allclose(model.click_probabilities(aff), marg)


def test_chi_square_detects_a_wrong_distribution() -> None:
    """The frequency test can fail: MNL samples do not fit a different MNL's probabilities."""
    rng = np.random.default_rng(1)
    aff = AFFINITIES[1]
    clicks = MultinomialLogit(beta=1.5, no_click_logit=1.0).sample(np.tile(aff, (DRAWS, 1)), rng)
    first = np.where(clicks.any(axis=1), clicks.argmax(axis=1), aff.size)
    counts = np.bincount(first, minlength=aff.size + 1)
    wrong = MultinomialLogit(beta=1.4, no_click_logit=1.0).probabilities(aff)
    assert chi2_pvalue(counts, wrong) < ALPHA


def test_mnl_is_shift_invariant() -> None:
    never_skip = MultinomialLogit(beta=1.3, no_click_logit=-math.inf)
    with_skip = MultinomialLogit(beta=1.3, no_click_logit=0.7)
    shifted_skip = MultinomialLogit(beta=1.3, no_click_logit=0.7 + 1.3 * 5.0)
    for aff in AFFINITIES:
        assert np.allclose(never_skip.probabilities(aff), never_skip.probabilities(aff + 5.0))
        assert never_skip.probabilities(aff)[-1] == 0.0
        assert np.allclose(with_skip.probabilities(aff), shifted_skip.probabilities(aff + 5.0))
        # shifting only the affinities moves mass away from no-click
        assert with_skip.probabilities(aff + 1.0)[-1] < with_skip.probabilities(aff)[-1]
    huge = np.array([800.0, 799.0, -800.0])  # no overflow
    assert np.all(np.isfinite(never_skip.probabilities(huge)))


@pytest.mark.parametrize(
    "model",
    [ExponentialCascade(0.8, 0.2), ProportionalCascade(0.9, 0.1), PositionBased(), MultiClick()],
    ids=["exp_cascade", "prop_cascade", "pbm", "dcm"],
)
def test_click_probability_never_increases_down_the_slate_for_equal_scores(
    model: ChoiceModel,
) -> None:
    for value in (-1.0, 0.0, 1.5):
        marg = model.click_probabilities(np.full(6, value))
        assert np.all(np.diff(marg) <= 1e-15)
        first = model.probabilities(np.full(6, value))[:-1]
        assert np.all(np.diff(first) <= 1e-15)


def test_invalid_positions_are_never_clicked() -> None:
    rng = np.random.default_rng(3)
    aff = np.tile(np.array([3.0, 3.0, 3.0, 3.0]), (5000, 1))
    valid = np.tile(np.array([True, False, True, False]), (5000, 1))
    for model in MODELS.values():
        clicks = model.sample(aff, rng, valid=valid)
        assert not clicks[~valid].any()
    # for a single-click model the masked mass goes to "no click", the rest is unchanged
    model = MODELS["mnl"]
    p = model.probabilities(aff[0])
    clicks = model.sample(np.tile(aff[0], (DRAWS, 1)), rng, valid=np.tile(valid[0], (DRAWS, 1)))
    first = np.where(clicks.any(axis=1), clicks.argmax(axis=1), 4)
    expected = np.array([p[0], 0.0, p[2], 0.0, p[1] + p[3] + p[4]])
    assert chi2_pvalue(np.bincount(first, minlength=5), expected) > ALPHA


def test_proportional_clips_negative_scores_and_handles_all_zero() -> None:
    model = MultinomialProportional(min_normalizer=0.0, no_click_mass=0.0)
    assert np.allclose(model.probabilities(np.array([-1.0, -2.0])), [0.0, 0.0, 1.0])
    assert np.allclose(model.probabilities(np.array([-1.0, 3.0])), [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("factory", "kwargs", "param"),
    [
        (MultinomialLogit, {"beta": 0.0}, "beta"),
        (MultinomialLogit, {"beta": float("nan")}, "beta"),
        (MultinomialLogit, {"no_click_logit": float("nan")}, "no_click_logit"),
        (ExponentialCascade, {"attention_prob": 1.5}, "attention_prob"),
        (ProportionalCascade, {"attention_prob": -0.1}, "attention_prob"),
        (ExponentialCascade, {"score_scaling": -1.0}, "score_scaling"),
        (PositionBased, {"examination": (0.5, 1.2)}, "examination"),
        (PositionBased, {"eta": -1.0}, "eta"),
        (MultiClick, {"mode": "sometimes"}, "mode"),
        (MultiClick, {"continue_prob": 2.0}, "continue_prob"),
        (MultinomialProportional, {"no_click_mass": float("inf")}, "no_click_mass"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(factory, kwargs, param) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=param):
        factory(**kwargs)


def test_position_based_examination_length_must_match_slate() -> None:
    model = PositionBased(examination=(1.0, 0.5, 0.25))
    assert model.click_probabilities(np.zeros(3)).shape == (3,)
    with pytest.raises(ValueError, match="slate_size=4"):
        model.click_probabilities(np.zeros(4))


def test_sample_rejects_non_finite_affinities() -> None:
    with pytest.raises(ValueError, match="finite"):
        MODELS["mnl"].sample(np.array([0.0, np.nan]), np.random.default_rng(0))
