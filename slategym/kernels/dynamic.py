"""The compiled form of :class:`~slategym.users.DynamicUserModel`'s changes over time (the
``SlateRec-Dynamic-v0`` world): the hour-of-day term of the affinity is a table lookup in the step
kernel; :func:`advance_row` is :meth:`DynamicUserModel.advance` for one row, called by the step and
reset kernels.

Its draws are those of the general path, bit for bit: block ``day`` of the user's drift stream and of
the population's trend stream, through Box-Muller (:func:`slategym.users.base.normal_radius`,
:func:`~slategym.users.base.normal_angle`) and :func:`slategym.users.dynamic.drift_step`, the very
functions the general path calls, compiled.
"""

from __future__ import annotations

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels import xp
from slategym.kernels._jit import jit_inline, jitable
from slategym.users import base as user_base
from slategym.users import dynamic as user_dynamic

for _formula in (user_base.normal_radius, user_base.normal_angle, user_dynamic.drift_step):
    jitable(_formula)

HOUR_WEIGHT, DAILY_DRIFT, TREND_DRIFT = range(3)
"""Indices of the dynamic user's parameters in the ``dyn`` vector (``fused.dynamic_params``)."""


@jit_inline
def normal(base: np.uint64, q: int, m: int) -> float:
    """Column ``q`` of ``standard_normals`` of a block's first ``2 m`` uniforms: ``r_q cos`` for
    ``q < m``, ``r_{q - m} sin`` after."""
    j = q if q < m else q - m
    r = user_base.normal_radius(R.uniform(base, j))
    theta = user_base.normal_angle(R.uniform(base, m + j))
    return r * xp.cos(theta) if q < m else r * xp.sin(theta)


@jit_inline
def advance_row(
    interests: np.ndarray,
    r: int,
    uid: int,
    old_day: int,
    minute: float,
    drift_key: np.ndarray,
    trend_key: np.ndarray,
    dyn: np.ndarray,
) -> tuple[np.int64, np.int64]:
    """``DynamicUserModel.advance`` of row ``r`` (user ``uid``, interests drifted up to
    ``old_day``) to ``minute``: one step of the interests per day crossed, in place; returns the
    new ``(day, hour)`` extra state."""
    day, hour = R.day_hour(minute)
    d = interests.shape[1]
    m = (d + 1) // 2
    for today in range(old_day + 1, day + 1):
        own = R.stream_base(drift_key[uid], np.uint64(today))
        trend = R.stream_base(trend_key[0], np.uint64(today))
        for q in range(d):
            interests[r, q] = interests[r, q] + user_dynamic.drift_step(
                normal(own, q, m), normal(trend, q, m), dyn[DAILY_DRIFT], dyn[TREND_DRIFT], d
            )
    return max(day, old_day), hour
