"""PPO: both observation views train and act, the shared encoder is its features extractor, it
trains on the envs of the make_env it is given, and SB3's logger leaves nothing in the temp dir."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gymnasium as gym
import pytest

from agents.encoder import ObservationEncoder
from agents.loop import make_vector_env
from agents.ppo import PPOAgent
from agents.spec import AgentSpec

TINY = {"num_users": 30, "days": 1, "num_items": 60, "num_candidates": 12, "slate_size": 3}
SMALL = {"n_steps": 16, "batch_size": 32, "n_envs": 2,
         "encoder": {"item_dim": 8, "state_dim": 8, "hidden": 16, "heads": 2, "feedforward": 16,
                     "layers": 1, "history_length": 10}}  # fmt: skip

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_env() -> gym.Env:
    return gym.make("SlateRec-v0", **TINY)


@pytest.mark.parametrize("features", ["shared", "flat"])
def test_both_views_train_and_act(features: str) -> None:
    envs = make_vector_env(4, **TINY)
    agent = PPOAgent(AgentSpec.from_env(envs), seed=0, features=features, **SMALL)
    extractor = agent.model.policy.features_extractor
    assert any(isinstance(m, ObservationEncoder) for m in extractor.modules()) == (
        features == "shared")
    logs = agent.fit(make_env, 64)  # 2 envs x 16 steps per rollout: two updates
    assert len(logs) == 2 and "train/approx_kl" in logs[-1]
    obs, _ = envs.reset(seed=0)
    slates = agent.act(obs)
    assert slates.shape == (4, 3) and all(len(set(r)) == 3 for r in slates.tolist())


def test_fit_leaves_no_sb3_folders_in_the_temp_dir(tmp_path: Path, monkeypatch) -> None:
    """SB3's default logger makes ``<tmp>/SB3-<date>`` on every learn(): PPOAgent sets its own."""
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert tempfile.gettempdir() == str(tmp_path)
    agent = PPOAgent(AgentSpec.from_env(make_env()), seed=0, **SMALL)
    agent.fit(make_env, 32)
    agent.fit(make_env, 32)
    path = tmp_path / "ppo"
    agent.save(path)
    agent.load(path)
    agent.fit(make_env, 32)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3-")]


def test_training_envs_have_distinct_keyed_seeds() -> None:
    agent = PPOAgent(AgentSpec.from_env(make_env()), seed=0, **{**SMALL, "n_envs": 3})
    agent.fit(make_env, 48)
    envs = agent.model.get_env()
    other = PPOAgent(AgentSpec.from_env(make_env()), seed=1, **{**SMALL, "n_envs": 3})
    other.fit(make_env, 48)
    keys = {int(e.unwrapped.state.key[0]) for e in envs.envs}  # type: ignore[union-attr]
    other_keys = {int(e.unwrapped.state.key[0]) for e in other.model.get_env().envs}  # type: ignore[union-attr]
    assert len(keys) == 3 and not keys & other_keys  # seed 1 does not reuse seed 0's streams
