"""The arrays of a state and an outcome as the compiled kernels take them: empty buffers to write
into, and the argument order of ``step_rows`` and ``reset_rows`` (:mod:`slategym.kernels.fused`).

A state's arrays go to a kernel in one order, :func:`state_arrays`: the step kernel reads them (after
``slates``), writes the next state in that order without ``key`` and ``user_id`` first
(:func:`step_outputs`), and the reset kernel writes the rows it starts in the same order. The user
model's extra state comes last (:data:`EXTRA`: the dynamic user's ``day`` and ``hour``); a world
without it passes empty arrays there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from slategym.types import SimState, StepOutcome
from slategym.users.base import UserState

EXTRA: tuple[str, ...] = ("day", "hour")
"""The extra state the default world's kernels know (:attr:`DynamicUserModel.EXTRA_STATE`), int64
per row; a user without it passes empty stand-ins."""

NO_EXTRA = np.empty(0, np.int64)  # never written: the kernels skip extra state without rows


def model_params(model: Any, names: tuple[str, ...]) -> np.ndarray:
    """A model's fields ``names``, in this order, as the float64 parameter vector a kernel reads
    (``world.PARAMS``, ``recsim_iev.PARAMS``, ...)."""
    return np.array([getattr(model, name) for name in names], np.float64)


def extra_arrays(
    state: SimState, names: tuple[str, ...] = EXTRA, blank: np.ndarray = NO_EXTRA
) -> tuple[np.ndarray, ...]:
    """The extra state ``names`` of ``state``, the empty stand-in ``blank`` for each its user does
    not have (int64 by default; the RecSim kernels' slots take a float64 one)."""
    extra = state.user.extra
    return tuple(extra.get(name, blank) for name in names)


def empty_state(
    n: int,
    latent_dim: int,
    num_topics: int,
    num_candidates: int,
    history_length: int,
    extra: Mapping[str, tuple[Any, tuple[int, ...]]] | None = None,
) -> SimState:
    """A state of ``n`` rows, C-contiguous and uninitialised, with the user's ``extra`` state
    (name -> dtype and shape of one row)."""
    specs = extra or {}
    return SimState(
        key=np.empty(n, np.uint64),
        counter=np.empty(n, np.uint64),
        user=UserState(
            user_id=np.empty(n, np.int64),
            interests=np.empty((n, latent_dim)),
            fatigue=np.empty((n, num_topics)),
            satisfaction=np.empty(n),
            no_click_streak=np.empty(n, np.int64),
            extra={name: np.empty((n, *shape), dtype) for name, (dtype, shape) in specs.items()},
        ),
        clock=np.empty(n),
        session_index=np.empty(n, np.int64),
        session_step=np.empty(n, np.int64),
        candidates=np.empty((n, num_candidates), np.int64),
        history_ids=np.empty((n, history_length), np.int64),
        history_response=np.empty((n, history_length, 2), np.float32),
        done=np.empty(n, bool),
    )


def empty_like(state: SimState) -> SimState:
    """A state shaped as ``state`` (:func:`empty_state`)."""
    n, length = state.history_ids.shape
    extra = {name: (a.dtype, a.shape[1:]) for name, a in state.user.extra.items()}
    return empty_state(
        n, state.user.interests.shape[1], state.user.fatigue.shape[1],
        state.candidates.shape[1], length, extra,
    )  # fmt: skip


def empty_outcome(state: SimState, new: SimState, k: int) -> StepOutcome:
    """The outcome of a step from ``state`` to ``new`` with slates of ``k``: new arrays, but the
    fields an outcome shares with either state (:class:`~slategym.types.StepOutcome`)."""
    n = state.num_rows
    churned = np.empty(n, bool)
    return StepOutcome(
        item_ids=np.empty((n, k), np.int64),
        valid=np.empty((n, k), bool),
        n_duplicates=np.empty(n, np.int64),
        affinities=np.empty((n, k)),
        clicks=np.empty((n, k), bool),
        purchases=np.empty((n, k), bool),
        dwell=np.empty((n, k)),
        reward=np.empty(n),
        session_ended=np.empty(n, bool),
        churned=churned,
        terminated=churned,
        truncated=np.empty(n, bool),
        minute=state.clock,
        day=np.empty(n, np.int64),
        hour=np.empty(n, np.int64),
        session_index=state.session_index,
        session_step=state.session_step,
        user_id=new.user.user_id,
        satisfaction=new.user.satisfaction,
    )


def state_arrays(
    state: SimState, extra: tuple[str, ...] = EXTRA, blank: np.ndarray = NO_EXTRA
) -> tuple[np.ndarray, ...]:
    """The arrays of ``state`` in the kernels' order, with the extra state ``extra`` last (see
    :func:`extra_arrays`)."""
    u = state.user
    return (
        state.key, state.counter, state.clock, state.session_index, state.session_step,
        state.candidates, state.history_ids, state.history_response, state.done,
        u.user_id, u.interests, u.fatigue, u.satisfaction, u.no_click_streak,
        *extra_arrays(state, extra, blank),
    )  # fmt: skip


def step_outputs(
    new: SimState, out: StepOutcome, extra: tuple[str, ...] = EXTRA, blank: np.ndarray = NO_EXTRA
) -> tuple[np.ndarray, ...]:
    """The arrays ``step_rows`` writes, after the input state's: the next state's (the extra state
    ``extra`` last), then the outcome's."""
    nu = new.user
    return (
        new.key, nu.user_id, new.counter, new.clock, new.session_index, new.session_step,
        new.candidates, new.history_ids, new.history_response, new.done,
        nu.interests, nu.fatigue, nu.satisfaction, nu.no_click_streak, *extra_arrays(new, extra, blank),
        out.item_ids, out.valid, out.n_duplicates, out.affinities, out.clicks, out.purchases,
        out.dwell, out.reward, out.session_ended, out.churned, out.truncated, out.day, out.hour,
    )  # fmt: skip
