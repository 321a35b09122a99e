"""Every reward spec of :mod:`slategym.rewards` computes what its table says, on hand-built outcomes
and in the env (where the reward must equal the same sum over the step's ``info``)."""

from __future__ import annotations

import dataclasses
import pickle

import gymnasium as gym
import numpy as np
import pytest

from slategym.rewards import make_reward
from slategym.types import StepOutcome
from tests.conftest import SMALL

CLICKS = np.array([[True, False, True], [False, False, False], [True, True, True]])
PURCHASES = np.array([[False, False, True], [False, False, False], [True, False, True]])
DWELL = np.array([[3.5, 0.0, 1.25], [0.0, 0.0, 0.0], [0.5, 6.0, 2.0]])


def _outcome() -> StepOutcome:
    """A StepOutcome whose fields other than clicks, purchases and dwell are zeros."""
    n, k = CLICKS.shape
    values = {f.name: np.zeros(n) for f in dataclasses.fields(StepOutcome)}
    values.update(item_ids=np.zeros((n, k), np.int64), valid=np.ones((n, k), bool),
                  affinities=np.zeros((n, k)), clicks=CLICKS, purchases=PURCHASES, dwell=DWELL)  # fmt: skip
    return StepOutcome(**values)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("click", [2.0, 0.0, 3.0]),
        ("purchase", [1.0, 0.0, 2.0]),
        ("engagement", [4.75, 0.0, 8.5]),  # total minutes, not the mean
        ({"click": 1.0, "purchase": 5.0}, [7.0, 0.0, 13.0]),
        ({"purchase": 2.0, "engagement": 0.5, "click": -1.0}, [2.375, 0.0, 5.25]),
        ({"engagement": 2.0}, [9.5, 0.0, 17.0]),
    ],
)
def test_reward_specs_on_a_hand_built_outcome(spec: object, expected: list[float]) -> None:
    reward = make_reward(spec)
    got = reward(_outcome())
    assert got.dtype == np.float64 and got.tolist() == expected
    assert pickle.loads(pickle.dumps(reward))(_outcome()).tolist() == expected


def test_a_callable_reward_is_used_as_is() -> None:
    def fn(o: StepOutcome) -> np.ndarray:
        return o.dwell.max(axis=1)

    assert make_reward(fn) is fn


@pytest.mark.parametrize(
    ("spec", "from_info"),
    [
        ("click", lambda i: float(np.sum(i["clicks"]))),
        ("purchase", lambda i: float(np.sum(i["purchases"]))),
        ("engagement", lambda i: float(np.sum(i["dwell"]))),
        ({"click": 0.5, "purchase": 3.0, "engagement": 0.1},
         lambda i: 0.5 * np.sum(i["clicks"]) + 3.0 * np.sum(i["purchases"])
         + 0.1 * np.sum(i["dwell"])),
    ],
)  # fmt: skip
def test_env_reward_equals_the_spec_over_the_step_info(spec: object, from_info) -> None:  # type: ignore[no-untyped-def]
    env = gym.make("SlateRec-v0", **SMALL, reward=spec,
                   choice_model_kwargs={"no_click_logit": 0.0},
                   user_model_kwargs={"purchase_bias": 0.5})  # fmt: skip
    env.reset(seed=2)
    seen = {"clicks": 0, "purchases": 0, "differ": 0}
    for _ in range(150):
        _, reward, term, trunc, info = env.step(np.arange(4))
        assert reward == pytest.approx(from_info(info), rel=1e-12, abs=1e-12)
        seen["clicks"] += int(np.sum(info["clicks"]))
        seen["purchases"] += int(np.sum(info["purchases"]))
        seen["differ"] += int(np.sum(info["clicks"]) != np.sum(info["purchases"]))
        if term or trunc:
            env.reset()
    assert seen["clicks"] > 50 and seen["purchases"] > 20 and seen["differ"] > 20
