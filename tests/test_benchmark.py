"""The benchmark end to end on a tiny grid: outputs, protocol, resume, and bad input failing early."""

from __future__ import annotations

import json
import math

import pytest
import torch

from agents.registry import AGENT_NAMES
from experiments import benchmark, cli, protocol
from experiments.grid import Budget, Task

SMALL = '{"item_dim": 4, "state_dim": 4, "hidden": 8, "heads": 1, "feedforward": 8, "layers": 1, "history_length": 4}'
TINY = ["--worlds", "SlateRec-v0", "SlateRec-Dynamic-v0", "--seeds", "2", "--train-steps", "128",
        "--batch-size", "32", "--eval-users", "12", "--curve-users", "6", "--checkpoints", "0", "128",
        "--grid-limit", "2", "--num-users", "30", "--days", "2", "--num-items", "60",
        "--num-candidates", "12", "--slate-size", "3", "--workers", "1", "--no-progress",
        "--agent-option", "ppo.n_steps=16", "ppo.features=flat", f"slateq.encoder={SMALL}",
        f"slategfn_db.encoder={SMALL}", f"slategfn_tb.encoder={SMALL}", "slateq.batch_size=16"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench")
    return out, benchmark.main([*TINY, "--out", str(out)])


def test_outputs_cover_every_agent_and_world(tiny_run: tuple) -> None:
    out, summary = tiny_run
    for name in ("results.md", "summary.json", "selection.json", "curves.png", "claim.png",
                 "regret_SlateRec-Dynamic-v0.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    for world in ("SlateRec-v0", "SlateRec-Dynamic-v0"):
        assert set(summary["worlds"][world]) == set(AGENT_NAMES)
        for entry in summary["worlds"][world].values():
            assert entry["seeds"] == [0, 1]
        assert set(summary["ranks"][world]) == set(AGENT_NAMES) - {"oracle"}
        assert set(summary["claim"][world]["gfn"]) == {"slategfn_db", "slategfn_tb"}
    assert "oracle (upper bound)" in (out / "results.md").read_text()


def test_only_test_records_are_reported_and_selection_comes_from_validation(tiny_run: tuple) -> None:
    out, summary = tiny_run
    runs = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    validation = [r for r in runs if r["task"]["cohort"] == "validation"]
    test = [r for r in runs if r["task"]["cohort"] == "test"]
    # every learner with a grid was tuned on validation: 2 points x 1 seed per world
    learners = ("greedy", "ppo", "slateq", "slategfn_db", "slategfn_tb")
    assert len(validation) == 2 * len(learners) * 2
    assert len(test) == 2 * len(AGENT_NAMES) * 2
    for world, chosen in summary["selection"].items():
        for agent, choice in chosen.items():
            val = {r["task"]["config"]: r["metrics"]["mean_reward"] for r in validation
                   if (r["task"]["world"], r["task"]["agent"]) == (world, agent)}  # fmt: skip
            order = [n for n, _ in protocol.grid_points(agent, limit=2)]
            best = max(order, key=lambda n: (val[n], -order.index(n)))  # ties: the first point
            assert choice["config"] == best
            reported = summary["worlds"][world][agent]
            assert reported["config"] == choice["config"]
            tests = [r for r in test if (r["task"]["world"], r["task"]["agent"]) == (world, agent)]
            mean = sum(r["metrics"]["mean_reward"] for r in tests) / len(tests)
            assert math.isclose(reported["mean_reward"]["mean"], mean)
    for r in test:  # cohorts: trained on population s, evaluated on 10 000 + s; never validation
        assert r["task"]["cohort"] == "test" and r["interactions"] >= 0
        if r["learns"]:
            assert [p["interactions"] > 0 for p in r["curve"]] == [False, True]
            assert 96 <= r["interactions"] <= 128 + 96  # PPO rounds up to whole rollouts
        assert 0 <= r["metrics"]["slate_ctr"] <= 1


def test_rerun_resumes_instead_of_recomputing(tiny_run: tuple) -> None:
    out, summary = tiny_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    again = benchmark.main([*TINY, "--out", str(out), "--no-plots"])
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert before == after
    assert json.dumps(again["worlds"]) == json.dumps(summary["worlds"])  # nan-safe


def test_interrupted_run_keeps_finished_results(tmp_path) -> None:
    (tmp_path / "runs").mkdir()
    args = [*TINY, "--agents", "random", "--worlds", "SlateRec-v0", "--seeds", "1", "--no-plots"]
    task_file = tmp_path / "runs" / "test__SlateRec-v0__random__default__s0.json"
    task_file.write_text("{truncated")  # a crash mid-write
    out = benchmark.main([*args, "--out", str(tmp_path)])
    assert out["worlds"]["SlateRec-v0"]["random"]["seeds"] == [0]
    assert json.loads(task_file.read_text())["task"]["agent"] == "random"


def test_cells_where_an_agent_does_not_apply_are_left_out_and_named() -> None:
    args = benchmark.Args(worlds=("SlateRec-LongTermSatisfaction-v0",), grid_limit=1)
    _, cells = benchmark.plan(args)
    assert {a for a, _ in cells} == set(AGENT_NAMES) - {"greedy", "slateq"}
    assert "first_item" in protocol.NOT_APPLICABLE["slateq", "SlateRec-LongTermSatisfaction-v0"]


def test_every_learner_has_a_grid_and_points_are_named() -> None:
    for agent in ("greedy", "ppo", "slateq", "slategfn_db", "slategfn_tb"):
        assert len(protocol.grid_points(agent)) >= 2, agent
    names = [n for n, _ in protocol.grid_points("slategfn_tb")]
    assert "lr=0.001,b_r=0.1,reward=multi" in names and len(set(names)) == len(names)
    assert protocol.grid_points("slategfn_tb")[0][1]["preset"] == "kuairand1k"


def test_selection_breaks_ties_by_grid_order_and_ranks_nan_last() -> None:
    rec = lambda name, v: {"task": {"config": name}, "metrics": {"mean_reward": v}}  # noqa: E731
    got = protocol.select([rec("b", 0.5), rec("a", 0.5), rec("c", math.nan)], ["c", "a", "b"])
    assert got["config"] == "a" and [n for n, *_ in got["ranking"]] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--agents", "random", "bandit"], r"unknown agent name\(s\) \['bandit'\]"),
        (["--seeds", "0"], "--seeds=0 is not allowed"),
        (["--train-steps", "-5"], "--train-steps=-5 is not allowed"),
        (["--eval-users", "0"], "--eval-users=0 is not allowed"),
        (["--checkpoints", "0", "999"], "--checkpoints="),
        (["--worlds", "SlateRec-v9"], "--worlds SlateRec-v9 is not allowed"),
        (["--slate-size", "20", "--num-candidates", "10"], "--slate-size=20 is not allowed"),
        (["--agent-option", "nobody.lr=1"], "--agent-option='nobody.lr=1' is not allowed"),
        (["--workers", "0"], "--workers=0 is not allowed"),
    ],
)
def test_bad_arguments_fail_before_work(tmp_path, args: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        benchmark.main([*TINY, "--out", str(tmp_path / "o"), *args])
    assert not (tmp_path / "o").exists()


def test_task_rejects_unknown_cohort_and_world() -> None:
    with pytest.raises(ValueError, match="cohort='train' is not allowed"):
        Task("random", "SlateRec-v0", 0, "train")
    with pytest.raises(ValueError, match="world='Nope' is not allowed"):
        Task("random", "Nope", 0)
    with pytest.raises(ValueError, match="train_steps=10 is not allowed"):
        Budget(train_steps=10, batch_size=32)


def test_cli_dispatches_and_reports_errors(capsys: pytest.CaptureFixture) -> None:
    assert cli.main([]) == 0
    assert "bench" in capsys.readouterr().out
    assert cli.main(["nonsense"]) == 2
    assert cli.main(["bench", "--seeds", "0", "--no-progress"]) == 2
    assert "--seeds=0 is not allowed" in capsys.readouterr().err


def test_the_queue_runs_by_priority_then_submission() -> None:
    """A grid cut short holds whole worlds: world rank first, test before validation, then FIFO."""
    from experiments.executor import _Queue
    from experiments.grid import Task

    queue = _Queue()
    tasks = [Task("random", "SlateRec-Dynamic-v0", 0, "validation"),
             Task("random", "SlateRec-v0", 0, "validation"),
             Task("random", "SlateRec-v0", 1, "validation"),
             Task("random", "SlateRec-Dynamic-v0", 0, "test"),
             Task("random", "SlateRec-v0", 0, "test")]  # fmt: skip
    for task, priority in zip(tasks, [(1, 1), (0, 1), (0, 1), (1, 0), (0, 0)]):
        queue.submit(task, priority)
    order = [queue.pop() for _ in range(len(tasks))]
    assert order == [tasks[4], tasks[1], tasks[2], tasks[3], tasks[0]]
    assert len(queue) == 0
