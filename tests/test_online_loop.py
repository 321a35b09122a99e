"""The online loop (experiments/online_loop.py) on a tiny budget: outputs, validation, determinism."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from experiments import online_loop
from experiments.online_loop import DAY_COLUMNS, SLOT_COLUMNS, main, parse_options
from experiments.online_options import LEARNERS
from experiments.online_report import arm_names

torch.set_num_threads(1)

TINY = ["--quick", "--num-users", "40", "--no-progress"]
ARMS = arm_names(LEARNERS)
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
    assert opts["world"] == "SlateRec-Dynamic-v0" and tuple(opts["agents"]) == LEARNERS
    assert set(LEARNERS) == {"greedy", "slateq", "slategfn_db", "slategfn_tb"}
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
            assert (updates > 0) == arm.endswith("-online")
    # Day 0 is the shared random logging day: identical rows in every arm.
    for seed in seeds:
        day0 = [
            [{k: v for k, v in r.items() if k != "arm"} for r in _read(out / name)[:24]]
            for name in (f"{a}_seed{seed}_slots.csv" for a in ARMS)
        ]
        assert all(d == day0[0] for d in day0)
    for arm in ARMS:
        m = summary["arms"][arm]["days_1_plus"]["ctr"]
        assert 0.0 <= m["mean"] <= 1.0 and m["low"] <= m["mean"] <= m["high"]
        assert len(summary["arms"][arm]["per_day"]["ctr"]["mean"]) == days
    assert set(summary["paired"]) == {f"{a}-{x}_minus_{a}-{y}" if y != "random" else
                                      f"{a}-{x}_minus_random" for a in LEARNERS
                                      for x, y in (("online", "frozen"), ("online", "random"),
                                                   ("frozen", "random"))}  # fmt: skip
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["arms"] == summary["arms"]
    for name in ("online_ctr_per_slot.png", "online_ctr_per_day.png", "online_active_users.png"):
        assert (out / name).stat().st_size > 1000
    for agent in LEARNERS:
        assert (out / f"pretrained_{agent}_seed0.ckpt").exists()


def test_same_seed_rerun_is_identical(quick_run: tuple[Path, dict], tmp_path: Path) -> None:
    out, summary = quick_run
    again = main([*TINY, "--seed-list", "1", "--out", str(tmp_path)])
    for arm in ARMS:
        for kind in ("slots", "days"):
            first = (out / f"{arm}_seed1_{kind}.csv").read_text()
            assert (tmp_path / f"{arm}_seed1_{kind}.csv").read_text() == first
        per_seed = summary["arms"][arm]["days_1_plus"]["ctr"]["per_seed"]
        assert again["arms"][arm]["days_1_plus"]["ctr"]["per_seed"] == [per_seed[1]]


def test_frozen_and_online_arms_start_from_the_same_checkpoint(quick_run: tuple[Path, dict]) -> None:
    """The first slot of day 1 is served by identical policies: frozen and online differ only
    after the online arm's first update (made at the end of that slot)."""
    out, _ = quick_run
    for agent in LEARNERS:
        frozen = _read(out / f"{agent}-frozen_seed0_slots.csv")[24]
        online = _read(out / f"{agent}-online_seed0_slots.csv")[24]
        keys = ("active_users", "slates", "impressions", "clicks", "purchases")
        assert [frozen[k] for k in keys] == [online[k] for k in keys], agent


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--agents", "ppo"], ["--agents=", "ppo", "fit"]),
        (["--agents", "oracle"], ["--agents=", "oracle", "hidden state"]),
        (["--agents", "random"], ["--agents=", "random"]),
        (["--agents", "nope"], ["--agents=", "nope", "slategfn_db"]),
        (["--num-users", "0"], ["--num-users=0", ">= 1"]),
        (["--days", "1"], ["--days=1", ">= 2"]),
        (["--seeds", "0"], ["--seeds=0"]),
        (["--seed-list", "2", "2"], ["--seed-list=", "distinct"]),
        (["--update-every", "0"], ["--update-every=0"]),
        (["--online-epochs", "-1"], ["--online-epochs"]),
        (["--pretrain-epochs", "-2"], ["--pretrain-epochs"]),
        (["--slate-size", "30", "--num-candidates", "20"], ["--slate-size=30"]),
        (["--world", "SlateRec-v9"], ["--world=", "SlateRec-v9"]),
        (["--agent-option", "slategfn_db.lr=-1"], ["lr"]),
        (["--agent-option", "slategfn_db.not_a_field=3"], ["not_a_field", "GFNConfig"]),
        (["--agent-option", "nonsense"], ["--agent-option=", "AGENT.KEY=VALUE"]),
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
    with pytest.raises(ValueError, match="--out="):
        parse_options(["--quick", "--out", str(blocker)])
    with pytest.raises(ValueError, match="--out="):
        parse_options(["--quick", "--out", str(blocker / "sub")])


def test_one_agent_on_another_world(tmp_path: Path) -> None:
    """SlateQ learns from transitions: the loop's feedback carries the users' next observations."""
    summary = main(["--quick", "--num-users", "30", "--seeds", "1", "--agents", "slateq",
                    "--world", "SlateRec-v0", "--no-progress", "--out", str(tmp_path)])  # fmt: skip
    assert summary["options"]["world"] == "SlateRec-v0"
    assert set(summary["arms"]) == {"random", "slateq-frozen", "slateq-online"}
    assert summary["pretrain"]["0"]["slateq"]["updates"] > 0
    assert 0.0 <= summary["arms"]["slateq-online"]["days_1_plus"]["ctr"]["mean"] <= 1.0
