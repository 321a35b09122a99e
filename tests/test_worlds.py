"""Every registered world: determinism per seed, vector env == SyncVectorEnv, platform rows, pins.

Both checkers (Gymnasium's and SB3's) run on every registered id in ``tests/test_conformance.py``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import slategym
from slategym.platform import Platform
from tests.test_pinned import platform_digest, single_env_digest, vector_env_digest

NEW_IDS = [env_id for env_id in slategym.ENV_IDS if env_id != "SlateRec-v0"]
SIZES = {"num_items": 300, "num_candidates": 12, "slate_size": 3, "num_users": 50}
"""Small sizes every world accepts (the timeline worlds also get 2 days)."""


def small(env_id: str) -> dict:
    timeline = slategym.WORLDS[env_id].kwargs.get("episode", "timeline") == "timeline"
    return {**SIZES, "days": 2} if timeline else dict(SIZES)


def same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return bool(np.array_equal(a, b))


def test_the_worlds_are_registered_with_vector_entry_points() -> None:
    assert set(NEW_IDS) == {
        "SlateRec-Personal-v0", "SlateRec-Dynamic-v0", "SlateRec-InterestEvolution-v0",
        "SlateRec-InterestExploration-v0", "SlateRec-LongTermSatisfaction-v0",
    }  # fmt: skip
    for env_id in slategym.ENV_IDS:
        spec = gym.spec(env_id)
        assert spec.vector_entry_point == "slategym.vector_env:SlateRecVectorEnv"
        assert slategym.world_config(env_id) == gym.make(env_id).unwrapped.config


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_worlds_keep_the_standard_observation_keys(env_id: str) -> None:
    space = gym.make(env_id).observation_space
    standard = {"user", "candidates", "candidate_ids", "candidate_topics", "history_ids",
                "history", "time"}  # fmt: skip
    assert standard <= set(space.spaces)  # type: ignore[attr-defined]


def _trace(env_id: str, seed: int, steps: int) -> list:
    env = gym.make(env_id, **small(env_id))
    k, c = SIZES["slate_size"], SIZES["num_candidates"]
    rng = np.random.default_rng(seed)
    out: list = [env.reset(seed=seed)]
    for _ in range(steps):
        obs, reward, term, trunc, info = env.step(rng.integers(0, c, k))
        out.append((obs, reward, term, trunc, info))
        if term or trunc:
            out.append(env.reset())
    return out


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_same_seed_same_trajectory(env_id: str) -> None:
    a, b, c = _trace(env_id, 4, 250), _trace(env_id, 4, 250), _trace(env_id, 5, 250)
    assert same(a, b)
    assert not same(a, c)


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_vector_env_equals_sync_vector_env(env_id: str) -> None:
    n, steps = 6, 220
    kwargs = small(env_id)
    vec = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.vector.SyncVectorEnv([lambda: gym.make(env_id, **kwargs).unwrapped] * n)
    seeds = [21 + 5 * i for i in range(n)]  # row i is a single env reset with seeds[i]
    assert same(vec.reset(seed=seeds), sync.reset(seed=seeds))
    rng = np.random.default_rng(1)
    ended = 0
    for t in range(steps):
        slates = rng.integers(0, SIZES["num_candidates"], (n, SIZES["slate_size"]))  # repeats too
        out_v, out_s = vec.step(slates), sync.step(slates)
        assert same(out_v[:4], out_s[:4]), f"step {t} differs"
        for key in out_s[4]:
            assert np.array_equal(out_v[4][key], out_s[4][key]), f"info[{key!r}] differs at {t}"
        ended += int((out_v[2] | out_v[3]).sum())
    assert ended >= n  # autoresets were exercised


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_platform_rows_follow_the_single_env(env_id: str) -> None:
    """User ``u`` of a platform seeded ``s`` runs the stream ``(s, u)``, like a single env."""
    config = slategym.world_config(env_id, **small(env_id))
    platform = Platform(config)
    platform.reset(seed=3)
    env = gym.make(env_id, **small(env_id)).unwrapped
    env.reset(seed=3, options={"user_id": 0})  # type: ignore[call-arg]
    slate = np.arange(SIZES["slate_size"])
    while True:  # serve everyone else until user 0 asks for its first slate
        batch = platform.requests()
        if batch is None:
            platform.next_slot()
            continue
        if 0 in batch.rows:
            break
        platform.serve(np.tile(slate, (batch.size, 1)))
    row = int(np.flatnonzero(batch.rows == 0)[0])
    obs = env.sim.observe(env.state)  # type: ignore[attr-defined]
    for key, value in batch.observations.items():
        assert np.array_equal(value[row], obs[key][0]), key


# Fixed-seed rollouts of the new worlds (tests/test_pinned.py's digests, with its small config).
# A behaviour change of a registered world needs a new version, never a new pin.
PINNED = {
    "SlateRec-Personal-v0": (
        "8818dbccf4017d3481b26c250b1aa25f2cdf234e6db7e7790dfaed51011cb7f9",
        "8bd122a47437b0f64dcbd578af76d5a1b8149b34a95cfed0c5bcfacb345c6609",
        "fca2dacaf36f69913a94e491e8f9765d0203780c28b55927f400ebe27a67abb0",
    ),
    "SlateRec-Dynamic-v0": (
        "457ad27bbcf769ce5a3c51653dc16843fcefc3fdf1e59bc3f0384fc1e5661941",
        "006e6ebb73cecabdf3dd668541743a1a30f339a1badcdf69927fd58b61b1478e",
        "0f9a06bdf7575fd01e4e390398671a6cfe8bd2d6c7ce4a7c889465ed2c68fd87",
    ),
    "SlateRec-InterestEvolution-v0": (
        "ae84b14aaa6565ff9968e2a8179cea99f23d88d749c5d95139955a75fbdb61bc",
        "3e7d51d470020849ef8aa1445ac726600e53c01cd2213905c586c9d3995e5c3b",
        "ac06615b68c33b648505e737968e7d3180c10b647adc6ee54517a2d655b48937",
    ),
    "SlateRec-InterestExploration-v0": (
        "0bcccdb985c533d23325a80ad24fd4b8b825f06771a38200bd190d2d805007b7",
        "96fc05404e3c9a3965fb28ad44042694f328c4329497d795078f3e1cd736722a",
        "2dd99eb409aa47961644002686967a86c886d920320d32fc90b8ed370386e559",
    ),
    "SlateRec-LongTermSatisfaction-v0": (
        "44377857d77b84441781491521e7dd5bc731062bca8f307f0a9381017cd8d7f6",
        "7f117b777fdef01ad469b0b9172b2c9c0e413adc4f70bdaca8447402114d3571",
        "ac02ec9ea2ab7aea1179c2ab33a485a20717dfdae10d5edfb6a15802f2cdce40",
    ),
}


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_new_world_trajectories_are_pinned(env_id: str) -> None:
    single, vector, platform = PINNED[env_id]
    assert single_env_digest(env_id) == single
    assert vector_env_digest(env_id) == vector
    assert platform_digest(env_id) == platform


@pytest.mark.parametrize("env_id", NEW_IDS)
def test_new_worlds_render(env_id: str) -> None:
    """SB3's make_vec_env passes render_mode="rgb_array": every world must draw a frame."""
    for mode in ("ansi", "rgb_array"):
        env = gym.make(env_id, render_mode=mode, **small(env_id))
        env.reset(seed=0)
        env.step(np.arange(SIZES["slate_size"]))
        frame = env.render()
        if mode == "ansi":
            assert isinstance(frame, str) and "user" in frame
        else:
            assert isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.SAME_STEP, gym.vector.AutoresetMode.DISABLED])
def test_extra_user_state_through_every_autoreset_mode(mode: gym.vector.AutoresetMode) -> None:
    """RecSim's users carry extra state (time budget, last response) through resets of rows."""
    from tests.test_vector_env import _assert_same

    env_id, n = "SlateRec-InterestEvolution-v0", 4
    kwargs = {**small(env_id), "user_model_kwargs": {"time_budget": 15.0}}  # short episodes
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, **kwargs)  # fmt: skip
    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id, **kwargs)] * n, autoreset_mode=mode
    )
    seeds = [3, 1, 4, 1]
    _assert_same(native.reset(seed=seeds), sync.reset(seed=seeds), "reset")
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(60):
        slates = np.argsort(rng.random((n, SIZES["num_candidates"])), axis=1)[:, : SIZES["slate_size"]]
        out_n, out_s = native.step(slates), sync.step(slates)
        _assert_same(out_n, out_s, f"step {t}")
        done = out_n[2] | out_n[3]
        ended += int(done.sum())
        if mode == gym.vector.AutoresetMode.DISABLED and done.any():
            options = {"reset_mask": done}
            _assert_same(native.reset(options=options), sync.reset(options=dict(options)), "mask")
    assert ended > n
