"""The built-in choice models as compiled row functions.

Each built-in model of :mod:`slategym.choice` is a kind code and a parameter vector here; one row
function computes its probabilities, its click probabilities and its clicks. The fused step calls
them, and so does every built-in model's public ``probabilities()`` / ``click_probabilities()`` when
the compiled path is on (see :func:`slategym.kernels.compiled_choice`), so docs, tests and oracles
read the numbers the kernel runs on. The numpy methods of :mod:`slategym.choice` remain the general
path (numba absent or switched off); ``tests/test_kernels.py`` holds the two together, bit for bit.

The operations follow numpy's order exactly: a max-shifted softmax summed pairwise, cumulative
products left to right, the inverse-CDF draw counting ``cdf <= u``. Each row function is three
parts, so that the fused step can apply a model's ``exp`` or ``sigmoid`` to a block of rows at once:
:func:`transcendental_args`, :func:`transform`, then :func:`probabilities_from` (or
:func:`click_probabilities_from`, :func:`sample_from`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slategym.checks import SUM_TOLERANCE
from slategym.choice import (
    ExponentialCascade,
    FirstItem,
    MultiClick,
    MultinomialLogit,
    MultinomialProportional,
    PositionBased,
    ProportionalCascade,
)
from slategym.kernels._jit import jit, jit_inline
from slategym.kernels._npmath import pairwise_sum, vexp, vsigmoid

MNL, PROPORTIONAL, EXPONENTIAL_CASCADE, PROPORTIONAL_CASCADE, FIRST_ITEM = 0, 1, 2, 3, 4
POSITION_BASED, MULTI_CLICK_INDEPENDENT, MULTI_CLICK_DEPENDENT = 5, 6, 7
BAD_PROBABILITIES = 1
"""Error code of :func:`sample_from` and :func:`sample_single_click`: non-finite, negative or
unnormalised probabilities."""


def choice_spec(model: Any, slate_size: int) -> tuple[int, np.ndarray, np.ndarray] | None:
    """``(kind, parameters, examination)`` of a built-in model (its exact class), else None.

    ``examination`` is the ``(K,)`` examination probabilities of the position-based model (empty for
    the others); a model whose examination vector does not fit ``slate_size`` gets None (the general
    path raises its error when it steps).
    """
    t = type(model)
    none = np.zeros(0)
    if t is MultinomialLogit:
        return MNL, np.array([model.beta, model.no_click_logit], np.float64), none
    if t is MultinomialProportional:
        return PROPORTIONAL, np.array([model.min_normalizer, model.no_click_mass], np.float64), none
    if t is ExponentialCascade:
        return EXPONENTIAL_CASCADE, np.array([model.attention_prob, model.score_scaling], np.float64), none
    if t is ProportionalCascade:
        params = [model.attention_prob, model.score_scaling, model.min_normalizer]
        return PROPORTIONAL_CASCADE, np.array(params, np.float64), none
    if t is FirstItem:
        return FIRST_ITEM, np.zeros(1), none
    if t is PositionBased:
        try:
            gamma = np.ascontiguousarray(model.examination_probabilities(slate_size), np.float64)
        except ValueError:
            return None
        return POSITION_BASED, np.array([model.beta, model.bias], np.float64), gamma
    if t is MultiClick:
        kind = MULTI_CLICK_INDEPENDENT if model.mode == "independent" else MULTI_CLICK_DEPENDENT
        return kind, np.array([model.beta, model.bias, model.continue_prob], np.float64), none
    return None


@jit
def _first_click(c: np.ndarray, k: int, out: np.ndarray) -> None:
    """``sequential_to_first_click``: ``out[j] = c_j prod_{i<j} (1 - c_i)``, ``out[K]`` no click."""
    survive = 1.0
    for j in range(k):
        before = survive
        survive = survive * (1.0 - c[j]) if j else 1.0 - c[j]
        out[j] = before * c[j]
    out[k] = survive


@jit
def _max(x: np.ndarray, n: int) -> float:
    """``np.maximum.reduce`` (NaN wins)."""
    m = x[0]
    for j in range(1, n):
        if x[j] > m or x[j] != x[j]:
            m = x[j]
    return m


@jit
def _clip01(x: float) -> float:
    """``np.clip(x, 0, 1)`` (NaN stays NaN)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


SIGMOID_KINDS = (POSITION_BASED, MULTI_CLICK_INDEPENDENT, MULTI_CLICK_DEPENDENT)
"""Kinds whose attraction is ``sigmoid(beta * aff + bias)``."""


@jit_inline
def mnl_shifted_logits(p: np.ndarray, aff: np.ndarray, k: int, out: np.ndarray) -> None:
    """The multinomial logit's logits ``beta * aff`` and the no-click logit, minus their maximum
    (``out[:K + 1]``; their ``exp``, normalised, are the probabilities)."""
    for j in range(k):
        out[j] = p[0] * aff[j]
    out[k] = p[1]
    m = _max(out, k + 1)
    for j in range(k + 1):
        out[j] = out[j] - m


@jit_inline
def transcendental_args(kind: int, p: np.ndarray, aff: np.ndarray, k: int, out: np.ndarray) -> None:
    """What a model passes to its transcendental function, for one slate (``out[:K + 1]``): the
    multinomial logit's shifted logits (``exp``), the exponential cascade's affinities (``exp``),
    the attraction logits ``beta * aff + bias`` of the position-based and multi-click models
    (``sigmoid``); zeros for the others (and in the unused last place).

    Split from the rest so that the fused step maps a whole block of rows with one call of numpy's
    loop (:func:`transform`): a call for a single value costs 25 to 36 times a value in a call for
    many (``scripts/numpy_loop_calls.py``).
    """
    if kind == MNL:
        mnl_shifted_logits(p, aff, k, out)
        return
    for j in range(k):
        if kind == EXPONENTIAL_CASCADE:
            out[j] = aff[j]
        elif kind in SIGMOID_KINDS:
            out[j] = p[0] * aff[j] + p[1]
        else:
            out[j] = 0.0
    out[k] = 0.0


@jit_inline
def transform(kind: int, x: np.ndarray, n: int) -> None:
    """Apply the model's transcendental function to ``x[:n]`` in place (``exp`` or ``sigmoid``,
    numpy's loops; nothing for the models that have none)."""
    if kind == MNL or kind == EXPONENTIAL_CASCADE:
        vexp(x, x, n)
    elif kind in SIGMOID_KINDS:
        vsigmoid(x, x, n)


@jit
def click_probabilities_from(
    kind: int, p: np.ndarray, gamma: np.ndarray, t: np.ndarray, k: int, out: np.ndarray
) -> None:
    """Marginal click probabilities ``(K,)`` of a multi-click model (``out[:K]``) from its
    attractions ``t`` (:func:`transform` of :func:`transcendental_args`; ``t`` may be ``out``)."""
    if kind == POSITION_BASED:
        for j in range(k):
            out[j] = gamma[j] * t[j]
    else:  # MultiClick
        examined = 1.0
        for j in range(k):
            alpha = t[j]
            if kind == MULTI_CLICK_INDEPENDENT:
                out[j] = alpha
            else:
                out[j] = examined * alpha
                examined = examined * ((1.0 - alpha) + alpha * p[2])


@jit
def click_probabilities_row(
    kind: int, p: np.ndarray, gamma: np.ndarray, aff: np.ndarray, k: int, out: np.ndarray
) -> None:
    """Marginal click probabilities ``(K,)`` of a multi-click model (``out[:K + 1]`` is used)."""
    transcendental_args(kind, p, aff, k, out)
    transform(kind, out, k)
    click_probabilities_from(kind, p, gamma, out, k, out)


@jit_inline
def normalize(out: np.ndarray, n: int) -> None:
    """``out[:n] /= out[:n].sum()`` (numpy's pairwise sum)."""
    total = pairwise_sum(out, 0, n, 1)
    for j in range(n):
        out[j] = out[j] / total


@jit
def probabilities_from(
    kind: int,
    p: np.ndarray,
    gamma: np.ndarray,
    aff: np.ndarray,
    t: np.ndarray,
    k: int,
    out: np.ndarray,
) -> None:
    """Choice probabilities ``(K + 1,)`` of one slate (first-click distribution for multi-click
    models), no click last, into ``out``, from its affinities ``aff`` and ``t``, the
    :func:`transform` of its :func:`transcendental_args` (``t`` may be ``out``)."""
    if kind == MNL:
        for j in range(k + 1):
            out[j] = t[j]
        normalize(out, k + 1)
    elif kind == PROPORTIONAL:
        for j in range(k):
            out[j] = np.maximum(aff[j] - p[0], 0.0)
        out[k] = np.maximum(p[1] - p[0], 0.0)
        total = pairwise_sum(out, 0, k + 1, 1)
        if total <= 0.0:
            out[k] = 1.0
            total = 1.0
        for j in range(k + 1):
            out[j] = out[j] / total
    elif kind == EXPONENTIAL_CASCADE or kind == PROPORTIONAL_CASCADE:
        for j in range(k):
            if kind == EXPONENTIAL_CASCADE:
                score = np.minimum(p[1] * t[j], 1.0)
            else:
                score = _clip01(p[1] * (aff[j] - p[2]))
            out[j] = p[0] * score
        _first_click(out, k, out)
    elif kind == FIRST_ITEM:
        out[0] = 1.0
        for j in range(1, k + 1):
            out[j] = 0.0
    elif kind == POSITION_BASED:
        click_probabilities_from(kind, p, gamma, t, k, out)
        _first_click(out, k, out)
    else:  # MultiClick: the first click of the attraction cascade
        for j in range(k):
            out[j] = t[j]
        _first_click(out, k, out)


@jit
def probabilities_row(
    kind: int, p: np.ndarray, gamma: np.ndarray, aff: np.ndarray, k: int, out: np.ndarray
) -> None:
    """Choice probabilities ``(K + 1,)`` of one slate (first-click distribution for multi-click
    models), no click last, into ``out``."""
    transcendental_args(kind, p, aff, k, out)
    transform(kind, out, k + 1)
    probabilities_from(kind, p, gamma, aff, out, k, out)


@jit_inline
def sample_from(
    kind: int,
    p: np.ndarray,
    gamma: np.ndarray,
    aff: np.ndarray,
    t: np.ndarray,
    k: int,
    u: np.ndarray,
    valid: np.ndarray,
    clicks: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Clicks ``(K,)`` of one slate from its uniforms ``u`` (``ChoiceModel.clicks``), its affinities
    and ``t`` (as in :func:`probabilities_from`); clicks on invalid positions are dropped. Returns
    :data:`BAD_PROBABILITIES` if a single-click model's probabilities fail the output check
    (``slategym.checks.check_probabilities``), else 0."""
    if kind == POSITION_BASED or kind == MULTI_CLICK_INDEPENDENT:
        click_probabilities_from(kind, p, gamma, t, k, scratch)
        for j in range(k):
            clicks[j] = u[j] < scratch[j] and valid[j]
        return 0
    if kind == MULTI_CLICK_DEPENDENT:
        stopped = False
        for j in range(k):
            attracted = u[j] < t[j]
            clicks[j] = attracted and not stopped and valid[j]
            if attracted and u[k + j] >= p[2]:
                stopped = True
        return 0
    probabilities_from(kind, p, gamma, aff, t, k, scratch)
    return sample_single_click(scratch, k, u, valid, clicks)


@jit_inline
def sample_single_click(
    probs: np.ndarray, k: int, u: np.ndarray, valid: np.ndarray, clicks: np.ndarray
) -> int:
    """The click of a single-click model from its probabilities ``probs[:K + 1]`` (checked first,
    :data:`BAD_PROBABILITIES` if they fail) and the uniform ``u[0]``: inverse CDF, counting
    ``cdf <= u``; a click on an invalid position is dropped."""
    total = pairwise_sum(probs, 0, k + 1, 1)
    lowest = probs[0]
    for j in range(1, k + 1):
        lowest = np.minimum(lowest, probs[j])
    if not (lowest >= 0.0 and total >= 1.0 - SUM_TOLERANCE and total <= 1.0 + SUM_TOLERANCE):
        return BAD_PROBABILITIES
    cdf = 0.0
    chosen = 0
    for j in range(k):
        cdf = cdf + probs[j] if j else probs[0]
        chosen += cdf <= u[0]
    for j in range(k):
        clicks[j] = j == chosen and valid[j]
    return 0


@jit
def probabilities_rows(
    kind: int, p: np.ndarray, gamma: np.ndarray, aff: np.ndarray, out: np.ndarray, marginal: bool
) -> None:
    """:func:`probabilities_row` (or, ``marginal``, :func:`click_probabilities_row`) of every row of
    ``aff (M, K)`` into ``out (M, K + 1)``."""
    k = aff.shape[1]
    for r in range(aff.shape[0]):
        if marginal:
            click_probabilities_row(kind, p, gamma, aff[r], k, out[r])
        else:
            probabilities_row(kind, p, gamma, aff[r], k, out[r])
