"""The reset and the observation of the default world, row by row (compiled), and the layout of
the world's settings that every kernel reads (the step is in :mod:`slategym.kernels.step`).

``reset_rows`` is :meth:`~slategym.simulator.Simulator.reset` and ``observe_rows``
:meth:`~slategym.simulator.Simulator.observe` for a world the compiled path covers
(:func:`slategym.kernels.dispatch.reason_not_compiled`). Each row reads one block of its random
stream with the simulator's layout, so a row's trajectory is the general path's, bit for bit. The
kernels work on rows ``lo .. hi - 1`` only, so that a vector env can split its rows between threads
(they release the GIL); every row depends on its own inputs alone, so the result does not depend on
how the rows are split.
"""

from __future__ import annotations

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels import xp
from slategym.kernels._atomic import fetch_add
from slategym.kernels._jit import jit_kernel
from slategym.kernels.dynamic import advance_row, normals_scratch

PARAMS = (
    "quality_weight", "popularity_weight", "fatigue_weight", "fatigue_decay", "interest_drift",
    "purchase_bias", "purchase_affinity", "purchase_quality", "dwell_minutes", "dwell_affinity",
    "dwell_cap", "satisfaction_rate", "leave_bias", "leave_satisfaction", "leave_streak",
    "churn_bias", "churn_satisfaction", "return_satisfaction",
)  # fmt: skip
"""The default user model's parameters the step kernel reads (the ``up`` vector), in this order
(``layout.model_params``)."""
# Indices of PARAMS in the ``up`` vector.
(W_Q, W_P, W_F, DECAY, DRIFT, B_0, B_A, B_Q, D_MEAN, D_AFF, D_CAP, SAT_RATE,
 L_0, L_S, L_N, C_0, C_S, OMEGA) = range(18)  # fmt: skip
# Integer settings of the world in the ``iw`` vector.
(I_USERS, I_DAYS, I_MAX_STEPS, I_SESSION_EPISODES, I_STRICT, I_LIVE, I_NEW_PER_DAY,
 I_U_CHOICE, I_U_USER, I_U_NEXT, I_STEP_UNIFORMS, I_KIND) = range(12)  # fmt: skip
# Float settings of the world in the ``fw`` vector.
F_HORIZON, F_STEP_MINUTES, F_MIN_GAP, F_LAST_MINUTE = range(4)


def reset_workspace(d: int) -> np.ndarray:
    """Scratch of one :func:`reset_rows` call (``d`` latent dimensions)."""
    return np.empty(2 + 2 * (R.HOURS + 1) + normals_scratch(d))


@jit_kernel
def reset_rows(
    lo: int,
    hi: int,
    iw: np.ndarray,
    fw: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    hour_profile: np.ndarray,
    activity: np.ndarray,
    pop_interests: np.ndarray,
    initial_satisfaction: np.ndarray,
    drift_key: np.ndarray,
    trend_key: np.ndarray,
    dyn: np.ndarray,
    keys: np.ndarray,
    counters: np.ndarray,
    given_ids: np.ndarray,
    rows: np.ndarray,
    key: np.ndarray,
    counter: np.ndarray,
    clock: np.ndarray,
    session_index: np.ndarray,
    session_step: np.ndarray,
    candidates: np.ndarray,
    history_ids: np.ndarray,
    history_response: np.ndarray,
    done: np.ndarray,
    user_id: np.ndarray,
    interests: np.ndarray,
    fatigue: np.ndarray,
    satisfaction: np.ndarray,
    streak: np.ndarray,
    x_day: np.ndarray,
    x_hour: np.ndarray,
    work_f: np.ndarray,
) -> None:
    """Start entries ``lo .. hi - 1`` of ``keys``/``counters`` at their user's first session
    (``Simulator.reset``), written into state row ``rows[i]``; ``given_ids[i] >= 0`` chooses the user
    (``options={"user_id": ...}``), ``-1`` draws one; ``work_f`` is scratch
    (:func:`reset_workspace`)."""
    num_users = iw[I_USERS]
    days = iw[I_DAYS]
    n_uniforms = 2  # the user and the first arrival; draw_candidates draws the candidates' own
    u = work_f[0:n_uniforms]
    rate = work_f[n_uniforms : n_uniforms + R.HOURS + 1]
    cum = work_f[n_uniforms + R.HOURS + 1 : n_uniforms + 2 * (R.HOURS + 1)]
    normals_work = work_f[n_uniforms + 2 * (R.HOURS + 1) :]  # the dynamic user's drift
    for i in range(lo, hi):
        r = rows[i]
        base = R.stream_base(keys[i], counters[i])
        R.fill_uniforms(base, 0, n_uniforms, u)
        uid = given_ids[i]
        if uid < 0:
            uid = min(np.int64(u[0] * num_users), num_users - 1)
        daily = activity[uid]
        upper = days * daily
        draw = -xp.log1p(-u[1] * -xp.expm1(-upper))
        first = R.arrival_after(0.0, hour_profile, uid, daily, draw, rate, cum)
        first = min(first, fw[F_LAST_MINUTE])
        day = R.day_hour(first)[0]
        key[r] = keys[i]
        counter[r] = counters[i] + np.uint64(1)
        clock[r] = first
        session_index[r] = 0
        session_step[r] = 0
        R.draw_candidates(
            base, 2, iw[I_LIVE], iw[I_NEW_PER_DAY], day, starts, sizes, candidates, r
        )
        for j in range(history_ids.shape[1]):
            history_ids[r, j] = -1
            history_response[r, j, 0] = 0.0
            history_response[r, j, 1] = 0.0
        done[r] = False
        user_id[r] = uid
        for q in range(interests.shape[1]):
            interests[r, q] = pop_interests[uid, q]
        for q in range(fatigue.shape[1]):
            fatigue[r, q] = 0.0
        satisfaction[r] = initial_satisfaction[uid]
        streak[r] = 0
        if x_day.shape[0] > 0:  # the dynamic user: drifted from day 0 to the first arrival
            x_day[r], x_hour[r] = advance_row(
                interests, r, uid, 0, first, drift_key, trend_key, dyn, normals_work
            )


@jit_kernel
def observe_rows(
    lo: int,
    hi: int,
    clock: np.ndarray,
    session_step: np.ndarray,
    candidates: np.ndarray,
    history_ids: np.ndarray,
    history_response: np.ndarray,
    user_id: np.ndarray,
    features: np.ndarray,
    topic: np.ndarray,
    profile: np.ndarray,
    days: int,
    max_session_steps: int,
    ob_user: np.ndarray,
    ob_candidates: np.ndarray,
    ob_ids: np.ndarray,
    ob_topics: np.ndarray,
    ob_history_ids: np.ndarray,
    ob_history: np.ndarray,
    ob_history_response: np.ndarray,
    ob_time: np.ndarray,
) -> None:
    """The observation of rows ``lo .. hi - 1`` (``Simulator.observe`` with the default user's
    ``user`` entry, the observable profile); outputs with no rows are skipped (the keys of the
    other observation mode)."""
    # one pass over the rows per output (contiguous copies, as numpy's take/copy do them)
    p, f = profile.shape[1], features.shape[1]
    c, length = candidates.shape[1], history_ids.shape[1]
    for r in range(lo, hi):
        uid = user_id[r]
        for q in range(p):
            ob_user[r, q] = profile[uid, q]
        day, hour = R.day_hour(clock[r])
        ob_time[r, 0] = np.float32(min(day, days - 1))
        ob_time[r, 1] = np.float32(hour)
        ob_time[r, 2] = np.float32(min(session_step[r], max_session_steps - 1))
    for r in range(lo, hi):
        for j in range(c):
            ob_ids[r, j] = candidates[r, j]
    for r in range(lo, hi):
        for j in range(c):
            ob_topics[r, j] = topic[candidates[r, j]]
    for r in range(lo, hi):
        for j in range(length):
            ob_history_ids[r, j] = history_ids[r, j]
    if ob_candidates.shape[0] > 0:  # observation="full": the feature copies
        for r in range(lo, hi):
            for j in range(c):
                item = candidates[r, j]
                for q in range(f):
                    ob_candidates[r, j, q] = features[item, q]
        for r in range(lo, hi):
            for j in range(length):
                item = history_ids[r, j]
                for q in range(f):
                    ob_history[r, j, q] = features[item, q]  # -1: the last row, zeros
                ob_history[r, j, f] = history_response[r, j, 0]
                ob_history[r, j, f + 1] = history_response[r, j, 1]
    if ob_history_response.shape[0] > 0:  # observation="ids"
        for r in range(lo, hi):
            for j in range(length):
                ob_history_response[r, j, 0] = history_response[r, j, 0]
                ob_history_response[r, j, 1] = history_response[r, j, 1]


@jit_kernel
def observe_chunks(counter: np.ndarray, chunk: int, n: int, *args: object) -> int:
    """:func:`observe_rows` of rows ``0 .. n - 1`` (``args``: its arguments after the row range) by
    chunks of ``chunk`` rows, each claimed from ``counter`` (``(1,)`` int64, starting at 0) with an
    atomic increment: several threads can run this on the same arguments, each taking the chunks
    no other has taken, the one that starts late taking fewer (``CompiledWorld.observe_begin``).
    Returns how many chunks this call did. Called through numba's dispatcher, which packs ``args``
    (a compiled entry point would need them flattened)."""
    done = 0
    while True:
        i = fetch_add(counter, 1)
        lo = i * chunk
        if lo >= n:
            return done
        observe_rows(lo, min(lo + chunk, n), *args)
        done += 1
