"""The native vector env behaves like Gymnasium's own: autoreset modes, step limits, ignored actions,
rendering; each mode equals a ``SyncVectorEnv`` of single envs reset with the same per-row seeds."""

from __future__ import annotations

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import slategym
from tests.conftest import SMALL

N = 6
# a short horizon and impatient users: many episodes end, by churn and at the horizon
FAST = {**SMALL, "days": 1, "user_model_kwargs": {"churn_bias": 1.0}}


def _native(**kwargs: object) -> gym.vector.VectorEnv:
    return gym.make_vec(
        "SlateRec-v0", N, vectorization_mode="vector_entry_point", **{**FAST, **kwargs}
    )


def _sync(mode: AutoresetMode, max_episode_steps: int | None = None, **kwargs: object):
    def make() -> gym.Env:
        return gym.make("SlateRec-v0", max_episode_steps=max_episode_steps, **{**FAST, **kwargs})

    return gym.vector.SyncVectorEnv([make for _ in range(N)], autoreset_mode=mode)


def _assert_same(a: object, b: object, where: str) -> None:
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(b, dict):
        assert isinstance(a, dict), where
        for key in b:  # Sync omits keys no row reported; the native env keeps them, masked off
            assert key in a, f"{where}: missing {key!r}"
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(b, np.ndarray) and b.dtype == object:
        assert isinstance(a, np.ndarray) and a.shape == b.shape, where
        for i, (x, y) in enumerate(zip(a, b)):
            if y is None:
                assert x is None, f"{where}[{i}]"
            else:
                _assert_same(x, y, f"{where}[{i}]")
    else:
        assert np.array_equal(a, b), where


def _compare(mode: AutoresetMode, steps: int, max_episode_steps: int | None = None) -> int:
    """Step the native env and the Sync env side by side; returns how many episodes ended."""
    native = _native(autoreset_mode=mode, max_episode_steps=max_episode_steps)
    sync = _sync(mode, max_episode_steps)
    seeds = [5 + 7 * i for i in range(N)]
    _assert_same(native.reset(seed=seeds), sync.reset(seed=seeds), "reset")
    rng = np.random.default_rng(1)
    ended = 0
    for t in range(steps):
        slates = rng.integers(0, FAST["num_candidates"], (N, FAST["slate_size"]))
        out_n, out_s = native.step(slates), sync.step(slates)
        _assert_same(out_n, out_s, f"step {t}")
        done = out_n[2] | out_n[3]
        ended += int(done.sum())
        if mode == AutoresetMode.DISABLED and done.any():
            options = {"reset_mask": done}
            _assert_same(native.reset(options=options), sync.reset(options=dict(options)), "mask")
    return ended


@pytest.mark.parametrize("mode", list(AutoresetMode))
@pytest.mark.parametrize("max_episode_steps", [None, 3])
def test_every_autoreset_mode_equals_sync_vector_env(
    mode: AutoresetMode, max_episode_steps: int | None
) -> None:
    ended = _compare(mode, 80, max_episode_steps)
    assert ended > 2 * N  # the reset paths were exercised


def test_autoreset_mode_is_exposed_and_taken_from_make_vec() -> None:
    for mode in AutoresetMode:
        envs = _native(autoreset_mode=mode)
        assert envs.autoreset_mode is mode and envs.metadata["autoreset_mode"] is mode
        assert (
            slategym.SlateRecVectorEnv(2, autoreset_mode=mode.value, **SMALL).autoreset_mode is mode
        )
    assert slategym.SlateRecVectorEnv.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert _native().autoreset_mode is AutoresetMode.NEXT_STEP


def test_vector_kwargs_autoreset_mode_reaches_gymnasiums_vectorizers() -> None:
    envs = gym.make_vec("SlateRec-v0", 2, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **SMALL)  # fmt: skip
    assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP


def test_unsupported_autoreset_mode_names_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"autoreset_mode='sometimes' .*NEXT_STEP.*'SameStep'"):
        _native(autoreset_mode="sometimes")


def test_same_step_reports_the_final_observation() -> None:
    envs = _native(autoreset_mode=AutoresetMode.SAME_STEP)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        obs, _, term, trunc, info = envs.step(rng.integers(0, 20, (N, 4)))
        done = term | trunc
        if done.any():
            break
    assert done.any()
    assert np.array_equal(info["_final_obs"], done) and np.array_equal(info["_final_info"], done)
    r = int(np.flatnonzero(done)[0])
    final = info["final_obs"][r]
    assert set(final) == set(obs) and not np.array_equal(final["time"], obs["time"][r])
    assert info["final_info"]["_clicks"][r] and not info["_clicks"][r]
    assert info["_user_id"][r]  # the new episode's reset info
    assert all(info["final_obs"][i] is None for i in np.flatnonzero(~done))


def test_disabled_needs_reset_mask_and_steps_after_it() -> None:
    envs = _native(autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        before = obs
        obs, _, term, trunc, _ = envs.step(rng.integers(0, 20, (N, 4)))
        done = term | trunc
        if done.any():
            break
    assert done.any()
    rows = np.flatnonzero(done).tolist()
    with pytest.raises(RuntimeError, match=re.escape(f"rows {rows} have ended") + ".*reset_mask"):
        envs.step(rng.integers(0, 20, (N, 4)))
    reset_obs, info = envs.reset(options={"reset_mask": done})
    assert np.array_equal(info["_user_id"], done)
    for key in obs:  # rows that did not end keep their observation
        assert np.array_equal(reset_obs[key][~done], obs[key][~done])
    assert before is not None
    envs.step(rng.integers(0, 20, (N, 4)))  # fine again


def test_max_episode_steps_truncates_each_row() -> None:
    limit = 5
    envs = _native(max_episode_steps=limit, **{"user_model_kwargs": {}})
    envs.reset(seed=0)
    length = np.zeros(N, int)
    lengths = []
    for _ in range(60):
        _, _, term, trunc, info = envs.step(np.tile(np.arange(4), (N, 1)))
        stepped = info["_clicks"]
        length[stepped] += 1
        assert length.max() <= limit
        assert np.all(trunc[stepped & (length == limit)])
        done = term | trunc
        lengths += length[done].tolist()
        length[done] = 0
    assert lengths.count(limit) > N  # most episodes are cut by the limit
    with pytest.raises(ValueError, match=r"max_episode_steps=0 is not allowed"):
        _native(max_episode_steps=0)


def _first_autoreset(envs: gym.vector.VectorEnv, seed: int) -> np.ndarray:
    envs.reset(seed=seed)
    slates = np.tile(np.arange(4), (N, 1))
    for _ in range(500):
        _, _, term, trunc, _ = envs.step(slates)
        if (term | trunc).any():
            return term | trunc
    raise AssertionError("no episode ended")


@pytest.mark.parametrize("placeholder", [-1, 10**6, 0])
def test_the_action_of_a_row_about_to_reset_is_ignored_not_validated(placeholder: int) -> None:
    # strict_slates: the placeholder zeros repeat an index, which would raise on a stepped row
    a, b = _native(strict_slates=True), _native(strict_slates=True)
    due = _first_autoreset(a, 3)
    assert np.array_equal(due, _first_autoreset(b, 3))
    valid = np.tile(np.arange(4), (N, 1))
    junk = valid.copy()
    junk[due] = placeholder
    _assert_same(a.step(junk), b.step(valid), "ignored action")
    # the rows that step are still validated
    junk = valid.copy()
    junk[~due] = -1
    c = _native(strict_slates=True)
    _first_autoreset(c, 3)
    with pytest.raises(ValueError, match=r"index -1 out of range"):
        c.step(junk)


def test_vector_env_renders_every_row_like_single_envs() -> None:
    native = _native(render_mode="rgb_array")
    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.make("SlateRec-v0", render_mode="rgb_array", **FAST) for _ in range(N)]
    )
    seeds = list(range(N))
    native.reset(seed=seeds)
    sync.reset(seed=seeds)
    rng = np.random.default_rng(0)
    resets = 0
    for _ in range(40):
        slates = rng.integers(0, 20, (N, 4))
        native.step(slates)
        _, _, term, trunc, _ = sync.step(slates)
        frames_n, frames_s = native.render(), sync.render()
        assert len(frames_n) == N
        assert all(np.array_equal(x, y) for x, y in zip(frames_n, frames_s))
        resets += int((term | trunc).sum())
    assert resets > 0
    text = _native(render_mode="ansi")
    text.reset(seed=0)
    lines = text.render()
    assert len(lines) == N and all("hidden state" in line for line in lines)


def test_vector_human_mode_shows_four_rows() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    envs = _native(render_mode="human")
    frames = _native(render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        envs.reset(seed=1)
    frames.reset(seed=1)
    shown = np.asarray(envs.unwrapped._viewer.image.get_array())
    first = frames.render()
    h, w, _ = first[0].shape
    assert shown.shape == (2 * h + 4, 2 * w + 4, 3)
    assert np.array_equal(shown[:h, :w], first[0]) and np.array_equal(shown[-h:, -w:], first[3])
    envs.close()
    assert envs.unwrapped._viewer is None
