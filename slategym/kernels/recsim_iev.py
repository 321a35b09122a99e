"""RecSim's interest-evolution user, compiled: its rows of :mod:`slategym.kernels.recsim`'s kernels.

The formulas are the very functions :class:`~slategym.users.InterestEvolutionUser` calls on the
numpy path (``interest_update``, ``watch_utility``, ``budget_after_watch``), compiled, so a row's
trajectory is the general path's, bit for bit. Its extra state goes in the kernels' slots
:data:`SLOTS` (``time_budget`` float64, ``response`` ``(K, 5)`` float32; no level).
"""

from __future__ import annotations

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels._jit import jit_inline, jitable
from slategym.kernels._npmath import einsum_dot
from slategym.users import recsim_interest_evolution as iev

for _formula in (iev.interest_update, iev.watch_utility, iev.budget_after_watch):
    jitable(_formula)  # the numpy path's formulas, compiled where the kernel calls them

PARAMS = (
    "time_budget", "step_penalty", "user_update_alpha", "user_quality_factor",
    "document_quality_factor", "alpha_x_intercept", "alpha_y_intercept",
)  # fmt: skip
"""The user's parameters the rows read (``ip``), in this order."""
USER = iev.InterestEvolutionUser
"""The user model these rows compile."""
SLOTS = ("", "time_budget", "response")
"""The user's extra state in the kernels' slots (level, budget, response); "" for none."""
RESPONSE_WIDTH = len(iev.RESPONSE_FIELDS)
P_BUDGET, P_PENALTY, P_ETA, P_PHI_U, P_PHI_D, P_X0, P_Y0 = range(7)
"""Indices of :data:`PARAMS` in ``ip``."""


@jit_inline
def affinity_row(
    r: int, ip: np.ndarray, items: np.ndarray, a_row: np.ndarray, world: tuple, now: tuple
) -> None:
    """``InterestEvolutionUser.affinity``: the dot product of the interests with each item's
    latent features."""
    latent = world[0]
    interests = now[0]
    for j in range(items.shape[0]):
        a_row[j] = einsum_dot(latent, items[j], interests, r, interests.shape[1])


@jit_inline
def respond_row(r: int, ip: np.ndarray, row: tuple, world: tuple, now: tuple, nxt: tuple) -> bool:
    """``InterestEvolutionUser.respond`` of row ``r`` (``row``: see ``recsim._respond``; its
    first uniform decides the direction of the interest update): the next interests, budget,
    satisfaction and response, the watch time into ``dwell``. Returns whether the budget is
    spent."""
    items, pos, clicked, a_row, u, dwell, half = row
    latent, quality, duration, topic = world
    interests, satisfaction, level, budget = now
    o_interests, o_satisfaction, o_level, o_budget, o_response = nxt
    d = interests.shape[1]
    item = items[pos]
    b = budget[r]
    watch = min(b, duration[item]) if clicked else 0.0
    if clicked:
        for q in range(d):
            half[0, q] = (interests[r, q] + 1.0) / 2.0
        toward = u[0] < einsum_dot(half, 0, latent, item, d)
        for q in range(d):
            theta = interests[r, q]
            step = iev.interest_update(theta, latent[item, q], ip[P_X0], ip[P_Y0])
            moved = theta + (step if toward else -step)
            o_interests[r, q] = min(max(moved, -1.0), 1.0)
        utility = iev.watch_utility(a_row[pos], quality[item], ip[P_PHI_U], ip[P_PHI_D])
        left = iev.budget_after_watch(b, watch, utility, ip[P_ETA])
    else:
        for q in range(d):
            o_interests[r, q] = interests[r, q]
        left = b - ip[P_PENALTY]
    for j in range(items.shape[0]):
        dwell[j] = watch if clicked and j == pos else 0.0
        o_response[r, j, 0] = np.float32(1.0 if clicked and j == pos else 0.0)
        o_response[r, j, 1] = np.float32(dwell[j])
        o_response[r, j, 2] = np.float32(0.0)
        o_response[r, j, 3] = np.float32(quality[items[j]])
        o_response[r, j, 4] = np.float32(topic[items[j]])
    o_budget[r] = left
    o_satisfaction[r] = min(max(left / ip[P_BUDGET], 0.0), 1.0)
    return left <= 0.0


@jit_inline
def reset_row(r: int, ip: np.ndarray, base: np.uint64, first: int, now: tuple) -> None:
    """``InterestEvolutionUser.initial_state`` of row ``r``: interests ``2 u - 1`` from the reset
    block's uniforms ``first ..``, the full time budget (the response: zeroed by the caller)."""
    interests, satisfaction, level, budget = now
    for q in range(interests.shape[1]):
        interests[r, q] = 2.0 * R.uniform(base, first + q) - 1.0
    budget[r] = ip[P_BUDGET]
