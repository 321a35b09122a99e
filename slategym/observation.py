"""The observation of a pending slate request: its space, and its arrays on the general (numpy)
path (the compiled path writes the same arrays, ``slategym.kernels.world.observe_rows``).

| key | shape, dtype | what |
|---|---|---|
| ``user`` (and any key the user model adds) | the user model's | the observable profile |
| ``candidates`` | ``(C, F)`` float32 | the candidates' features (``observation="full"``) |
| ``candidate_ids`` / ``candidate_topics`` | ``(C,)`` int64 | their ids and topics |
| ``history_ids`` | ``(L,)`` int64 | the last ``L`` items shown, newest first (``-1``: empty) |
| ``history`` | ``(L, F + 2)`` float32 | their features, then purchased and dwell / :data:`DWELL_SCALE` (``"full"``) |
| ``history_response`` | ``(L, 2)`` float32 | purchased and dwell / :data:`DWELL_SCALE` alone (``"ids"``) |
| ``time`` | ``(3,)`` float32 | day (clipped to ``days - 1``), hour, step in the session |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from slategym.catalog import Catalog
from slategym.config import SlateRecConfig
from slategym.timeline import minute_to_day_hour
from slategym.types import SimState

DWELL_SCALE = 30.0
"""Dwell minutes are divided by this (and clipped to 1) in the observed history."""
RESPONSE_COLUMNS = ("purchased", "dwell")
"""Response columns appended to each history item's features in the observation."""
SIMULATOR_KEYS = ("candidates", "candidate_ids", "candidate_topics", "history_ids", "history", "time")
"""Observation keys the simulator builds (``observation="full"``); the user model builds ``user``
and may add others."""
IDS_ONLY_KEYS = ("history_response",)
"""The keys added with ``observation="ids"``: the response columns of ``history``."""


def history_table(features: np.ndarray) -> np.ndarray:
    """``features`` (with its zero row for id ``-1``) padded with the :data:`RESPONSE_COLUMNS`: one
    ``take`` by history id then gives the full ``history`` with zeros where the responses go."""
    table = np.zeros((features.shape[0], features.shape[1] + len(RESPONSE_COLUMNS)), np.float32)
    table[:, : features.shape[1]] = features
    return table


def observation_space(
    c: SlateRecConfig, cat: Catalog, user_spaces: Mapping[str, spaces.Space[Any]], full: bool
) -> spaces.Dict:
    """The observation space of one row: the user model's ``user_spaces`` and the simulator's keys
    (ValueError if the user model claims one of them)."""
    f = cat.num_features
    top_id = cat.total - 1
    low, high = cat.feature_low, cat.feature_high
    reserved = (*SIMULATOR_KEYS, *IDS_ONLY_KEYS)
    if "user" not in user_spaces or set(user_spaces) & set(reserved):
        raise ValueError(
            f"the user model's observation_spaces() returned keys {sorted(user_spaces)}: expected "
            f"'user' and no key among the simulator's {list(reserved)}"
        )
    r = len(RESPONSE_COLUMNS)
    if full:
        items: dict[str, spaces.Space[Any]] = {
            "candidates": spaces.Box(low, high, (c.num_candidates, f), np.float32),
            "history": spaces.Box(
                min(low, 0.0), max(high, 1.0), (c.history_length, f + r), np.float32
            ),
        }
    else:  # purchased is 0 or 1, dwell / DWELL_SCALE is clipped to 1
        items = {"history_response": spaces.Box(0.0, 1.0, (c.history_length, r), np.float32)}
    return spaces.Dict(
        {
            **user_spaces,
            **items,
            "candidate_ids": spaces.Box(0, top_id, (c.num_candidates,), np.int64),
            "candidate_topics": spaces.Box(
                0, max(cat.num_topics - 1, 1), (c.num_candidates,), np.int64
            ),
            "history_ids": spaces.Box(-1, top_id, (c.history_length,), np.int64),
            "time": spaces.Box(
                np.zeros(3, np.float32),
                np.array(  # (a bound of at least 1: gymnasium warns of a Box with low == high)
                    [max(c.days - 1, 1), 23, max(c.max_session_steps - 1, 1)], np.float32
                ),
                (3,),
                np.float32,
            ),
        }
    )


def observe(
    state: SimState,
    user: dict[str, np.ndarray],
    c: SlateRecConfig,
    cat: Catalog,
    history_features: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """The observations of ``state``'s pending requests, batched ``(N, ...)``, fresh arrays: the
    user model's ``user`` part and the simulator's keys; ``history_features``: the
    :func:`history_table` of ``observation="full"``, None for ``"ids"``."""
    n = state.num_rows
    day, hour = minute_to_day_hour(state.clock)
    time = np.empty((n, 3), np.float32)
    time[:, 0] = np.minimum(day, c.days - 1)
    time[:, 1] = hour
    time[:, 2] = np.minimum(state.session_step, c.max_session_steps - 1)
    ids, history_ids = state.candidates.copy(), state.history_ids.copy()
    topics = cat.topic.take(state.candidates)
    if history_features is None:  # observation="ids": no feature copies
        return {
            **user, "candidate_ids": ids, "candidate_topics": topics,
            "history_ids": history_ids, "history_response": state.history_response.copy(),
            "time": time,
        }  # fmt: skip
    f = cat.num_features
    # -1 (empty slot) takes the zero padding row at the end of the feature table; the padded
    # table has two more zero columns, overwritten with the responses.
    history = history_features.take(state.history_ids, axis=0)  # (N, L, F + 2)
    history[:, :, f:] = state.history_response
    return {
        **user,
        "candidates": cat.features.take(state.candidates, axis=0),
        "candidate_ids": ids,
        "candidate_topics": topics,
        "history_ids": history_ids,
        "history": history,
        "time": time,
    }
