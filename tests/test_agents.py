"""Every agent of the registry: the contract (built from spaces, one protocol per kind), valid
slates, checkpoints, input validation, determinism, and (slow) learning sanity on the deterministic
user: the learners beat random, the oracle beats all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.base import Agent, LearnsFromFeedback, ReadsHiddenState, TrainsItself
from agents.loop import make_vector_env, run
from agents.registry import AGENT_NAMES, agent_class, check_agent_names, make_agent, upper_bounds
from agents.spec import AgentSpec
from agents.tensors import OBS_KEYS
from slategym.metrics import slate_ctr

TINY = {"num_users": 50, "days": 1, "num_items": 100, "num_candidates": 20, "slate_size": 4}
N, K, C = 8, 4, 20
#: Small PPO rollouts (8 envs x 16 steps) so that fit() finishes in a moment.
SMALL_PPO = {"n_steps": 16, "batch_size": 32}
#: The observation keys each agent reads (a key outside its set may be absent or malformed).
READS = {
    "random": {"candidates"},
    "greedy": {"candidates", "candidate_ids"},
    "oracle": {"candidates", "candidate_ids"},
    "ppo": set(OBS_KEYS),
    "slateq": set(OBS_KEYS),
    "slategfn_db": set(OBS_KEYS),
    "slategfn_tb": set(OBS_KEYS),
}
#: Agents whose act() draws from a generator of their own (explore=True for the learners).
OWN_RNG = ("random", "greedy", "slateq", "slategfn_db", "slategfn_tb")
#: What each agent is: the protocols of agents.base it implements (and no other).
KINDS = {
    "random": set(),
    "greedy": {LearnsFromFeedback},
    "oracle": {ReadsHiddenState},
    "ppo": {TrainsItself},
    "slateq": {LearnsFromFeedback},
    "slategfn_db": {LearnsFromFeedback},
    "slategfn_tb": {LearnsFromFeedback},
}
#: Small networks so that the learners act and update in a moment.
SMALL_NETS = {"encoder": {"item_dim": 8, "state_dim": 8, "hidden": 16, "heads": 2,
                          "feedforward": 16, "layers": 1, "history_length": 10}}  # fmt: skip
OPTIONS = {"ppo": SMALL_PPO, "slateq": {**SMALL_NETS, "batch_size": 8},
           "slategfn_db": SMALL_NETS, "slategfn_tb": SMALL_NETS}  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def envs():
    return make_vector_env(N, **TINY)


def build(name: str, envs: Any, seed: int = 0) -> Agent:
    return make_agent(name, envs, seed=seed, **OPTIONS.get(name, {}))


def assert_valid(slates: np.ndarray, n: int = N) -> None:
    assert isinstance(slates, np.ndarray) and slates.dtype == np.int64
    assert slates.shape == (n, K)
    assert slates.min() >= 0 and slates.max() < C
    assert all(len(set(row)) == K for row in slates.tolist()), slates


def make_tiny_env() -> gym.Env:
    return gym.make("SlateRec-v0", **TINY)


def train_briefly(agent: Agent, envs: Any) -> None:
    """A few learning steps, so that checkpoints hold more than the initial state."""
    if isinstance(agent, TrainsItself):
        logs = agent.fit(make_tiny_env, 2 * N * SMALL_PPO["n_steps"])
        assert len(logs) == 2  # one dict per PPO update (rollout of n_steps x n_envs)
        assert {"train/loss", "train/approx_kl", "train/entropy_loss"} <= set(logs[-1])
    elif isinstance(agent, LearnsFromFeedback):
        run(agent, envs, seed=0, steps=3, explore=True, learn=True)


# -- the contract --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_every_agent_is_built_from_spaces_and_is_its_kind(name: str, envs) -> None:
    spec = AgentSpec.from_spaces(envs.single_observation_space, envs.single_action_space)
    assert spec == AgentSpec.from_env(envs) == AgentSpec.from_env(make_tiny_env())
    assert (spec.slate_size, spec.num_candidates, spec.num_items) == (K, C, 100)
    agent = make_agent(name, spec, seed=0, **OPTIONS.get(name, {}))  # no env at all
    assert isinstance(agent, Agent) and type(agent).name == name
    cls = agent_class(name)
    for kind in (LearnsFromFeedback, TrainsItself, ReadsHiddenState):
        assert isinstance(agent, kind) == (kind in KINDS[name]) == issubclass(cls, kind), kind
    assert (name in upper_bounds()) == (ReadsHiddenState in KINDS[name])
    obs, _ = envs.reset(seed=1)
    if isinstance(agent, ReadsHiddenState):  # unbound: it cannot act until bound
        with pytest.raises(RuntimeError, match="bind"):
            agent.act(obs)
        agent.bind(envs.unwrapped)
    assert_valid(agent.act(obs))


def test_run_refuses_to_learn_with_an_agent_that_does_not(envs) -> None:
    for name in ("random", "oracle"):
        with pytest.raises(ValueError, match="learn=True is not allowed"):
            run(build(name, envs), envs, seed=0, steps=1, learn=True)
    same_step = make_vector_env(N, autoreset_mode="SameStep", **TINY)
    with pytest.raises(ValueError, match="run\\(\\) needs NEXT_STEP"):
        run(build("random", envs), same_step, seed=0, steps=1)


def test_experiments_do_not_branch_on_agent_names() -> None:
    """The benchmark, the online loop and the checks ask protocols, never names or attributes."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "experiments"
    names = "|".join(AGENT_NAMES)
    pattern = re.compile(rf"""(==|!=)\s*["'](?:{names})["']|["'](?:{names})["']\s*(==|!=)"""
                         rf"""|\.startswith\(["']slate|getattr\(\s*(?:agent|learner)""")  # fmt: skip
    hits = [f"{p.name}:{i}: {line.strip()}" for p in sorted(root.glob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]  # fmt: skip
    assert not hits, hits


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_act_returns_distinct_in_range_int64_slates(name: str, envs) -> None:
    agent = build(name, envs)
    obs, _ = envs.reset(seed=1)
    for explore in (False, True):
        assert_valid(agent.act(obs, explore=explore))
    obs, *_ = envs.step(agent.act(obs))  # and on the next request, after a step
    assert_valid(agent.act(obs))


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_checkpoint_round_trip(name: str, envs, tmp_path: Path) -> None:
    agent = build(name, envs, seed=0)
    train_briefly(agent, envs)
    obs, _ = envs.reset(seed=2)
    path = tmp_path / f"{name}.ckpt"
    agent.save(path)
    greedy = agent.act(obs)
    sequence = [agent.act(obs, explore=True) for _ in range(3)] if name in OWN_RNG else []

    other = build(name, envs, seed=123)  # another seed, untrained: it acts otherwise ...
    if name not in upper_bounds():  # (the oracle has nothing to learn and no randomness)
        assert not np.array_equal(other.act(obs), greedy)
    if name in OWN_RNG:
        assert not all(np.array_equal(a, other.act(obs, explore=True)) for a in sequence)
    other.load(path)
    assert np.array_equal(other.act(obs), greedy)
    for expected in sequence:  # ... until it loads; then its generator continues as saved
        assert np.array_equal(other.act(obs, explore=True), expected)


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_a_missing_key_is_a_value_error_or_unused(name: str, envs) -> None:
    agent = build(name, envs)
    obs, _ = envs.reset(seed=0)
    for key in obs:
        partial = {k: v for k, v in obs.items() if k != key}
        if key in READS[name]:
            with pytest.raises(ValueError, match=rf"lack keys \['{key}'\]"):
                agent.act(partial)
        else:  # never a KeyError: the agent does not need this key
            assert_valid(agent.act(partial))


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_observations_without_a_batch_axis_raise(name: str, envs) -> None:
    agent = build(name, envs)
    obs, _ = envs.reset(seed=0)
    single = {k: v[0] for k, v in obs.items()}
    with pytest.raises(ValueError, match="add a leading axis for a single observation"):
        agent.act(single)
    with pytest.raises(ValueError, match="must be a dict of batched arrays"):
        agent.act([obs])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [n for n in AGENT_NAMES if len(READS[n]) > 1])
def test_mismatched_batch_sizes_raise(name: str, envs) -> None:
    agent = build(name, envs)
    obs, _ = envs.reset(seed=0)
    for key in sorted(READS[name]):
        if key == "candidates":  # the batch size is read from the candidates
            continue
        bad = {**obs, key: obs[key][:-1]}
        with pytest.raises(
            ValueError, match=rf"observations\['{key}'\] has shape .*batch axis of size {N}"
        ):
            agent.act(bad)


def test_the_oracle_rejects_observations_of_another_batch(envs) -> None:
    oracle = make_agent("oracle", envs)
    obs, _ = envs.reset(seed=0)
    fewer = {k: v[:-1] for k, v in obs.items()}
    with pytest.raises(ValueError, match="do not match the bound source's pending requests"):
        oracle.act(fewer)
    other, _ = make_vector_env(N, **TINY).reset(seed=99)
    with pytest.raises(ValueError, match="do not match the bound source's pending requests"):
        oracle.act(other)


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_a_slate_larger_than_the_candidates_raises(name: str, envs) -> None:
    agent = build(name, envs)
    obs, _ = envs.reset(seed=0)
    three = {
        **obs,
        "candidates": obs["candidates"][:, :3],
        "candidate_ids": obs["candidate_ids"][:, :3],
    }
    with pytest.raises(
        ValueError, match="slate_size=4 is not allowed: the observations offer only 3"
    ):
        agent.act(three)


def test_make_agent_rejects_unknown_names_and_sources(envs) -> None:
    with pytest.raises(ValueError, match=r"unknown agent name\(s\) \['dqn'\]: expected names from"):
        make_agent("dqn", envs)
    with pytest.raises(ValueError, match=r"unknown agent name\(s\) \['PPO'\]"):
        make_agent("PPO", envs)  # names are case-sensitive
    with pytest.raises(ValueError, match="cannot read the spaces of dict"):
        make_agent("random", {"num_candidates": 20})
    with pytest.raises(TypeError, match="nonsense"):
        make_agent("slateq", envs, nonsense=1)
    with pytest.raises(ValueError, match=r"agents=\(\) is not allowed"):
        check_agent_names([])
    with pytest.raises(ValueError, match=r"lists \['greedy'\] more than once"):
        check_agent_names(["greedy", "random", "greedy"])
    # keyword arguments go to the constructor (GFNConfig for the GFlowNets) and are checked there
    with pytest.raises(ValueError, match="prior_strength=-1 is not allowed"):
        make_agent("greedy", envs, prior_strength=-1)
    with pytest.raises(ValueError, match="lr=0 is not allowed"):
        make_agent("slategfn_db", envs, lr=0)
    assert upper_bounds() == {"oracle"}


# -- determinism ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["greedy", "slateq", "slategfn_db"])
def test_same_seed_same_training_and_actions(name: str) -> None:
    def train(seed: int) -> tuple[list[dict[str, float]], np.ndarray, list[np.ndarray]]:
        envs = make_vector_env(N, **TINY)
        agent = make_agent(name, envs, seed=seed, **OPTIONS.get(name, {}))
        logs = run(agent, envs, seed=0, steps=4, explore=True, learn=True)
        obs, _ = envs.reset(seed=3)
        return logs, agent.act(obs), [agent.act(obs, explore=True) for _ in range(3)]

    logs, greedy, explored = train(seed=5)
    again = train(seed=5)
    assert len(logs) == 4 and logs == again[0]
    assert np.array_equal(greedy, again[1])
    assert all(np.array_equal(a, b) for a, b in zip(explored, again[2]))
    other = train(seed=6)
    assert not all(np.array_equal(a, b) for a, b in zip(explored, other[2]))


# -- learning sanity -----------------------------------------------------------------------------------

#: The deterministic user (slategym.users.default.deterministic_user_model): tastes are a fixed
#: function of the observable profile, so the best slate is learnable.
EASY = {"user_model": "deterministic", "num_users": 200, "days": 2}
EVAL_SEED = 12_345  # the held-out cohort: reset seed of the evaluation env, never used in training
GFN_ITERATIONS = 500  # update() calls of 64 served slates each
PPO_STEPS = 20_480  # 10 PPO updates of 8 envs x 256 steps
GREEDY_STEPS = 200
SLATEQ_UPDATES = 100  # update() calls of 64 served slates each
#: Measured on this setup (slate CTR, seed 0): random 0.401, greedy 0.700, SlateQ 0.700,
#: SlateGFN_DB 0.625, SlateGFN_TB 0.692 (KuaiRand-1K preset, lr 1e-3), PPO 0.607 (shared encoder;
#: untrained 0.370), oracle 0.836. (slategym 0.1, flat PPO and the old GFN defaults: greedy 0.72,
#: DB 0.64, TB 0.71, PPO 0.68.)
MARGIN_OVER_RANDOM = 0.15
MARGIN_ORACLE = 0.05
MARGIN_PPO_OVER_UNTRAINED = 0.08


def evaluate(agent: Agent, steps: int = 100, users: int = 64) -> float:
    """Slate CTR (share of served slates with a click) on the held-out cohort, no learning."""
    clicks: list[np.ndarray] = []

    def on_step(info: dict[str, Any], served: np.ndarray, rewards: np.ndarray) -> None:
        clicks.append(info["clicks"][served])

    envs = make_vector_env(users, **EASY)
    run(agent, envs, EVAL_SEED, steps=steps, on_step=on_step)
    return slate_ctr(np.concatenate(clicks))


@pytest.fixture(scope="module")
def trained_ctr() -> Iterator[dict[str, float]]:
    """Slate CTR of every agent after training the learners on the easy user (seed 0)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    envs = make_vector_env(64, **EASY)
    ctr = {name: evaluate(make_agent(name, envs, seed=0)) for name in ("random", "oracle")}
    greedy = make_agent("greedy", envs, seed=0)
    run(greedy, envs, seed=0, steps=GREEDY_STEPS, explore=True, learn=True)
    ctr["greedy"] = evaluate(greedy)
    for name in ("slategfn_db", "slategfn_tb"):
        # The KuaiRand-1K preset except lr 1e-3 (the paper's 1e-4 needs a longer budget).
        gfn = make_agent(name, envs, seed=0, lr=1e-3)
        gfn.plan(GFN_ITERATIONS)
        run(gfn, envs, seed=0, steps=GFN_ITERATIONS, explore=True, learn=True)
        ctr[name] = evaluate(gfn)
    slateq = make_agent("slateq", envs, seed=0)
    slateq.plan(SLATEQ_UPDATES)
    run(slateq, envs, seed=0, steps=SLATEQ_UPDATES, explore=True, learn=True)
    ctr["slateq"] = evaluate(slateq)
    ppo = make_agent("ppo", envs, seed=0)  # PPO_DEFAULTS, trained on 8 single envs of EASY
    ctr["ppo_untrained"] = evaluate(ppo)
    assert isinstance(ppo, TrainsItself)
    ppo.fit(lambda: gym.make("SlateRec-v0", **EASY), PPO_STEPS)
    ctr["ppo"] = evaluate(ppo)
    print("slate CTR on the deterministic user:", {k: round(v, 4) for k, v in ctr.items()})
    torch.set_num_threads(before)
    yield ctr


@pytest.mark.slow
@pytest.mark.parametrize("name", ["greedy", "ppo", "slateq", "slategfn_db", "slategfn_tb"])
def test_learners_beat_random(name: str, trained_ctr: dict[str, float]) -> None:
    assert trained_ctr[name] > trained_ctr["random"] + MARGIN_OVER_RANDOM, trained_ctr


@pytest.mark.slow
def test_ppo_learns_beyond_its_initial_policy(trained_ctr: dict[str, float]) -> None:
    """An untrained PPO already scores by a fixed direction, which can beat random by luck."""
    assert trained_ctr["ppo"] > trained_ctr["ppo_untrained"] + MARGIN_PPO_OVER_UNTRAINED, (
        trained_ctr
    )


@pytest.mark.slow
def test_the_oracle_upper_bound_beats_every_agent(trained_ctr: dict[str, float]) -> None:
    others = {k: v for k, v in trained_ctr.items() if k != "oracle"}
    assert set(others) >= set(AGENT_NAMES) - {"oracle"}
    assert trained_ctr["oracle"] > max(others.values()) + MARGIN_ORACLE, trained_ctr


def test_ppo_check_script_on_a_tiny_budget() -> None:
    from experiments.ppo_check import main

    out = main(["--train-steps", "1", "--seeds", "0", "--eval-users", "4", "--eval-steps", "3"])
    (run_,) = out["runs"]
    for key in ("ppo", "ppo_untrained", "random", "oracle (upper bound)"):
        assert 0.0 <= run_[key] <= 1.0 and out[key]["mean"] == run_[key]
