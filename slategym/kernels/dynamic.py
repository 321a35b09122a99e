"""The compiled form of :class:`~slategym.users.DynamicUserModel`'s changes over time (the
``SlateRec-Dynamic-v0`` world): the hour-of-day term of the affinity is a table lookup in the step
kernel; :func:`advance_row` is :meth:`DynamicUserModel.advance` for one row, called by the step and
reset kernels.

Its draws are those of the general path, bit for bit: block ``day`` of the user's drift stream and of
the population's trend stream, through Box-Muller (:func:`slategym.users.base.normal_radius_from_log`,
:func:`~slategym.users.base.normal_angle`) and :func:`slategym.users.dynamic.drift_step`, the very
functions the general path calls, compiled. A day's logarithms, cosines and sines go to numpy's
loops in one call each (scratch: :func:`normals_scratch`): a call for a single value costs 25 to 36
times a value in a call for many (``scripts/numpy_loop_calls.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels._jit import jit_inline, jitable
from slategym.kernels._npmath import vcos, vlog1p, vsin
from slategym.users import base as user_base
from slategym.users import dynamic as user_dynamic

if TYPE_CHECKING:
    from slategym.simulator import Simulator

for _formula in (user_base.normal_radius_from_log, user_base.normal_angle, user_dynamic.drift_step):
    jitable(_formula)

HOUR_WEIGHT, DAILY_DRIFT, TREND_DRIFT = range(3)
"""Indices of the dynamic user's parameters in the ``dyn`` vector (``fused.dynamic_params``)."""


@jitable
def normals_scratch(d: int) -> int:
    """Scratch floats of :func:`advance_row` for ``d`` latent dimensions."""
    return 6 * ((d + 1) // 2)


@jit_inline
def _box_muller_terms(own: np.uint64, trend: np.uint64, m: int, work: np.ndarray) -> None:
    """``standard_normals``' terms of the first ``2 m`` uniforms of two blocks (``own``, then
    ``trend``): ``work[:2m]`` the logarithms ``log(1 - u_j)``, ``work[2m:4m]`` the cosines and
    ``work[4m:6m]`` the sines of the angles ``2 pi u_{m + j}``."""
    for j in range(m):
        work[j] = -R.uniform(own, j)
        work[m + j] = -R.uniform(trend, j)
        work[2 * m + j] = user_base.normal_angle(R.uniform(own, m + j))
        work[3 * m + j] = user_base.normal_angle(R.uniform(trend, m + j))
    for j in range(2 * m):
        work[4 * m + j] = work[2 * m + j]
    vlog1p(work, work, 2 * m)
    trig = work[2 * m :]
    vcos(trig, trig, 2 * m)
    trig = work[4 * m :]
    vsin(trig, trig, 2 * m)


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
    work: np.ndarray,
) -> tuple[np.int64, np.int64]:
    """``DynamicUserModel.advance`` of row ``r`` (user ``uid``, interests drifted up to
    ``old_day``) to ``minute``: one step of the interests per day crossed, in place; returns the
    new ``(day, hour)`` extra state. ``work``: :func:`normals_scratch` floats.

    Column ``q`` of ``standard_normals`` is ``r_q cos(theta_q)`` for ``q < m``, ``r_{q - m}
    sin(theta_{q - m})`` after."""
    day, hour = R.day_hour(minute)
    d = interests.shape[1]
    m = (d + 1) // 2
    for today in range(old_day + 1, day + 1):
        own = R.stream_base(drift_key[uid], np.uint64(today))
        trend = R.stream_base(trend_key[0], np.uint64(today))
        _box_muller_terms(own, trend, m, work)
        for q in range(d):
            j = q if q < m else q - m
            trig = 2 * m if q < m else 4 * m
            own_normal = user_base.normal_radius_from_log(work[j]) * work[trig + j]
            trend_normal = user_base.normal_radius_from_log(work[m + j]) * work[trig + m + j]
            interests[r, q] = interests[r, q] + user_dynamic.drift_step(
                own_normal, trend_normal, dyn[DAILY_DRIFT], dyn[TREND_DRIFT], d
            )
    return max(day, old_day), hour


def dynamic_arrays(sim: Simulator) -> tuple[np.ndarray, ...]:
    """``(hour_topic, drift_key, trend_key, dyn)`` of a :class:`DynamicUserModel` world, in the
    order of ``kernels.dynamic``'s parameters; empty arrays for the default user (unused)."""
    m, pop = sim.user_model, sim.population
    if not isinstance(m, user_dynamic.DynamicUserModel):
        return np.zeros((0, 0)), np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(3)
    return (
        np.array(m.hour_topic(sim.catalog.num_topics)),  # a writable copy of the cached table
        np.ascontiguousarray(pop.extra["drift_key"], np.uint64),
        np.ascontiguousarray(pop.extra["trend_key"], np.uint64),
        np.array([m.hour_weight, m.daily_drift, m.trend_drift], np.float64),
    )  # fmt: skip
