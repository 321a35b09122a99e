"""Users register their own choice and user models by name and use them through gym.make."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import slategym
from slategym.catalog import Catalog
from slategym.choice import ChoiceModel
from slategym.users import DefaultUserModel, Population, UserState
from tests.chi2 import chi2_pvalue
from tests.conftest import SMALL


@dataclass(frozen=True)
class TopHeavyChoice(ChoiceModel):
    """Single click: a softmax over affinities plus a bonus for higher positions."""

    position_bonus: float = 1.0
    no_click_logit: float = 1.0

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        k = affinities.shape[-1]
        logits = affinities - self.position_bonus * np.arange(k)
        full = np.concatenate([logits, np.full((*logits.shape[:-1], 1), self.no_click_logit)], -1)
        e = np.exp(full - full.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class TopicLover(DefaultUserModel):
    """Every user loves topic 0 and ignores everything else."""

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        return np.where(catalog.topic[item_ids] == 0, 4.0, -4.0)


def setup_module() -> None:
    slategym.register_choice_model("test_top_heavy", TopHeavyChoice, overwrite=True)
    slategym.register_user_model("test_topic_lover", TopicLover, overwrite=True)


def test_custom_models_run_through_gym_make() -> None:
    env = gym.make("SlateRec-v0", choice_model="test_top_heavy",
                   choice_model_kwargs={"position_bonus": 2.0}, user_model="test_topic_lover",
                   **SMALL)  # fmt: skip
    assert isinstance(env.unwrapped.sim.choice_model, TopHeavyChoice)
    assert env.unwrapped.sim.choice_model.position_bonus == 2.0
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    clicked_topics: list[int] = []
    for _ in range(300):
        topics = obs["candidate_topics"]
        slate = np.argsort(topics != 0, kind="stable")[:4]  # topic-0 candidates first
        obs, _, term, trunc, info = env.step(slate)
        ids = info["slate_item_ids"][info["clicks"]]
        clicked_topics.extend(env.unwrapped.sim.catalog.topic[ids].tolist())
        if term or trunc:
            obs, _ = env.reset()
    assert len(clicked_topics) > 50
    assert np.mean(np.array(clicked_topics) == 0) > 0.95


def test_custom_models_in_the_vector_env() -> None:
    """The native vector env runs the registered models: clicks follow TopHeavyChoice over
    TopicLover's affinities (+4 for topic 0, -4 otherwise), computed here from their definitions."""
    bonus, no_click, n = 1.5, 1.0, 64
    envs = gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point",
                        choice_model="test_top_heavy", user_model="test_topic_lover",
                        choice_model_kwargs={"position_bonus": bonus}, **SMALL)  # fmt: skip
    assert isinstance(envs.unwrapped.sim.choice_model, TopHeavyChoice)
    assert isinstance(envs.unwrapped.sim.user_model, TopicLover)
    obs, _ = envs.reset(seed=1)
    topic = envs.unwrapped.sim.catalog.topic
    observed, expected = np.zeros(5), np.zeros(5)
    for _ in range(60):
        slates = np.tile(np.arange(4), (n, 1))
        aff = np.where(topic[np.take_along_axis(obs["candidate_ids"], slates, 1)] == 0, 4.0, -4.0)
        w = np.exp(np.concatenate([aff - bonus * np.arange(4), np.full((n, 1), no_click)], 1))
        obs, _, _, _, info = envs.step(slates)
        served = info["_clicks"]
        expected += (w / w.sum(axis=1, keepdims=True))[served].sum(axis=0)
        clicks = info["clicks"][served]
        first = np.where(clicks.any(axis=1), clicks.argmax(axis=1), 4)
        observed += np.bincount(first, minlength=5)
    assert observed[:4].sum() > 500
    # rows have different distributions: a chi-square on the summed counts is conservative
    assert chi2_pvalue(observed, expected / expected.sum()) > 1e-3
    assert "test_top_heavy" in slategym.registered_choice_models()
    assert "test_topic_lover" in slategym.registered_user_models()


def test_registration_errors() -> None:
    with pytest.raises(ValueError, match="already registered"):
        slategym.register_choice_model("mnl", TopHeavyChoice)
    with pytest.raises(ValueError, match="callable"):
        slategym.register_user_model("broken", 3)  # type: ignore[arg-type]
    slategym.register_choice_model("test_wrong_type", lambda: "not a model", overwrite=True)
    with pytest.raises(ValueError, match="returned str, expected a ChoiceModel"):
        gym.make("SlateRec-v0", choice_model="test_wrong_type")
