"""Exact mode on an enumerable catalog: the policy samples ordered slates with P proportional to R + b_r.

One fixed user observation, 5 candidates with fixed features, slates of 2: 20 ordered slates with a
fixed, non-symmetric reward. Both agents are trained in exact mode on all 20 slates per step
(off-policy training on a full-support batch: the GFlowNet fixed point is unique), then the policy's
probability of every ordered slate is computed exactly (product of the masked softmaxes) and
compared with ``(R + b_r) / sum(R + b_r)`` in total variation. ``b_z`` stays at its default 1.0: it
only shifts the learnt flows (see :mod:`agents.gfn.losses`), so the target does not depend on it.

Test configuration (not the agent defaults): small networks and lr 3e-3 so that 300 full-batch
steps converge in seconds; seed 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from agents.gfn import GFNConfig, SlateGFN, SlateGFN_DB, SlateGFN_TB
from agents.gfn.networks import to_tensors
from agents.gfn.sampler import sample_slates, score_slates

C, K, F, P, L = 5, 2, 3, 4, 3
STEPS = 300
SLATES = np.array(list(itertools.permutations(range(C), K)), np.int64)  # (20, 2)
SMALL_NETS = GFNConfig(
    mode="exact",
    lr=3e-3,
    item_dim=16,
    state_dim=16,
    hidden=64,
    heads=2,
    feedforward=32,
    layers=1,
    history_length=L,
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def setting() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The fixed observation (one user, repeated per slate) and the reward of every slate."""
    rng = np.random.default_rng(0)
    one: dict[str, np.ndarray] = {
        "user": rng.random((1, P)).astype(np.float32),
        "candidates": rng.normal(size=(1, C, F)).astype(np.float32),
        "candidate_ids": np.arange(C, dtype=np.int64)[None],
        "history_ids": np.array([[-1, -1, 2]], np.int64),
        "history": np.zeros((1, L, F + 2), np.float32),
    }
    one["history"][0, 2, :F] = one["candidates"][0, 2]
    obs = {k: np.repeat(v, len(SLATES), axis=0) for k, v in one.items()}
    reward = rng.uniform(0.0, 4.0, size=len(SLATES)).round(1)  # R(a, b) != R(b, a)
    return obs, reward


def slate_probabilities(agent: SlateGFN, obs: dict[str, np.ndarray]) -> np.ndarray:
    """Exact probability of each of SLATES under the policy: prod_t P_F(a_t | s_{t-1})."""
    with torch.no_grad():
        scores = score_slates(agent.nets, to_tensors(obs, L), torch.as_tensor(SLATES))
    return scores.log_pf.double().sum(dim=1).exp().numpy()


def train(cls: type[SlateGFN], mode: str) -> tuple[SlateGFN, np.ndarray, np.ndarray]:
    obs, reward = setting()
    agent = cls(K, C, F, P, SMALL_NETS.replace(mode=mode), seed=0)
    for _ in range(STEPS):
        agent.train_on(obs, SLATES, reward)
    target = (reward + agent.config.b_r) / (reward + agent.config.b_r).sum()
    return agent, slate_probabilities(agent, obs), target


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum())


@pytest.fixture(scope="module")
def trained() -> Iterator[dict[str, tuple[SlateGFN, np.ndarray, np.ndarray]]]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield {cls.name: train(cls, "exact") for cls in (SlateGFN_DB, SlateGFN_TB)}
    torch.set_num_threads(before)


def test_the_target_is_far_from_uniform() -> None:
    _, reward = setting()
    target = (reward + 0.5) / (reward + 0.5).sum()
    assert total_variation(np.full(len(SLATES), 1 / len(SLATES)), target) > 0.15


@pytest.mark.parametrize("name", ["slategfn_db", "slategfn_tb"])
def test_exact_mode_samples_proportionally_to_reward(trained, name: str) -> None:
    _, probs, target = trained[name]
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)  # the enumeration covers every slate
    tv = total_variation(probs, target)
    print(f"{name} exact-mode TV = {tv:.5f}")
    assert tv <= 0.05


def test_the_sampler_draws_the_enumerated_distribution(trained) -> None:
    agent, probs, _ = trained["slategfn_db"]
    obs, _ = setting()
    n = 20_000
    big = to_tensors({k: np.repeat(v[:1], n, axis=0) for k, v in obs.items()}, L)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        out = sample_slates(agent.nets, big, "sample", 0.0, gen, with_flow=True)
        rescored = score_slates(agent.nets, big, out.slates)
    drawn = out.slates.numpy()
    assert (drawn[:, 0] != drawn[:, 1]).all()
    index = {tuple(s): i for i, s in enumerate(SLATES.tolist())}
    counts = np.bincount([index[tuple(s)] for s in drawn.tolist()], minlength=len(SLATES))
    assert total_variation(counts / n, probs) < 0.03
    # The sampler's log P_F and log F agree with teacher-forced scoring of the same slates.
    assert torch.allclose(out.log_pf, rescored.log_pf, atol=1e-5)
    assert out.log_flow is not None and rescored.log_flow is not None
    assert torch.allclose(out.log_flow, rescored.log_flow, atol=1e-5)
    # Greedy takes the most likely first item, then the most likely second one.
    with torch.no_grad():
        greedy = sample_slates(agent.nets, big, "greedy", 0.0, gen).slates[0].tolist()
    first = SLATES[:, 0] == greedy[0]
    best_first = int(np.argmax([probs[SLATES[:, 0] == a].sum() for a in range(C)]))
    assert greedy[0] == best_first
    assert greedy[1] == int(SLATES[first][np.argmax(probs[first]), 1])


@pytest.mark.parametrize("cls", [SlateGFN_DB, SlateGFN_TB])
def test_faithful_mode_is_not_exact(cls: type[SlateGFN]) -> None:
    """With b_f = 1 inside the log each step's term lies in [0, log 2]: the fixed point moves."""
    _, probs, target = train(cls, "faithful")
    tv = total_variation(probs, target)
    print(f"{cls.name} faithful-mode TV = {tv:.5f}")
    assert tv > 0.1
