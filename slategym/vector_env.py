"""The native vector env: ``N`` SlateRec users stepped together by the batched simulator."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from slategym.config import SlateRecConfig
from slategym.rng import row_key, row_keys
from slategym.simulator import Simulator
from slategym.types import (
    RESET_INFO_KEYS,
    SimState,
    StepOutcome,
    reset_info_arrays,
    step_info_arrays,
)
from slategym.users.base import UserState
from slategym.validation import check_seed


def _unshared(new: SimState, old: SimState) -> SimState:
    """``new`` with private copies of the arrays it shares with ``old`` (e.g. the keys, or the
    interests of a user model without drift), so that writing rows into it leaves ``old`` intact."""
    changes: dict[str, Any] = {}
    for name in SimState.ARRAY_FIELDS:
        a = getattr(new, name)
        if np.may_share_memory(a, getattr(old, name)):
            changes[name] = a.copy()
    user_changes: dict[str, Any] = {}
    for name in UserState.FIELDS:
        a = getattr(new.user, name)
        if np.may_share_memory(a, getattr(old.user, name)):
            user_changes[name] = a.copy()
    if user_changes:
        changes["user"] = dataclasses.replace(new.user, **user_changes)
    return dataclasses.replace(new, **changes) if changes else new


def _entropy_key() -> np.uint64:
    return np.uint64(np.random.SeedSequence().generate_state(1, np.uint64)[0])


class SlateRecVectorEnv(VectorEnv):
    """``N`` independent SlateRec episodes advanced by one call of the batched dynamics per step.

    Seeds: ``reset(seed=s)`` gives row ``i`` the random stream keyed by the pair ``(s, i)``
    (:func:`slategym.rng.row_key`), so different seeds never share a stream (seed 1 is not seed 0
    shifted by one row). ``reset(seed=[s_0, ..., s_{N-1}])`` gives row ``i`` the stream of a
    :class:`~slategym.env.SlateRecEnv` reset with seed ``s_i``: both run the same functions of
    :class:`~slategym.simulator.Simulator` on the same stream, so this env equals a
    ``SyncVectorEnv`` of single envs reset with the same list, observation for observation
    (tested), while a step costs a handful of numpy calls over all rows.

    Autoreset is ``NEXT_STEP``: after a row ends, its next ``step`` ignores the action, resets the row
    (a new user on the same stream) and returns reward 0 with both flags False. ``info`` holds arrays
    with a boolean ``_key`` mask per key, as Gymnasium's vector envs do: step keys are masked off on
    rows that were reset, and reset keys (``user_id``, ``day``, ``hour``) are present on every row.

    Create it with ``gym.make_vec("SlateRec-v0", num_envs=N, vectorization_mode="vector_entry_point",
    **config)``.

    Example:
        >>> import gymnasium as gym
        >>> import slategym
        >>> envs = gym.make_vec("SlateRec-v0", num_envs=4, vectorization_mode="vector_entry_point")
        >>> obs, info = envs.reset(seed=0)
        >>> obs["candidates"].shape
        (4, 50, 10)
        >>> obs, rewards, terminated, truncated, info = envs.step(envs.action_space.sample())
        >>> rewards.shape, info["clicks"].shape
        ((4,), (4, 6))
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, config: SlateRecConfig | None = None, **kwargs: Any):
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an integer >= 1")
        kwargs.pop("max_episode_steps", None)  # episodes end on churn or at the horizon
        if config is None:
            config = SlateRecConfig.from_kwargs(**kwargs)
        elif kwargs:
            config = config.replace(**kwargs)
        self.config = config
        self.num_envs = int(num_envs)
        self.sim = Simulator(config)
        self.single_observation_space = self.sim.observation_space
        self.single_action_space = self.sim.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._state: SimState | None = None
        self._autoreset = np.zeros(self.num_envs, bool)

    # -- seeding ----------------------------------------------------------------------------------
    def _keys(self, seed: int | list[int | None] | None, rows: np.ndarray) -> np.ndarray:
        if seed is None:
            return np.array([_entropy_key() for _ in rows], np.uint64)
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return row_keys(check_seed(seed), rows)
        if not isinstance(seed, (list, tuple, np.ndarray)) or len(seed) != self.num_envs:
            raise ValueError(
                f"seed={seed!r} is not allowed: expected None, a non-negative integer, or a list "
                f"of num_envs={self.num_envs} per-row seeds (integers or None)"
            )
        seeds = [None if s is None else check_seed(s, f"seed[{i}]") for i, s in enumerate(seed)]
        return np.array(
            [_entropy_key() if seeds[i] is None else row_key(seeds[i]) for i in rows], np.uint64
        )

    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        user_ids = self.sim.check_reset_options(options, self.num_envs, ("reset_mask",))
        mask = (options or {}).get("reset_mask")
        if mask is None or self._state is None:
            rows = np.arange(self.num_envs)
        else:
            mask = np.asarray(mask)
            if mask.shape != (self.num_envs,) or mask.dtype != bool:
                raise ValueError(
                    f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), "
                    f"got {mask.dtype} {mask.shape}"
                )
            rows = np.flatnonzero(mask)
        if seed is not None or self._state is None:
            keys = self._keys(seed, rows)
            counters = np.zeros(rows.size, np.uint64)
        else:
            keys, counters = self._state.key[rows], self._state.counter[rows]
        fresh = self.sim.reset(keys, counters, None if user_ids is None else user_ids[rows])
        if self._state is None or rows.size == self.num_envs:
            self._state = fresh
        else:
            self._state.put(rows, fresh)
        self._autoreset[rows] = False
        info = self._reset_info(rows)
        return self.sim.observe(self._state), info

    # -- step -------------------------------------------------------------------------------------
    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        slates = self.sim.validate_slates(actions, self.num_envs)
        old = self._state
        reset_rows = np.flatnonzero(self._autoreset)
        if reset_rows.size:
            # Rows due for an autoreset ignore their action. Every row goes through the batched
            # step (cheaper than splitting the state), then the reset rows are overwritten with a
            # fresh episode drawn from their stream exactly where it stood before this step.
            slates = slates.copy()
            slates[reset_rows] = np.arange(slates.shape[1])  # a valid slate (strict_slates)
        state, outcome = self.sim.step(old, slates)
        rewards = outcome.reward.copy()
        terminated = outcome.terminated.copy()
        truncated = outcome.truncated.copy()
        info = self._step_info(outcome, reset_rows)
        if reset_rows.size:
            fresh = self.sim.reset(old.key.take(reset_rows), old.counter.take(reset_rows))
            state = _unshared(state, old)
            state.put(reset_rows, fresh)
            rewards[reset_rows] = 0.0
            terminated[reset_rows] = False
            truncated[reset_rows] = False
        self._state = state
        self._autoreset = terminated | truncated
        if reset_rows.size:
            reset = self._reset_info(reset_rows)
            for key in RESET_INFO_KEYS:
                info[key][reset_rows] = reset[key][reset_rows]
                info["_" + key] |= reset["_" + key]
        return self.sim.observe(state), rewards, terminated, truncated, info

    # -- info -------------------------------------------------------------------------------------
    def _reset_info(self, rows: np.ndarray) -> dict[str, Any]:
        """Reset keys of ``rows`` (zero and masked off elsewhere)."""
        assert self._state is not None
        info: dict[str, Any] = {}
        mask = np.zeros(self.num_envs, bool)
        mask[rows] = True
        for key, value in reset_info_arrays(self._state, rows).items():
            full = np.zeros(self.num_envs, np.int64)
            full[rows] = value
            info[key], info["_" + key] = full, mask.copy()
        return info

    def _step_info(self, outcome: StepOutcome, reset_rows: np.ndarray) -> dict[str, Any]:
        """Step keys of every row (copies), zero and masked off on the ``reset_rows``."""
        stepped = np.ones(self.num_envs, bool)
        stepped[reset_rows] = False
        info: dict[str, Any] = {}
        for key, value in step_info_arrays(outcome).items():
            full = value.copy()
            if reset_rows.size:
                full[reset_rows] = 0
            info[key], info["_" + key] = full, stepped.copy()
        return info

    # -- hidden state -----------------------------------------------------------------------------
    def oracle_affinities(self) -> np.ndarray:
        """True affinities ``(N, C)`` of every row's candidates. Hidden state: oracles only."""
        if self._state is None:
            raise RuntimeError("call reset() before oracle_affinities()")
        return self.sim.oracle_affinities(self._state)

    @property
    def state(self) -> SimState:
        """The full simulator state, hidden parts included."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state
