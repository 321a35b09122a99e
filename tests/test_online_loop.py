"""The online loop (experiments/online_loop.py) on a tiny budget: outputs, validation, determinism."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from experiments import online_loop
from experiments.online_loop import ARMS, DAY_COLUMNS, SLOT_COLUMNS, main, parse_options

torch.set_num_threads(1)

TINY = ["--quick", "--users", "40", "--no-progress"]
RATES = ("ctr", "slate_ctr", "conversion_rate")


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _value(text: str) -> float:
    return float(text)  # "nan" parses to nan


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("online")
    summary = main([*TINY, "--out", str(out), "--plot"])
    return out, summary


def test_outputs_exist_and_are_sane(quick_run: tuple[Path, dict]) -> None:
    out, summary = quick_run
    opts = summary["options"]
    days, seeds = opts["days"], summary["seeds"]
    assert seeds == [0, 1]
    assert set(summary["arms"]) == set(ARMS)
    for arm in ARMS:
        for seed in seeds:
            slots = _read(out / f"{arm}_seed{seed}_slots.csv")
            day_rows = _read(out / f"{arm}_seed{seed}_days.csv")
            assert list(slots[0]) == list(SLOT_COLUMNS)
            assert list(day_rows[0]) == list(DAY_COLUMNS)
            assert [int(r["slot"]) for r in slots] == list(range(24 * days))
            assert [int(r["day"]) for r in day_rows] == list(range(days))
            assert {r["arm"] for r in slots} == {arm}
            for r in slots:
                assert int(r["hour"]) == int(r["slot"]) % 24
                assert int(r["day"]) == int(r["slot"]) // 24
                assert 0 <= int(r["active_users"]) <= int(r["live_users"]) <= 40
                assert int(r["clicks"]) <= int(r["impressions"]) <= 4 * int(r["slates"])
                for key in RATES:
                    v = _value(r[key])
                    undefined = r["clicks" if key == "conversion_rate" else "slates"] == "0"
                    assert math.isnan(v) == undefined, (key, r)
                    assert undefined or 0.0 <= v <= 1.0, (key, v)
                ild = _value(r["ild"])
                assert math.isnan(ild) or 0.0 <= ild <= 2.0
            # Per-day counts are the sums of the per-slot counts.
            for d in day_rows:
                day = int(d["day"])
                in_day = [r for r in slots if int(r["day"]) == day]
                for key in ("slates", "impressions", "clicks", "purchases"):
                    assert int(d[key]) == sum(int(r[key]) for r in in_day)
                assert int(d["active_users"]) >= max(int(r["active_users"]) for r in in_day)
            total_slates = sum(int(d["slates"]) for d in day_rows)
            assert total_slates > 0
            updates = sum(int(r["updates"]) for r in slots)
            assert (updates > 0) == (arm == "online")
    # Day 0 is the shared random logging day: identical rows in every arm.
    for seed in seeds:
        day0 = [
            [{k: v for k, v in r.items() if k != "arm"} for r in _read(out / name)[:24]]
            for name in (f"{a}_seed{seed}_slots.csv" for a in ARMS)
        ]
        assert day0[0] == day0[1] == day0[2]
    for arm in ARMS:
        m = summary["arms"][arm]["days_1_plus"]["ctr"]
        assert 0.0 <= m["mean"] <= 1.0 and m["low"] <= m["mean"] <= m["high"]
        assert len(summary["arms"][arm]["per_day"]["ctr"]["mean"]) == days
    assert set(summary["paired"]) == {"online_minus_frozen", "online_minus_random",
                                      "frozen_minus_random"}  # fmt: skip
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["arms"] == summary["arms"]
    for name in ("online_ctr_per_slot.png", "online_ctr_per_day.png", "online_active_users.png"):
        assert (out / name).stat().st_size > 1000
    assert (out / "pretrained_slategfn_db_seed0.ckpt").exists()


def test_same_seed_rerun_is_identical(quick_run: tuple[Path, dict], tmp_path: Path) -> None:
    out, summary = quick_run
    again = main([*TINY, "--seed-list", "1", "--out", str(tmp_path)])
    for arm in ARMS:
        for kind in ("slots", "days"):
            first = (out / f"{arm}_seed1_{kind}.csv").read_text()
            assert (tmp_path / f"{arm}_seed1_{kind}.csv").read_text() == first
        per_seed = summary["arms"][arm]["days_1_plus"]["ctr"]["per_seed"]
        assert again["arms"][arm]["days_1_plus"]["ctr"]["per_seed"] == [per_seed[1]]


def test_greedy_agent_runs(tmp_path: Path) -> None:
    summary = main(["--quick", "--users", "30", "--seeds", "1", "--agent", "greedy",
                    "--no-progress", "--out", str(tmp_path)])  # fmt: skip
    assert summary["options"]["agent"] == "greedy"
    assert 0.0 <= summary["arms"]["online"]["days_1_plus"]["ctr"]["mean"] <= 1.0


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--agent", "ppo"], ["--agent", "ppo", "fit"]),
        (["--agent", "oracle"], ["--agent", "oracle", "hidden state"]),
        (["--agent", "random"], ["--agent", "random"]),
        (["--agent", "nope"], ["--agent", "nope", "slategfn_db"]),
        (["--users", "0"], ["--users", "0", ">= 1"]),
        (["--days", "1"], ["--days", "1", ">= 2"]),
        (["--seeds", "0"], ["--seeds", "0"]),
        (["--seed-list", "2", "2"], ["--seed-list", "distinct"]),
        (["--update-every", "0"], ["--update-every", "0"]),
        (["--online-epochs", "-1"], ["--online-epochs"]),
        (["--pretrain-epochs", "-2"], ["--pretrain-epochs"]),
        (["--slate-size", "30", "--candidates", "20"], ["--slate-size", "30"]),
        (["--agent-config", "lr=-1"], ["lr"]),
        (["--agent-config", "not_a_field=3"], ["not_a_field", "GFNConfig"]),
        (["--agent-config", "nonsense"], ["--agent-config", "KEY=VALUE"]),
        (["--users", "many"], ["--users", "many"]),
    ],
)
def test_bad_arguments_raise_before_work(
    argv: list[str], names: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before validation")

    monkeypatch.setattr(online_loop, "_SeedRun", no_work)
    with pytest.raises(ValueError) as info:
        main(["--quick", "--no-progress", "--out", str(tmp_path / "o"), *argv])
    for name in names:
        assert name in str(info.value)
    assert not (tmp_path / "o").exists()  # not even the output folder was created


def test_unwritable_out_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="--out"):
        parse_options(["--quick", "--out", str(blocker)])
    with pytest.raises(ValueError, match="--out"):
        parse_options(["--quick", "--out", str(blocker / "sub")])


def test_slateq_agent_runs(tmp_path: Path) -> None:
    """SlateQ learns from transitions: the loop's feedback carries the users' next observations."""
    summary = main(["--quick", "--users", "30", "--seeds", "1", "--agent", "slateq",
                    "--no-progress", "--out", str(tmp_path)])  # fmt: skip
    assert summary["options"]["agent"] == "slateq"
    assert summary["pretrain"]["0"]["updates"] > 0
    assert 0.0 <= summary["arms"]["online"]["days_1_plus"]["ctr"]["mean"] <= 1.0
