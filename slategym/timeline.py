r"""The timeline: days of 24 hourly slots, and when users start their sessions.

## Description

Time is counted in simulated minutes from midnight of day 0; the horizon is ``days * 1440``
minutes. The ``slot`` of a minute ``t`` is its hour of the day, ``floor(t / 60) mod 24``, and its
``day`` is ``floor(t / 1440)``.

A user starts sessions as a non-homogeneous Poisson process whose rate follows their hour-of-day
profile. Inside a session each slate request takes ``step_minutes`` plus the dwell time of what was
clicked, so the hour advances inside long sessions. When a session ends the next one is the first
arrival of the process after a minimum gap, and the whole rate is scaled by a return multiplier that
the user model derives from satisfaction.

## Dynamics

With daily activity :math:`\lambda` (expected sessions per day), hour-of-day profile
:math:`\pi_h` (:math:`\sum_h \pi_h = 1`) and return multiplier :math:`m`, the session rate at minute
``t`` is

.. math::

    r(t) = m\,\lambda\,\pi_{h(t)} / 60 \quad \text{sessions per minute}, \qquad
    h(t) = \lfloor t / 60 \rfloor \bmod 24 .

The next start after :math:`t_0` is :math:`t^* = \inf\{t : \int_{t_0}^{t} r = E\}` with
:math:`E \sim \mathrm{Exp}(1)`, computed exactly by inverting the piecewise-linear integrated rate:
whole days first (each integrates to :math:`m\lambda`), then hour by hour. The first session of an
episode is drawn from the same process started at minute 0 and *conditioned* on falling inside the
horizon (the exponential is truncated at :math:`D m \lambda`), so every episode has a first session.

Over many users the share of session starts in hour ``h`` therefore follows :math:`\pi_h`
(minus the small distortion of sessions in progress and the minimum gap).

## Chronotypes

Three built-in hour-of-day profiles, each a constant floor plus von Mises bumps on the 24-hour
circle, evaluated at the middle of every slot and normalised:

.. math::

    \pi_h \propto f + \sum_b w_b \exp\big(\kappa (\cos(2\pi (h + \tfrac12 - c_b) / 24) - 1)\big),
    \qquad f = 0.05,\ \kappa = 4 .

Bumps that lie close together merge, so the busiest slot is not always a bump's centre:

| chronotype | bumps: centre hour (weight) | busiest slot | slots that are local maxima |
|---|---|---|---|
| ``morning`` | 7.5 (1), 12.5 (0.4), 19.0 (0.35) | 7 (07:00-08:00) | 7, 18 |
| ``evening`` | 20.5 (1), 12.5 (0.3) | 20 (20:00-21:00) | 12, 20 |
| ``night`` | 23.5 (1), 1.5 (0.6), 18.0 (0.3) | 0 (00:00-01:00) | 0 |

(The night profile's main bump is centred on 23:30, but the bump at 01:30 overlaps it, so slot 0
gets more mass than slot 23.)

## Version History

* v0: initial version (SlateRec-v0).
"""

from __future__ import annotations

import numpy as np

from slategym._arrays import take_rows
from slategym.kernels import xp

MINUTES_PER_HOUR = 60.0
MINUTES_PER_DAY = 1440.0
HOURS = 24

CHRONOTYPES: tuple[str, ...] = ("morning", "evening", "night")
_PEAKS: dict[str, tuple[tuple[float, float], ...]] = {
    # (hour of the peak, weight)
    "morning": ((7.5, 1.0), (12.5, 0.4), (19.0, 0.35)),
    "evening": ((20.5, 1.0), (12.5, 0.3)),
    "night": ((23.5, 1.0), (1.5, 0.6), (18.0, 0.3)),
}


def chronotype_profile(name: str, floor: float = 0.05, concentration: float = 4.0) -> np.ndarray:
    """The hour-of-day profile ``(24,)`` of a built-in chronotype; sums to 1, every entry > 0."""
    hours = np.arange(HOURS) + 0.5
    rate = np.full(HOURS, floor)
    for peak, weight in _PEAKS[name]:
        angle = 2.0 * np.pi * (hours - peak) / HOURS
        rate += weight * np.exp(concentration * (np.cos(angle) - 1.0))
    return rate / rate.sum()


def chronotype_profiles() -> np.ndarray:
    """The built-in profiles stacked in the order of :data:`CHRONOTYPES`, shape ``(3, 24)``."""
    return np.stack([chronotype_profile(c) for c in CHRONOTYPES])


def minute_to_day_hour(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(day, hour_of_day)`` int64 arrays of minutes since the start of the timeline."""
    hours_total = np.floor(np.asarray(minutes) / MINUTES_PER_HOUR).astype(np.int64)
    day, hour = np.divmod(hours_total, HOURS)
    return day, hour


def arrival_after(
    start: np.ndarray, profile: np.ndarray, daily_rate: np.ndarray, exp_draw: np.ndarray
) -> np.ndarray:
    """Minute of the first arrival after ``start`` once ``exp_draw`` units of rate are integrated.

    Args:
        start: ``(n,)`` minutes the process starts from.
        profile: ``(n, 24)`` hour-of-day profiles (rows sum to 1, entries > 0).
        daily_rate: ``(n,)`` expected arrivals per day (activity times return multiplier), > 0.
        exp_draw: ``(n,)`` integrated rate to reach (an ``Exp(1)`` draw for a Poisson arrival).

    Returns:
        ``(n,)`` float64 minutes.
    """
    whole_days = np.floor(exp_draw / daily_rate)
    rest = exp_draw - whole_days * daily_rate  # in [0, daily_rate)
    hour_abs = np.floor(start / MINUTES_PER_HOUR)
    frac = start / MINUTES_PER_HOUR - hour_abs  # position inside the current hour
    h0 = hour_abs.astype(np.int64) % HOURS
    # Segments over the next 24 hours: rest of the current hour, 23 whole hours, the start of h0 again.
    hour_idx = _NEXT_HOURS.take(h0, axis=0)  # (n, 25): h0, h0 + 1, ..., h0 (mod 24)
    rate = take_rows(profile, hour_idx)
    rate *= daily_rate[:, None]  # per hour
    seg_rate = rate.copy()  # rate times the segment's length in hours (1 but at both ends)
    seg_rate[:, 0] *= 1.0 - frac
    seg_rate[:, HOURS] *= frac
    cum = np.cumsum(seg_rate, axis=1)
    j = np.minimum(np.add.reduce(cum <= rest[:, None], axis=1), HOURS)
    jm1 = np.maximum(j - 1, 0)[:, None]
    before = np.where(j > 0, take_rows(cum, jm1)[:, 0], 0.0)
    within = np.clip((rest - before) / take_rows(rate, j[:, None])[:, 0], 0.0, None)
    seg_start = np.where(j > 0, (1.0 - frac) + (j - 1), 0.0)  # hours from start to segment j
    return start + whole_days * MINUTES_PER_DAY + (seg_start + within) * MINUTES_PER_HOUR


_NEXT_HOURS = (np.arange(HOURS)[:, None] + np.arange(HOURS + 1)) % HOURS  # (24, 25)


def truncated_exponential(uniform: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Inverse CDF of ``Exp(1)`` conditioned on ``< upper``: ``-log(1 - u (1 - e^{-upper}))``."""
    return -xp.log1p(-uniform * -xp.expm1(-upper))
