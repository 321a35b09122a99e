"""The benchmark's protocol: which agent runs where, the hyperparameter grids, and the selection.

**Where each agent applies** (:data:`NOT_APPLICABLE`; a cell left out is listed with its reason in
every table). Every agent *runs* in every world (they all keep the observation contract), but two
would measure nothing:

* ``greedy`` ranks **item ids** by their click record. In ``SlateRec-InterestEvolution-v0`` and
  ``SlateRec-LongTermSatisfaction-v0`` each request offers 10 fresh candidates out of 10 000 items
  (RecSim's fresh documents): at the benchmark's budget an item is seen about 6 times in training,
  and a candidate almost never again in evaluation, so the ranking is noise (``docs/worlds.md``:
  greedy = random there, lift ratio 0.005 and 0.000).
* ``slateq`` decomposes a slate's value through an MNL-like conditional choice model. In
  ``SlateRec-LongTermSatisfaction-v0`` the user always takes the first item (``first_item``): no
  MNL describes that choice, so the decomposition has nothing to estimate.

(``SlateRec-InterestEvolution-v0``'s ``proportional`` choice is an MNL with ``u = log w``.)

**Hyperparameter grids** (:data:`GRIDS`): every learner is tuned on the validation cohort, from a
small grid around its documented defaults; agents with nothing to tune (random, the oracle) have
one point. The point with the highest mean **world reward per slate** on the validation cohort
(each world's own objective: clicks, watch time or engagement) is the one run on the test cohort;
ties go to the first point. The test cohort never takes part in a choice.

==============  ===============================================  ===================================
agent           grid                                             why these values
==============  ===============================================  ===================================
greedy          ``prior_strength`` 1, 10, 100                    the prior's weight in impressions
                                                                 around the default 10
ppo             ``learning_rate`` 3e-4, 1e-3                     SB3's default and 3x it (short
                                                                 budgets favour larger steps)
slateq          ``lr`` 3e-4, 1e-3, 3e-3                          around the default 1e-3
slategfn_db/tb  ``lr`` 3e-4, 1e-3 x ``b_r`` 0.1, 0.5 x           GFN4Rec's lrs (ML-1M 3e-4) and
                ``reward`` env, multi-behaviour                  1e-3; the b_r sweep of
                                                                 ``docs/agents/slategfn.md``; the
                                                                 paper-scale reward below
==============  ===============================================  ===================================

The GFlowNets start from the ``kuairand1k`` preset (GFN4Rec's constants, ``agents/gfn/config.py``).
Their **multi-behaviour reward** (:data:`MULTI_BEHAVIOUR`) is GFN4Rec's form on slategym's binary
behaviours: the unit-weighted sum of clicks and purchases over the positions of the slate
(``R ∈ {0, ..., 2K}``, so ``R / b_r`` spans the paper's range; the RecSim worlds have no purchases,
where it is the click count). ``reward="env"`` is the world's reward, as the other learners use.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agents.registry import AGENT_NAMES

WORLDS: tuple[str, ...] = (
    "SlateRec-v0",
    "SlateRec-Personal-v0",
    "SlateRec-Dynamic-v0",
    "SlateRec-InterestEvolution-v0",
    "SlateRec-InterestExploration-v0",
    "SlateRec-LongTermSatisfaction-v0",
)
"""The worlds of the full grid, in table order."""

NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("greedy", "SlateRec-InterestEvolution-v0"):
        "fresh candidates (10 of 10 000 items per request): item-id click rates are noise",
    ("greedy", "SlateRec-LongTermSatisfaction-v0"):
        "fresh candidates (10 of 10 000 items per request): item-id click rates are noise",
    ("slateq", "SlateRec-LongTermSatisfaction-v0"):
        "first_item choice: the user takes the first item, no MNL-like choice model to decompose",
}  # fmt: skip
"""(agent, world) cells left out of the grid, with the reason (module docstring)."""

MULTI_BEHAVIOUR: dict[str, float] = {"click": 1.0, "purchase": 1.0}
"""GFN4Rec's unit-weighted sum of binary behaviours, over slategym's click and purchase."""

GFN_GRID: dict[str, tuple[Any, ...]] = {
    "lr": (3e-4, 1e-3),
    "b_r": (0.1, 0.5),
    "reward": ("env", MULTI_BEHAVIOUR),
}
GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "random": {},
    "oracle": {},
    "greedy": {"prior_strength": (1.0, 10.0, 100.0)},
    "ppo": {"learning_rate": (3e-4, 1e-3)},
    "slateq": {"lr": (3e-4, 1e-3, 3e-3)},
    "slategfn_db": GFN_GRID,
    "slategfn_tb": GFN_GRID,
}
"""Per agent, the values of each tuned option (the validation grid is their product)."""

FIXED: dict[str, dict[str, Any]] = {
    "slategfn_db": {"preset": "kuairand1k"},
    "slategfn_tb": {"preset": "kuairand1k"},
}
"""Options every point of an agent's grid shares."""

assert set(GRIDS) == set(AGENT_NAMES), "every registered agent needs a grid (possibly empty)"


def applies(agent: str, world: str) -> bool:
    """Whether the (agent, world) cell is in the grid (:data:`NOT_APPLICABLE`)."""
    return (agent, world) not in NOT_APPLICABLE


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return "multi" if dict(value) == MULTI_BEHAVIOUR else json.dumps(value, sort_keys=True)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def config_name(values: Mapping[str, Any]) -> str:
    """A short, file-name-safe name of a grid point, e.g. ``lr=0.001,b_r=0.1,reward=multi``."""
    if not values:
        return "default"
    return ",".join(f"{k}={_short(v)}" for k, v in values.items()).replace("/", "_")


def grid_points(agent: str, grid: Mapping[str, Sequence[Any]] | None = None,
                limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
    """The (name, options) of every point of ``agent``'s grid (the first ``limit`` ones)."""
    grid = GRIDS[agent] if grid is None else grid
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        tuned = dict(zip(keys, values))
        points.append((config_name(tuned), {**FIXED.get(agent, {}), **tuned}))
    return points[:limit] if limit else points


def select(records: Iterable[dict[str, Any]], order: Sequence[str],
           metric: str = "mean_reward") -> dict[str, Any]:  # fmt: skip
    """The grid point of one (agent, world) with the best mean validation ``metric``.

    ``order`` lists the grid's point names (ties go to the earlier one). Returns ``{"config":
    name, "ranking": [(name, mean, seeds), ...]}``, best first; nan scores rank last.
    """
    by_config: dict[str, list[float]] = {name: [] for name in order}
    for r in records:
        by_config[r["task"]["config"]].append(float(r["metrics"][metric]))
    scored = []
    for rank, (name, values) in enumerate(by_config.items()):
        finite = [v for v in values if math.isfinite(v)]
        mean = sum(finite) / len(finite) if finite else -math.inf
        scored.append((-mean, rank, name, mean, len(values)))
    scored.sort()
    return {"config": scored[0][2], "ranking": [(n, m, k) for _, _, n, m, k in scored]}
