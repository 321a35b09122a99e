"""The simulator's bookkeeping against independent references: duplicates on both code paths of
``duplicate_mask``, duplicates in the env, the observed history and the observation's time."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from slategym.observation import DWELL_SCALE
from slategym.slates import duplicate_mask
from tests.conftest import SMALL


def _reference(slates: np.ndarray) -> np.ndarray:
    """True where the index already appeared at an earlier position of the row (plain loops)."""
    out = np.zeros(slates.shape, bool)
    for r, row in enumerate(slates.tolist()):
        for k, x in enumerate(row):
            out[r, k] = x in row[:k]
    return out


def _distinct_rows(n: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n, 40)), axis=1)[:, :k]


@pytest.mark.parametrize("n", [1, 5, 63, 64, 200])
@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_duplicate_mask_matches_the_reference(n: int, k: int) -> None:
    rng = np.random.default_rng(n * 10 + k)
    many = rng.integers(0, 4, (n, k))  # duplicates in most rows
    assert np.array_equal(duplicate_mask(many), _reference(many))
    distinct = _distinct_rows(n, k)
    assert not duplicate_mask(distinct).any()


def test_duplicate_mask_on_a_cold_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same checks with the simulator's cache of comparison masks emptied first."""
    monkeypatch.setattr("slategym.slates._EARLIER", {})
    rng = np.random.default_rng(9)
    for n, k in [(5, 3), (70, 4), (2, 6), (100, 5)]:
        slates = rng.integers(0, 4, (n, k))
        assert np.array_equal(duplicate_mask(slates), _reference(slates))


@pytest.mark.parametrize("n", [3, 64, 500])  # small path, and the fast path (N >= 64, K > 2)
@pytest.mark.parametrize("k", [3, 4, 6])
def test_a_single_repeat_at_every_distance_is_found(n: int, k: int) -> None:
    """One repeated index in one row of an otherwise distinct batch, d = 1 .. K - 1 positions apart."""
    for d in range(1, k):
        for first in range(k - d):
            slates = _distinct_rows(n, k, seed=d)
            row = n // 2
            slates[row, first + d] = slates[row, first]
            expected = np.zeros((n, k), bool)
            expected[row, first + d] = True
            assert np.array_equal(duplicate_mask(slates), expected), (d, first)


def test_duplicates_in_the_env_are_shown_but_never_clicked() -> None:
    envs = gym.make_vec("SlateRec-v0", 64, vectorization_mode="vector_entry_point", **SMALL,
                        choice_model="position_based",
                        choice_model_kwargs={"bias": 4.0, "eta": 0.0})  # fmt: skip
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(0)
    clicked_valid = 0
    for _ in range(20):
        slates = rng.integers(0, 6, (64, 4))  # many repeats
        shown = np.take_along_axis(obs["candidate_ids"], slates, axis=1)
        obs, _, _, _, info = envs.step(slates)
        rows = info["_clicks"]
        dup = _reference(slates)[rows]
        assert np.array_equal(info["slate_item_ids"][rows], shown[rows])
        assert info["n_duplicates"][rows].tolist() == dup.sum(axis=1).tolist()
        assert not info["clicks"][rows][dup].any()
        clicked_valid += int(info["clicks"][rows][~dup].sum())
    assert clicked_valid > 0.9 * 20 * 64 * 2  # examined, attractive: distinct positions are clicked


def test_strict_slates_reject_a_repeat_naming_the_slate() -> None:
    env = gym.make("SlateRec-v0", **SMALL, strict_slates=True)
    env.reset(seed=0)
    env.step(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"slate \[5, 1, 2, 5\] repeats a candidate"):
        env.step(np.array([5, 1, 2, 5]))


def test_the_observed_history_is_the_last_clicked_items_in_slate_order() -> None:
    length = 5
    env = gym.make("SlateRec-v0", **SMALL, history_length=length, choice_model="multi_click",
                   choice_model_kwargs={"bias": 0.5, "continue_prob": 0.8},
                   user_model_kwargs={"leave_bias": -40.0, "churn_bias": -40.0})  # fmt: skip
    obs, _ = env.reset(seed=4)
    f = obs["candidates"].shape[1]
    history: list[tuple[int, float, float]] = []  # (item, purchased, dwell / 30 clipped to 1)
    features = {}
    multi = 0
    for _ in range(80):
        candidates = obs["candidate_ids"]
        slate = np.array([3, 0, 7, 1])
        for j, c in enumerate(candidates):
            features[int(c)] = obs["candidates"][j]
        obs, _, term, trunc, info = env.step(slate)
        for k in np.flatnonzero(info["clicks"]):  # slate order
            history.append((int(info["slate_item_ids"][k]), float(info["purchases"][k]),
                            min(float(info["dwell"][k]) / DWELL_SCALE, 1.0)))  # fmt: skip
        multi += int(np.sum(info["clicks"]) > 1)
        last = history[-length:]
        pad = length - len(last)
        assert obs["history_ids"].tolist() == [-1] * pad + [h[0] for h in last]
        assert np.all(obs["history"][:pad] == 0)
        for j, (item, bought, dwell) in enumerate(last):
            np.testing.assert_array_equal(obs["history"][pad + j, :f], features[item])
            assert obs["history"][pad + j, f] == np.float32(bought)
            assert obs["history"][pad + j, f + 1] == np.float32(dwell)
        if term or trunc:
            break
    assert multi > 5 and len(history) > 2 * length  # several clicks per slate, history rolled over


def test_observed_time_is_day_hour_and_position_in_session() -> None:
    envs = gym.make_vec("SlateRec-v0", 8, vectorization_mode="vector_entry_point", **SMALL)
    obs, _ = envs.reset(seed=6)
    for _ in range(40):
        clock = envs.unwrapped.state.clock
        step = envs.unwrapped.state.session_step
        np.testing.assert_array_equal(obs["time"][:, 0], np.minimum(clock // 1440, 1))
        np.testing.assert_array_equal(obs["time"][:, 1], (clock // 60) % 24)
        np.testing.assert_array_equal(obs["time"][:, 2], np.minimum(step, 29))
        obs, *_ = envs.step(np.tile(np.arange(4), (8, 1)))


def test_a_step_never_writes_into_the_previous_state() -> None:
    """Autoresets write fresh rows into the new state; the state an observer holds from before the
    step (keys, and interests that do not drift) must stay as it was."""
    envs = gym.make_vec("SlateRec-v0", 6, vectorization_mode="vector_entry_point", **SMALL,
                        user_model="deterministic",
                        user_model_kwargs={"leave_bias": 8.0, "churn_bias": 8.0})  # fmt: skip
    envs.reset(seed=2)
    slates = np.tile(np.arange(4), (6, 1))
    resets = 0
    for _ in range(6):
        held = envs.unwrapped.state
        snapshot = held.take(np.arange(6))  # copies
        _, _, term, trunc, info = envs.step(slates)
        resets += int((~info["_clicks"]).sum())
        for name in held.ARRAY_FIELDS:
            np.testing.assert_array_equal(getattr(held, name), getattr(snapshot, name), name)
        for name in held.user.FIELDS:
            np.testing.assert_array_equal(getattr(held.user, name), getattr(snapshot.user, name),
                                          name)  # fmt: skip
    assert resets >= 6  # rows were autoreset


def test_observation_space_matches_the_documented_table() -> None:
    config = {**SMALL, "history_length": 7, "max_session_steps": 12, "latent_dim": 5}
    env = gym.make("SlateRec-v0", **config)
    space, total = env.observation_space, env.unwrapped.sim.catalog.total
    c, f, topics = SMALL["num_candidates"], 5 + 2, env.unwrapped.config.num_topics
    expected = {  # key: (shape, dtype, low, high)
        "user": ((10,), np.float32, 0.0, 1.0),
        "candidates": ((c, f), np.float32, -5.0, 5.0),
        "candidate_ids": ((c,), np.int64, 0, total - 1),
        "candidate_topics": ((c,), np.int64, 0, topics - 1),
        "history_ids": ((7,), np.int64, -1, total - 1),
        "history": ((7, f + 2), np.float32, -5.0, 5.0),
    }
    for key, (shape, dtype, low, high) in expected.items():
        box = space[key]
        assert box.shape == shape and box.dtype == dtype, key
        assert np.all(box.low == low) and np.all(box.high == high), key
    time = space["time"]
    assert time.shape == (3,) and time.dtype == np.float32
    assert time.low.tolist() == [0, 0, 0] and time.high.tolist() == [SMALL["days"] - 1, 23, 11]
    obs, _ = env.reset(seed=0)
    assert space.contains(obs)


def test_a_callable_reward_sees_the_documented_outcome() -> None:
    """A reward callable reads the StepOutcome: affinities of the slate, validity, duplicates."""
    seen = []

    def reward(o):  # type: ignore[no-untyped-def]
        seen.append((o.affinities.copy(), o.valid.copy(), o.n_duplicates.copy(), o.clicks.copy()))
        return o.affinities.sum(axis=1) + 10.0 * o.n_duplicates

    env = gym.make("SlateRec-v0", **SMALL, reward=reward)
    obs, _ = env.reset(seed=1)
    for slate in ([0, 1, 2, 3], [5, 5, 2, 5], [7, 3, 7, 1]):
        before = env.unwrapped.oracle_affinities()[slate]
        _, r, term, trunc, info = env.step(np.array(slate))
        aff, valid, n_dup, clicks = seen[-1]
        np.testing.assert_allclose(aff[0], before, rtol=1e-12)
        assert valid[0].tolist() == [s not in slate[:k] for k, s in enumerate(slate)]
        assert n_dup[0] == info["n_duplicates"] == 4 - len(set(slate))
        assert np.array_equal(clicks[0], info["clicks"])
        assert r == pytest.approx(before.sum() + 10.0 * n_dup[0], rel=1e-12)
        if term or trunc:
            break
