"""SlateGFN_DB / SlateGFN_TB as agents: valid slates, determinism, checkpoints, validation, buffer,
reward, presets. (Their learning sanity on the deterministic user is in tests/test_agents.py, with
every other learner on the same budget.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.base import Agent, Feedback, LearnsFromFeedback
from agents.gfn import PRESETS, GFNConfig, SlateGFN, SlateGFN_DB, SlateGFN_TB
from agents.gfn.buffer import Batch, ReplayBuffer
from agents.loop import make_vector_env, run
from agents.spec import AgentSpec
from agents.tensors import OBS_KEYS
from tests.conftest import SMALL

AGENTS = [SlateGFN_DB, SlateGFN_TB]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def envs():
    return make_vector_env(16, **SMALL)


def make(cls: type[SlateGFN], envs, config: GFNConfig | None = None, seed: int = 0) -> SlateGFN:
    return cls(AgentSpec.from_env(envs), config, seed=seed)


def feedback_for(agent: SlateGFN, obs: dict[str, np.ndarray], seed: int) -> Feedback:
    rng = np.random.default_rng(seed)
    slates = agent.act(obs, explore=True)
    clicks = rng.random(slates.shape) < 0.3
    return Feedback(
        obs,
        slates,
        clicks,
        clicks & (rng.random(slates.shape) < 0.5),
        clicks.sum(axis=1).astype(np.float64),
    )


def assert_valid(slates: np.ndarray, n: int, k: int, c: int) -> None:
    assert slates.shape == (n, k) and slates.dtype == np.int64
    assert slates.min() >= 0 and slates.max() < c
    assert all(len(set(row)) == k for row in slates.tolist())


@pytest.mark.parametrize("cls", AGENTS)
def test_act_returns_valid_distinct_slates(cls: type[SlateGFN], envs) -> None:
    agent = make(cls, envs)
    assert isinstance(agent, Agent) and isinstance(agent, LearnsFromFeedback)
    assert agent.name == {"SlateGFN_DB": "slategfn_db", "SlateGFN_TB": "slategfn_tb"}[cls.__name__]
    spec = agent.spec
    assert (spec.slate_size, spec.num_items, spec.num_features, spec.profile_dim) == (4, 200, 10, 10)
    obs, _ = envs.reset(seed=3)
    for explore in (False, True):
        assert_valid(agent.act(obs, explore=explore), 16, 4, 20)
    sampling = make(cls, envs, GFNConfig(inference="sample", epsilon_start=1.0))
    assert_valid(sampling.act(obs), 16, 4, 20)
    assert_valid(sampling.act(obs, explore=True), 16, 4, 20)


@pytest.mark.parametrize("cls", AGENTS)
def test_update_logs_metrics_and_changes_the_policy(cls: type[SlateGFN], envs) -> None:
    agent = make(cls, envs, GFNConfig(lr=1e-2, updates_per_call=2))
    logs = run(agent, envs, seed=0, steps=3, explore=True, learn=True)
    assert logs and {"loss", "reward", "epsilon", "click_rate", "entropy"} <= set(logs[-1])
    assert all(np.isfinite(v) for v in logs[-1].values())
    assert logs[-1]["iteration"] == len(logs)
    obs, _ = envs.reset(seed=3)
    before = {k: v.clone() for k, v in agent.nets.state_dict().items()}
    agent.update(feedback_for(agent, obs, 0))
    assert any(not torch.equal(before[k], v) for k, v in agent.nets.state_dict().items())


TINY_SPEC = AgentSpec(slate_size=3, num_candidates=5, num_features=3, num_items=10, profile_dim=4,
                      history_length=3)  # fmt: skip


def test_epsilon_decays_linearly_over_the_declared_fraction() -> None:
    agent = SlateGFN_DB(TINY_SPEC, GFNConfig(total_iterations=100), seed=0)
    assert agent.epsilon == pytest.approx(0.05)
    agent.iteration = 5
    assert agent.epsilon == pytest.approx(0.03)
    agent.iteration = 10
    assert agent.epsilon == pytest.approx(0.01)
    agent.iteration = 90
    assert agent.epsilon == pytest.approx(0.01)
    agent.plan(1000)  # the schedule spans the planned updates ...
    assert agent.config.total_iterations == 1000 and agent.epsilon == pytest.approx(0.05 - 0.04 * 0.9)
    warm = SlateGFN_DB(TINY_SPEC, GFNConfig(warmup_iterations=10, total_iterations=100), seed=0)
    assert warm.warming_up and warm.epsilon == 1.0  # ... after a warm-up of uniform exploration
    warm.iteration = 15
    assert not warm.warming_up and warm.epsilon == pytest.approx(0.03)
    warm.plan(110)
    assert warm.config.total_iterations == 100


def test_the_reward_is_the_env_reward_or_weighted_behaviours_times_the_scale() -> None:
    clicks = np.array([[1, 0, 1], [0, 0, 0]], bool)
    purchases = np.array([[1, 0, 0], [0, 0, 0]], bool)
    dwell = np.array([[2.0, 0.0, 4.0], [0.0, 0.0, 0.0]])
    fb = Feedback({}, np.zeros((2, 3), np.int64), clicks, purchases, np.array([7.0, 1.0]),
                  dwell=dwell)  # fmt: skip
    env = SlateGFN_TB(TINY_SPEC, GFNConfig(), seed=0)
    assert np.allclose(env.reward(fb), [7.0, 1.0])  # the default: the env's reward
    paper = GFNConfig(reward={"click": 1.0, "purchase": 2.0, "dwell": 0.5}, reward_scale=1 / 3)
    agent = SlateGFN_TB(TINY_SPEC, paper, seed=0)
    assert np.allclose(agent.reward(fb), [(2 + 1 + 2 + 2) / 3, 0.0])  # mean over positions
    with pytest.raises(ValueError, match="reward"):
        GFNConfig(reward={"like": 1.0})
    with pytest.raises(ValueError, match="reward_scale"):
        GFNConfig(reward_scale=0.0)


def test_the_presets_are_the_authors_script_constants() -> None:
    db = SlateGFN_DB.from_spec(TINY_SPEC, preset="kuairand1k")
    tb = SlateGFN_TB.from_spec(TINY_SPEC, preset="kuairand1k", lr=1e-3)
    assert (db.config.b_f, db.config.b_r, db.config.b_z, db.config.lr) == (0.5, 0.4, 1.0, 1e-4)
    assert (tb.config.b_f, tb.config.b_r, tb.config.b_z, tb.config.lr) == (1.0, 0.1, 1.0, 1e-3)
    code = SlateGFN_TB.from_spec(TINY_SPEC, preset=None).config
    assert (code.b_f, code.b_r, code.b_z, code.lr) == (1.0, 1.0, 0.0, 1e-4) == tuple(
        PRESETS["code"]["tb"].values())
    with pytest.raises(ValueError, match="preset='kuairand' is not allowed"):
        SlateGFN_DB.from_spec(TINY_SPEC, preset="kuairand")


@pytest.mark.parametrize("cls", AGENTS)
def test_same_seed_same_actions(cls: type[SlateGFN], envs) -> None:
    obs, _ = envs.reset(seed=1)
    a, b = make(cls, envs, seed=7), make(cls, envs, seed=7)
    state = torch.random.get_rng_state()
    assert np.array_equal(a.act(obs, explore=True), b.act(obs, explore=True))
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is untouched
    c = make(cls, envs, seed=8)
    assert not np.array_equal(a.act(obs, explore=True), c.act(obs, explore=True))


@pytest.mark.parametrize("cls", AGENTS)
def test_save_load_round_trip(cls: type[SlateGFN], envs, tmp_path: Path) -> None:
    config = GFNConfig(lr=1e-2)
    agent = make(cls, envs, config)
    run(agent, envs, seed=0, steps=3, explore=True, learn=True)
    obs, _ = envs.reset(seed=5)
    feedback = feedback_for(agent, obs, 1)
    path = tmp_path / "gfn.pt"
    agent.save(path)
    expected = (agent.act(obs), agent.act(obs, explore=True))
    expected_metrics = agent.update(feedback)
    expected_next = agent.act(obs, explore=True)
    other = make(cls, envs, GFNConfig(encoder={"item_dim": 8}), seed=99)  # another seed, config
    other.load(path)
    assert other.config == config and other.iteration == agent.iteration - 1
    got = (other.act(obs), other.act(obs, explore=True))
    assert np.array_equal(expected[0], got[0]) and np.array_equal(expected[1], got[1])
    assert other.update(feedback) == expected_metrics  # same replayed batch, same gradient step
    assert np.array_equal(other.act(obs, explore=True), expected_next)


def test_load_rejects_the_other_loss(envs, tmp_path: Path) -> None:
    make(SlateGFN_DB, envs).save(tmp_path / "db.pt")
    with pytest.raises(ValueError, match="slategfn_db"):
        make(SlateGFN_TB, envs).load(tmp_path / "db.pt")


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("user", lambda v: v[:, :5]),
        ("candidates", lambda v: v[0]),
        ("candidates", lambda v: v[:, :, :4]),
        ("history", lambda v: v[:, :, :-1]),
        ("candidate_ids", lambda v: v + 1000),
        ("history_ids", lambda v: v[:3]),
        ("history_ids", None),
        ("time", lambda v: v[:, :2]),
    ],
)
def test_bad_observations_raise(envs, key: str, change) -> None:
    agent = make(SlateGFN_DB, envs)
    obs, _ = envs.reset(seed=0)
    if change is None:
        del obs[key]
    else:
        obs[key] = change(obs[key])
    with pytest.raises(ValueError):
        agent.act(obs)
    with pytest.raises(ValueError):
        agent.act([obs])  # type: ignore[arg-type]


def test_slate_larger_than_candidates_and_bad_config_raise(envs) -> None:
    obs, _ = envs.reset(seed=0)
    agent = SlateGFN_TB(AgentSpec.from_env(envs).replace(slate_size=25, num_candidates=30))
    with pytest.raises(ValueError, match="slate_size=25 is not allowed"):
        agent.act(obs)
    with pytest.raises(ValueError, match="loss_form"):
        GFNConfig(loss_form="faithful")  # renamed: the offset form is what the authors coded
    with pytest.raises(ValueError, match="b_f"):
        GFNConfig(b_f=0.0)
    with pytest.raises(ValueError, match="slate_size"):
        AgentSpec(slate_size=0, num_candidates=10, num_features=3, num_items=10, profile_dim=4,
                  history_length=2)  # fmt: skip
    normal = make(SlateGFN_DB, envs)
    with pytest.raises(ValueError, match="reward"):
        normal.train_on(obs, normal.act(obs), np.zeros(3))
    with pytest.raises(ValueError, match="repeat"):
        normal.train_on(obs, np.zeros((16, 4), np.int64), np.zeros(16))


def test_buffer_latest_and_mixed() -> None:
    def batch(start: int, n: int) -> Batch:
        ids = np.arange(start, start + n)
        obs = {k: np.zeros((n, 2)) for k in OBS_KEYS}
        obs["user"] = ids[:, None] * np.ones((1, 2))
        return Batch(obs, np.zeros((n, 2), np.int64), ids.astype(float))

    rng = np.random.default_rng(0)
    latest = ReplayBuffer("latest")
    latest.push(batch(0, 6))
    latest.push(batch(100, 4))
    assert len(latest) == 4 and latest.pushed == 10
    assert sorted(latest.sample(8, rng).rewards) == [100, 101, 102, 103]
    assert latest.sample(2, rng).size == 2
    mixed = ReplayBuffer("mixed", capacity=10)
    for start in (0, 100, 200):
        mixed.push(batch(start, 4))
    assert len(mixed) == 10  # rows 0, 1 overwritten
    sample = mixed.sample(8, rng)
    assert set(sample.rewards[:4]) == {200, 201, 202, 203}  # half: the newest rows
    assert set(sample.rewards[4:]) <= {2, 3, 100, 101, 102, 103, 200, 201, 202, 203}
    assert np.array_equal(sample.observations["user"][:, 0], sample.rewards)
    with pytest.raises(ValueError, match="behaviour"):
        ReplayBuffer("prioritised")
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer("mixed").sample(4, rng)


def test_inverse_cdf_draw_never_picks_masked_items() -> None:
    from agents.gfn.sampler import _draw

    weights = torch.tensor([[0.0, 1.0, 0.0, 3.0, 0.0]]).expand(40_000, -1)
    drawn = _draw(weights, torch.Generator().manual_seed(0))
    counts = torch.bincount(drawn, minlength=5)
    assert counts[[0, 2, 4]].sum() == 0
    assert float(counts[3]) / 40_000 == pytest.approx(0.75, abs=0.01)
