"""A 2-worker Ray run of a tiny grid gives the same per-task records as the serial run."""

from __future__ import annotations

import json

import pytest

from experiments import benchmark

pytest.importorskip("ray")

TINY = ["--agents", "random", "greedy", "ppo", "slategfn_tb", "--worlds", "SlateRec-v0",
        "--seeds", "2", "--train-steps", "64", "--batch-size", "32", "--eval-users", "8",
        "--curve-users", "4", "--checkpoints", "0", "64", "--grid-limit", "2", "--num-users", "20",
        "--days", "1", "--num-items", "40", "--num-candidates", "8", "--slate-size", "2",
        "--no-progress", "--no-plots", "--agent-option", "ppo.n_steps=8", "ppo.features=flat",
        'slategfn_tb.encoder={"item_dim": 4, "state_dim": 4, "hidden": 8, "heads": 1, '
        '"feedforward": 8, "layers": 1, "history_length": 4}']  # fmt: skip
COMPARED = ("task", "metrics", "interactions", "gradient_steps", "upper_bound", "learns")


def _records(out) -> dict[str, dict]:
    runs = {}
    for path in sorted((out / "runs").glob("*.json")):
        r = json.loads(path.read_text())
        curve = [{k: v for k, v in p.items() if k != "train_seconds"} for p in r["curve"]]
        runs[path.name] = json.dumps({**{k: r[k] for k in COMPARED}, "curve": curve})
    return runs


@pytest.mark.slow
def test_two_ray_workers_match_the_serial_run(tmp_path) -> None:
    serial = benchmark.main([*TINY, "--workers", "1", "--out", str(tmp_path / "serial")])
    parallel = benchmark.main([*TINY, "--workers", "2", "--out", str(tmp_path / "ray")])
    assert serial["settings"]["workers"] == 1 and parallel["settings"]["workers"] == 2
    a, b = _records(tmp_path / "serial"), _records(tmp_path / "ray")
    assert len(a) == 3 * 2 + 4 * 2  # validation: 3 learners x 2 points; test: 4 agents x 2 seeds
    assert a == b
    assert serial["selection"] == parallel["selection"]
