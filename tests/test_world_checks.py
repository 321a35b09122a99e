"""Each world shows its purpose, measured with the random, greedy and oracle agents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import slategym
from experiments.world_checks import Args, dynamic_seed, lift_seed, main
from slategym.platform import Platform


def test_world_checks_script_runs_and_resumes(tmp_path: Path) -> None:
    argv = ["--quick", "--checks", "lift", "dynamic", "--worlds", "SlateRec-Personal-v0",
            "--env", "num_items=200", "num_candidates=20", "--out", str(tmp_path)]  # fmt: skip
    first = main(argv)
    assert set(first) >= {"lift", "dynamic"}
    assert set(first["lift"]["SlateRec-Personal-v0"]) >= {"random", "greedy", "oracle", "lift_ratio"}
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["dynamic_seed0.json", "dynamic_seed1.json",
                    "lift_SlateRec-Personal-v0_seed0.json", "lift_SlateRec-Personal-v0_seed1.json"]  # fmt: skip
    stamp = (tmp_path / "runs" / runs[0]).stat().st_mtime_ns
    again = main(argv)  # every unit is reused
    assert (tmp_path / "runs" / runs[0]).stat().st_mtime_ns == stamp
    assert again["dynamic"] == first["dynamic"]
    with pytest.raises(ValueError, match="worlds=.* not registered"):
        Args(worlds=("SlateRec-Nowhere-v0",)).check()
    with pytest.raises(ValueError, match="env item 'num_items' is not allowed: expected KEY=VALUE"):
        Args(env=("num_items",)).check()


@pytest.mark.slow
def test_personal_world_makes_popularity_weak_and_the_default_does_not() -> None:
    """Lift of greedy over random as a share of the oracle's: <= 0.5 in Personal, ~0.9 in v0."""
    args = Args(train_steps=8192, eval_users=200)
    for seed in (0, 1):
        personal = lift_seed("SlateRec-Personal-v0", seed, args)
        default = lift_seed("SlateRec-v0", seed, args)
        assert personal["lift_ratio"] <= 0.5 < default["lift_ratio"], (personal, default)
        assert personal["oracle"]["slate_ctr"] - personal["random"]["slate_ctr"] > 0.1


@pytest.mark.slow
def test_dynamic_world_rewards_refitting() -> None:
    """A greedy agent refitted every day beats the same agent frozen after day 0."""
    args = Args(num_users=200, days=4)
    for seed in (0, 1):
        result = dynamic_seed(seed, args)
        assert result["refit_minus_frozen"] > 0.02, result["refit_minus_frozen"]
        frozen = result["frozen"]["slate_ctr_per_day"]
        assert frozen[-1] < frozen[1]  # what it learnt on day 0 goes stale


def test_dynamic_world_wants_different_topics_at_8_and_21() -> None:
    """Random slates: the share of clicks on the even ("morning") topics by hour of the day."""
    platform = Platform(slategym.world_config("SlateRec-Dynamic-v0", num_users=400, days=2))
    platform.reset(seed=0)
    rng = np.random.default_rng(0)
    topic = platform.sim.catalog.topic
    even, clicks = np.zeros(24), np.zeros(24)
    while not platform.finished:
        while (batch := platform.requests()) is not None:
            slates = np.argsort(rng.random((batch.size, 50)), axis=1)[:, :6]
            outcome = platform.serve(slates)
            hits = outcome.clicks
            np.add.at(even, outcome.hour, (hits & (topic[outcome.item_ids] % 2 == 0)).sum(1))
            np.add.at(clicks, outcome.hour, hits.sum(1))
        platform.next_slot()
    share = even / np.maximum(clicks, 1)
    assert share[8] > 0.8 and share[21] < 0.2, share.round(2)
