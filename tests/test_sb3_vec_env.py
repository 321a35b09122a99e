"""The SB3 VecEnv adapter over the native vector env: SB3's conventions, the native env's episodes,
and PPO training on 64 rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402
from stable_baselines3.common.vec_env import VecEnv, VecMonitor  # noqa: E402

from agents.sb3_vec_env import SlateRecSB3VecEnv, make_sb3_vec_env  # noqa: E402
from slategym.types import STEP_INFO_FIELDS  # noqa: E402
from tests.conftest import SMALL  # noqa: E402

# One day, impatient users: episodes end within a few dozen steps, by churn or at the horizon.
SHORT = {**SMALL, "days": 1, "user_model_kwargs": {"churn_bias": -1.0}}
K = SMALL["slate_size"]


def _native(n: int, **config: Any) -> gym.vector.VectorEnv:
    return gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point",
                        **{**SHORT, **config})  # fmt: skip


def _policy(obs: dict[str, np.ndarray]) -> np.ndarray:
    """Deterministic in each row's observation, so a row's actions do not depend on timing."""
    score = obs["candidates"][:, :, 0] + 0.3 * obs["candidates"][:, :, 1]
    return np.argsort(-score, axis=1, kind="stable")[:, :K]


def test_rows_live_the_native_episodes_without_the_ignored_step() -> None:
    """Row by row, the adapter's transitions are the native env's, minus its NEXT_STEP autoreset
    steps; the reset observation arrives in the step that finishes an episode."""
    n, steps = 16, 120
    native = _native(n)
    obs, _ = native.reset(seed=3)
    expected: list[list[tuple]] = [[] for _ in range(n)]
    for _ in range(steps):
        before = obs["candidate_ids"]
        obs, reward, term, trunc, info = native.step(_policy(obs))
        for i in np.flatnonzero(info["_clicks"]):  # rows really stepped (not autoreset)
            last = obs["candidate_ids"][i].tolist() if term[i] or trunc[i] else None
            expected[i].append((before[i].tolist(), reward[i], term[i] or trunc[i], last))
    for mode in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
        venv = SlateRecSB3VecEnv(_native(n, autoreset_mode=mode))
        venv.seed(3)
        obs = venv.reset()
        got: list[list[tuple]] = [[] for _ in range(n)]
        endings = {"terminated": 0, "truncated": 0}
        for _ in range(steps):
            before = obs["candidate_ids"]
            obs, reward, done, infos = venv.step(_policy(obs))
            for i in range(n):
                last = infos[i]["terminal_observation"]["candidate_ids"].tolist() if done[i] else None
                got[i].append((before[i].tolist(), reward[i], done[i], last))
                if done[i]:
                    endings["truncated" if infos[i]["TimeLimit.truncated"] else "terminated"] += 1
        for i in range(n):
            m = min(len(expected[i]), len(got[i]))
            assert m >= steps * 0.8
            assert got[i][:m] == expected[i][:m], f"{mode} row {i}"
        assert endings["terminated"] > 0 and endings["truncated"] > 0, endings


def test_a_finished_row_reports_its_last_step_and_its_next_user() -> None:
    """The info of a finished row is that of its last step (as a single env's), and
    ``reset_infos`` holds the next episode's user; both autoreset modes agree."""
    seen = []
    for mode in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
        venv = SlateRecSB3VecEnv(_native(8, autoreset_mode=mode))
        venv.seed(11)
        obs = venv.reset()
        log = []
        for _ in range(60):
            users = [r["user_id"] for r in venv.reset_infos]
            obs, _, done, infos = venv.step(_policy(obs))
            for i in np.flatnonzero(done):
                assert infos[i]["user_id"] == users[i]  # the user whose episode ended
                assert infos[i]["clicks"].shape == (K,)
                log.append((i, infos[i]["user_id"], venv.reset_infos[i]["user_id"],
                            infos[i]["session_index"]))  # fmt: skip
        seen.append(log)
    assert seen[0] and seen[0] == seen[1]


def test_sb3_conventions() -> None:
    venv = SlateRecSB3VecEnv(_native(8))
    assert isinstance(venv, VecEnv) and venv.num_envs == 8
    assert venv.seed(5) == [5] * 8
    obs = venv.reset()
    assert isinstance(obs, dict) and obs["candidates"].shape == (8, SMALL["num_candidates"], 10)
    native_obs, native_info = _native(8).reset(seed=5)
    assert np.array_equal(obs["candidate_ids"], native_obs["candidate_ids"])  # rows (5, i)
    assert [r["user_id"] for r in venv.reset_infos] == native_info["user_id"].tolist()
    assert all(set(r) == {"user_id", "day", "hour"} for r in venv.reset_infos)
    venv.step_async(_policy(obs))
    obs2, rewards, dones, infos = venv.step_wait()
    assert rewards.dtype == np.float32 and rewards.shape == (8,)
    assert dones.dtype == bool and dones.shape == (8,)
    assert isinstance(infos, list) and len(infos) == 8
    assert set(STEP_INFO_FIELDS) | {"TimeLimit.truncated"} <= set(infos[0])
    assert isinstance(infos[0]["user_id"], int) and infos[0]["clicks"].shape == (K,)
    assert obs2["candidate_ids"] is not obs["candidate_ids"]
    with pytest.raises(RuntimeError, match="step_async"):
        venv.step_wait()


def test_seeds_and_options() -> None:
    a, b = SlateRecSB3VecEnv(_native(4)), SlateRecSB3VecEnv(_native(4))
    a.seed(1)
    b.seed(1)
    assert np.array_equal(a.reset()["candidate_ids"], b.reset()["candidate_ids"])
    b.seed(2)
    assert not np.array_equal(a.reset()["candidate_ids"], b.reset()["candidate_ids"])
    a.set_options({"user_id": 7})
    a.reset()
    assert [r["user_id"] for r in a.reset_infos] == [7] * 4
    a.set_options([{"user_id": u} for u in (1, 2, 3, 4)])
    a.reset()
    assert [r["user_id"] for r in a.reset_infos] == [1, 2, 3, 4]
    a.reset()  # options are used once, as in DummyVecEnv
    assert [r["user_id"] for r in a.reset_infos] != [1, 2, 3, 4]
    a.set_options([{"user_id": 1}, {}, {}, {}])
    with pytest.raises(ValueError, match="only 'user_id' may differ"):
        a.reset()


def test_attributes_methods_and_bad_arguments() -> None:
    venv = SlateRecSB3VecEnv(_native(4), info_keys=("clicks",))
    assert venv.get_attr("num_envs") == [4] * 4
    assert venv.get_attr("config", indices=[1])[0].num_candidates == SMALL["num_candidates"]
    assert venv.has_attr("oracle_affinities") and not venv.has_attr("no_such_attribute")
    venv.set_attr("marker", 3)
    assert venv.get_attr("marker", indices=2) == [3]
    with pytest.raises(ValueError, match=r"set_attr\('marker'\) with indices=\[0\]"):
        venv.set_attr("marker", 4, indices=[0])
    venv.reset()
    affinities = venv.env_method("oracle_affinities")
    assert len(affinities) == 4 and affinities[0].shape == (4, SMALL["num_candidates"])
    with pytest.raises(ValueError, match="indices"):
        venv.env_method("oracle_affinities", indices=[5])
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 4
    venv.seed(0)
    _, _, _, infos = venv.step(_policy(venv.reset()))
    assert set(infos[0]) - {"terminal_observation"} == {"clicks", "TimeLimit.truncated"}
    with pytest.raises(ValueError, match="unknown key"):
        SlateRecSB3VecEnv(_native(2), info_keys=("clickz",))
    with pytest.raises(ValueError, match="Gymnasium VectorEnv"):
        SlateRecSB3VecEnv(gym.make("SlateRec-v0", **SHORT))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SAME_STEP or NEXT_STEP"):
        SlateRecSB3VecEnv(_native(2, autoreset_mode=AutoresetMode.DISABLED))


def test_render_tiles_the_row_frames_or_warns() -> None:
    venv = SlateRecSB3VecEnv(_native(4, render_mode="rgb_array"))
    venv.step(_policy(venv.reset()))
    assert venv.render_mode == "rgb_array"
    frames = venv.get_images()
    assert len(frames) == 4 and frames[0] is not None
    h, w, _ = frames[0].shape
    image = venv.render()
    assert image is not None and image.shape == (2 * h, 2 * w, 3)  # 2 x 2 tiles
    assert np.array_equal(image[:h, w:], frames[1])  # row 1 top right
    plain = SlateRecSB3VecEnv(_native(2))
    with pytest.warns(UserWarning):
        assert plain.render() is None


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_ppo_trains_on_64_native_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where SB3's default logger would go
    venv = make_sb3_vec_env(64, seed=0, **SHORT)
    assert isinstance(venv, VecMonitor)
    model = PPO("MultiInputPolicy", venv, n_steps=8, batch_size=128, n_epochs=2, seed=0)
    model.set_logger(Logger(folder=None, output_formats=[]))
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=64 * 8 * 3)
    assert model.num_timesteps == 64 * 8 * 3
    assert len(model.ep_info_buffer) > 0  # episodes ended and were reset in the same step
    assert all(np.isfinite(e["r"]) for e in model.ep_info_buffer)
    changed = [not np.allclose(b.numpy(), p.detach().numpy()) for b, p in
               zip(before, model.policy.parameters())]  # fmt: skip
    assert any(changed)
    assert not list(tmp_path.glob("SB3-*")), "SB3 left a log folder in the temp directory"


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_throughput_script_on_a_tiny_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments import sb3_throughput

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    args = ["--rollout", "128", "--rollouts", "1", "--epochs", "1", "--env-steps", "128"]
    result = sb3_throughput.main(args)
    assert result["rows"] == 64 and result["n_envs"] == 8
    for route in ("dummy", "adapter"):
        assert all(result[route][k] > 0 for k in ("env", "rollout", "learn"))
    with pytest.raises(ValueError, match="rows=48 is not allowed"):
        sb3_throughput.main(["--rows", "48"])
    assert not list(tmp_path.glob("SB3-*")), "SB3 left a log folder in the temp directory"
