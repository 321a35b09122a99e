"""SlateQ's pure functions: choice probabilities, slate values, the slate optimisers, the targets."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from agents.slateq.choice import choice_nll, slate_choice_log_probs, slate_value
from agents.slateq.optimize import OPTIMIZERS, best_slates, slate_values
from agents.slateq.targets import q_learning_target, sarsa_target


def instance(b: int, c: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, c, generator=g, dtype=torch.float64) * 1.5
    null = torch.randn(b, generator=g, dtype=torch.float64)
    q = torch.randn(b, c, generator=g, dtype=torch.float64) * 2 + 1
    null_q = torch.randn(b, generator=g, dtype=torch.float64)
    return logits, null, q, null_q


def brute_force(logits, null, q, null_q, k: int) -> torch.Tensor:
    """``(B,)`` the best slate value over every subset of ``k`` candidates."""
    c = logits.shape[1]
    best = torch.full((logits.shape[0],), -math.inf, dtype=torch.float64)
    for combo in itertools.combinations(range(c), k):
        slate = torch.tensor(combo).expand(logits.shape[0], -1)
        best = torch.maximum(best, slate_values(logits, null, q, null_q, slate))
    return best


def test_choice_probabilities_and_slate_value() -> None:
    logits = torch.tensor([[0.0, math.log(2.0), 5.0]])
    slates = torch.tensor([[1, 0]])
    probs = slate_choice_log_probs(logits, torch.tensor([0.0]), slates).exp()
    assert torch.allclose(probs, torch.tensor([[0.5, 0.25, 0.25]]))  # weights 2, 1, null 1
    q, null_q = torch.tensor([[4.0, 8.0, 100.0]]), torch.tensor([2.0])
    value = slate_value(logits, torch.tensor([0.0]), q, null_q, slates)
    assert float(value) == pytest.approx(0.5 * 8 + 0.25 * 4 + 0.25 * 2)
    assert float(slate_values(logits, torch.tensor([0.0]), q, null_q, slates)) == pytest.approx(5.5)
    nll = choice_nll(logits, torch.tensor([0.0]), slates, torch.tensor([2]))  # no click
    assert float(nll) == pytest.approx(math.log(4.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_lp_and_enumeration_find_the_best_slate_and_the_heuristics_do_not_beat_it(seed) -> None:
    k = 3
    logits, null, q, null_q = instance(40, 7, seed)
    best = brute_force(logits, null, q, null_q, k)
    values = {}
    for method in OPTIMIZERS:
        slates = best_slates(method, logits, null, q, null_q, k)
        assert slates.shape == (40, k) and slates.dtype == torch.int64
        assert all(len(set(row)) == k for row in slates.tolist())
        values[method] = slate_values(logits, null, q, null_q, slates)
    for method in ("exact", "lp", "enumerate"):
        assert torch.allclose(values[method], best, atol=1e-9), method
    for method in ("greedy", "topk"):
        assert bool((values[method] <= best + 1e-12).all())
    assert bool((values["topk"] < best - 1e-6).any())  # top-K is a heuristic: not always optimal
    assert bool((values["greedy"] >= values["topk"] - 1e-12).mean(dtype=torch.float64) > 0.5)


def test_slates_are_ordered_best_first_and_topk_is_recsims_with_a_zero_null_value() -> None:
    logits, null, q, _ = instance(20, 6, 3)
    zero = torch.zeros(20, dtype=torch.float64)
    slates = best_slates("topk", logits, null, q, zero, 4)
    contribution = (logits.exp() * q).gather(1, slates)  # v_i q_i (v up to a per-row factor)
    assert bool((contribution[:, :-1] >= contribution[:, 1:]).all())
    assert torch.equal(slates, torch.argsort(-(logits.exp() * q), dim=1, stable=True)[:, :4])


def test_bad_optimizer_arguments_raise() -> None:
    logits, null, q, null_q = instance(2, 5, 0)
    with pytest.raises(ValueError, match="optimizer='best' is not allowed"):
        best_slates("best", logits, null, q, null_q, 2)
    with pytest.raises(ValueError, match="slate_size=6 is not allowed"):
        best_slates("exact", logits, null, q, null_q, 6)
    big = instance(100, 50, 0)
    with pytest.raises(ValueError, match="use 'exact'"):
        best_slates("enumerate", *big, 6)


def test_sarsa_and_q_learning_targets() -> None:
    logits, null, q, null_q = instance(8, 5, 4)
    reward = torch.linspace(0, 1, 8, dtype=torch.float64)
    done = torch.tensor([False] * 7 + [True])
    next_slates = torch.tensor([[0, 1]] * 8)
    sarsa = sarsa_target(reward, done, 0.9, logits, null, q, null_q, next_slates)
    expected = reward + 0.9 * slate_value(logits, null, q, null_q, next_slates) * (~done)
    assert torch.allclose(sarsa, expected)
    assert float(sarsa[-1]) == float(reward[-1])  # no future after the end of an episode
    qlearn = q_learning_target(reward, done, 0.9, logits, null, q, null_q, 2, "exact")
    best = brute_force(logits, null, q, null_q, 2)
    assert torch.allclose(qlearn, reward + 0.9 * best * (~done))
    assert bool((qlearn >= sarsa - 1e-12).all())  # the max is at least the served slate's value
