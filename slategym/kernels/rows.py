"""Row functions shared by every compiled world: random streams, the timeline, candidates, history,
observation and reward, for one row at a time.

Each function is the row-by-row form of a batched numpy function of the general path, with numpy's
order of operations (named next to each one); the parity tests compare them bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from slategym.kernels._jit import jit, jit_inline
from slategym.kernels._npmath import pairwise_sum
from slategym.observation import DWELL_SCALE
from slategym.rng import BLOCK

PHI = np.uint64(0x9E3779B97F4A7C15)
BLOCK_PHI = np.uint64((BLOCK * 0x9E3779B97F4A7C15) % (1 << 64))
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / (1 << 53)
HOURS = 24


@jit
def stream_base(key: np.uint64, counter: np.uint64) -> np.uint64:
    """Start of block ``counter`` of the stream ``key`` (``slategym.rng.uniforms``)."""
    return key + counter * BLOCK_PHI


@jit
def uniform(base: np.uint64, j: int) -> float:
    """Uniform ``j`` of a block: SplitMix64 at position ``base + j * phi`` (``slategym.rng``)."""
    z = base + np.uint64(j) * PHI
    z = z ^ (z >> _S30)
    z = z * _M1
    z = z ^ (z >> _S27)
    z = z * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _INV53


@jit
def fill_uniforms(base: np.uint64, start: int, n: int, out: np.ndarray) -> None:
    """``out[:n]`` = uniforms ``start .. start + n - 1`` of a block."""
    for j in range(n):
        out[j] = uniform(base, start + j)


@jit
def day_hour(minute: float) -> tuple[np.int64, np.int64]:
    """``timeline.minute_to_day_hour`` of one minute."""
    hours_total = np.int64(np.floor(minute / 60.0))
    return hours_total // HOURS, hours_total % HOURS


@jit_inline
def arrival_after(
    start: float,
    profile: np.ndarray,
    user: int,
    daily_rate: float,
    exp_draw: float,
    rate: np.ndarray,
    cum: np.ndarray,
) -> float:
    """``timeline.arrival_after`` of one row, hour profile ``profile[user]`` (``rate``, ``cum``:
    ``(25,)`` scratch).

    The hourly rates are non-negative (``CompiledWorld`` checks the profiles), so the cumulative
    rate never decreases: the count of segments it has not passed ``rest`` by is the index of the
    first one that does, and the loop stops there (half the hours on average)."""
    whole_days = np.floor(exp_draw / daily_rate)
    rest = exp_draw - whole_days * daily_rate
    hour_abs = np.floor(start / 60.0)
    frac = start / 60.0 - hour_abs
    h0 = np.int64(hour_abs) % HOURS
    count = 0
    total = 0.0
    for j in range(HOURS + 1):
        h = h0 + j  # < 2 * HOURS: one subtraction is the modulo (an integer division per hour
        if h >= HOURS:  # cost more than the rest of the loop)
            h -= HOURS
        rate[j] = profile[user, h] * daily_rate
        seg = rate[j]
        if j == 0:
            seg = seg * (1.0 - frac)
        elif j == HOURS:
            seg = seg * frac
        total = total + seg if j else seg
        cum[j] = total
        if cum[j] > rest:
            break
        count += 1
    j = min(count, HOURS)
    before = cum[j - 1] if j > 0 else 0.0
    within = np.maximum((rest - before) / rate[j], 0.0)
    seg_start = (1.0 - frac) + (j - 1) if j > 0 else 0.0
    return start + whole_days * 1440.0 + (seg_start + within) * 60.0


@jit_inline
def draw_candidates(
    base: np.uint64,
    offset: int,
    num_live: int,
    new_per_day: int,
    day: int,
    starts: np.ndarray,
    sizes: np.ndarray,
    out: np.ndarray,
    r: int,
) -> None:
    """``Catalog.sample_candidates`` of one row, into ``out[r]``, from uniforms ``offset ..`` of
    its block."""
    c = starts.shape[0]
    rotation = np.int64(uniform(base, offset + c) * num_live)
    for j in range(c):
        p = np.int64(uniform(base, offset + j) * sizes[j]) + starts[j] + rotation
        if p >= num_live:
            p -= num_live
        if new_per_day:
            p += day * new_per_day
        out[r, j] = p


@jit_inline
def push_history(
    r: int,
    ids_in: np.ndarray,
    resp_in: np.ndarray,
    ids_out: np.ndarray,
    resp_out: np.ndarray,
    items: np.ndarray,
    clicks: np.ndarray,
    purchases: np.ndarray,
    dwell: np.ndarray,
) -> None:
    """``Simulator._push_history`` of row ``r`` (of ``ids_*`` ``(N, L)`` and ``resp_*``
    ``(N, L, 2)``; the slate's ``items``, ``clicks``, ... are ``(K,)``; ``*_out`` may not be
    ``*_in``)."""
    length = ids_in.shape[1]
    n = 0
    for k in range(clicks.shape[0]):
        n += clicks[k]
    # the entries kept move n places up (one contiguous copy); the last n places are the clicks'
    for j in range(length - n):
        ids_out[r, j] = ids_in[r, j + n]
    for j in range(length - n):
        resp_out[r, j, 0] = resp_in[r, j + n, 0]
        resp_out[r, j, 1] = resp_in[r, j + n, 1]
    rank = 0
    for k in range(clicks.shape[0]):
        if clicks[k]:
            dest = rank + (length - n)
            if dest >= 0:
                ids_out[r, dest] = items[k]
                resp_out[r, dest, 0] = np.float32(1.0 if purchases[k] else 0.0)
                resp_out[r, dest, 1] = np.float32(np.minimum(dwell[k] / DWELL_SCALE, 1.0))
            rank += 1


CLICK, PURCHASE, ENGAGEMENT = 0, 1, 2
"""Signal codes of a weighted reward (``slategym.rewards.SIGNALS``)."""


@jit_inline
def reward_row(
    codes: np.ndarray, weights: np.ndarray, clicks: np.ndarray, purchases: np.ndarray, dwell: np.ndarray
) -> float:
    """``WeightedReward`` of one row: ``0 + w_1 s_1 + w_2 s_2 ...`` in the mapping's order."""
    total = 0.0
    for m in range(codes.shape[0]):
        if codes[m] == ENGAGEMENT:
            signal = pairwise_sum(dwell, 0, dwell.shape[0], 1)
        else:
            count = 0
            for k in range(clicks.shape[0]):
                count += clicks[k] if codes[m] == CLICK else purchases[k]
            signal = np.float64(count)
        total = total + weights[m] * signal
    return total


@jit_inline
def read_slate(
    slates: np.ndarray, r: int, candidates: np.ndarray, items: np.ndarray, valid: np.ndarray
) -> int:
    """Row ``r``'s slate: the candidates it shows into ``items (K,)`` and whether each is the first
    copy of its index into ``valid (K,)`` (a later copy is shown but never clicked,
    ``slates.duplicate_mask``). Returns the number of copies, or -1 when an index is outside
    ``[0, C)`` (checked before it is read: the kernels run without bounds checks)."""
    num_candidates = candidates.shape[1]
    dups = 0
    for j in range(slates.shape[1]):
        s = slates[r, j]
        if s < 0 or s >= num_candidates:
            return -1
        items[j] = candidates[r, s]
        first = True
        for i in range(j):
            if slates[r, i] == slates[r, j]:
                first = False
        valid[j] = first
        dups += not first
    return dups


@jit_inline
def finish_row(
    r: int,
    end: bool,
    churn: bool,
    new_clock: float,
    uid: int,
    settings: tuple,
    world: tuple,
    state: tuple,
    nxt: tuple,
    outcome: tuple,
    row: tuple,
) -> bool:
    """The simulator's bookkeeping of row ``r`` once its user has responded (``Simulator.step``
    after ``respond``), shared by every world's step kernel: the truncation, the history, the next
    candidates, the rest of the next state, the outcome's arrays and the reward. ``new_clock`` is
    the time of the row's next request (its return already drawn); ``buys`` and ``dwell_row`` are
    the purchases and dwell of the slate's clicks. Returns False when the reward of a row with a
    pending request is not finite (the caller stops with ``BAD_REWARD``).

    The arguments come in tuples (a call of more than 30 arguments is compiled with ``*args``,
    which numba cannot inline): ``settings`` = ``(session_episodes, horizon, days, num_live,
    new_per_day)``; ``world`` = ``(starts, sizes, reward_codes, reward_weights)``; ``state`` = the
    input state's ``(key, counter, clock, session_index, session_step, history_ids,
    history_response, done)``; ``nxt`` = the next state's ``(key, user_id, counter, clock,
    session_index, session_step, candidates, history_ids, history_response, done)``; ``outcome`` =
    ``(item_ids, valid, aff, clicks, purchases, dwell, reward, ended, churned, truncated, day,
    hour)``; ``row`` = the slate's ``(items, valid, a, clicks, buys, dwell)``."""
    session_episodes, horizon, days, num_live, new_per_day = settings
    starts, sizes, reward_codes, reward_weights = world
    key, counter, clock, session_index, session_step, history_ids, history_response, done = state
    (
        o_key, o_user_id, o_counter, o_clock, o_session_index, o_session_step, o_candidates,
        o_history_ids, o_history_response, o_done,
    ) = nxt  # fmt: skip
    (
        item_ids, valid, aff, clicks, purchases, dwell, reward, ended, churned, truncated,
        day_out, hour_out,
    ) = outcome  # fmt: skip
    items, valid_row, a_row, clicks_row, buys, dwell_row = row
    day, hour = day_hour(clock[r])
    day_out[r] = min(day, days - 1)  # a "session" episode may run past the horizon
    hour_out[r] = hour
    if session_episodes:
        trunc = end and not churn
    else:
        trunc = not churn and new_clock >= horizon
    next_day = min(day_hour(new_clock)[0], days - 1)
    push_history(
        r, history_ids, history_response, o_history_ids, o_history_response,
        items, clicks_row, buys, dwell_row,
    )  # fmt: skip
    base = stream_base(key[r], counter[r])
    draw_candidates(base, 0, num_live, new_per_day, next_day, starts, sizes, o_candidates, r)
    o_key[r] = key[r]
    o_user_id[r] = uid
    o_counter[r] = counter[r] + np.uint64(1)
    o_clock[r] = new_clock
    o_session_index[r] = session_index[r] + end
    o_session_step[r] = 0 if end else session_step[r] + 1
    o_done[r] = churn or trunc
    ended[r] = end
    churned[r] = churn
    truncated[r] = trunc
    for j in range(items.shape[0]):
        item_ids[r, j] = items[j]
        valid[r, j] = valid_row[j]
        aff[r, j] = a_row[j]
        clicks[r, j] = clicks_row[j]
        purchases[r, j] = buys[j]
        dwell[r, j] = dwell_row[j]
    value = reward_row(reward_codes, reward_weights, clicks_row, buys, dwell_row)
    if not done[r] and not math.isfinite(value):
        return False
    reward[r] = value
    return True
