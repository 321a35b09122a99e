r"""Fit the timeline side of the default user model to an event log.

## Description

From events (user, local minute, type) this module derives sessions and fits:

* **session split**: sessions are runs of a user's events separated by less than an inactivity gap
  ``g``. ``g`` is where a two-component Gaussian mixture on the log inter-event times (within-session
  vs between-session gaps) switches component, clipped to [5, 240] minutes (30 if there are fewer
  than 20 gaps). It becomes ``min_return_gap_minutes``: no simulated session starts closer than ``g``
  to the previous one, as no real one does by construction.
* **hour-of-day profile**: the share of session starts per local hour, fitted as a mixture of the
  three built-in chronotype profiles (:data:`slategym.timeline.CHRONOTYPES`) by EM where each user
  belongs to one chronotype (their session starts are i.i.d. draws from its profile). The mixture
  weights are ``chronotype_weights``; ``chronotype_age_effect=0`` makes the simulated shares equal
  them. The default model's profile *shapes* are fixed: a real profile that no mixture of them
  matches is reported (free-profile TV vs mixture TV) rather than faked.
* **sessions per day**: each user's session count over the window of ``T`` days is modelled as
  zero-truncated Poisson with a log-normal rate, :math:`n_u \sim \mathrm{Poisson}(\lambda_u T)`,
  :math:`\lambda_u \sim \mathrm{LogNormal}(\log \bar\lambda, \sigma^2)`, observed only when
  :math:`n_u \ge 1` (users with no event are not in a log); maximum likelihood over
  :math:`(\bar\lambda, \sigma)` by Gauss–Hermite quadrature gives ``mean_sessions_per_day`` and
  ``activity_dispersion``.
* **session length** (events per session, one event = one slate request) and the **click → purchase
  rate** are fitted by simulation in :mod:`slategym.calibration.simulate` (``leave_bias``,
  ``purchase_bias``).

## Example

>>> import numpy as np
>>> user = np.array([0, 0, 0, 1, 1])
>>> minute = np.array([0.0, 5.0, 600.0, 60.0, 61.0])
>>> s = sessions(user, minute, gap=30.0)
>>> s.length.tolist(), s.start_minute.tolist()
([2, 1, 2], [0.0, 600.0, 60.0])

## Version History

* v1: initial version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, logsumexp, roots_hermite

from slategym.timeline import CHRONOTYPES, chronotype_profiles


@dataclass(frozen=True)
class Sessions:
    """Sessions of an event log, in order of user then time."""

    user: np.ndarray  # (S,) int64
    start_minute: np.ndarray  # (S,) float64
    end_minute: np.ndarray  # (S,) float64 (last event)
    length: np.ndarray  # (S,) int64 events

    @property
    def start_hour(self) -> np.ndarray:
        return (np.floor(self.start_minute / 60.0) % 24).astype(np.int64)

    def return_gaps(self) -> np.ndarray:
        """Minutes from the end of a session to the start of the same user's next session."""
        same = self.user[1:] == self.user[:-1]
        return (self.start_minute[1:] - self.end_minute[:-1])[same]

    def per_user(self, num_users: int) -> np.ndarray:
        """``(U,)`` sessions per user."""
        return np.bincount(self.user, minlength=num_users)


def sessions(user: np.ndarray, minute: np.ndarray, gap: float) -> Sessions:
    """Split events (sorted by user, then time) into sessions at inactivity gaps ``>= gap`` minutes."""
    user = np.asarray(user, np.int64)
    minute = np.asarray(minute, np.float64)
    new = np.ones(user.size, bool)
    new[1:] = (user[1:] != user[:-1]) | (np.diff(minute) >= gap)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], user.size) - 1
    return Sessions(user[starts], minute[starts], minute[ends], ends - starts + 1)


def choose_gap(user: np.ndarray, minute: np.ndarray, default: float = 30.0) -> float:
    """Inactivity gap (minutes) separating sessions: see the module docstring."""
    same = np.asarray(user)[1:] == np.asarray(user)[:-1]
    gaps = np.diff(np.asarray(minute, np.float64))[same]
    gaps = gaps[gaps > 0]
    if gaps.size < 20:
        return default
    x = np.log(gaps)
    lo, hi = np.percentile(x, [25, 75])
    mu, sd, w = np.array([lo, hi]), np.full(2, max(x.std() / 2, 0.1)), np.full(2, 0.5)
    for _ in range(200):  # EM for a 2-component Gaussian mixture
        logp = np.log(w) - np.log(sd) - 0.5 * ((x[:, None] - mu) / sd) ** 2
        r = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
        nk = r.sum(axis=0) + 1e-12
        w, mu = nk / x.size, (r * x[:, None]).sum(axis=0) / nk
        sd = np.sqrt((r * (x[:, None] - mu) ** 2).sum(axis=0) / nk) + 1e-3
    order = np.argsort(mu)
    mu, sd, w = mu[order], sd[order], w[order]
    grid = np.linspace(mu[0], mu[1], 400)
    logp = np.log(w) - np.log(sd) - 0.5 * ((grid[:, None] - mu) / sd) ** 2
    switch = np.flatnonzero(logp[:, 1] > logp[:, 0])
    cut = grid[switch[0]] if switch.size else 0.5 * (mu[0] + mu[1])
    return float(np.clip(np.exp(cut), 5.0, 240.0))


def hour_histogram(hours: np.ndarray) -> np.ndarray:
    """``(24,)`` shares of ``hours`` (zeros if empty)."""
    counts = np.bincount(np.asarray(hours, np.int64), minlength=24).astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def fit_chronotypes(user: np.ndarray, hours: np.ndarray, iterations: int = 500) -> np.ndarray:
    """Mixture weights ``(3,)`` over :data:`CHRONOTYPES` by EM, one chronotype per user.

    >>> import numpy as np
    >>> from slategym.timeline import chronotype_profiles
    >>> rng = np.random.default_rng(0)
    >>> hours = np.concatenate([rng.choice(24, 30, p=chronotype_profiles()[c]) for c in [0] * 30 + [2] * 10])
    >>> w = fit_chronotypes(np.repeat(np.arange(40), 30), hours)  # 30 morning, 10 night users
    >>> bool(np.abs(w - [0.75, 0.0, 0.25]).max() < 0.02)
    True
    """
    profiles = chronotype_profiles()  # (3, 24)
    user = np.asarray(user, np.int64)
    counts = np.zeros((user.max() + 1, 24))
    np.add.at(counts, (user, np.asarray(hours, np.int64)), 1.0)
    counts = counts[counts.sum(axis=1) > 0]
    loglik = counts @ np.log(profiles).T  # (U, 3)
    w = np.full(len(CHRONOTYPES), 1.0 / len(CHRONOTYPES))
    for _ in range(iterations):
        logp = loglik + np.log(np.maximum(w, 1e-300))
        r = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
        new = r.mean(axis=0)
        if np.abs(new - w).max() < 1e-10:
            w = new
            break
        w = new
    return np.asarray(w)


def mixture_profile(weights: np.ndarray) -> np.ndarray:
    """``(24,)`` population hour profile of chronotype ``weights``."""
    return np.asarray(weights) @ chronotype_profiles()


def fit_activity(counts: np.ndarray, days: float, nodes: int = 40) -> tuple[float, float]:
    """``(mean_sessions_per_day, activity_dispersion)`` by zero-truncated Poisson–log-normal ML.

    ``counts`` are the session counts of the users seen (all >= 1) over a window of ``days``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> n = rng.poisson(np.exp(np.log(0.5) + 0.6 * rng.normal(size=5000)) * 10)
    >>> [round(v, 1) for v in fit_activity(n[n > 0], 10.0)]
    [0.5, 0.6]
    """
    counts = np.asarray(counts, np.float64)
    counts = counts[counts >= 1]
    if counts.size == 0 or days <= 0:
        raise ValueError("fit_activity needs at least one user with a session and days > 0")
    counts, mult = np.unique(counts, return_counts=True)
    z, wq = roots_hermite(nodes)
    logw = np.log(wq / np.sqrt(np.pi))

    def nll(theta: np.ndarray) -> float:
        mu, log_sigma = theta
        sigma = np.exp(log_sigma)
        rate = np.exp(mu + np.sqrt(2.0) * sigma * z) * days  # (Q,)
        logpois = counts[:, None] * np.log(rate) - rate - gammaln(counts + 1.0)[:, None]
        log_p = logsumexp(logpois + logw, axis=1)
        log_zero = logsumexp(-rate + logw)
        return float(-(mult * (log_p - np.log1p(-np.exp(log_zero)))).sum())

    start = np.array([np.log((mult * counts).sum() / mult.sum() / days), np.log(0.5)])
    res = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-7, "maxiter": 2000})
    mu, log_sigma = res.x
    sigma = float(min(np.exp(log_sigma), 3.0))
    return float(np.exp(mu)), sigma


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance ``0.5 * sum |p - q|`` between two histograms (normalised here)."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


LENGTH_BINS = np.array([1, 2, 3, 4, 6, 11, 21, 51, 10**9])
"""Session-length bins (events): 1, 2, 3, 4-5, 6-10, 11-20, 21-50, 51+."""
GAP_BINS = np.array([0, 60, 180, 720, 1440, 2880, 10080, 43200, 10**12], np.float64)
"""Return-gap bins (minutes): <1 h, 1-3 h, 3-12 h, 12-24 h, 1-2 d, 2-7 d, 7-30 d, 30 d+."""
COUNT_BINS = np.array([1, 2, 3, 4, 6, 11, 21, 10**9])
"""Sessions-per-user bins: 1, 2, 3, 4-5, 6-10, 11-20, 21+."""


def histogram(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in ``[bins[i], bins[i+1])``."""
    return np.histogram(np.asarray(values, np.float64), bins=np.asarray(bins, np.float64))[0].astype(np.float64)
