"""RecSim's interest-evolution world, compiled: the step, and what its user adds to the reset and to
the observation, row by row.

``step_rows`` is :meth:`slategym.simulator.Simulator.step` for a world built from
:class:`~slategym.items.InterestEvolutionItems` (fresh candidates every request),
:class:`~slategym.users.InterestEvolutionUser`, any built-in choice model and a named or weighted
reward: the world of ``SlateRec-InterestEvolution-v0``. The user's formulas are the very functions
its numpy path calls (``interest_update``, ``watch_utility``, ``budget_after_watch``), compiled;
the simulator's bookkeeping after the response is :func:`slategym.kernels.rows.finish_row`, as in
the default world's kernel (:mod:`slategym.kernels.step`), so a row's trajectory is the general
path's, bit for bit.

The default world's kernels do the rest of the reset and of the observation
(``world.reset_rows`` and ``world.observe_rows``, given a population whose interests and profile
have no columns): :func:`reset_user_rows` then draws the user's interests from the reset's
uniforms and starts its time budget and response, and :func:`observe_user_rows` writes its
observation (the interests, the response).

Like the default world's kernels, these work on rows ``lo .. hi - 1`` (threads split the rows)
and never raise: a bad slate or a failed output check stops the kernel with a status code of
:mod:`slategym.kernels.step` and the caller re-runs the general path, which raises.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym.kernels import rows as R
from slategym.kernels import xp
from slategym.kernels._jit import jit_kernel, jitable
from slategym.kernels._npmath import einsum_dot, pairwise_sum
from slategym.kernels.choice import sample_from, transcendental_args, transform
from slategym.kernels.step import (
    BAD_AFFINITY,
    BAD_PROBABILITIES,
    BAD_REWARD,
    BAD_SLATE,
    OK,
    STRICT_DUPLICATE,
)
from slategym.kernels.world import (
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
)
from slategym.users import recsim_interest_evolution as iev

if TYPE_CHECKING:
    from slategym.simulator import Simulator

__all__ = ["OK", "EXTRA", "step_rows", "step_workspace", "reset_user_rows", "observe_user_rows"]

for _formula in (iev.interest_update, iev.watch_utility, iev.budget_after_watch):
    jitable(_formula)  # the numpy path's formulas, compiled where the kernel calls them

EXTRA: tuple[str, ...] = iev.InterestEvolutionUser.EXTRA_STATE
"""The user's extra state, in the kernels' order: ``time_budget (N,)`` float64, ``response
(N, K, 5)`` float32."""

P_BUDGET, P_PENALTY, P_ETA, P_PHI_U, P_PHI_D, P_X0, P_Y0 = range(7)
"""Indices of the user's parameters in ``ip`` (:func:`user_params`)."""


def user_params(model: iev.InterestEvolutionUser) -> np.ndarray:
    """The parameters the kernels read, in the order of :data:`P_BUDGET` ... :data:`P_Y0`."""
    m = model
    return np.array(
        [
            m.time_budget, m.step_penalty, m.user_update_alpha, m.user_quality_factor,
            m.document_quality_factor, m.alpha_x_intercept, m.alpha_y_intercept,
        ],
        np.float64,
    )  # fmt: skip


def extra_specs(slate_size: int) -> dict[str, tuple[Any, tuple[int, ...]]]:
    """The dtype and the shape of one row of each :data:`EXTRA` array."""
    return {
        "time_budget": (np.float64, ()),
        "response": (np.float32, (slate_size, len(iev.RESPONSE_FIELDS))),
    }


def world_arrays(sim: Simulator) -> tuple[np.ndarray, ...]:
    """The catalog's arrays ``step_rows`` reads after the reward: latent features, quality,
    duration, topic (C-contiguous)."""
    cat = sim.catalog
    assert cat.duration is not None
    return (
        np.ascontiguousarray(cat.latent, np.float64), np.ascontiguousarray(cat.quality),
        np.ascontiguousarray(cat.duration), cat.topic,
    )  # fmt: skip


def step_workspace(
    iw: np.ndarray, k: int, d: int, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays of one :func:`step_rows` call (float64, int64, bool, and a ``(1, d)`` row)
    for slates of size ``k`` and ``d`` latent dimensions (``t`` topics: unused)."""
    nr = iw[I_STEP_UNIFORMS] - iw[I_U_CHOICE]
    floats = nr + k + 2 * (k + 1) + 2 * k + 2 * (R.HOURS + 1)
    return np.empty(floats), np.empty(k, np.int64), np.empty(3 * k, np.bool_), np.empty((1, d))


@jit_kernel
def step_rows(
    lo: int,
    hi: int,
    iw: np.ndarray,
    fw: np.ndarray,
    ip: np.ndarray,
    cp: np.ndarray,
    gamma: np.ndarray,
    reward_codes: np.ndarray,
    reward_weights: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    hour_profile: np.ndarray,
    activity: np.ndarray,
    latent: np.ndarray,
    quality: np.ndarray,
    duration: np.ndarray,
    topic: np.ndarray,
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
    budget: np.ndarray,
    response: np.ndarray,
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
    o_budget: np.ndarray,
    o_response: np.ndarray,
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
    half: np.ndarray,
) -> tuple[int, int]:
    """Serve ``slates[r]`` to rows ``lo .. hi - 1``: the next state into the ``o_*`` arrays, the
    outcome into the others (the arguments of ``kernels.step.step_rows``, with this world's
    catalog arrays and the user's extra state); ``work_*`` and ``half`` are scratch
    (:func:`step_workspace`). Returns ``(status, row)``."""
    k = slates.shape[1]
    d = interests.shape[1]
    days = iw[I_DAYS]
    kind = iw[I_KIND]
    nu, uc0, uu = iw[I_STEP_UNIFORMS], iw[I_U_CHOICE], iw[I_U_USER]
    nr, uo, un = nu - uc0, uu - uc0, iw[I_U_NEXT] - uc0
    u = work_f[0:nr]  # u[i]: uniform uc0 + i of the row's block (the choice's, the user's, ...)
    at = nr
    a_row = work_f[at : at + k]
    terms = work_f[at + k : at + 2 * k + 1]
    scratch = work_f[at + 2 * k + 1 : at + 3 * k + 2]
    dwell_row = work_f[at + 3 * k + 2 : at + 4 * k + 2]
    resp_dwell = work_f[at + 4 * k + 2 : at + 5 * k + 2]
    at += 5 * k + 2
    rate = work_f[at : at + R.HOURS + 1]
    cum = work_f[at + R.HOURS + 1 : at + 2 * (R.HOURS + 1)]
    items = work_i[0:k]
    valid_row = work_b[0:k]
    clicks_row = work_b[k : 2 * k]
    buys = work_b[2 * k : 3 * k]
    for j in range(k):
        buys[j] = False  # the user buys nothing (Response.purchases)
    settings = (iw[I_SESSION_EPISODES] != 0, fw[F_HORIZON], days, iw[I_LIVE], iw[I_NEW_PER_DAY])
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
    b0, penalty, eta = ip[P_BUDGET], ip[P_PENALTY], ip[P_ETA]
    for r in range(lo, hi):
        base = R.stream_base(key[r], counter[r])
        R.fill_uniforms(base, uc0, nr, u)
        live = not done[r]
        dups = R.read_slate(slates, r, candidates, items, valid_row)
        if dups < 0:
            return BAD_SLATE, r
        n_dup[r] = dups
        if dups and iw[I_STRICT]:
            return STRICT_DUPLICATE, r
        # InterestEvolutionUser.affinity (zero on a row with no pending request)
        for j in range(k):
            a = einsum_dot(latent, items[j], interests, r, d)
            if live and not math.isfinite(a):
                return BAD_AFFINITY, r
            a_row[j] = a if live else 0.0
        transcendental_args(kind, cp, a_row, k, terms)
        transform(kind, terms, k + 1)
        if sample_from(kind, cp, gamma, a_row, terms, k, u[0:uo], valid_row, clicks_row, scratch):
            return BAD_PROBABILITIES, r
        # InterestEvolutionUser.respond: the first click moves the interests and the budget
        pos = 0
        clicked = False
        for j in range(k):
            if clicks_row[j]:
                pos = j
                clicked = True
                break
        item = items[pos]
        b = budget[r]
        watch = min(b, duration[item]) if clicked else 0.0
        if clicked:
            for q in range(d):
                half[0, q] = (interests[r, q] + 1.0) / 2.0
            toward = u[uo] < einsum_dot(half, 0, latent, item, d)
            for q in range(d):
                theta = interests[r, q]
                step = iev.interest_update(theta, latent[item, q], ip[P_X0], ip[P_Y0])
                moved = theta + (step if toward else -step)
                o_interests[r, q] = min(max(moved, -1.0), 1.0)
            utility = iev.watch_utility(a_row[pos], quality[item], ip[P_PHI_U], ip[P_PHI_D])
            left = iev.budget_after_watch(b, watch, utility, eta)
        else:
            for q in range(d):
                o_interests[r, q] = interests[r, q]
            left = b - penalty
        spent = left <= 0.0
        for j in range(k):
            resp_dwell[j] = watch if clicked and j == pos else 0.0
            dwell_row[j] = resp_dwell[j] if clicks_row[j] else 0.0
            o_response[r, j, 0] = np.float32(1.0 if clicked and j == pos else 0.0)
            o_response[r, j, 1] = np.float32(resp_dwell[j])
            o_response[r, j, 2] = np.float32(0.0)
            o_response[r, j, 3] = np.float32(quality[items[j]])
            o_response[r, j, 4] = np.float32(topic[items[j]])
        for q in range(fatigue.shape[1]):
            o_fatigue[r, q] = fatigue[r, q]
        o_budget[r] = left
        o_satisfaction[r] = min(max(left / b0, 0.0), 1.0)
        o_streak[r] = 0 if clicked else streak[r] + 1
        full = session_step[r] + 1 >= iw[I_MAX_STEPS]
        end = spent or full
        churn = spent
        # the simulator's bookkeeping (Simulator.step)
        uid = user_id[r]
        new_clock = clock[r] + fw[F_STEP_MINUTES] + pairwise_sum(dwell_row, 0, k, 1)
        if end and not churn and not iw[I_SESSION_EPISODES]:  # the return multiplier is 1
            new_clock = R.arrival_after(
                new_clock + fw[F_MIN_GAP], hour_profile, uid, activity[uid] * 1.0,
                -xp.log1p(-u[un]), rate, cum,
            )  # fmt: skip
        if not R.finish_row(
            r, end, churn, new_clock, uid, settings, world, state, nxt, outcome,
            (items, valid_row, a_row, clicks_row, buys, dwell_row),
        ):  # fmt: skip
            return BAD_REWARD, r
    return OK, hi


@jit_kernel
def reset_user_rows(
    lo: int,
    hi: int,
    ip: np.ndarray,
    first_uniform: int,
    keys: np.ndarray,
    counters: np.ndarray,
    rows: np.ndarray,
    interests: np.ndarray,
    budget: np.ndarray,
    response: np.ndarray,
) -> None:
    """``InterestEvolutionUser.initial_state`` of entries ``lo .. hi - 1`` of ``keys``/``counters``,
    written into state row ``rows[i]``: interests ``2 u - 1`` from the reset block's uniforms
    ``first_uniform ..``, the full time budget, a zero response (after ``world.reset_rows``)."""
    d = interests.shape[1]
    for i in range(lo, hi):
        r = rows[i]
        base = R.stream_base(keys[i], counters[i])
        for q in range(d):
            interests[r, q] = 2.0 * R.uniform(base, first_uniform + q) - 1.0
        budget[r] = ip[P_BUDGET]
        for j in range(response.shape[1]):
            for m in range(response.shape[2]):
                response[r, j, m] = np.float32(0.0)


@jit_kernel
def observe_user_rows(
    lo: int,
    hi: int,
    interests: np.ndarray,
    response: np.ndarray,
    ob_user: np.ndarray,
    ob_response: np.ndarray,
) -> None:
    """``InterestEvolutionUser.observe`` of rows ``lo .. hi - 1``: the interests as float32, a copy
    of the response."""
    for r in range(lo, hi):
        for q in range(interests.shape[1]):
            ob_user[r, q] = np.float32(interests[r, q])
        for j in range(response.shape[1]):
            for m in range(response.shape[2]):
                ob_response[r, j, m] = response[r, j, m]
