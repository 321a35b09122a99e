"""Custom models that misbehave fail loudly: errors name the model and what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import slategym
from slategym.catalog import Catalog
from slategym.choice import ChoiceModel, MultinomialLogit
from slategym.platform import Platform
from slategym.users import DefaultUserModel, Population, UserState
from tests.conftest import SMALL

K = SMALL["slate_size"]


@dataclass(frozen=True)
class BentChoice(ChoiceModel):
    """MNL probabilities passed through ``bend``: a way to return anything."""

    bend: Callable[[np.ndarray], Any] = lambda p: p

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        return self.bend(MultinomialLogit(beta=1.0, no_click_logit=0.0).probabilities(affinities))


@dataclass(frozen=True)
class BentUser(DefaultUserModel):
    """Default affinities passed through ``bend``."""

    bend: Callable[[np.ndarray], Any] = lambda a: a

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        with np.errstate(all="ignore"):
            return self.bend(super().affinity(population, state, catalog, item_ids))


@dataclass(frozen=True)
class BentResponse(DefaultUserModel):
    """Default responses with one field replaced by ``field(response)``."""

    field: str = "dwell"
    value: Callable[[Any], Any] = lambda r: r.dwell

    def respond(self, *args: Any) -> Any:
        state, response = super().respond(*args)
        return state, replace(response, **{self.field: self.value(response)})


@dataclass(frozen=True)
class SloppyMultiClick(ChoiceModel):
    """A multi-click model whose sampler returns one column too few."""

    multi_click = True

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        return MultinomialLogit().probabilities(affinities)

    def sample_from_uniforms(self, affinities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        return (uniforms[..., :1] < 0.5) & (affinities[..., :-1] > 0)


def _run(steps: int = 20, vector: bool = False, **config: Any) -> None:
    if vector:
        envs = gym.make_vec("SlateRec-v0", 8, vectorization_mode="vector_entry_point",
                            **{**SMALL, **config})  # fmt: skip
        envs.reset(seed=0)
        for _ in range(steps):
            envs.step(np.tile(np.arange(K), (8, 1)))
        return
    env = gym.make("SlateRec-v0", **{**SMALL, **config}).unwrapped
    env.reset(seed=0)
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(np.arange(K))
        if term or trunc:
            env.reset()


def _softmax_times(scale: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda p: p * scale


@pytest.mark.parametrize(
    ("bend", "pattern"),
    [
        (lambda p: np.full_like(p, np.nan), r"non-finite probability \(nan at index \(0, 0\)\)"),
        (lambda p: np.where(np.arange(p.shape[-1]) == 0, -0.1, p + 0.1 / (p.shape[-1] - 1)),
         r"negative probability \(-0.1"),
        (_softmax_times(0.9), r"probabilities whose row \(0,\) sums to 0.9"),
        (lambda p: p[..., :-1], rf"probabilities of shape \(1, {K}\), expected \(1, {K + 1}\) "
                                r"= \(\.\.\., slate_size \+ 1\)"),
        (lambda p: p.astype(str), r"probabilities of dtype <U\d+, expected real numbers"),
        (lambda p: np.where(np.isfinite(p), p, 0) * np.inf, r"non-finite probability"),
    ],  # fmt: skip
)
def test_bad_choice_probabilities_name_the_model(bend: Callable, pattern: str) -> None:
    with pytest.raises(ValueError, match=r"^choice model BentChoice returned (a )?" + pattern):
        _run(choice_model=BentChoice(bend))


def test_registered_models_are_named_by_their_registered_name_too() -> None:
    slategym.register_choice_model("test_bent", BentChoice, overwrite=True)
    with pytest.raises(ValueError, match=r"choice model BentChoice \(registered as 'test_bent'\)"):
        _run(choice_model="test_bent", choice_model_kwargs={"bend": _softmax_times(2.0)})


def test_float32_and_one_hot_probabilities_are_fine() -> None:
    _run(choice_model=BentChoice(lambda p: p.astype(np.float32)))
    _run(choice_model=BentChoice(lambda p: (p == p.max(-1, keepdims=True)).astype(np.int64)))


@pytest.mark.parametrize(
    ("bend", "pattern"),
    [
        (np.log, r"non-finite affinity \(nan at index \(0, \d\)\).*log"),
        (lambda a: a / 0.0, r"non-finite affinity \((-)?inf at index"),
        (lambda a: a[:, :-1], rf"affinities of shape \(1, {K - 1}\), expected \(1, {K}\)"),
        (lambda a: None, r"affinities of shape \(\), expected \(1, 4\)"),
    ],
)
def test_bad_affinities_name_the_user_model(bend: Callable, pattern: str) -> None:
    with pytest.raises(ValueError, match=r"^user model BentUser returned (a )?" + pattern):
        _run(user_model=BentUser(bend=bend))


def test_bad_affinities_fail_in_the_vector_env_platform_and_oracle() -> None:
    model = BentUser(bend=np.log)
    with pytest.raises(ValueError, match="user model BentUser returned a non-finite affinity"):
        _run(vector=True, user_model=model)
    platform = Platform(**{**SMALL, "user_model": model})
    platform.reset(seed=0)
    while (batch := platform.requests()) is None:
        platform.next_slot()
    with pytest.raises(ValueError, match="user model BentUser returned a non-finite affinity"):
        platform.oracle_affinities()
    with pytest.raises(ValueError, match="user model BentUser returned a non-finite affinity"):
        platform.serve(np.tile(np.arange(K), (batch.size, 1)))


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        ("dwell", lambda r: r.dwell * np.nan, r"dwell time nan at index \(0, 0\)"),
        ("dwell", lambda r: r.dwell - 1.0, r"dwell time -1.0 at index \(0, 0\)"),
        ("return_multiplier", lambda r: 0 * r.return_multiplier, r"return_multiplier 0.0"),
        ("session_end", lambda r: r.session_end[None], r"response.session_end of shape \(1, 1\)"),
    ],
)
def test_bad_responses_name_the_user_model(field: str, value: Callable, pattern: str) -> None:
    with pytest.raises(ValueError, match=r"^user model BentResponse returned (a )?" + pattern):
        _run(user_model=BentResponse(field=field, value=value))


def test_bad_clicks_of_a_custom_sampler_name_the_model() -> None:
    with pytest.raises(ValueError, match=rf"SloppyMultiClick returned clicks of shape \(1, {K - 1}\)"):
        _run(choice_model=SloppyMultiClick())


def _nan_reward(outcome: Any) -> np.ndarray:
    return np.where(outcome.clicks.any(axis=1), np.nan, 0.0)


@pytest.mark.parametrize(
    ("reward", "pattern"),
    [
        (_nan_reward, r"reward function _nan_reward returned a non-finite reward \(nan"),
        (lambda o: np.zeros((o.clicks.shape[0], 2)), r"<lambda> returned rewards of shape \(1, 2\)"),
        (lambda o: ["a"] * o.clicks.shape[0], r"rewards of dtype <U1, expected real numbers"),
    ],
)
def test_bad_rewards_name_the_reward_function(reward: Callable, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        _run(steps=200, reward=reward)


def test_research_sampling_path_is_checked_too() -> None:
    model = BentChoice(_softmax_times(0.5))
    with pytest.raises(ValueError, match=r"BentChoice .*returned probabilities whose row"):
        model.sample(np.zeros((3, K)), np.random.default_rng(0))


def test_check_cost_script_on_a_tiny_budget() -> None:
    from experiments import check_cost

    result = check_cost.main(["--num-rows", "1", "8", "--seconds", "0.02", "--rounds", "1"])
    rows = result["rows"]
    assert [r["num_rows"] for r in rows] == [1, 8]
    assert all(0 < r["checks_us"] < r["step_us"] for r in rows)
    assert all(0 < r["direct_share"] < 1 for r in rows)
