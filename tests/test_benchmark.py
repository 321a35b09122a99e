"""The benchmark end to end on a tiny budget: outputs exist, are sane, resume, and bad input fails early."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from agents.registry import AGENT_NAMES
from experiments import benchmark, cli
from experiments.report import COLUMNS

TINY = ["--seeds", "2", "--train-steps", "128", "--batch-size", "32", "--eval-users", "16",
        "--num-users", "40", "--days", "1", "--num-items", "60", "--num-candidates", "12",
        "--slate-size", "3", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench")
    return out, benchmark.main([*TINY, "--out", str(out)])


def test_outputs_exist_and_list_every_agent(tiny_run: tuple) -> None:
    out, summary = tiny_run
    for name in ("table.md", "table.csv", "results.json", "ctr_vs_diversity.png",
                 "ctr_per_day.png", "hourly.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert set(summary["agents"]) == set(AGENT_NAMES)
    assert summary["seeds_done"] == {a: [0, 1] for a in AGENT_NAMES}
    table = (out / "table.md").read_text()
    for name in AGENT_NAMES:
        assert f"| {name}" in table
    assert "oracle (upper bound)" in table
    rows = list(csv.DictReader(open(out / "table.csv")))
    assert len(rows) == len(AGENT_NAMES) * len(COLUMNS)
    assert json.loads((out / "results.json").read_text())["upper_bounds"] == ["oracle"]


def test_metrics_are_within_their_ranges(tiny_run: tuple) -> None:
    out, _ = tiny_run
    for path in sorted((out / "runs").glob("*.json")):
        m = json.loads(path.read_text())["metrics"]
        assert m["slates"] > 0
        for key in ("ctr", "slate_ctr", "coverage", "topic_entropy_normalized", "novelty",
                    "churn_rate_per_episode"):  # fmt: skip
            assert 0.0 <= m[key] <= 1.0, (path.name, key, m[key])
        assert math.isnan(m["ild"]) or 0.0 <= m["ild"] <= 2.0
        assert m["ctr"] <= m["slate_ctr"] + 1e-12  # a clicked slate has >= 1 click out of K
        assert len(m["ctr_per_day"]) == 1 and len(m["ctr_per_hour"]) == 24


def test_rerun_resumes_instead_of_recomputing(tiny_run: tuple, capsys: pytest.CaptureFixture) -> None:
    out, summary = tiny_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    again = benchmark.main([*TINY, "--out", str(out), "--no-plots"])
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert before == after
    assert json.dumps(again["agents"]) == json.dumps(summary["agents"])  # nan-safe


def test_interrupted_run_keeps_finished_results(tmp_path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "random_seed0.json").write_text("{truncated")  # a crash mid-write
    out = benchmark.main([*TINY, "--agents", "random", "--seeds", "1", "--out", str(tmp_path),
                          "--no-plots"])  # fmt: skip
    assert out["seeds_done"] == {"random": [0]}
    assert json.loads((tmp_path / "runs" / "random_seed0.json").read_text())["agent"] == "random"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--agents", "random,bandit"], r"unknown agent name\(s\) \['bandit'\]"),
        (["--seeds", "0"], "seeds=0 is not allowed"),
        (["--train-steps", "-5"], "train_steps=-5 is not allowed"),
        (["--eval-users", "0"], "eval_users=0 is not allowed"),
        (["--slate-size", "20", "--num-candidates", "10"], "slate_size"),
        (["--choice-model", "nope"], "nope"),
        (["--agent-option", "slategfn_db.nonsense=1"], "nonsense"),
    ],
)
def test_bad_arguments_fail_before_work(tmp_path, args: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        benchmark.main([*TINY, "--out", str(tmp_path / "o"), *args])
    assert not (tmp_path / "o" / "runs").exists() or not any((tmp_path / "o" / "runs").iterdir())


def test_unwritable_output_folder(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="not a writable folder"):
        benchmark.main([*TINY, "--out", str(blocker / "results")])


def test_cli_dispatches_and_reports_errors(capsys: pytest.CaptureFixture) -> None:
    assert cli.main([]) == 0
    assert "bench" in capsys.readouterr().out
    assert cli.main(["nonsense"]) == 2
    assert cli.main(["bench", "--seeds", "0", "--no-progress"]) == 2
    assert "seeds=0 is not allowed" in capsys.readouterr().err
