"""RecSim's long-term-satisfaction user (choc/kale), compiled: its rows of
:mod:`slategym.kernels.recsim`'s kernels.

The formulas are the very functions :class:`~slategym.users.LongTermSatisfactionUser` calls on the
numpy path (``initial_exposure``, ``location``, ``engagement``, ``exposure_after``, Box-Muller's
``normal_radius`` and ``normal_angle``), compiled, so a row's trajectory is the general path's, bit
for bit. Its extra state goes in the kernels' slots :data:`SLOTS` (``net_positive_exposure`` and
``time_budget`` float64, ``response`` ``(K, 2)`` float32).
"""

from __future__ import annotations

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels import xp
from slategym.kernels._jit import jit_inline, jitable
from slategym.users import base as user_base
from slategym.users import recsim_long_term_satisfaction as lts

for _formula in (
    user_base.normal_radius, user_base.normal_angle, lts.initial_exposure, lts.location,
    lts.engagement, lts.exposure_after,
):  # fmt: skip
    jitable(_formula)

PARAMS = (
    "memory_discount", "sensitivity", "innovation_stddev", "choc_mean", "choc_stddev",
    "kale_mean", "kale_stddev", "time_budget",
)  # fmt: skip
"""The user's parameters the rows read (``ip``), in this order."""
USER = lts.LongTermSatisfactionUser
"""The user model these rows compile."""
SLOTS = ("net_positive_exposure", "time_budget", "response")
"""The user's extra state in the kernels' slots (level, budget, response)."""
RESPONSE_WIDTH = 2
P_GAMMA, P_KAPPA, P_SIGMA, P_MU_C, P_SIGMA_C, P_MU_K, P_SIGMA_K, P_BUDGET = range(8)
"""Indices of :data:`PARAMS` in ``ip``."""


@jit_inline
def affinity_row(
    r: int, ip: np.ndarray, items: np.ndarray, a_row: np.ndarray, world: tuple, now: tuple
) -> None:
    """``LongTermSatisfactionUser.affinity``: the mean of the log-engagement, ``location(b, s)``
    with the item's clickbait score ``b`` and the user's satisfaction ``s``."""
    latent = world[0]
    s = now[1][r]
    for j in range(items.shape[0]):
        a_row[j] = lts.location(latent[items[j], 0], s, ip[P_MU_C], ip[P_MU_K])


@jit_inline
def respond_row(r: int, ip: np.ndarray, row: tuple, world: tuple, now: tuple, nxt: tuple) -> bool:
    """``LongTermSatisfactionUser.respond`` of row ``r`` (``row``: see ``recsim._respond``; its
    two uniforms are one Box-Muller pair ``z = (r cos theta, r sin theta)``): the engagement
    (with the satisfaction before the update) into ``dwell``, the next exposure, satisfaction,
    budget and response. Returns whether the budget is spent."""
    items, pos, clicked, a_row, u, dwell, half = row
    latent = world[0]
    interests, satisfaction, level, budget = now
    o_interests, o_satisfaction, o_level, o_budget, o_response = nxt
    o_interests[r, 0] = interests[r, 0]
    s = satisfaction[r]
    for j in range(items.shape[0]):
        dwell[j] = 0.0
        o_response[r, j, 0] = np.float32(0.0)
    if clicked:
        b = latent[items[pos], 0]
        radius = user_base.normal_radius(u[0])
        angle = user_base.normal_angle(u[1])
        z0, z1 = radius * xp.cos(angle), radius * xp.sin(angle)
        dwell[pos] = lts.engagement(
            b, s, z0, ip[P_MU_C], ip[P_SIGMA_C], ip[P_MU_K], ip[P_SIGMA_K]
        )
        npe = lts.exposure_after(level[r], b, z1, ip[P_GAMMA], ip[P_SIGMA])
        o_level[r] = npe
        o_satisfaction[r] = xp.sigmoid(ip[P_KAPPA] * npe)
        o_response[r, pos, 0] = np.float32(1.0)
    else:
        o_level[r] = level[r]
        o_satisfaction[r] = s
    left = budget[r] - (1.0 if clicked else 0.0)
    o_budget[r] = left
    for j in range(items.shape[0]):
        o_response[r, j, 1] = np.float32(min(max(dwell[j], 0.0), lts.MAX_ENGAGEMENT))
    return left <= 0.0


@jit_inline
def reset_row(r: int, ip: np.ndarray, base: np.uint64, first: int, now: tuple) -> None:
    """``LongTermSatisfactionUser.initial_state`` of row ``r``: the exposure
    ``initial_exposure(u, gamma)`` from the reset block's uniform ``first``, the satisfaction
    ``sigmoid(kappa NPE)``, the full budget, interests 0."""
    interests, satisfaction, level, budget = now
    npe = lts.initial_exposure(R.uniform(base, first), ip[P_GAMMA])
    interests[r, 0] = 0.0
    level[r] = npe
    satisfaction[r] = xp.sigmoid(ip[P_KAPPA] * npe)
    budget[r] = ip[P_BUDGET]
