"""The ``info`` of a vector env: arrays over all rows with a boolean ``_key`` mask per key, as
Gymnasium's vector envs report them (:class:`~slategym.vector_env.SlateRecVectorEnv`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from slategym.types import (
    RESET_INFO_KEYS,
    SimState,
    StepOutcome,
    reset_info_arrays,
    step_info_arrays,
)


def reset_info(num_rows: int, state: SimState, rows: np.ndarray) -> dict[str, Any]:
    """Reset keys of ``rows`` (zero and masked off elsewhere)."""
    info: dict[str, Any] = {}
    mask = np.zeros(num_rows, bool)
    mask[rows] = True
    for key, value in reset_info_arrays(state, rows).items():
        full = np.zeros(num_rows, np.int64)
        full[rows] = value
        info[key], info["_" + key] = full, mask.copy()
    return info


def add_reset_info(info: dict[str, Any], state: SimState, rows: np.ndarray) -> None:
    """Write the reset keys of ``rows`` (reset in this step) into a step's ``info``."""
    reset = reset_info(state.num_rows, state, rows)
    for key in RESET_INFO_KEYS:
        if key not in info:  # not among the config's info_keys: the reset rows' values only
            info[key], info["_" + key] = reset[key], reset["_" + key]
            continue
        info[key][rows] = reset[key][rows]
        info["_" + key] |= reset["_" + key]


def step_info(
    outcome: StepOutcome, reset_rows: np.ndarray, keys: tuple[str, ...] | None
) -> dict[str, Any]:
    """Step ``keys`` (:func:`~slategym.types.step_info_arrays`) of every row (copies), zero and
    masked off on the ``reset_rows``."""
    num_rows = outcome.reward.shape[0]
    stepped = np.ones(num_rows, bool)
    stepped[reset_rows] = False
    info: dict[str, Any] = {}
    for key, value in step_info_arrays(outcome, keys).items():
        full = value.copy()
        if reset_rows.size:
            full[reset_rows] = 0
        info[key], info["_" + key] = full, stepped.copy()
    return info
