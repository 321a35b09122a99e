"""RecSim's interest-exploration user, compiled: its rows of :mod:`slategym.kernels.recsim`'s
kernels.

The reset draws the user's type and its log-normal topic affinities from the reset block's uniforms
with the numpy path's functions (Box-Muller's ``normal_radius`` and ``normal_angle``,
``topic_affinity``), compiled; the step only records the response (the user never changes), so a
row's trajectory is the general path's, bit for bit. The extra state is the ``(K, 3)`` float32
``response`` (:data:`SLOTS`).
"""

from __future__ import annotations

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels import xp
from slategym.kernels._jit import jit_inline, jitable
from slategym.users import base as user_base
from slategym.users import recsim_interest_exploration as ie

for _formula in (user_base.normal_radius, user_base.normal_angle, ie.topic_affinity):
    jitable(_formula)

USER = ie.InterestExplorationUser
"""The user model these rows compile."""
SLOTS = ("", "", "response")
"""The user's extra state in the kernels' slots (level, budget, response); "" for none."""
RESPONSE_WIDTH = len(ie.RESPONSE_FIELDS)


def params(model: ie.InterestExplorationUser) -> np.ndarray:
    """``[Y, cdf (Y), M (Y x T, by rows), S (Y x T)]``: the number of user types ``Y``, the
    cumulative type distribution and the affinity matrices, as the rows read them."""
    cdf = np.cumsum(model.user_type_distribution)
    mean = np.asarray(model.user_document_mean_affinity_matrix, np.float64)
    std = np.asarray(model.user_document_stddev_affinity_matrix, np.float64)
    return np.concatenate([[cdf.size], cdf, mean.ravel(), std.ravel()])


@jit_inline
def affinity_row(
    r: int, ip: np.ndarray, items: np.ndarray, a_row: np.ndarray, world: tuple, now: tuple
) -> None:
    """``InterestExplorationUser.affinity``: the user's affinity for the item's topic plus the
    item's quality."""
    latent, quality, duration, topic = world
    interests = now[0]
    for j in range(items.shape[0]):
        a_row[j] = interests[r, topic[items[j]]] + quality[items[j]]


@jit_inline
def respond_row(r: int, ip: np.ndarray, row: tuple, world: tuple, now: tuple, nxt: tuple) -> bool:
    """``InterestExplorationUser.respond``: the state is kept; the response records each position's
    click, quality and topic. No dwell; the user never leaves (returns False)."""
    items, pos, clicked, a_row, u, dwell, half = row
    latent, quality, duration, topic = world
    interests, satisfaction = now[0], now[1]
    o_interests, o_satisfaction, o_response = nxt[0], nxt[1], nxt[4]
    for q in range(interests.shape[1]):
        o_interests[r, q] = interests[r, q]
    o_satisfaction[r] = satisfaction[r]
    for j in range(items.shape[0]):
        dwell[j] = 0.0
        o_response[r, j, 0] = np.float32(1.0 if clicked and j == pos else 0.0)
        o_response[r, j, 1] = np.float32(quality[items[j]])
        o_response[r, j, 2] = np.float32(topic[items[j]])
    return False


@jit_inline
def reset_row(r: int, ip: np.ndarray, base: np.uint64, first: int, now: tuple) -> None:
    """``InterestExplorationUser.initial_state`` of row ``r``: the type ``y`` is the number of
    cumulative shares at most the first uniform (at most ``Y - 1``); topic ``q``'s affinity is
    ``topic_affinity(M[y, q], S[y, q], z_q)`` with ``z`` the Box-Muller normals of the next
    ``2 m`` uniforms, ``m = ceil(T / 2)``: ``z_q = r_q cos(theta_q)`` for ``q < m``, then
    ``r_{q - m} sin(theta_{q - m})``."""
    interests = now[0]
    y_count = int(ip[0])
    t = interests.shape[1]
    m = (t + 1) // 2
    u = R.uniform(base, first)
    kind = 0
    for y in range(y_count):
        if ip[1 + y] <= u:
            kind = y + 1
    kind = min(kind, y_count - 1)
    at_mean = 1 + y_count + kind * t
    at_std = at_mean + y_count * t
    for q in range(t):
        j = q if q < m else q - m
        radius = user_base.normal_radius(R.uniform(base, first + 1 + j))
        angle = user_base.normal_angle(R.uniform(base, first + 1 + m + j))
        z = radius * (xp.cos(angle) if q < m else xp.sin(angle))
        interests[r, q] = ie.topic_affinity(ip[at_mean + q], ip[at_std + q], z)
