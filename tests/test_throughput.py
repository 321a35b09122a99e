"""The throughput benchmark script runs on a tiny budget, writes every mode and config, and rejects
bad arguments before doing any work (speed itself is a benchmark figure, not a test)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from experiments import throughput, throughput_process


def test_quick_run_writes_every_mode_and_config(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "throughput.json"
    report = throughput.main(
        ["--quick", "--sizes", "1", "3", "--seconds", "0.02", "--out", str(out), "--plot",
         "--in-process"]
    )  # fmt: skip
    assert out.exists() and out.with_suffix(".png").stat().st_size > 0
    data = json.loads(out.read_text())
    assert data["results"] == report["results"]
    seen = {(r["config"], r["mode"], r["num_envs"]) for r in data["results"]}
    expected = {(c, m, n) for c in ("10x2", "100x10") for m in throughput.MODES for n in (1, 3)}
    assert seen == expected
    for r in data["results"]:
        assert r["user_steps_per_s"] > 0 and r["user_steps_per_cpu_s"] > 0
        assert r["steps"] >= 3 and r["peak_bytes"] > 0
        if r["mode"] == "native":
            assert r["state_bytes_per_user"] > 0
        assert r["pid"] == os.getpid() and r["minor_faults_per_step"] >= 0
    assert data["isolation"] == "in-process"
    ratio_keys = {(r["config"], r["num_envs"]) for r in data["ratios"]}
    assert ratio_keys == {(c, n) for c in ("10x2", "100x10") for n in (1, 3)}
    assert all(r["native_over_sync"] > 0 for r in data["ratios"])
    assert {(m["config"], m["mode"]) for m in data["memory"]} == {
        (c, m) for c in ("10x2", "100x10") for m in throughput.MODES
    }


def test_loop_modes_stop_at_loop_max(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    report = throughput.main(
        [
            "--sizes",
            "1",
            "4",
            "--loop-max",
            "2",
            "--configs",
            "5x2",
            "--seconds",
            "0.01",
            "--out",
            str(out),
            "--in-process",
        ]  # fmt: skip
    )
    sizes = {(r["mode"], r["num_envs"]) for r in report["results"]}
    assert sizes == {("native", 1), ("native", 4), ("sync", 1), ("single", 1)}


def test_observation_modes_are_timed_back_to_back_with_their_ratio(tmp_path: Path) -> None:
    argv = ["--observations", "full", "ids", "--configs", "5x2", "--modes", "native",
            "--sizes", "2", "--seconds", "0.01", "--out", str(tmp_path / "o.json"),
            "--in-process"]  # fmt: skip
    report = throughput.main(argv)
    rows = [(r["config"], r["observation"], r["num_envs"]) for r in report["results"]]
    assert rows == [("5x2", "full", 2), ("5x2/ids", "ids", 2)]
    (ratio,) = report["observation_ratios"]
    full, ids = (r["user_steps_per_s"] for r in report["results"])
    assert ratio["ids_over_full"] == pytest.approx(ids / full)
    assert (ratio["config"], ratio["mode"], ratio["num_envs"]) == ("5x2", "native", 2)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--sizes", "0"], "--sizes=0"),
        (["--seconds", "-1"], "--seconds=-1"),
        (["--configs", "2x10"], "--configs='2x10'"),
        (["--configs", "10by2"], "--configs='10by2'"),
        (["--modes", "turbo"], "--modes='turbo'"),
        (["--loop-max", "0"], "--loop-max=0"),
        (["--out", "results/x.txt"], "--out='results/x.txt'"),
        (["--plot", "--plot-path", "x.jpg"], "--plot-path='x.jpg'"),
        (["--observations", "full", "light"], "--observations='light'"),
    ],
)
def test_bad_values_raise_value_error_naming_the_flag(tmp_path: Path, args: list[str], names: str) -> None:
    out = tmp_path / "never.json"
    argv = args if "--out" in args else [*args, "--out", str(out)]
    with pytest.raises(ValueError, match=re.escape(names)):
        throughput.main(argv)
    assert not out.exists()


@pytest.mark.parametrize("args", [["--sizes", "two"], ["--seconds", "abc"], ["--frobnicate"]])
def test_unparsable_arguments_exit_with_usage(tmp_path: Path, args: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """tyro rejects a wrong type or an unknown flag itself: exit code 2, the flag named."""
    out = tmp_path / "never.json"
    with pytest.raises(SystemExit) as exc:
        throughput.main([*args, "--out", str(out)])
    assert exc.value.code == 2
    assert args[0] in capsys.readouterr().err
    assert not out.exists()


def test_compare_report_measures_every_mode_and_ratio(tmp_path: Path) -> None:
    """``slategym throughput compare`` on a tiny budget (no RecSim): every mode, every ratio."""
    out = tmp_path / "compare.json"
    argv = ["compare", "--seconds", "0.02", "--rounds", "1", "--num-envs", "8", "--sync-envs", "2",
            "--configs", "5x2", "--out", str(out), "--in-process"]  # fmt: skip
    report = throughput.main(argv)
    assert json.loads(out.read_text())["summary"] == report["summary"]
    assert {r["pid"] for r in report["rounds"][0]["5x2"].values()} == {os.getpid()}
    summary = report["summary"]["5x2"]
    assert set(summary["median_user_steps_per_s"]) == {
        "single/numpy", "single/compiled", "single/interest_evolution",
        "single/interest_exploration", "single/long_term_satisfaction", "native/numpy",
        "native/compiled/1", "native/compiled/2", "native/compiled/1/light",
        "single/compiled/light", "native@sync", "sync",
    }  # fmt: skip
    assert all(v > 0 for v in summary["median_user_steps_per_s"].values())
    # RecSim was not asked for: its ratio is absent, the others are there
    assert set(summary["median_ratios"]) == {
        "single compiled / numpy", "native 2 threads / 1 thread", "native compiled / numpy",
        "native / sync", "native light / default",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--configs", "2x10"], "--configs"),
        (["--rounds", "0"], "--rounds"),
        (["--seconds", "0"], "--seconds"),
        (["--recsim-python", "/no/such/python"], "--recsim-python"),
        (["--modes", "native/compiled/3"], "--modes"),
    ],
)
def test_compare_rejects_bad_arguments(tmp_path: Path, args: list[str], names: str) -> None:
    out = tmp_path / "never.json"
    with pytest.raises(ValueError, match=names):
        throughput.main(["compare", *args, "--out", str(out)])
    assert not out.exists()


def test_sweep_measures_in_a_fresh_process_with_pinned_thresholds(tmp_path: Path) -> None:
    """The default: the measurement runs in a new process (not this one) with glibc's thresholds
    pinned, the kernels loaded before the timed steps, so the auto backend's steps ran compiled.
    (Distinct processes per measurement: the compare test below.)"""
    out = tmp_path / "p.json"
    argv = ["--configs", "5x2", "--modes", "native", "--sizes", "2", "--seconds", "0.01",
            "--out", str(out)]  # fmt: skip
    report = throughput.main(argv)
    (row,) = report["results"]
    assert row["pid"] != os.getpid() and row["compiled"] and row["mode"] == "native"
    assert report["isolation"] == "process per measurement" and report["malloc"] == "pinned"
    environ = throughput_process.worker_environment("pinned")
    pinned = throughput_process.allocator_environment(environ)
    assert set(throughput_process.PINNED) <= set(pinned)
    assert row["allocator_environment"] == pinned
    assert json.loads(out.read_text())["results"] == [row]


def test_compare_measures_each_mode_in_its_own_process_in_the_given_order(tmp_path: Path) -> None:
    """``--modes`` picks and orders the modes; each record comes from its own process and says
    which path its timed steps ran on (numpy, or compiled even for the auto backend)."""
    out = tmp_path / "c.json"
    modes = ["native@sync", "native/numpy"]
    argv = ["compare", "--seconds", "0.01", "--rounds", "1", "--num-envs", "4", "--sync-envs", "2",
            "--configs", "5x2", "--modes", *modes, "--malloc", "adaptive",
            "--out", str(out)]  # fmt: skip
    report = throughput.main(argv)
    records = report["rounds"][0]["5x2"]
    assert list(records) == modes
    pids = [r["pid"] for r in records.values()]
    assert len(set(pids)) == len(modes) and os.getpid() not in pids
    assert [r["compiled"] for r in records.values()] == [True, False]
    mine = throughput_process.allocator_environment()  # adaptive: the environment as it is
    assert all(r["allocator_environment"] == mine for r in records.values())
    assert all(r["minor_faults_per_step"] >= 0 for r in records.values())
    assert set(report["summary"]["5x2"]["median_minor_faults_per_step"]) == set(modes)
    assert json.loads(out.read_text())["rounds"] == report["rounds"]


def test_a_failing_measurement_process_raises_with_its_stderr() -> None:
    with pytest.raises(RuntimeError, match="missing a required argument: 'c'"):
        throughput_process.measurement("compare", False, "pinned", mode="sync", candidates=5)
    with pytest.raises(ValueError, match="kind='nope'"):
        throughput_process.measurement("nope", True, "pinned")
    with pytest.raises(ValueError, match="malloc='fixed'"):
        throughput_process.worker_environment("fixed")
