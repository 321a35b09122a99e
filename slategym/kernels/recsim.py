"""RecSim's three worlds, compiled: the step, and what their users add to the reset and to the
observation, row by row.

``step_rows`` is :meth:`slategym.simulator.Simulator.step` for a world built from one of RecSim's
users with its own items (fresh candidates every request), any built-in choice model and a named or
weighted reward: the worlds of ``SlateRec-InterestEvolution-v0``,
``SlateRec-InterestExploration-v0`` and ``SlateRec-LongTermSatisfaction-v0`` (:data:`USERS`). The
kernels are written once for the three users: each user's own rows (its affinity, its response,
its reset) are in its module (:mod:`~slategym.kernels.recsim_iev`,
:mod:`~slategym.kernels.recsim_ie`, :mod:`~slategym.kernels.recsim_lts`), chosen by the user's
kind (:data:`IEV`, :data:`IE`, :data:`LTS`), and all three share one compiled signature, so one
compilation serves every RecSim world. The simulator's bookkeeping after the response is
:func:`slategym.kernels.rows.finish_row`, as in the default world's kernel
(:mod:`slategym.kernels.step`), so a row's trajectory is the general path's, bit for bit.

A user's extra state goes in three slots (:data:`SLOTS`): a float64 level (the long-term user's
net positive exposure), a float64 budget (the time budget) and the float32 ``(K, F)`` response; a
user without a level or a budget passes an empty float64 stand-in.

The default world's kernels do the rest of the reset and of the observation
(``world.reset_rows`` and ``world.observe_rows``, given a population whose interests and profile
have no columns): :func:`reset_user_rows` then starts the user's own state from the reset's
uniforms, and :func:`observe_user_rows` writes its observation (``user``: the interests of the
interest-evolution user, a constant 0 for the others; ``response``).

Like the default world's kernels, these work on rows ``lo .. hi - 1`` (threads split the rows)
and never raise: a bad slate or a failed output check stops the kernel with a status code of
:mod:`slategym.kernels.step` and the caller re-runs the general path, which raises.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym.kernels import layout, recsim_ie, recsim_iev, recsim_lts, xp
from slategym.kernels import rows as R
from slategym.kernels._jit import jit_inline, jit_kernel
from slategym.kernels._npmath import pairwise_sum
from slategym.kernels.choice import sample_from, transcendental_args, transform
from slategym.kernels.step import (
    BAD_AFFINITY,
    BAD_PROBABILITIES,
    BAD_RESPONSE,
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

if TYPE_CHECKING:
    from slategym.simulator import Simulator

__all__ = ["OK", "USERS", "step_rows", "step_workspace", "reset_user_rows", "observe_user_rows"]

IEV, IE, LTS = 0, 1, 2
"""The users' kinds, in the order of :data:`USERS`."""
USERS = (recsim_iev, recsim_ie, recsim_lts)
"""The module of each user kind's rows."""
SLOTS = ("level", "budget", "response")
"""The kernels' slots of a user's extra state (its names in them: the module's ``SLOTS``)."""
BLANK = np.empty(0)
"""The stand-in of an empty slot: float64, as the slots' arrays (never written)."""


def user_kind(sim: Simulator) -> int:
    """The kind of ``sim``'s user (:data:`IEV`, :data:`IE` or :data:`LTS`): the index of the
    module in :data:`USERS` whose ``USER`` is its class."""
    kinds = [kind for kind, module in enumerate(USERS) if type(sim.user_model) is module.USER]
    if not kinds:
        raise ValueError(f"the user model {type(sim.user_model).__name__} is not one of RecSim's")
    return kinds[0]


def slot_names(kind: int) -> tuple[str, ...]:
    """The names of the extra state in the slots of a user of ``kind`` ("" for an empty slot)."""
    return USERS[kind].SLOTS


def user_params(sim: Simulator) -> np.ndarray:
    """The parameters of ``sim``'s user as its rows read them: its module's ``PARAMS`` (the
    model's fields of those names), or its ``params(model)``."""
    module, model = USERS[user_kind(sim)], sim.user_model
    names = getattr(module, "PARAMS", None)
    if names is None:
        return module.params(model)
    return layout.model_params(model, names)


def extra_specs(sim: Simulator) -> dict[str, tuple[Any, tuple[int, ...]]]:
    """The dtype and the shape of one row of each of the user's extra state arrays, in the
    order of its ``EXTRA_STATE``."""
    kind, k = user_kind(sim), sim.config.slate_size
    level, budget, response = slot_names(kind)
    specs = {level: (np.float64, ()), budget: (np.float64, ()),
             response: (np.float32, (k, USERS[kind].RESPONSE_WIDTH))}  # fmt: skip
    return {name: specs[name] for name in sim.user_model.EXTRA_STATE}


def interest_width(sim: Simulator) -> int:
    """Columns of the user's ``interests`` state: the latent dimension (interest evolution), the
    topics (interest exploration) or 1 (long-term satisfaction: unused)."""
    kind = user_kind(sim)
    if kind == IEV:
        return sim.config.latent_dim
    return sim.catalog.num_topics if kind == IE else 1


def world_arrays(sim: Simulator) -> tuple[np.ndarray, ...]:
    """The catalog's arrays ``step_rows`` reads after the reward: latent features, quality,
    duration (an empty stand-in without), topic (C-contiguous)."""
    cat = sim.catalog
    duration = BLANK if cat.duration is None else np.ascontiguousarray(cat.duration)
    return (
        np.ascontiguousarray(cat.latent, np.float64), np.ascontiguousarray(cat.quality),
        duration, cat.topic,
    )  # fmt: skip


def step_workspace(
    iw: np.ndarray, k: int, d: int, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays of one :func:`step_rows` call (float64, int64, bool, and a ``(1, d)`` row)
    for slates of size ``k`` and ``d`` interest columns (``t`` topics: unused)."""
    nr = iw[I_STEP_UNIFORMS] - iw[I_U_CHOICE]
    floats = nr + k + 2 * (k + 1) + 2 * k + 2 * (R.HOURS + 1)
    return np.empty(floats), np.empty(k, np.int64), np.empty(3 * k, np.bool_), np.empty((1, d))


@jit_inline
def _affinity(kind: int, r: int, ip: np.ndarray, items: np.ndarray, a_row: np.ndarray,
              world: tuple, now: tuple) -> None:  # fmt: skip
    """The user's ``affinity`` of row ``r`` into ``a_row``."""
    if kind == IEV:
        recsim_iev.affinity_row(r, ip, items, a_row, world, now)
    elif kind == IE:
        recsim_ie.affinity_row(r, ip, items, a_row, world, now)
    else:
        recsim_lts.affinity_row(r, ip, items, a_row, world, now)


@jit_inline
def _respond(kind: int, r: int, ip: np.ndarray, row: tuple, world: tuple, now: tuple,
             nxt: tuple) -> bool:  # fmt: skip
    """The user's ``respond`` of row ``r``; returns whether it leaves (``session_end`` and
    ``churn``). ``row`` = ``(items, pos, clicked, a_row, u, dwell, half)``: the slate's items, the
    first click (at ``pos`` if ``clicked``), the affinities, the user's uniforms, the dwell to
    write and a ``(1, d)`` scratch row."""
    if kind == IEV:
        return recsim_iev.respond_row(r, ip, row, world, now, nxt)
    if kind == IE:
        return recsim_ie.respond_row(r, ip, row, world, now, nxt)
    return recsim_lts.respond_row(r, ip, row, world, now, nxt)


@jit_kernel
def step_rows(
    lo: int,
    hi: int,
    iw: np.ndarray,
    fw: np.ndarray,
    kind: int,
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
    level: np.ndarray,
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
    o_level: np.ndarray,
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
    """Serve ``slates[r]`` to rows ``lo .. hi - 1`` of a world whose user is of ``kind`` (``ip``:
    its parameters): the next state into the ``o_*`` arrays, the outcome into the others (the
    arguments of ``kernels.step.step_rows``, with this world's catalog arrays and the user's
    extra state in :data:`SLOTS`); ``work_*`` and ``half`` are scratch (:func:`step_workspace`).
    Returns ``(status, row)``."""
    k = slates.shape[1]
    days = iw[I_DAYS]
    ck = iw[I_KIND]
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
        buys[j] = False  # RecSim's users buy nothing (Response.purchases)
    settings = (iw[I_SESSION_EPISODES] != 0, fw[F_HORIZON], days, iw[I_LIVE], iw[I_NEW_PER_DAY])
    world = (starts, sizes, reward_codes, reward_weights)
    items_world = (latent, quality, duration, topic)
    now = (interests, satisfaction, level, budget)
    user_nxt = (o_interests, o_satisfaction, o_level, o_budget, o_response)
    state = (key, counter, clock, session_index, session_step, history_ids, history_response, done)
    nxt = (
        o_key, o_user_id, o_counter, o_clock, o_session_index, o_session_step, o_candidates,
        o_history_ids, o_history_response, o_done,
    )  # fmt: skip
    outcome = (
        item_ids, valid, aff, clicks, purchases, dwell, reward, ended, churned, truncated, day_out,
        hour_out,
    )  # fmt: skip
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
        # the user's affinity (zero on a row with no pending request)
        _affinity(kind, r, ip, items, a_row, items_world, now)
        for j in range(k):
            if live and not math.isfinite(a_row[j]):
                return BAD_AFFINITY, r
            if not live:
                a_row[j] = 0.0
        transcendental_args(ck, cp, a_row, k, terms)
        transform(ck, terms, k + 1)
        if sample_from(ck, cp, gamma, a_row, terms, k, u[0:uo], valid_row, clicks_row, scratch):
            return BAD_PROBABILITIES, r
        # the user's response to its first click (UserModel.respond)
        pos = 0
        clicked = False
        for j in range(k):
            if clicks_row[j]:
                pos = j
                clicked = True
                break
        row = (items, pos, clicked, a_row, u[uo:un], resp_dwell, half)
        spent = _respond(kind, r, ip, row, items_world, now, user_nxt)
        for j in range(k):
            if live and not (resp_dwell[j] >= 0.0 and math.isfinite(resp_dwell[j])):
                return BAD_RESPONSE, r
            dwell_row[j] = resp_dwell[j] if clicks_row[j] else 0.0
        for q in range(fatigue.shape[1]):
            o_fatigue[r, q] = fatigue[r, q]
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
    kind: int,
    ip: np.ndarray,
    first_uniform: int,
    keys: np.ndarray,
    counters: np.ndarray,
    rows: np.ndarray,
    interests: np.ndarray,
    satisfaction: np.ndarray,
    level: np.ndarray,
    budget: np.ndarray,
    response: np.ndarray,
) -> None:
    """The user's ``initial_state`` of entries ``lo .. hi - 1`` of ``keys``/``counters``, written
    into state row ``rows[i]`` (after ``world.reset_rows``) from the reset block's uniforms
    ``first_uniform ..``; the response is zeros."""
    now = (interests, satisfaction, level, budget)
    for i in range(lo, hi):
        r = rows[i]
        base = R.stream_base(keys[i], counters[i])
        if kind == IEV:
            recsim_iev.reset_row(r, ip, base, first_uniform, now)
        elif kind == IE:
            recsim_ie.reset_row(r, ip, base, first_uniform, now)
        else:
            recsim_lts.reset_row(r, ip, base, first_uniform, now)
        for j in range(response.shape[1]):
            for m in range(response.shape[2]):
                response[r, j, m] = np.float32(0.0)


@jit_kernel
def observe_user_rows(
    lo: int,
    hi: int,
    kind: int,
    interests: np.ndarray,
    response: np.ndarray,
    ob_user: np.ndarray,
    ob_response: np.ndarray,
) -> None:
    """The user's ``observe`` of rows ``lo .. hi - 1``: ``user`` is the interests as float32 for
    the interest-evolution user, a constant 0 for the others (hidden users); ``response`` a
    copy."""
    for r in range(lo, hi):
        if kind == IEV:
            for q in range(interests.shape[1]):
                ob_user[r, q] = np.float32(interests[r, q])
        else:
            ob_user[r, 0] = np.float32(0.0)
        for j in range(response.shape[1]):
            for m in range(response.shape[2]):
                ob_response[r, j, m] = response[r, j, m]
