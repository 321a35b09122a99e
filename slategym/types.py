"""The state and outcome types of the batched dynamics, and the info keys built from them.

They live apart from :mod:`slategym.simulator` so that reward functions, metrics and the env shells
can name them without importing the simulator (no ``rewards <-> simulator`` import cycle).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from slategym.timeline import minute_to_day_hour
from slategym.users.base import UserState


@dataclass(frozen=True)
class SimState:
    """Everything that changes during a run, for ``N`` rows (one user each)."""

    key: np.ndarray  # (N,) uint64 random-stream key
    counter: np.ndarray  # (N,) uint64 blocks drawn so far
    user: UserState  # dynamic user state (interests, fatigue, satisfaction, streak)
    clock: np.ndarray  # (N,) float64 minute of the pending slate request
    session_index: np.ndarray  # (N,) int64 sessions started before the current one
    session_step: np.ndarray  # (N,) int64 requests already served in the current session
    candidates: np.ndarray  # (N, C) int64 item ids offered for the pending request
    history_ids: np.ndarray  # (N, L) int64 last clicked items, oldest first, -1 = empty
    history_response: np.ndarray  # (N, L, 2) float32 (purchased, dwell / DWELL_SCALE)
    done: np.ndarray  # (N,) bool: churned or past the horizon, no pending request

    ARRAY_FIELDS: ClassVar[tuple[str, ...]] = (
        "key", "counter", "clock", "session_index", "session_step", "candidates", "history_ids",
        "history_response", "done",
    )  # fmt: skip
    """Every field but ``user`` (a :class:`UserState`)."""

    @property
    def num_rows(self) -> int:
        """``N``."""
        return int(self.key.shape[0])

    def take(self, rows: np.ndarray) -> SimState:
        """The sub-state of ``rows`` (copies)."""
        return SimState(
            user=self.user.take(rows), **{k: getattr(self, k)[rows] for k in self.ARRAY_FIELDS}
        )

    def put(self, rows: np.ndarray, sub: SimState) -> None:
        """Write ``sub`` into ``rows`` in place."""
        self.user.put(rows, sub.user)
        for k in self.ARRAY_FIELDS:
            getattr(self, k)[rows] = getattr(sub, k)


@dataclass(frozen=True)
class StepOutcome:
    """What happened when ``N`` rows were served one slate each (reward functions read this).

    ``user_id`` and ``satisfaction`` are the new state's arrays (``minute``, ``session_index``
    and ``session_step`` the old state's), not copies: :meth:`detached` before writing into the
    state (a vector env's autoreset) keeps the outcome intact."""

    STATE_VIEWS: ClassVar[tuple[str, ...]] = ("user_id", "satisfaction")
    """Fields that share memory with the new state."""

    item_ids: np.ndarray  # (N, K) int64 items shown, in slate order
    valid: np.ndarray  # (N, K) bool, False for a repeat of an item shown higher in the slate
    n_duplicates: np.ndarray  # (N,) int64
    affinities: np.ndarray  # (N, K) float64
    clicks: np.ndarray  # (N, K) bool
    purchases: np.ndarray  # (N, K) bool
    dwell: np.ndarray  # (N, K) float64 minutes
    reward: np.ndarray  # (N,) float64
    session_ended: np.ndarray  # (N,) bool
    churned: np.ndarray  # (N,) bool
    terminated: np.ndarray  # (N,) bool (churned)
    truncated: np.ndarray  # (N,) bool (next session beyond the horizon)
    minute: np.ndarray  # (N,) float64 when the slate was served
    day: np.ndarray  # (N,) int64
    hour: np.ndarray  # (N,) int64
    session_index: np.ndarray  # (N,) int64
    session_step: np.ndarray  # (N,) int64
    user_id: np.ndarray  # (N,) int64
    satisfaction: np.ndarray  # (N,) float64 after the slate

    def detached(self) -> StepOutcome:
        """This outcome with private copies of its :data:`STATE_VIEWS`."""
        new = copy.copy(self)  # (dataclasses.replace would call __init__: twice the time)
        for name in self.STATE_VIEWS:
            object.__setattr__(new, name, getattr(self, name).copy())
        return new


STEP_INFO_FIELDS: dict[str, str] = {
    "clicks": "clicks",
    "purchases": "purchases",
    "dwell": "dwell",
    "slate_item_ids": "item_ids",
    "day": "day",
    "hour": "hour",
    "session_index": "session_index",
    "session_step": "session_step",
    "n_duplicates": "n_duplicates",
    "session_ended": "session_ended",
    "churned": "churned",
    "user_id": "user_id",
    "satisfaction": "satisfaction",
}
"""Step ``info`` key -> :class:`StepOutcome` field: the one list of what a step reports."""

RESET_INFO_KEYS: tuple[str, ...] = ("user_id", "day", "hour")
"""Keys of the ``info`` of a reset (and of a vector env's autoreset rows)."""


def step_info_arrays(
    outcome: StepOutcome, keys: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The step ``info`` of every row, batched ``(N, ...)`` (views of the outcome's arrays): the
    ``keys`` of :data:`STEP_INFO_FIELDS`, all of them if None."""
    names = STEP_INFO_FIELDS if keys is None else keys
    return {key: getattr(outcome, STEP_INFO_FIELDS[key]) for key in names}


def reset_info_arrays(state: SimState, rows: np.ndarray | slice | int = slice(None)) -> dict[str, Any]:
    """The reset ``info`` (``user_id``, ``day``, ``hour`` of the pending request) of ``rows``."""
    day, hour = minute_to_day_hour(state.clock[rows])
    return {"user_id": state.user.user_id[rows], "day": day, "hour": hour}
