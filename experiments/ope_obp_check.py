"""Cross-check slategym's slate estimators against Open Bandit Pipeline on the same logged data.

OBP (``pip install obp``; the index here serves 0.4.1, which installs in a throwaway venv next to
torch 2.13 CPU) implements slate-level IPS (``SlateStandardIPS``), independent IPS
(``SlateIndependentIPS``) and reward-interaction IPS (``SlateRewardInteractionIPS``). Its cascade-DR
arrived in 0.5, which is not installable here; SNIPS and the pseudo-inverse estimator have no slate
version in OBP. Run (after ``pip install obp`` and ``pip install -e .`` in that venv):

    python -m experiments.ope_obp_check

It logs 5000 slates of a uniform policy on a position-based world, evaluates a Plackett-Luce target
with both libraries and prints the estimates; they must agree to 1e-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from experiments.ope import Args, _collect
from slategym.data.policies import PlackettLuce, UniformRandom
from slategym.data.scorers import make_scorer
from slategym.ope import SlateIIPS, SlateIPS, SlateRIPS, ope_data_from_scores
from slategym.ope.base import require


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from obp.ope import SlateIndependentIPS, SlateRewardInteractionIPS, SlateStandardIPS

    args = Args(worlds=("position_based",), num_envs=100)
    logging, target = UniformRandom(), PlackettLuce(0.5)
    log = _collect(args, "position_based", 0, logging, make_scorer("popularity"), make_scorer("oracle"), 5000)
    data = ope_data_from_scores(log["slates"], log["clicks"], logging, log["log"], target, log["tgt"])
    n, k = data.slates.shape
    flat = {
        "slate_id": np.repeat(np.arange(n), k),
        "reward": data.rewards.ravel(),
        "position": np.tile(np.arange(k), n),
    }
    ours = {
        "IPS": SlateIPS().estimate(data).value,
        "IIPS": SlateIIPS().estimate(data).value,
        "RIPS": SlateRIPS().estimate(data).value,
    }
    theirs = {
        "IPS": SlateStandardIPS(len_list=k).estimate_policy_value(
            **flat, pscore=np.repeat(require(data, "logging_slate", "obp check"), k),
            evaluation_policy_pscore=np.repeat(require(data, "target_slate", "obp check"), k),
        ),
        "IIPS": SlateIndependentIPS(len_list=k).estimate_policy_value(
            **flat, pscore_item_position=require(data, "logging_position", "obp check").ravel(),
            evaluation_policy_pscore_item_position=require(data, "target_position", "obp check").ravel(),
        ),
        "RIPS": SlateRewardInteractionIPS(len_list=k).estimate_policy_value(
            **flat, pscore_cascade=require(data, "logging_prefix", "obp check").ravel(),
            evaluation_policy_pscore_cascade=require(data, "target_prefix", "obp check").ravel(),
        ),
    }  # fmt: skip
    for name in ours:
        print(f"{name:5s} slategym {ours[name]:.12f}  obp {theirs[name]:.12f}  diff {ours[name] - theirs[name]:+.1e}")
        if abs(ours[name] - theirs[name]) > 1e-10:
            raise SystemExit(f"{name}: slategym and obp disagree")
    return {"slategym": ours, "obp": theirs}


if __name__ == "__main__":
    main()
