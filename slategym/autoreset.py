"""The autoresets of the native vector env (:class:`~slategym.vector_env.SlateRecVectorEnv`): the
modes it accepts, how a reset row is written without touching the step's input state, and what an
ended row leaves in ``info`` under ``SAME_STEP`` (Gymnasium's ``final_obs`` / ``final_info``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from slategym.types import SimState, StepOutcome, step_info_arrays

AUTORESET_MODES: tuple[AutoresetMode, ...] = (
    AutoresetMode.NEXT_STEP,
    AutoresetMode.SAME_STEP,
    AutoresetMode.DISABLED,
)
"""Autoreset modes of :class:`SlateRecVectorEnv` (all three of Gymnasium's)."""


def check_autoreset_mode(value: Any) -> AutoresetMode:
    """An :class:`~gymnasium.vector.AutoresetMode`, or its value (``"NextStep"``, ...)."""
    try:
        mode = value if isinstance(value, AutoresetMode) else AutoresetMode(value)
    except (ValueError, TypeError):
        mode = None
    if mode not in AUTORESET_MODES:
        raise ValueError(
            f"autoreset_mode={value!r} is not allowed: expected one of "
            f"{[str(m) for m in AUTORESET_MODES]} (or their values {[m.value for m in AUTORESET_MODES]})"
        )
    assert mode is not None
    return mode


def unshared(new: SimState, old: SimState) -> SimState:
    """``new`` with private copies of the arrays it shares with ``old`` (e.g. the keys, or the
    interests of a user model without drift), so that writing rows into it leaves ``old`` intact."""
    changes: dict[str, Any] = {}
    for name in SimState.ARRAY_FIELDS:
        a = getattr(new, name)
        if np.may_share_memory(a, getattr(old, name)):
            changes[name] = a.copy()
    user = new.user.unshared(old.user)  # the user model's extra state included
    if user is not new.user:
        changes["user"] = user
    return dataclasses.replace(new, **changes) if changes else new


def add_final_info(
    info: dict[str, Any],
    last_obs: dict[str, np.ndarray],
    outcome: StepOutcome,
    ended: np.ndarray,
    keys: tuple[str, ...] | None,
) -> None:
    """``SAME_STEP``: record the last observation (``last_obs``, batched over the ``ended`` rows)
    and step ``keys`` of the ``ended`` rows in ``info["final_obs"]`` / ``info["final_info"]``, and
    mask their step keys off at the top level (their next episode's reset keys go there)."""
    rows = np.flatnonzero(ended)
    num_rows = ended.shape[0]
    final_obs = np.full(num_rows, None, dtype=object)
    for j, r in enumerate(rows):
        final_obs[r] = {key: value[j] for key, value in last_obs.items()}
    final_info: dict[str, Any] = {}
    for key, value in step_info_arrays(outcome, keys).items():
        full = np.zeros_like(value)
        full[rows] = value[rows]
        final_info[key], final_info["_" + key] = full, ended.copy()
        # the ended rows' step keys move to final_info: masked off at the top level
        info[key][rows] = 0
        info["_" + key][rows] = False
    info["final_obs"], info["_final_obs"] = final_obs, ended.copy()
    info["final_info"], info["_final_info"] = final_info, ended.copy()
