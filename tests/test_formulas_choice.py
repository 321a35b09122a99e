"""Choice models equal their documented formulas at non-neutral parameters.

Every expected value is computed here from the docstring's formula (scalar Python maths, one position
at a time), never by calling the model under test. Where a docstring cites RecSim's
``recsim/choice_model.py``, the formula also follows RecSim's semantics: the proportional model offsets
the no-click mass by ``min_normalizer`` too, the cascades click an examined position with probability
``attention_prob * score_scaling * score``.
"""

from __future__ import annotations

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

AFF = [0.7, -1.2, 1.9, 0.1]  # K = 4, no two equal, none at a neutral value


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _first_click(c: list[float]) -> list[float]:
    """P(first click = k) = c_k prod_{j<k} (1 - c_j), then P(no click) = prod_j (1 - c_j)."""
    out, survive = [], 1.0
    for ck in c:
        out.append(survive * ck)
        survive *= 1.0 - ck
    return [*out, survive]


def _close(got: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


# -- single-click models -------------------------------------------------------------------------
def test_mnl_is_a_softmax_of_beta_times_affinity_with_a_no_click_logit() -> None:
    beta, c = 1.7, 0.4
    w = [math.exp(beta * a) for a in AFF]
    total = sum(w) + math.exp(c)
    _close(MultinomialLogit(beta=beta, no_click_logit=c).probabilities(np.array(AFF)),
           [x / total for x in w] + [math.exp(c) / total])  # fmt: skip


def test_mnl_never_skips_with_minus_inf_no_click_logit() -> None:
    w = [math.exp(0.6 * a) for a in AFF]
    _close(MultinomialLogit(beta=0.6, no_click_logit=-math.inf).probabilities(np.array(AFF)),
           [x / sum(w) for x in w] + [0.0])  # fmt: skip


def test_mnl_batches_rows_of_very_different_scales() -> None:
    """Each row is shifted by its own maximum: a row far below another must not underflow."""
    model = MultinomialLogit(beta=1.0, no_click_logit=0.0)
    batch = np.array([[800.0, 799.0, 798.0], [-800.0, -801.0, -799.0], [0.5, -0.5, 1.0]])
    got = model.probabilities(batch)
    assert np.all(np.isfinite(got))
    for row, a in zip(got, batch):
        shift = max(max(a), 0.0)
        w = [math.exp(x - shift) for x in a]
        total = sum(w) + math.exp(0.0 - shift)
        _close(row, [x / total for x in w] + [math.exp(-shift) / total])


def test_proportional_offsets_every_score_and_the_no_click_mass() -> None:
    m, c = -2.5, 0.8  # RecSim: w_i = s_i - m and w_0 = no_click_mass - m
    w = [a - m for a in AFF]
    w0 = c - m
    total = sum(w) + w0
    _close(MultinomialProportional(min_normalizer=m, no_click_mass=c).probabilities(np.array(AFF)),
           [x / total for x in w] + [w0 / total])  # fmt: skip


def test_proportional_clips_offset_scores_below_zero() -> None:
    m, c = -1.0, -0.5  # offsets: 1.7, 0 (clipped from -0.2), 2.9, 1.1; no click 0.5
    w = [max(a - m, 0.0) for a in AFF]
    w0 = max(c - m, 0.0)
    total = sum(w) + w0
    got = MultinomialProportional(min_normalizer=m, no_click_mass=c).probabilities(np.array(AFF))
    _close(got, [x / total for x in w] + [w0 / total])
    assert got[1] == 0.0
    # every offset score clipped: the user does not click
    _close(MultinomialProportional(min_normalizer=5.0, no_click_mass=1.0).probabilities(
        np.array(AFF)), [0.0, 0.0, 0.0, 0.0, 1.0])  # fmt: skip


def test_proportional_with_offset_scores_summing_below_one() -> None:
    """Only a total of exactly zero means "no click for sure"; small totals normalise as usual."""
    model = MultinomialProportional(min_normalizer=0.0, no_click_mass=0.2)
    _close(model.probabilities(np.array([0.1, 0.3, -0.4])), [0.1 / 0.6, 0.3 / 0.6, 0.0, 0.2 / 0.6])


def test_exponential_cascade_clicks_with_attention_times_scaled_exp_affinity() -> None:
    alpha, sigma = 0.7, 0.12
    c = [alpha * min(1.0, sigma * math.exp(a)) for a in AFF]  # sigma e^1.9 = 0.80: not clipped
    _close(ExponentialCascade(attention_prob=alpha, score_scaling=sigma).probabilities(
        np.array(AFF)), _first_click(c))  # fmt: skip


def test_exponential_cascade_clips_the_scaled_score_at_one() -> None:
    alpha, sigma = 0.85, 0.3  # sigma e^1.9 = 2.0 -> 1
    c = [alpha * min(1.0, sigma * math.exp(a)) for a in AFF]
    assert c[2] == alpha
    _close(ExponentialCascade(attention_prob=alpha, score_scaling=sigma).probabilities(
        np.array(AFF)), _first_click(c))  # fmt: skip


def test_proportional_cascade_clicks_with_attention_times_scaled_offset_affinity() -> None:
    alpha, sigma, m = 0.8, 0.2, -1.5  # offsets 2.2, 0.3, 3.4, 1.6 -> scaled 0.44 .. 0.68
    c = [alpha * min(1.0, max(0.0, sigma * (a - m))) for a in AFF]
    model = ProportionalCascade(attention_prob=alpha, score_scaling=sigma, min_normalizer=m)
    _close(model.probabilities(np.array(AFF)), _first_click(c))


def test_proportional_cascade_clips_the_scaled_score_to_zero_and_one() -> None:
    alpha, sigma, m = 0.9, 0.5, -0.5  # scaled: 0.6, 0 (from -0.35), 1 (from 1.2), 0.3
    c = [alpha * min(1.0, max(0.0, sigma * (a - m))) for a in AFF]
    assert c[1] == 0.0 and c[2] == alpha
    model = ProportionalCascade(attention_prob=alpha, score_scaling=sigma, min_normalizer=m)
    _close(model.probabilities(np.array(AFF)), _first_click(c))


# -- multi-click models --------------------------------------------------------------------------
def test_position_based_examination_times_sigmoid_of_beta_a_plus_bias() -> None:
    beta, bias, eta = 1.3, -0.6, 0.7
    p = [(k + 1) ** -eta * _sig(beta * a + bias) for k, a in enumerate(AFF)]
    model = PositionBased(beta=beta, bias=bias, eta=eta)
    _close(model.click_probabilities(np.array(AFF)), p)
    _close(model.probabilities(np.array(AFF)), _first_click(p))


def test_position_based_with_explicit_examination() -> None:
    gamma = (0.9, 0.6, 0.45, 0.2)
    p = [g * _sig(0.8 * a + 0.3) for g, a in zip(gamma, AFF)]
    model = PositionBased(beta=0.8, bias=0.3, examination=gamma)
    _close(model.click_probabilities(np.array(AFF)), p)
    _close(model.probabilities(np.array(AFF)), _first_click(p))


def test_multi_click_independent_marginals_are_the_attractiveness() -> None:
    beta, bias = 1.4, -0.3
    alpha = [_sig(beta * a + bias) for a in AFF]
    model = MultiClick(mode="independent", beta=beta, bias=bias, continue_prob=0.3)
    _close(model.attractiveness(np.array(AFF)), alpha)
    _close(model.click_probabilities(np.array(AFF)), alpha)
    _close(model.probabilities(np.array(AFF)), _first_click(alpha))


def test_dependent_click_model_examination_recursion() -> None:
    beta, bias, lam = 0.9, 0.4, 0.35
    alpha = [_sig(beta * a + bias) for a in AFF]
    marginals, e = [], 1.0
    for a in alpha:  # e_0 = 1, e_{k+1} = e_k (1 - a_k + a_k lambda), P(C_k) = e_k a_k
        marginals.append(e * a)
        e *= 1.0 - a + a * lam
    model = MultiClick(mode="dependent", beta=beta, bias=bias, continue_prob=lam)
    _close(model.click_probabilities(np.array(AFF)), marginals)
    _close(model.probabilities(np.array(AFF)), _first_click(alpha))


ALL_MODELS: list[ChoiceModel] = [
    MultinomialLogit(beta=2, no_click_logit=1),
    MultinomialProportional(min_normalizer=-3, no_click_mass=1),
    ExponentialCascade(attention_prob=1, score_scaling=0.1),
    ProportionalCascade(attention_prob=1, score_scaling=0.1, min_normalizer=-3),
    PositionBased(beta=1, bias=-1, eta=1),
    PositionBased(beta=2, bias=0, examination=(1, 0, 1)),
    MultiClick(mode="independent", beta=2, bias=-1),
    MultiClick(mode="dependent", beta=1, bias=0, continue_prob=1),
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_integer_parameters_and_affinities_give_the_float_probabilities(model: ChoiceModel) -> None:
    ints, floats = np.array([[1, 0, -2], [2, 2, 0]]), np.array([[1.0, 0.0, -2.0], [2.0, 2.0, 0.0]])
    for f in (model.probabilities, model.click_probabilities):
        got = f(ints)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, f(floats), rtol=1e-15)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_sample_takes_any_batch_shape_and_rejects_empty_slates(model: ChoiceModel) -> None:
    rng = np.random.default_rng(0)
    clicks = model.sample(np.zeros((2, 5, 3)), rng)  # two batch axes
    assert clicks.shape == (2, 5, 3) and clicks.dtype == bool
    if getattr(model, "examination", None) is None:  # an explicit examination fixes K = 3
        assert model.sample(np.array([2.0]), rng).shape == (1,)  # K = 1
    for bad in (np.float64(1.0), np.zeros((4, 0))):
        with pytest.raises(ValueError, match="K >= 1"):
            model.sample(bad, rng)


def test_explicit_examination_is_stored_as_a_tuple_of_floats() -> None:
    model = PositionBased(examination=np.array([0.9, 0.5]))
    assert model.examination == (0.9, 0.5) and type(model.examination) is tuple
    assert hash(model) == hash(PositionBased(examination=[0.9, 0.5]))


# -- sampling by explicit uniforms -----------------------------------------------------------------
SINGLE_CLICK: list[ChoiceModel] = [
    MultinomialLogit(beta=1.7, no_click_logit=0.4),
    MultinomialProportional(min_normalizer=-2.5, no_click_mass=0.8),
    ExponentialCascade(attention_prob=0.7, score_scaling=0.12),
    ProportionalCascade(attention_prob=0.8, score_scaling=0.2, min_normalizer=-1.5),
]


@pytest.mark.parametrize("model", SINGLE_CLICK, ids=lambda m: type(m).__name__)
def test_single_click_marginals_are_the_click_probabilities(model: ChoiceModel) -> None:
    """For a single-click model P(C_k = 1) = P(click on k): the first K probabilities."""
    batch = np.array([AFF, AFF[::-1]])
    probs = model.probabilities(batch)
    assert model.click_probabilities(batch).shape == (2, len(AFF))
    np.testing.assert_array_equal(model.click_probabilities(batch), probs[:, : len(AFF)])


@pytest.mark.parametrize("model", SINGLE_CLICK, ids=lambda m: type(m).__name__)
def test_single_click_sampling_inverts_the_cdf(model: ChoiceModel) -> None:
    """Position k is clicked when F(k-1) <= u < F(k); u in the last interval means no click."""
    probs = model.probabilities(np.array(AFF))
    cdf = np.concatenate([[0.0], np.cumsum(probs)])
    # the left edge of every interval, a point inside it, and (for the click intervals) just below
    # its right edge
    us, expected = [], []
    for k in range(len(AFF) + 1):
        for u in (cdf[k], 0.5 * (cdf[k] + cdf[k + 1]), np.nextafter(cdf[k + 1], 0.0)):
            if k == len(AFF) and u >= 1.0:
                continue
            us.append(u)
            expected.append(k)
    aff = np.tile(AFF, (len(us), 1))
    clicks = model.sample_from_uniforms(aff, np.array(us)[:, None])
    chosen = np.where(clicks.any(axis=1), clicks.argmax(axis=1), len(AFF))
    assert clicks.sum(axis=1).max() <= 1
    assert chosen.tolist() == expected


def test_position_based_samples_each_position_independently() -> None:
    model = PositionBased(beta=1.3, bias=-0.6, eta=0.7)
    p = model.click_probabilities(np.array(AFF))
    below, above = np.nextafter(p, 0.0), p
    u = np.array([below, above, [below[0], above[1], below[2], above[3]]])
    clicks = model.sample_from_uniforms(np.tile(AFF, (3, 1)), u)
    assert clicks.tolist() == [[True] * 4, [False] * 4, [True, False, True, False]]


def test_independent_multi_click_samples_each_position_independently() -> None:
    model = MultiClick(mode="independent", beta=1.4, bias=-0.3)
    a = model.attractiveness(np.array(AFF))
    u = np.array([np.nextafter(a, 0.0), a, [a[0] - 1e-9, a[1], a[2], a[3] - 1e-9]])
    clicks = model.sample_from_uniforms(np.tile(AFF, (3, 1)), u)
    assert model.num_uniforms(4) == 4
    assert clicks.tolist() == [[True] * 4, [False] * 4, [True, False, False, True]]


def test_dependent_click_model_stops_after_a_click_unless_it_continues() -> None:
    lam = 0.35
    model = MultiClick(mode="dependent", beta=0.9, bias=0.4, continue_prob=lam)
    assert model.num_uniforms(4) == 8
    a = model.attractiveness(np.array(AFF))
    attracted = np.nextafter(a, 0.0)  # u < alpha: clicked if examined
    go_on, stop = np.full(4, lam - 1e-9), np.full(4, lam)  # u < lambda: continue after a click
    cases = {
        # every item attractive, always continue: four clicks
        (tuple(attracted), tuple(go_on)): [True, True, True, True],
        # every item attractive, stop after the first click
        (tuple(attracted), tuple(stop)): [True, False, False, False],
        # position 0 skipped (u = alpha is not < alpha), click 1 and stop
        ((a[0], *attracted[1:]), tuple(stop)): [False, True, False, False],
        # click 0 and go on, skip 1, click 2 and stop
        ((attracted[0], a[1], attracted[2], attracted[3]), (lam - 1e-9, lam, lam, lam)):
            [True, False, True, False],
    }  # fmt: skip
    for (u_click, u_cont), expected in cases.items():
        u = np.concatenate([u_click, u_cont])[None]
        assert model.sample_from_uniforms(np.array(AFF)[None], u)[0].tolist() == expected


def test_clicks_drop_invalid_positions_for_every_model() -> None:
    valid = np.array([[True, False, True, False]])
    for model in [*SINGLE_CLICK, PositionBased(bias=3.0), MultiClick(bias=3.0, continue_prob=1.0)]:
        u = np.zeros((1, model.num_uniforms(4)))  # u = 0: position 0, or every attractive position
        clicked = model.clicks(np.array(AFF)[None], u, valid)
        unmasked = model.clicks(np.array(AFF)[None], u)
        assert unmasked[0, 0] and not clicked[~valid].any()
        assert np.array_equal(clicked, unmasked & valid)


# -- sampling frequencies, including one-outcome distributions -------------------------------------
def test_chi2_helper_accepts_a_one_outcome_distribution_and_rejects_impossible_draws() -> None:
    assert chi2_pvalue(np.array([0, 500, 0]), np.array([0.0, 1.0, 0.0])) == 1.0
    assert chi2_pvalue(np.array([1, 499, 0]), np.array([0.0, 1.0, 0.0])) == 0.0
    assert chi2_pvalue(np.array([100, 400, 0]), np.array([0.2, 0.8, 0.0])) > 0.5
    assert chi2_pvalue(np.array([200, 300, 0]), np.array([0.2, 0.8, 0.0])) < 1e-6
    with pytest.raises(ValueError, match="distribution"):
        chi2_pvalue(np.array([1, 2]), np.array([0.5, 0.6]))


@pytest.mark.parametrize(
    ("model", "aff", "outcome"),
    [
        # sigma e^a >= 1 at position 0 and full attention: the first item is always clicked
        (ExponentialCascade(attention_prob=1.0, score_scaling=0.15), [2.5, 0.3, -1.0], 0),
        # every offset score clipped to zero: never a click
        (ProportionalCascade(attention_prob=0.9, score_scaling=0.2, min_normalizer=3.0),
         [1.0, 2.0, -0.5], 3),
        # attention 0: never a click
        (ExponentialCascade(attention_prob=0.0, score_scaling=0.15), [2.5, 0.3, -1.0], 3),
    ],
)  # fmt: skip
def test_sampling_matches_one_outcome_distributions(
    model: ChoiceModel, aff: list[float], outcome: int
) -> None:
    probs = model.probabilities(np.array(aff))
    expected = np.zeros(len(aff) + 1)
    expected[outcome] = 1.0
    _close(probs, expected.tolist())
    clicks = model.sample(np.tile(aff, (2000, 1)), np.random.default_rng(5))
    first = np.where(clicks.any(axis=1), clicks.argmax(axis=1), len(aff))
    assert chi2_pvalue(np.bincount(first, minlength=len(aff) + 1), probs) == 1.0
