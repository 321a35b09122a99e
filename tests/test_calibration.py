"""Calibration from event logs: bad input, and recovery of known parameters from simulated events."""

from __future__ import annotations

import numpy as np
import pytest

from slategym.calibration.events import load_source
from slategym.calibration.simulate import simulate_sessions

pd = pytest.importorskip("pandas")


def _write(tmp_path, rows, name="events.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_bad_event_logs_get_clear_errors(tmp_path):
    good = {"user_id": [1, 2], "timestamp": ["2024-01-01T10:00:00+00:00"] * 2, "event_type": ["click"] * 2}
    with pytest.raises(ValueError, match=r"missing column\(s\) \['event_type'\]"):
        load_source(_write(tmp_path, {k: good[k] for k in ("user_id", "timestamp")}))
    with pytest.raises(ValueError, match="unparseable timestamp"):
        load_source(_write(tmp_path, {**good, "timestamp": ["2024-01-01T10:00:00+00:00", "yesterday"]}))
    with pytest.raises(ValueError, match="without a timezone"):
        load_source(_write(tmp_path, {**good, "timestamp": ["2024-01-01 10:00:00"] * 2}))
    with pytest.raises(ValueError, match="empty"):
        load_source(_write(tmp_path, {k: [] for k in good}))
    with pytest.raises(ValueError, match="no such file"):
        load_source(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="IANA"):
        load_source(_write(tmp_path, good), timezone="Mars/Olympus")
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        load_source(_write(tmp_path, good, "events.txt"))
    log = load_source(_write(tmp_path, good), timezone="Asia/Tokyo")
    assert log.hour.tolist() == [19, 19]  # 10:00 UTC is 19:00 in Tokyo


@pytest.mark.slow
def test_calibrate_recovers_simulated_parameters(tmp_path):
    """Events simulated with known chronotype weights and activity are fitted back."""
    from experiments.calibrate import main

    truth = {"chronotype_weights": (0.8, 0.2, 0.0), "chronotype_age_effect": 0.0,
             "mean_sessions_per_day": 1.0, "activity_dispersion": 0.3}  # fmt: skip
    sim = simulate_sessions({"user_model_kwargs": truth}, num_users=300, days=6, seed=1)
    s = sim.sessions
    # one event per session start and one per session end (two events if the session is long)
    minute = np.concatenate([s.start_minute, s.end_minute[s.length > 1]])
    user = np.concatenate([s.user, s.user[s.length > 1]])
    stamp = pd.Timestamp("2024-03-04", tz="Europe/Berlin") + pd.to_timedelta(minute, unit="min")
    path = _write(tmp_path, {"user_id": user, "timestamp": stamp.astype(str), "event_type": "click"})
    result = main(["--events", str(path), "--timezone", "Europe/Berlin", "--out", str(tmp_path / "out"),
                   "--sim-users", "200", "--parts", "hour_profile", "sessions", "--no-plot"])  # fmt: skip
    kwargs = result["env_kwargs"]["user_model_kwargs"]
    assert abs(kwargs["chronotype_weights"][0] - 0.8) < 0.1
    assert kwargs["mean_sessions_per_day"] == pytest.approx(1.0, rel=0.3)
    assert result["report"]["session_start_hour"]["tv_sim_vs_heldout"] < 0.2
    import gymnasium as gym

    env = gym.make("SlateRec-v0", **result["env_kwargs"])  # gym.make accepts what was written
    env.reset(seed=0)
