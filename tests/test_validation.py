"""Bad inputs give errors that name the parameter, the value and what is allowed."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import slategym
from tests.conftest import SMALL


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"slate_size": 30, "num_candidates": 20}, r"slate_size=30 .*at most num_candidates=20"),
        ({"num_candidates": 300, "num_items": 200}, r"num_candidates=300 .*num_items=200"),
        ({"slate_size": 0}, r"slate_size=0 .*integer >= 1"),
        ({"num_items": -5}, r"num_items=-5"),
        ({"num_users": 2.5}, r"num_users=2.5"),
        ({"days": 0}, r"days=0"),
        ({"step_minutes": float("nan")}, r"step_minutes=nan"),
        ({"min_return_gap_minutes": -1.0}, r"min_return_gap_minutes=-1.0"),
        ({"choice_model": "softmax"}, r"choice_model='softmax' .*registered names \[.*'mnl'"),
        ({"user_model": "robot"}, r"user_model='robot' .*registered names \[.*'default'"),
        (
            {"choice_model_kwargs": {"attention_prob": 1.5}, "choice_model": "exponential_cascade"},
            r"attention_prob=1.5 .*\[0.0, 1.0\]",
        ),  # fmt: skip
        ({"choice_model_kwargs": {"beta": float("nan")}}, r"beta=nan"),
        ({"choice_model_kwargs": {"temperature": 2.0}}, r"choice_model_kwargs=.*temperature"),
        ({"user_model_kwargs": {"fatigue_decay": 1.2}}, r"fatigue_decay=1.2"),
        ({"user_model_kwargs": {"churn_bias": float("nan")}}, r"churn_bias=nan"),
        ({"user_model_kwargs": {"chronotype_weights": "x"}}, r"chronotype_weights='x' .*shape \(3,\)"),
        ({"user_model_kwargs": {"chronotype_weights": [1, "a", 2]}}, r"chronotype_weights=\[1, 'a', 2\]"),
        ({"reward": "likes"}, r"reward='likes' .*\['click', 'engagement', 'purchase'\]"),
        ({"reward": {"click": 1.0, "shares": 2.0}}, r"unknown signal 'shares'"),
        ({"strict_slates": "yes"}, r"strict_slates='yes'"),
    ],
)
def test_bad_configuration_raises(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        gym.make("SlateRec-v0", **kwargs)
    with pytest.raises(ValueError, match=pattern):
        gym.make_vec("SlateRec-v0", 2, vectorization_mode="vector_entry_point", **kwargs)


def test_model_instance_with_kwargs_is_rejected() -> None:
    with pytest.raises(ValueError, match="choice_model_kwargs"):
        gym.make("SlateRec-v0", choice_model=slategym.choice.MultinomialLogit(),
                 choice_model_kwargs={"beta": 2.0})  # fmt: skip


@pytest.fixture
def env() -> gym.Env:
    env = gym.make("SlateRec-v0", **SMALL).unwrapped
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    ("slate", "pattern"),
    [
        (
            np.array([0, 1, 2, 20]),
            r"index 20 out of range: expected candidate indices in \[0, 19\]",
        ),
        (np.array([0, 1, -1, 3]), r"index -1 out of range"),
        (np.array([0, 1, 2]), r"shape \(3,\), expected \(4,\)"),
        (np.array([[0, 1, 2, 3]]), r"shape \(1, 4\), expected \(4,\)"),
        (np.array([0.0, 1.0, 2.0, 3.0]), r"dtype float64, expected integers"),
        (["a", "b", "c", "d"], r"expected integers"),
    ],
)
def test_bad_slates_raise(env: gym.Env, slate: object, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        env.step(slate)


def test_duplicates_are_counted_and_never_clicked() -> None:
    env = slategym.SlateRecEnv(**SMALL, choice_model="multi_click",
                               choice_model_kwargs={"bias": 5.0})  # fmt: skip
    env.reset(seed=0)
    for _ in range(50):
        _, _, term, trunc, info = env.step(np.array([3, 3, 5, 3]))
        assert info["n_duplicates"] == 2
        assert not info["clicks"][[1, 3]].any()
        assert not info["purchases"][[1, 3]].any()
        if term or trunc:
            env.reset()


def test_strict_slates_raise_on_duplicates() -> None:
    env = slategym.SlateRecEnv(**SMALL, strict_slates=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"repeats a candidate and strict_slates=True"):
        env.step(np.array([1, 2, 1, 3]))
    env.step(np.array([1, 2, 0, 3]))  # distinct is fine


def test_vector_env_validates_actions() -> None:
    envs = gym.make_vec("SlateRec-v0", 3, vectorization_mode="vector_entry_point", **SMALL)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 4\), expected \(3, 4\)"):
        envs.step(np.zeros((2, 4), int))
    with pytest.raises(ValueError, match=r"num_envs=0"):
        gym.make_vec("SlateRec-v0", 0, vectorization_mode="vector_entry_point")


def test_step_before_reset_and_after_end_raise() -> None:
    env = slategym.SlateRecEnv(**SMALL)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.arange(4))
    env.reset(seed=0, options={"user_id": 3})
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(np.arange(4))
        done = term or trunc
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(np.arange(4))
    with pytest.raises(ValueError, match=r"user_id'\]=100 .*\[0, 99\]"):
        env.reset(options={"user_id": 100})
