"""Logged data: policies' exact propensities, the Parquet impression log, loaders, wrappers."""

from __future__ import annotations

import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import slategym  # noqa: F401
from slategym.data import (
    EpsilonGreedy,
    ImpressionWriter,
    PlackettLuce,
    RecordImpressions,
    RecordVectorImpressions,
    UniformRandom,
    all_slates,
    load_slates,
    read_impressions,
    read_metadata,
    read_table,
)
from slategym.metrics import MetricsAccumulator

pytest.importorskip("pyarrow")

POLICIES = [UniformRandom(), EpsilonGreedy(0.3), PlackettLuce(0.7)]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_probabilities_are_exact(policy):
    """Enumerated slate probabilities sum to 1, and prefixes, marginals and next-item
    probabilities are the sums of slate probabilities they claim to be; sampling matches (TV)."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 5))
    k = 3
    slates = all_slates(5, k)
    p = policy.slate_probabilities(scores, slates)  # (2, S)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    marg = policy.marginals(scores, k)
    for pos in range(k):
        expect = np.stack([np.bincount(slates[:, pos], weights=row, minlength=5) for row in p])
        np.testing.assert_allclose(marg[:, pos], expect, atol=1e-12)
    prefix = policy.prefix_propensities(np.repeat(scores[:1], len(slates), 0), slates)
    for j in range(k):  # P(s_{0:j}) = sum of P(s) over slates sharing that prefix
        keys = [tuple(s[: j + 1]) for s in slates]
        total: dict[tuple[int, ...], float] = {}
        for key, prob in zip(keys, p[0]):
            total[key] = total.get(key, 0.0) + prob
        np.testing.assert_allclose(prefix[:, j], [total[key] for key in keys], atol=1e-12)
        nxt = policy.next_probabilities(np.repeat(scores[:1], len(slates), 0), slates[:, :j])
        before = prefix[:, j - 1] if j else np.ones(len(slates))
        np.testing.assert_allclose(before * nxt[np.arange(len(slates)), slates[:, j]], prefix[:, j], atol=1e-12)
    drawn = policy.sample(np.repeat(scores[:1], 40_000, 0), k, np.random.default_rng(1))
    assert (np.sort(drawn, axis=1)[:, 1:] != np.sort(drawn, axis=1)[:, :-1]).all()  # distinct
    index = {tuple(s): i for i, s in enumerate(slates)}
    freq = np.bincount([index[tuple(s)] for s in drawn], minlength=len(slates)) / len(drawn)
    assert 0.5 * np.abs(freq - p[0]).sum() < 0.04


def test_plackett_luce_marginals_unknown_beyond_enumeration():
    policy = PlackettLuce(1.0, max_enumeration=10)
    assert np.isnan(policy.position_propensities(np.zeros((1, 6)), np.array([[0, 1, 2]]))).all()
    assert UniformRandom().slate_propensity(np.zeros((1, 6)), np.array([[5, 1, 2]]))[0] == pytest.approx(
        1 / math.perm(6, 3)
    )


def test_slategym_log_counts_match_env(tmp_path):
    """`slategym log` writes a log whose rows and clicks equal the env's own counters."""
    from experiments.log import main

    out = tmp_path / "log.parquet"
    summary = main(["--out", str(out), "--slates", "400", "--num-envs", "16", "--num-users", "40",
                    "--days", "1", "--policy", "softmax", "--scorer", "noisy-oracle",
                    "--num-candidates", "6", "--slate-size", "3", "--row-group-size", "500"])  # fmt: skip
    table = read_table(out)
    assert table.num_rows == summary["env_impressions"] == 3 * summary["env_slates"]
    assert int(np.count_nonzero(table.column("click").to_numpy())) == summary["env_clicks"] > 0
    assert summary["matches_env"] and summary["slates"] >= 400
    assert read_metadata(out)["schema_version"] == 1
    import pyarrow.parquet as pq

    assert pq.ParquetFile(str(out)).metadata.row_group(0).num_rows == 500  # streamed row groups
    log = load_slates(out)
    np.testing.assert_allclose(log.reward, log.clicks.sum(axis=1))  # reward="click"
    assert np.all(np.take_along_axis(log.candidate_ids, log.slates, 1) == log.item_ids)
    # softmax over 6 candidates is enumerable: every propensity is known and consistent
    np.testing.assert_allclose(log.propensity_cascade[:, -1], log.propensity_slate)
    assert np.all((log.propensity_position > 0) & (log.propensity_position <= 1))
    frame = read_impressions(out)
    assert len(frame) == table.num_rows and frame["click"].sum() == summary["env_clicks"]


def test_wrappers_record_single_and_vector_env(tmp_path):
    env = RecordImpressions(gym.make("SlateRec-v0", num_users=20, days=1), ImpressionWriter(tmp_path / "a.parquet", 50, 6))
    env.reset(seed=0)
    clicks = 0
    for _ in range(25):
        env.set_propensities(slate=[0.5])
        _, _, term, trunc, info = env.step(env.action_space.sample())
        clicks += int(info["clicks"].sum())
        if term or trunc:
            env.reset()
    env.close()
    log = load_slates(tmp_path / "a.parquet")
    assert log.num_slates == 25 and int(log.clicks.sum()) == clicks
    assert np.all(log.propensity_slate == 0.5) and np.isnan(log.propensity_position).all()

    envs = gym.make_vec("SlateRec-v0", num_envs=8, vectorization_mode="vector_entry_point", num_users=30, days=1)
    rec = RecordVectorImpressions(envs, ImpressionWriter(tmp_path / "b.parquet", 50, 6))
    acc = MetricsAccumulator(catalog=envs.unwrapped.sim.catalog)
    rec.reset(seed=3)
    ended = 0
    for _ in range(60):
        _, rewards, term, trunc, info = rec.step(rec.action_space.sample())
        acc.add_step(info, rewards=rewards)
        ended += int((term | trunc).sum())
    rec.close()
    assert ended > 0  # autoreset rows occurred and were skipped
    counts = acc.result()
    table = read_table(tmp_path / "b.parquet")
    assert table.num_rows == 6 * counts["slates"]
    assert int(np.count_nonzero(table.column("click").to_numpy())) == counts["clicks"]


def test_bad_log_input(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_slates(tmp_path / "missing.parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="not a slategym impression log"):
        read_table(tmp_path / "other.parquet")
    with ImpressionWriter(tmp_path / "w.parquet", 4, 2) as writer:
        with pytest.raises(ValueError, match=r"expected \(N, 2\) and \(N, 4\)"):
            writer.add(candidate_ids=[[1, 2, 3]], slates=[[0, 1]], user_id=[0], day=[0], hour=[0],
                       session=[0], session_step=[0], clicks=[[0, 0]], purchases=[[0, 0]],
                       dwell=[[0, 0]], reward=[0])  # fmt: skip
    from experiments.log import main

    with pytest.raises(SystemExit):  # tyro rejects an unknown policy name
        main(["--out", str(tmp_path / "x.parquet"), "--policy", "greedy-ish"])


def test_import_needs_no_optional_packages():
    code = (
        "import sys, slategym, slategym.data, slategym.ope, slategym.calibration.fit;"
        "bad = [m for m in ('pyarrow', 'pandas', 'minari', 'torch', 'matplotlib') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_names_it(monkeypatch):
    import builtins

    from slategym._optional import require

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.delitem(sys.modules, "pyarrow.parquet", raising=False)
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)
    with pytest.raises(ImportError, match=r"slategym\[data\]"):
        require("pyarrow.parquet", "writing impression logs")


def test_minari_dataset_round_trip(tmp_path, monkeypatch):
    pytest.importorskip("minari")
    pytest.importorskip("jax")
    pytest.importorskip("h5py")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    from slategym.data.minari_export import minari_dataset

    ds = minari_dataset("SlateRec-v0", "slategym/test-v0", episodes=2, seed=0, num_users=20, days=1)
    assert ds.total_episodes == 2
    episode = next(ds.iterate_episodes())
    assert episode.observations["candidates"].shape[1:] == (50, 10)
    assert episode.actions.shape[1] == 6 and len(episode.rewards) == episode.actions.shape[0]


def test_vector_wrapper_logs_the_last_slate_of_an_episode_under_same_step(tmp_path):
    """SAME_STEP moves an ending row's step keys to info['final_info']: every step serves every row,
    so the log holds N * steps slates and the clicks of those final slates too."""
    from gymnasium.vector import AutoresetMode

    n, steps = 8, 60
    envs = gym.make_vec(
        "SlateRec-v0", num_envs=n, vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.SAME_STEP, num_users=30, days=1,
    )  # fmt: skip
    rec = RecordVectorImpressions(envs, ImpressionWriter(tmp_path / "s.parquet", 50, 6))
    rec.reset(seed=3)
    clicks = ended = 0
    for _ in range(steps):
        _, _, term, trunc, info = rec.step(rec.action_space.sample())
        done = term | trunc
        clicks += int(info["clicks"][~done].sum())
        if done.any():
            clicks += int(info["final_info"]["clicks"][done].sum())
        ended += int(done.sum())
    rec.close()
    assert ended > 0
    table = read_table(tmp_path / "s.parquet")
    assert table.num_rows == 6 * n * steps
    assert int(np.count_nonzero(table.column("click").to_numpy())) == clicks
