"""Two gaps of the parity tests that kernel slips slipped through (``scripts/mutation_classes.py``).

1. The compiled step hands a step back to the numpy path when a row fails a check (a duplicate under
   ``strict_slates``, non-finite affinities, probabilities that fail the output check, a non-finite
   reward); the numpy path then raises the usual error. That fallback is silent and gives the numpy
   path's numbers, so a slip that makes a check fail on valid input (the multinomial logit
   normalised without its no-click entry) keeps every parity test green while the compiled step no
   longer runs. The first tests count the compiled steps that fall back.
2. The built-in models' public ``probabilities()`` answer from the compiled row functions; the step's
   parity tests only see them through sampled clicks, where a last-bit difference (the softmax
   shifted by another constant) practically never flips a click. The last tests compare them with
   the numpy methods bit for bit, including a no-click logit far above every item's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from slategym import kernels
from slategym.registry import BUILTIN_CHOICE_MODELS, make_choice_model
from slategym.vector_env import SlateRecVectorEnv

pytestmark = pytest.mark.skipif(
    kernels.unavailable_reason() is not None, reason="numba is not installed (the fast extra)"
)

ROWS, STEPS = 200, 10
WORLD: dict[str, Any] = {
    "num_items": 300,
    "num_candidates": 12,
    "slate_size": 4,
    "num_users": 200,
    "days": 2,
}


def _fallbacks(rows: int, steps: int, **config: Any) -> tuple[int, int]:
    """(compiled steps that returned None, compiled steps) over a rollout with random slates
    (duplicates included: outside ``strict_slates`` they are valid)."""
    env = SlateRecVectorEnv(rows, backend="compiled", **{**WORLD, **config})
    kernel = env.sim.kernel
    assert kernel is not None
    step = kernel.step
    results: list[bool] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        out = step(*args, **kwargs)
        results.append(out is None)
        return out

    kernel.step = counted  # type: ignore[method-assign]
    rng = np.random.default_rng(5)
    env.reset(seed=7)
    for _ in range(steps):
        env.step(rng.integers(0, env.config.num_candidates, (rows, env.config.slate_size)))
    return sum(results), len(results)


@pytest.mark.parametrize("choice", BUILTIN_CHOICE_MODELS)
def test_valid_steps_stay_on_the_compiled_path(choice: str) -> None:
    failed, calls = _fallbacks(ROWS, STEPS, choice_model=choice)
    assert calls == STEPS and failed == 0, f"{failed} of {calls} compiled steps fell back"


def test_an_invalid_step_does_fall_back() -> None:
    """What the counter counts: a duplicate under strict_slates makes the kernel hand over."""
    env = SlateRecVectorEnv(2, backend="compiled", strict_slates=True, **WORLD)
    env.reset(seed=0)
    assert env.sim.kernel is not None
    assert env.sim.kernel.step(env.state, np.array([[0, 1, 2, 3], [4, 5, 6, 4]])) is None
    assert env.sim.kernel.step(env.state, np.array([[0, 1, 2, 3], [4, 5, 6, 7]])) is not None


MODELS: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in BUILTIN_CHOICE_MODELS] + [
    ("mnl", {"no_click_logit": 800.0}),  # exp overflows unless the shift includes the no-click
    ("mnl", {"beta": 0.5, "no_click_logit": -3.0}),
    ("multi_click", {"mode": "dependent"}),
]


@pytest.mark.parametrize(("choice", "kwargs"), MODELS, ids=lambda x: str(x) if x else "")
def test_public_probabilities_equal_the_numpy_methods(choice: str, kwargs: dict) -> None:
    """Affinities where the no-click or an item is the most likely, for both paths, bit for bit."""
    assert kernels.wait(600)
    model = make_choice_model(choice, kwargs)
    aff = np.random.default_rng(1).normal(0.0, 2.0, size=(500, 5))
    with kernels.forced("compiled"):
        fast = (model.probabilities(aff), model.click_probabilities(aff))
        assert kernels.compiled_choice(model, aff) is not None
    with kernels.forced("numpy"):
        ref = (model.probabilities(aff), model.click_probabilities(aff))
    for a, b, what in zip(ref, fast, ("probabilities", "click_probabilities")):
        assert np.all(np.isfinite(b)), what
        assert np.array_equal(a, b), f"{what}: rows {np.argwhere(a != b)[:3, 0].tolist()}"
