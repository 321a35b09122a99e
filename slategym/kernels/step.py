"""The fused step of the default world, row by row (compiled).

``step_rows`` is :meth:`slategym.simulator.Simulator.step` for a world built from
:class:`~slategym.items.DefaultItemModel` (fresh candidates every request),
:class:`~slategym.users.DefaultUserModel`, any built-in choice model (:mod:`slategym.kernels.choice`)
and a named or weighted reward (:class:`~slategym.rewards.WeightedReward`). Each row reads one block
of its random stream with the simulator's layout, so a row's trajectory is the general path's, bit
for bit; the model formulas are the very functions the numpy path calls
(``slategym.users.default.affinity``, ...), compiled. The dynamic user
(:class:`~slategym.users.DynamicUserModel`) adds its hour-of-day term and its day-to-day drift
(:mod:`slategym.kernels.dynamic`).

It works on rows ``lo .. hi - 1`` only, so that a vector env can split its rows between threads
(the kernel releases the GIL); every row depends on its own inputs alone, so the result does not
depend on how the rows are split. It never raises: a row whose slate holds an index outside
``[0, C)`` or repeats a candidate under ``strict_slates``, or whose affinities, probabilities or
reward fail the output checks, stops the kernel with a code (:data:`BAD_SLATE`, ...) and its row,
and the caller re-runs the general path, which raises the usual error.
"""

from __future__ import annotations

import math

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels._jit import jit, jit_kernel, jitable
from slategym.kernels._npmath import einsum_dot, pairwise_sum, vexp, vlog1p, vsigmoid
from slategym.kernels.choice import sample_from, transcendental_args, transform
from slategym.kernels.dynamic import HOUR_WEIGHT, advance_row, normals_scratch
from slategym.kernels.world import (
    B_0,
    B_A,
    B_Q,
    C_0,
    C_S,
    D_AFF,
    D_CAP,
    D_MEAN,
    DECAY,
    DRIFT,
    F_HORIZON,
    F_MIN_GAP,
    F_STEP_MINUTES,
    I_DAYS,
    I_KIND,
    I_LIVE,
    I_MAX_STEPS,
    I_NEW_PER_DAY,
    I_SESSION_EPISODES,
    I_STEP_UNIFORMS,
    I_STRICT,
    I_U_CHOICE,
    I_U_NEXT,
    I_U_USER,
    L_0,
    L_N,
    L_S,
    OMEGA,
    SAT_RATE,
    W_F,
    W_P,
    W_Q,
)  # fmt: skip
from slategym.users import default as user

for _formula in (
    user.affinity, user.buy_logit, user.dwell_from, user.satisfaction_after,
    user.interests_after, user.leave_logit, user.churn_logit, user.return_exponent,
):  # fmt: skip
    jitable(_formula)  # the numpy path's formulas, compiled where the kernels call them

OK, STRICT_DUPLICATE, BAD_PROBABILITIES, BAD_AFFINITY, BAD_REWARD, BAD_SLATE = 0, 1, 2, 3, 4, 5
"""Status codes of :func:`step_rows` (the first failing row is returned beside the code)."""
BAD_RESPONSE = 6
"""Status code of ``recsim.step_rows``: a user's dwell time is not finite minutes >= 0."""


BLOCK_ROWS = 64
"""Rows per block of :func:`step_rows` (each block calls numpy's transcendental loops once)."""


def step_workspace(
    iw: np.ndarray, k: int, d: int, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays of one :func:`step_rows` call (float64, int64, bool) for slates of size
    ``k``, ``d`` latent dimensions and ``t`` topics (one set per thread: the kernels do not
    allocate)."""
    blocks = BLOCK_ROWS * (iw[I_STEP_UNIFORMS] - iw[I_U_CHOICE] + 6 * k + 5)
    row = 3 * k + 1 + 2 * (R.HOURS + 1) + d + normals_scratch(d)
    ints, bools = BLOCK_ROWS * k + k, 2 * BLOCK_ROWS * k + k
    return np.empty(blocks + row), np.empty(ints, np.int64), np.empty(bools, np.bool_)


@jit
def _row_views(
    b: int,
    nr: int,
    k: int,
    u_blk: np.ndarray,
    items_blk: np.ndarray,
    valid_blk: np.ndarray,
    clicks_blk: np.ndarray,
    a_blk: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row ``b`` of a block's scratch: its uniforms, items, valid and click flags, affinities."""
    return (
        u_blk[b * nr : (b + 1) * nr],
        items_blk[b * k : (b + 1) * k],
        valid_blk[b * k : (b + 1) * k],
        clicks_blk[b * k : (b + 1) * k],
        a_blk[b * k : (b + 1) * k],
    )


@jit_kernel
def step_rows(
    lo: int,
    hi: int,
    iw: np.ndarray,
    fw: np.ndarray,
    up: np.ndarray,
    cp: np.ndarray,
    gamma: np.ndarray,
    reward_codes: np.ndarray,
    reward_weights: np.ndarray,
    item_table: np.ndarray,
    topic: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    hour_profile: np.ndarray,
    activity: np.ndarray,
    price_sensitivity: np.ndarray,
    patience: np.ndarray,
    hour_topic: np.ndarray,
    drift_key: np.ndarray,
    trend_key: np.ndarray,
    dyn: np.ndarray,
    slates: np.ndarray,
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
    o_key: np.ndarray,
    o_user_id: np.ndarray,
    o_counter: np.ndarray,
    o_clock: np.ndarray,
    o_session_index: np.ndarray,
    o_session_step: np.ndarray,
    o_candidates: np.ndarray,
    o_history_ids: np.ndarray,
    o_history_response: np.ndarray,
    o_done: np.ndarray,
    o_interests: np.ndarray,
    o_fatigue: np.ndarray,
    o_satisfaction: np.ndarray,
    o_streak: np.ndarray,
    o_x_day: np.ndarray,
    o_x_hour: np.ndarray,
    item_ids: np.ndarray,
    valid: np.ndarray,
    n_dup: np.ndarray,
    aff: np.ndarray,
    clicks: np.ndarray,
    purchases: np.ndarray,
    dwell: np.ndarray,
    reward: np.ndarray,
    ended: np.ndarray,
    churned: np.ndarray,
    truncated: np.ndarray,
    day_out: np.ndarray,
    hour_out: np.ndarray,
    work_f: np.ndarray,
    work_i: np.ndarray,
    work_b: np.ndarray,
) -> tuple[int, int]:
    """Serve ``slates[r]`` to rows ``lo .. hi - 1``: the next state into the ``o_*`` arrays (which
    may be the input arrays for ``o_key`` and ``o_user_id``, never for the others), the outcome
    into the others; ``work_*`` are scratch (:func:`step_workspace`). Returns ``(status, row)``;
    on a status other than :data:`OK` the outputs are incomplete and the caller runs the general
    path."""
    k = slates.shape[1]
    d = interests.shape[1]
    t = fatigue.shape[1]
    num_live = iw[I_LIVE]
    # the dynamic user (kernels.dynamic): extra state, and an hour-of-day term unless its weight is 0
    dynamic = x_day.shape[0] > 0
    by_hour = dynamic and dyn[HOUR_WEIGHT] != 0.0
    days = iw[I_DAYS]
    nu, uc0, uu = iw[I_STEP_UNIFORMS], iw[I_U_CHOICE], iw[I_U_USER]
    # scratch, in step_workspace's layout: per-row blocks of BLOCK_ROWS rows (uniforms,
    # affinities, the slate, the response's transcendental terms), then one row's scratch
    at = 0
    # a row's uniforms from the choice's on (the candidates' are drawn by draw_candidates):
    # u[i] is uniform uc0 + i of the row's block
    nr, uo, un = nu - uc0, uu - uc0, iw[I_U_NEXT] - uc0
    u_blk = work_f[at : at + BLOCK_ROWS * nr]
    at += BLOCK_ROWS * nr
    a_blk = work_f[at : at + BLOCK_ROWS * k]
    at += BLOCK_ROWS * k
    sig_blk = work_f[at : at + BLOCK_ROWS * 2 * k]  # buy logits, then happiness arguments
    at += BLOCK_ROWS * 2 * k
    growth_blk = work_f[at : at + BLOCK_ROWS * k]
    at += BLOCK_ROWS * k
    surv_blk = work_f[at : at + BLOCK_ROWS * (k + 1)]  # log(1 - u): the dwells', the return's
    at += BLOCK_ROWS * (k + 1)
    leave_blk = work_f[at : at + BLOCK_ROWS * 2]  # the leave and churn probabilities
    at += BLOCK_ROWS * 2
    return_blk = work_f[at : at + BLOCK_ROWS]  # the return multiplier
    at += BLOCK_ROWS
    choice_blk = work_f[at : at + BLOCK_ROWS * (k + 1)]  # the choice model's transcendental terms
    at += BLOCK_ROWS * (k + 1)
    kind = iw[I_KIND]
    scratch = work_f[at : at + k + 1]
    at += k + 1
    happy = work_f[at : at + k]
    dwell_row = work_f[at + k : at + 2 * k]
    at += 2 * k
    rate = work_f[at : at + R.HOURS + 1]
    cum = work_f[at + R.HOURS + 1 : at + 2 * (R.HOURS + 1)]
    at += 2 * (R.HOURS + 1)
    pulled = work_f[at : at + d]
    at += d
    normals_work = work_f[at : at + normals_scratch(d)]  # the dynamic user's drift
    items_blk = work_i[0 : BLOCK_ROWS * k]
    clicked_topics = work_i[BLOCK_ROWS * k : BLOCK_ROWS * k + k]
    valid_blk = work_b[0 : BLOCK_ROWS * k]
    clicks_blk = work_b[BLOCK_ROWS * k : 2 * BLOCK_ROWS * k]
    buys = work_b[2 * BLOCK_ROWS * k : 2 * BLOCK_ROWS * k + k]
    # The rows go in blocks, in three passes per block, so that numpy's transcendental loops
    # (called for exact rounding, see _npmath) run once per block instead of once per row (a call
    # for a single value costs 25 to 36 times a value in a call for many;
    # scripts/numpy_loop_calls.py):
    # 1. slate, affinities (-> the choice model's exp or sigmoid); clicks; the purchase, dwell,
    #    happiness and return-time terms -> sigmoid/exp/log1p
    # 2. the response up to the leave and churn probabilities and the return multiplier
    #    -> sigmoid/exp, for every row (a row whose session goes on ignores the last two)
    # 3. the session decisions and the simulator's bookkeeping
    # the arguments of R.finish_row, in its tuples
    settings = (iw[I_SESSION_EPISODES] != 0, fw[F_HORIZON], days, num_live, iw[I_NEW_PER_DAY])
    world = (starts, sizes, reward_codes, reward_weights)
    state = (key, counter, clock, session_index, session_step, history_ids, history_response, done)
    nxt = (
        o_key, o_user_id, o_counter, o_clock, o_session_index, o_session_step, o_candidates,
        o_history_ids, o_history_response, o_done,
    )  # fmt: skip
    outcome = (
        item_ids, valid, aff, clicks, purchases, dwell, reward, ended, churned, truncated, day_out,
        hour_out,
    )  # fmt: skip
    for r0 in range(lo, hi, BLOCK_ROWS):
        r1 = min(r0 + BLOCK_ROWS, hi)
        nb = r1 - r0
        for r in range(r0, r1):
            b = r - r0
            u, items, valid_row, clicks_row, a_row = _row_views(
                b, nr, k, u_blk, items_blk, valid_blk, clicks_blk, a_blk
            )
            base = R.stream_base(key[r], counter[r])
            R.fill_uniforms(base, uc0, nr, u)
            live = not done[r]
            dups = R.read_slate(slates, r, candidates, items, valid_row)
            if dups < 0:
                return BAD_SLATE, r
            n_dup[r] = dups
            if dups and iw[I_STRICT]:
                return STRICT_DUPLICATE, r
            # affinities (zero on a row with no pending request, as the general path does)
            for j in range(k):
                item = items[j]
                match = einsum_dot(item_table, item, interests, r, d)
                a = user.affinity(
                    match, item_table[item, d], item_table[item, d + 1], fatigue[r, topic[item]],
                    up[W_Q], up[W_P], up[W_F],
                )  # fmt: skip
                if by_hour:  # DynamicUserModel.affinity
                    a += hour_topic[x_hour[r], topic[item]]
                if live and not math.isfinite(a):
                    return BAD_AFFINITY, r
                a_row[j] = a if live else 0.0
            transcendental_args(kind, cp, a_row, k, choice_blk[b * (k + 1) : (b + 1) * (k + 1)])
        transform(kind, choice_blk, nb * (k + 1))  # for the whole block
        for r in range(r0, r1):
            b = r - r0
            u, items, valid_row, clicks_row, a_row = _row_views(
                b, nr, k, u_blk, items_blk, valid_blk, clicks_blk, a_blk
            )
            terms = choice_blk[b * (k + 1) : (b + 1) * (k + 1)]
            status = sample_from(
                kind, cp, gamma, a_row, terms, k, u[0:uo], valid_row, clicks_row, scratch
            )
            if status:
                return BAD_PROBABILITIES, r
            # DefaultUserModel.respond: the arguments of buy_probability's and the happiness's
            # sigmoids, of dwell_minutes's exp and log1p
            rho = price_sensitivity[user_id[r]]
            for j in range(k):
                item = items[j]
                a = a_row[j]
                q = item_table[item, d]
                sig_blk[b * 2 * k + j] = user.buy_logit(
                    a, q, item_table[item, d + 2], rho, up[B_0], up[B_A], up[B_Q]
                )
                sig_blk[b * 2 * k + k + j] = a + q
                growth_blk[b * k + j] = up[D_AFF] * a
                surv_blk[b * (k + 1) + j] = -u[uo + k + j]
            surv_blk[b * (k + 1) + k] = -u[un]  # the exponential draw of the next arrival
        vsigmoid(sig_blk, sig_blk, nb * 2 * k)
        vexp(growth_blk, growth_blk, nb * k)
        vlog1p(surv_blk, surv_blk, nb * (k + 1))
        for r in range(r0, r1):
            b = r - r0
            u, items, valid_row, clicks_row, a_row = _row_views(
                b, nr, k, u_blk, items_blk, valid_blk, clicks_blk, a_blk
            )
            n_clicks = 0
            for j in range(k):
                c = clicks_row[j]
                happy[j] = c * sig_blk[b * 2 * k + k + j]
                n_clicks += c
            happiness = pairwise_sum(happy, 0, k, 1) / max(n_clicks, 1)
            sat = user.satisfaction_after(satisfaction[r], happiness, up[SAT_RATE])
            s_streak = 0 if n_clicks > 0 else streak[r] + 1
            if up[DRIFT]:
                # the sum's first term written with its start (0.0 + x, as the sum computes it:
                # zeroing the row first, element by element, stalled the vector loads below on
                # store forwarding)
                c0, row0 = np.float64(clicks_row[0]), items[0]
                for q in range(d):
                    pulled[q] = 0.0 + c0 * item_table[row0, q]
                for j in range(1, k):
                    cj = np.float64(clicks_row[j])
                    row = items[j]
                    for q in range(d):
                        pulled[q] = pulled[q] + cj * item_table[row, q]
                for q in range(d):
                    o_interests[r, q] = user.interests_after(
                        interests[r, q], pulled[q], np.float64(n_clicks), up[DRIFT]
                    )
            else:
                for q in range(d):
                    o_interests[r, q] = interests[r, q]
            if up[W_F]:  # decayed + clicks per topic (counted first, as np.bincount does)
                n_topics = 0
                for j in range(k):
                    if clicks_row[j]:
                        clicked_topics[n_topics] = topic[items[j]]
                        n_topics += 1
                for q in range(t):
                    count = 0
                    for i in range(n_topics):
                        count += clicked_topics[i] == q
                    o_fatigue[r, q] = up[DECAY] * fatigue[r, q] + np.float64(count)
            else:
                for q in range(t):
                    o_fatigue[r, q] = up[DECAY] * fatigue[r, q]
            leave_blk[2 * b] = user.leave_logit(
                sat, s_streak, patience[user_id[r]], up[L_0], up[L_S], up[L_N]
            )
            leave_blk[2 * b + 1] = user.churn_logit(sat, up[C_0], up[C_S])
            return_blk[b] = user.return_exponent(sat, up[OMEGA])
            o_satisfaction[r] = sat
            o_streak[r] = s_streak
        vsigmoid(leave_blk, leave_blk, 2 * nb)
        vexp(return_blk, return_blk, nb)
        for r in range(r0, r1):
            b = r - r0
            u, items, valid_row, clicks_row, a_row = _row_views(
                b, nr, k, u_blk, items_blk, valid_blk, clicks_blk, a_blk
            )
            uid = user_id[r]
            for j in range(k):
                c = clicks_row[j]
                buys[j] = c and u[uo + j] < sig_blk[b * 2 * k + j]
                dw = user.dwell_from(
                    growth_blk[b * k + j], surv_blk[b * (k + 1) + j], up[D_MEAN], up[D_CAP]
                )
                dwell_row[j] = dw if c else 0.0
            full = session_step[r] + 1 >= iw[I_MAX_STEPS]
            end = full or u[uo + 2 * k] < leave_blk[2 * b]
            churn = end and u[uo + 2 * k + 1] < leave_blk[2 * b + 1]
            if end:
                for q in range(t):
                    o_fatigue[r, q] = 0.0
                o_streak[r] = 0
            # the simulator's bookkeeping (Simulator.step)
            for j in range(k):
                buys[j] = buys[j] and clicks_row[j]
            new_clock = clock[r] + fw[F_STEP_MINUTES] + pairwise_sum(dwell_row, 0, k, 1)
            if end and not churn and not iw[I_SESSION_EPISODES]:
                new_clock = R.arrival_after(
                    new_clock + fw[F_MIN_GAP],
                    hour_profile,
                    uid,
                    activity[uid] * return_blk[b],
                    -surv_blk[b * (k + 1) + k],
                    rate,
                    cum,
                )
            if dynamic:  # DynamicUserModel.advance, after respond
                o_x_day[r], o_x_hour[r] = advance_row(
                    o_interests, r, uid, x_day[r], new_clock, drift_key, trend_key, dyn,
                    normals_work,
                )  # fmt: skip
            if not R.finish_row(
                r, end, churn, new_clock, uid, settings, world, state, nxt, outcome,
                (items, valid_row, a_row, clicks_row, buys, dwell_row),
            ):  # fmt: skip
                return BAD_REWARD, r
    return OK, hi
