"""The ``info`` of a vector env: arrays over all rows with a boolean ``_key`` mask per key, as
Gymnasium's vector envs report them (:class:`~slategym.vector_env.SlateRecVectorEnv`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from slategym.types import (
    SimState,
    StepOutcome,
    reset_info_arrays,
    step_info_arrays,
)


def reset_info(state: SimState, rows: np.ndarray) -> dict[str, Any]:
    """Reset keys of ``rows`` (zero and masked off elsewhere)."""
    info: dict[str, Any] = {}
    add_reset_info(info, state, rows)
    return info


def add_reset_info(info: dict[str, Any], state: SimState, rows: np.ndarray) -> None:
    """Write the reset keys of ``rows`` (reset in this step) into a step's ``info``; a key not
    there yet (not among the config's ``info_keys``) gets the reset rows' values only."""
    num_rows = state.num_rows
    for key, value in reset_info_arrays(state, rows).items():
        if key not in info:
            info[key], info["_" + key] = np.zeros(num_rows, np.int64), np.zeros(num_rows, bool)
        info[key][rows] = value
        info["_" + key][rows] = True


def step_info(
    outcome: StepOutcome, reset_rows: np.ndarray, keys: tuple[str, ...] | None
) -> dict[str, Any]:
    """Step ``keys`` (:func:`~slategym.types.step_info_arrays`) of every row (copies), zero and
    masked off on the ``reset_rows``."""
    num_rows = outcome.reward.shape[0]
    stepped = np.ones(num_rows, bool)
    stepped[reset_rows] = False
    arrays = step_info_arrays(outcome, keys)
    masks = np.broadcast_to(stepped, (len(arrays), num_rows)).copy()  # one copy, a row per key
    info: dict[str, Any] = {}
    for (key, value), mask in zip(arrays.items(), masks):
        full = value.copy()
        if reset_rows.size:
            full[reset_rows] = 0
        info[key], info["_" + key] = full, mask
    return info
