"""``SlateRecVectorEnv(copy=False)``: observations written into two alternating buffers on the
compiled path, equal to the fresh ones of ``copy=True``."""

from __future__ import annotations

import numpy as np
import pytest

from slategym.vector_env import SlateRecVectorEnv

SMALL = {"num_items": 80, "num_candidates": 10, "slate_size": 2, "num_users": 30, "days": 1}


@pytest.mark.parametrize("observation", ["full", "ids"])
def test_copy_false_reuses_two_buffers_with_the_same_values(observation: str) -> None:
    fresh = SlateRecVectorEnv(32, backend="compiled", observation=observation, **SMALL)
    reused = SlateRecVectorEnv(
        32, backend="compiled", observation=observation, copy=False, **SMALL
    )
    a, _ = fresh.reset(seed=4)
    b, _ = reused.reset(seed=4)
    rng = np.random.default_rng(4)
    history = [b]
    for _ in range(25):
        actions = np.stack([rng.permutation(10)[:2] for _ in range(32)])
        a_next = fresh.step(actions)[0]
        b_next = reused.step(actions)[0]
        for key in a:
            np.testing.assert_array_equal(a[key], history[-1][key], err_msg=key)  # still valid
            np.testing.assert_array_equal(a_next[key], b_next[key], err_msg=key)
        a = a_next
        history.append(b_next)
    # two buffers, alternating: the arrays of step t are those of step t + 2
    assert all(history[-1][k] is history[-3][k] for k in history[-1])
    assert not any(history[-1][k] is history[-2][k] for k in history[-1])


def test_copy_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="copy=1 is not allowed"):
        SlateRecVectorEnv(2, copy=1, **SMALL)
