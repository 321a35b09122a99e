"""Simulate the timeline a calibrated user model produces, and fit what only simulation can.

:func:`simulate_sessions` runs the platform view (every user on one clock) with random slates and
returns the served requests as events (one event per slate request) with the simulator's own session
boundaries. :func:`fit_by_simulation` tunes ``leave_bias`` (mean session length) and, when the log has
clicks and purchases, ``purchase_bias`` (purchases per click) by bisection on simulated runs: both
act through the user model's response, whose other parameters (satisfaction, patience, affinities)
make a closed form impractical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from slategym.calibration.fit import Sessions
from slategym.platform import Platform


@dataclass(frozen=True)
class SimulatedLog:
    sessions: Sessions
    num_users: int
    clicks: int
    purchases: int
    days: int


def simulate_sessions(env_kwargs: dict[str, Any], num_users: int, days: int, seed: int) -> SimulatedLog:
    """Serve uniform random slates to ``num_users`` users for ``days`` days on the platform view."""
    platform = Platform(**{**env_kwargs, "num_users": num_users, "days": days})
    platform.reset(seed=seed)
    k = platform.config.slate_size
    c = platform.config.num_candidates
    rng = np.random.default_rng(seed)
    users, minutes, index = [], [], []
    clicks = purchases = 0
    while not platform.finished:
        while (batch := platform.requests()) is not None:
            slates = np.argsort(rng.random((batch.size, c)), axis=1)[:, :k]
            outcome = platform.serve(slates)
            users.append(batch.rows)
            minutes.append(batch.minute)
            index.append(outcome.session_index)
            clicks += int(outcome.clicks.sum())
            purchases += int(outcome.purchases.sum())
        platform.next_slot()
    user = np.concatenate(users) if users else np.zeros(0, np.int64)
    minute = np.concatenate(minutes) if minutes else np.zeros(0)
    sess = np.concatenate(index) if index else np.zeros(0, np.int64)
    order = np.lexsort((minute, sess, user))
    user, minute, sess = user[order], minute[order], sess[order]
    new = np.ones(user.size, bool)
    new[1:] = (user[1:] != user[:-1]) | (sess[1:] != sess[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], user.size) - 1
    sessions = Sessions(user[starts], minute[starts], minute[ends], ends - starts + 1)
    return SimulatedLog(sessions, num_users, clicks, purchases, days)


def fit_by_simulation(
    env_kwargs: dict[str, Any],
    mean_length: float,
    conversion: float | None,
    num_users: int = 300,
    days: int = 3,
    iterations: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """``leave_bias`` (and ``purchase_bias`` if ``conversion`` is given) by bisection.

    A higher ``leave_bias`` shortens sessions; a higher ``purchase_bias`` raises purchases per click.
    Both searches share each simulated run (purchases do not feed back into sessions).
    """
    leave = [-8.0, 4.0]
    buy = [-10.0, 6.0]
    kwargs = dict(env_kwargs.get("user_model_kwargs", {}))
    result: dict[str, float] = {}
    for _ in range(iterations):
        kwargs["leave_bias"] = 0.5 * sum(leave)
        if conversion is not None:
            kwargs["purchase_bias"] = 0.5 * sum(buy)
        log = simulate_sessions({**env_kwargs, "user_model_kwargs": kwargs}, num_users, days, seed)
        sim_len = float(log.sessions.length.mean()) if log.sessions.length.size else 0.0
        if sim_len > mean_length:
            leave[0] = kwargs["leave_bias"]
        else:
            leave[1] = kwargs["leave_bias"]
        if conversion is not None and log.clicks:
            if log.purchases / log.clicks < conversion:
                buy[0] = kwargs["purchase_bias"]
            else:
                buy[1] = kwargs["purchase_bias"]
    result["leave_bias"] = round(0.5 * sum(leave), 3)
    if conversion is not None:
        result["purchase_bias"] = round(0.5 * sum(buy), 3)
    return result
