"""The native vector env: ``N`` SlateRec users stepped together by the batched simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import logger
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from slategym.autoreset import add_final_info, check_autoreset_mode, unshared
from slategym.config import CONFIG_KEYWORDS, SlateRecConfig, check_keywords
from slategym.render import (
    RENDER_MODES,
    HumanViewer,
    check_render_mode,
    frame_layout,
    session_text,
    session_views,
    tile,
)
from slategym.repeats import RepeatMonitor
from slategym.rng import row_key, row_keys
from slategym.simulator import Simulator
from slategym.types import (
    SimState,
    StepOutcome,
)
from slategym.validation import check_int, check_seed
from slategym.vector_info import add_reset_info, reset_info, step_info

VECTOR_KEYWORDS: tuple[str, ...] = (
    "num_envs", "config", "render_mode", "max_episode_steps", "autoreset_mode", "num_threads",
    "copy",
)  # fmt: skip
"""Keywords of :class:`SlateRecVectorEnv` besides the fields of :class:`SlateRecConfig`."""
_NONE = np.zeros(0, np.int64)


def _entropy_key() -> np.uint64:
    return np.uint64(np.random.SeedSequence().generate_state(1, np.uint64)[0])


class SlateRecVectorEnv(VectorEnv):
    """``N`` independent SlateRec episodes advanced by one call of the batched dynamics per step.

    ## Description

    Row ``i`` of ``reset(seed=s)`` runs on the stream keyed by ``(s, i)``
    (:func:`slategym.rng.row_key`); ``reset(seed=[s_0, ..., s_{N-1}])`` gives row ``i`` the stream
    of a :class:`~slategym.env.SlateRecEnv` reset with seed ``s_i``, and this env then equals a
    ``SyncVectorEnv`` of those single envs, observation for observation (tested).
    ``reset(options=...)`` takes ``reset_mask`` (an ``(N,)`` bool mask of the rows to reset) and
    ``user_id``. Rows that end are reset as ``autoreset_mode`` says, with Gymnasium's semantics;
    ``info`` holds arrays with a boolean ``_key`` mask per key. Seeds, the autoreset modes, ``info``,
    threads, buffers and rendering are described in full in ``docs/vector_env.md``.

    Create it with ``gym.make_vec("SlateRec-v0", N, vectorization_mode="vector_entry_point")``,
    configuration keywords after it.

    ## Parameters

    | parameter | default | meaning |
    |---|---|---|
    | ``num_envs`` | 1 | rows: users stepped together |
    | ``config`` | None | a :class:`~slategym.config.SlateRecConfig`; the keywords below replace its fields |
    | ``render_mode`` | None | ``"rgb_array"``: a list of ``N`` frames; ``"ansi"``: a list of ``N`` lines; ``"human"``: the first four rows in a 2 x 2 grid |
    | ``max_episode_steps`` | None | truncate a row's episode at its ``T``-th step, as ``TimeLimit`` (None or -1: churn or the horizon ends it) |
    | ``autoreset_mode`` | ``NEXT_STEP`` | ``NEXT_STEP``, ``SAME_STEP`` (last observation in ``info["final_obs"]``) or ``DISABLED`` (reset ended rows with ``reset_mask``), or their values |
    | ``num_threads`` | 1 | threads that share the rows on the compiled path (same results for any number) |
    | ``copy`` | True | False: on the compiled path, observations written into two alternating buffers (valid through the next step) |
    | ``**kwargs`` | | fields of :class:`~slategym.config.SlateRecConfig`; an unknown keyword raises ``TypeError`` |

    ## Example

    >>> import gymnasium as gym
    >>> import slategym
    >>> envs = gym.make_vec("SlateRec-v0", num_envs=4, vectorization_mode="vector_entry_point")
    >>> obs, info = envs.reset(seed=0)
    >>> obs["candidates"].shape
    (4, 50, 10)
    >>> obs, rewards, terminated, truncated, info = envs.step(envs.action_space.sample())
    >>> rewards.shape, info["clicks"].shape
    ((4,), (4, 6))
    >>> envs.autoreset_mode
    <AutoresetMode.NEXT_STEP: 'NextStep'>

    ## Version History

    * v0, slategym 0.2: ``autoreset_mode`` (``SAME_STEP`` and ``DISABLED`` besides
      ``NEXT_STEP``); ``max_episode_steps`` honoured per row (it was silently dropped); the action
      of a row about to be reset is no longer validated; ``render_mode`` ("ansi", "rgb_array",
      "human"); unknown keywords raise ``TypeError``. The default behaviour (``NEXT_STEP``, no
      step limit) is unchanged, trajectory for trajectory (pinned).
    * v0, slategym 0.2: a ``RepeatedItemsWarning``, once per env, when the slates keep repeating
      items. Trajectories are unchanged.
    * v0, slategym 0.2: the compiled step kernels (``backend``) and ``num_threads``. Trajectories
      are unchanged, bit for bit, for any number of threads.
    * v0, slategym 0.2: on the compiled path the state is kept in place (two buffers alternate), so
      ``envs.state`` is overwritten two steps later; copy it (``envs.state.take(rows)``) to keep it.
      What ``step`` returns (observations, rewards, flags, info) is fresh, as before.
    * v0, slategym 0.2: ``copy=False``. Observations are unchanged.
    * v0, slategym 0.2: with ``copy=True`` on the compiled path, the arrays of an observation the
      caller has dropped are reused (``slategym.recycle``); one still referenced never changes.
    * v0, slategym 0.2: ``info_keys`` (the step keys to report; reset keys are always there for
      the rows reset in a step) and ``last_step_info()``. The default ``info`` is unchanged.
    * v0, slategym 0.2: ``observation="ids"`` and the shared table ``item_features``. The default
      observation and the trajectories are unchanged.
    """

    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": list(RENDER_MODES),
        "render_fps": 4,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: SlateRecConfig | None = None,
        *,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        num_threads: int = 1,
        copy: bool = True,
        **kwargs: Any,
    ):
        check_keywords("SlateRecVectorEnv", kwargs, (*VECTOR_KEYWORDS, *CONFIG_KEYWORDS))
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an integer >= 1")
        if config is None:
            config = SlateRecConfig.from_kwargs(**kwargs)
        elif kwargs:
            config = config.replace(**kwargs)
        self.config = config
        self.num_envs = int(num_envs)
        self.autoreset_mode = check_autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        if max_episode_steps is None or max_episode_steps == -1:  # -1: no limit, as in gym.make
            self.max_episode_steps: int | None = None
        else:
            self.max_episode_steps = check_int("max_episode_steps", max_episode_steps, 1)
        self.render_mode = check_render_mode("SlateRecVectorEnv", render_mode)
        self.num_threads = check_int("num_threads", num_threads, 1)
        if not isinstance(copy, (bool, np.bool_)):
            raise ValueError(f"copy={copy!r} is not allowed: expected a bool")
        self.copy = bool(copy)
        self._obs_buffers: list[dict[str, np.ndarray]] = []  # copy=False: two, alternating
        self.sim = Simulator(config, num_rows=self.num_envs)
        self.sim.set_kernel_threads(self.num_threads)  # also when the kernels are ready later
        self.single_observation_space = self.sim.observation_space
        self.single_action_space = self.sim.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._state: SimState | None = None
        self._autoreset = np.zeros(self.num_envs, bool)  # rows whose episode has ended
        self._elapsed = np.zeros(self.num_envs, np.int64)  # steps since each row's reset
        self._last: StepOutcome | None = None  # for render() and last_step_info()
        self._last_reset_rows = _NONE
        self._served = np.zeros(self.num_envs, bool)  # rows whose last slate is in _last
        self._layout = frame_layout(self.sim) if render_mode in ("rgb_array", "human") else None
        self._viewer: HumanViewer | None = None
        self._repeats = RepeatMonitor(config.num_candidates, config.slate_size)

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
            self._last = None
        else:
            self._state.put(rows, fresh)
        self._autoreset[rows] = False
        self._elapsed[rows] = 0
        self._served[rows] = False
        info = reset_info(self._state, rows)
        if self.render_mode == "human":
            self.render()
        return self._observe(self._state), info

    # -- step -------------------------------------------------------------------------------------
    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        mode = self.autoreset_mode
        if mode == AutoresetMode.DISABLED and self._autoreset.any():
            ended = np.flatnonzero(self._autoreset)
            raise RuntimeError(
                f"rows {ended.tolist()} have ended (terminated or truncated) and autoreset_mode "
                "is DISABLED: reset them first with reset(options={'reset_mask': mask})"
            )
        # NEXT_STEP: rows that ended at the previous step are reset now, ignoring their action.
        reset_rows = np.flatnonzero(self._autoreset) if mode == AutoresetMode.NEXT_STEP else _NONE
        slates, checked = self._slates(actions, reset_rows)
        old = self._state
        # Every row goes through the batched step (cheaper than splitting the state); reset rows
        # are then overwritten with a fresh episode drawn from their stream exactly where it stood
        # before this step.
        # reuse: on the compiled path the new state and the outcome are written in place (two
        # state buffers alternate), so a step allocates no state arrays; everything returned to
        # the caller below is a copy or a fresh array.
        state, outcome = self.sim.step(old, slates, reuse=True, checked=checked)
        rewards = outcome.reward.copy()
        terminated = outcome.terminated.copy()
        truncated = outcome.truncated.copy()
        self._elapsed += 1
        if reset_rows.size:
            self._elapsed[reset_rows] = 0
        if self.max_episode_steps is not None:  # TimeLimit: truncate at the T-th step
            truncated |= self._elapsed >= self.max_episode_steps
        if reset_rows.size or (mode == AutoresetMode.SAME_STEP and (terminated | truncated).any()):
            outcome = outcome.detached()  # rows are about to be reset in the state it views
        if reset_rows.size:
            state = self._restart(state, old, reset_rows, old)
            rewards[reset_rows] = 0.0
            terminated[reset_rows] = False
            truncated[reset_rows] = False
        ended = terminated | truncated
        final = None
        if mode == AutoresetMode.SAME_STEP and ended.any():
            state, final = self._reset_same_step(state, old, ended)
        # The state is final: the observation runs on the worker threads (num_threads > 1) while
        # this thread does the bookkeeping below, which leaves the state alone.
        observation = self._observe_begin(state)
        try:
            info = step_info(outcome, reset_rows, self.config.info_keys)
            self._served = np.ones(self.num_envs, bool)
            self._served[reset_rows] = False
            if final is not None:
                rows, last_obs = final
                add_final_info(info, last_obs, outcome, ended, self.config.info_keys)
                add_reset_info(info, state, rows)
                self._served &= ~ended
                self._autoreset = np.zeros(self.num_envs, bool)
            else:
                self._autoreset = ended
            self._state = state
            self._last = outcome
            self._last_reset_rows = reset_rows
            if self._repeats.active:  # warns once if the slates keep repeating items
                # the placeholder slates of reset rows repeat nothing: count only the served rows
                served = self.num_envs - reset_rows.size
                self._repeats.update(int(np.add.reduce(outcome.n_duplicates)), served)
            if reset_rows.size:
                add_reset_info(info, state, reset_rows)
            if self.render_mode == "human":
                self.render()
        finally:  # joined even if the bookkeeping raises: no worker writes on afterwards
            obs = observation()
        return obs, rewards, terminated, truncated, info

    def _restart(
        self, state: SimState, old: SimState, rows: np.ndarray, streams: SimState
    ) -> SimState:
        """``state`` (the step's new state) with ``rows`` started afresh from where their stream
        stands in ``streams``, leaving ``old`` (the step's input) intact."""
        keys, counters = streams.key.take(rows), streams.counter.take(rows)
        kernel = self.sim.kernel
        if kernel is not None and kernel.owns(state):  # in place: no intermediate state
            kernel.reset_into(state, rows, keys, counters)
            return state
        state = unshared(state, old)
        state.put(rows, self.sim.reset(keys, counters))
        return state

    def _observe(self, state: SimState) -> dict[str, np.ndarray]:
        """The observation of every row (:meth:`_observe_begin`, finished at once)."""
        return self._observe_begin(state)()

    def _observe_begin(self, state: SimState) -> Callable[[], dict[str, np.ndarray]]:
        """The observation of every row, started (on the worker threads, with ``num_threads > 1``:
        ``CompiledWorld.observe_begin``); the returned function finishes it and returns arrays no
        one else holds (fresh, or let go by the caller), or (``copy=False`` on the compiled path)
        the older of two buffers, overwritten."""
        kernel = self.sim.kernel
        if kernel is None:
            obs = self.sim.observe(state)
            return lambda: obs
        into = None
        if not self.copy:
            if not self._obs_buffers:
                self._obs_buffers = [kernel.observation_buffers(self.num_envs) for _ in range(2)]
            self._obs_buffers.reverse()
            into = self._obs_buffers[0]
        return kernel.observe_begin(state, into)

    def _slates(self, actions: Any, reset_rows: np.ndarray) -> tuple[np.ndarray, bool]:
        """``(N, K)`` slates and whether their indices are checked already
        (:meth:`Simulator.slates_for_step`). The actions of ``reset_rows`` are ignored, not
        validated (a distinct placeholder stands in for them, valid even with ``strict_slates``)."""
        n, k = self.num_envs, self.config.slate_size
        if reset_rows.size == n:  # every action is ignored
            return np.broadcast_to(np.arange(k), (n, k)).copy(), True
        arr = np.asarray(actions)
        if arr.shape != (n, k) or arr.dtype.kind not in "iu":
            return self.sim.validate_slates(arr, n), True  # raises the shape / dtype error
        if reset_rows.size:
            arr = arr.astype(np.int64)  # a copy: the caller's array is left alone
            arr[reset_rows] = np.arange(k)
        return self.sim.slates_for_step(arr, n)

    def _reset_same_step(
        self, state: SimState, old: SimState, ended: np.ndarray
    ) -> tuple[SimState, tuple[np.ndarray, dict[str, np.ndarray]]]:
        """SAME_STEP: start the next episode of the ``ended`` rows from where their stream stands
        after this step (as a single env's ``reset()`` would). Returns the new state, the rows and
        their last observation (for ``info["final_obs"]``)."""
        rows = np.flatnonzero(ended)
        last_obs = self.sim.observe(state.take(rows))
        state = self._restart(state, old, rows, state)
        self._elapsed[rows] = 0
        return state, (rows, last_obs)

    # -- info -------------------------------------------------------------------------------------
    def last_step_info(self) -> dict[str, Any]:
        """Every step key of the last step (:data:`~slategym.types.STEP_INFO_FIELDS`), whatever
        ``info_keys`` returned (rows reset in that step masked off, as in ``info``; no
        ``final_info``): the rest of a slim ``info``, on request."""
        if self._last is None:
            raise RuntimeError("no step since the last reset(): call step() first")
        return step_info(self._last, self._last_reset_rows, keys=None)

    # -- rendering --------------------------------------------------------------------------------
    def render(self) -> list[Any] | None:  # type: ignore[override]
        """One line (``"ansi"``) or one ``(H, W, 3)`` uint8 frame (``"rgb_array"``) per row, or
        the frames of the first four rows shown in a 2 x 2 grid (``"human"``, returns None)."""
        if self.render_mode is None:
            logger.warn(
                "render() was called without a render mode: pass render_mode= one of "
                f"{list(RENDER_MODES)} to the vector env"
            )
            return None
        if self._state is None or self.render_mode not in RENDER_MODES:
            return None
        rows = np.arange(min(self.num_envs, 4)) if self.render_mode == "human" else None
        views = session_views(self.sim, self._state, self._last, self._served, rows)
        if self.render_mode == "ansi":
            return [session_text(view) for view in views]
        assert self._layout is not None
        frames = [self._layout.draw(view) for view in views]
        if self.render_mode == "rgb_array":
            return frames
        if self._viewer is None:
            self._viewer = HumanViewer(self.metadata["render_fps"], "SlateRec-v0 (rows 0-3)")
        self._viewer.show(tile(frames, min(len(frames), 2)))
        return None

    def close_extras(self, **kwargs: Any) -> None:
        # getattr: gymnasium 1.2.2's VectorEnv.__del__ closes an env whose __init__ raised
        sim: Simulator | None = getattr(self, "sim", None)
        if sim is not None and sim.kernel is not None:
            sim.kernel.close()
        viewer: HumanViewer | None = getattr(self, "_viewer", None)
        if viewer is not None:
            viewer.close()
            self._viewer = None

    # -- the shared item table ----------------------------------------------------------------------
    @property
    def item_features(self) -> np.ndarray:
        """``(total + 1, F)`` float32, read-only: every item's observable features by id (last
        row: zeros, for id -1). ``item_features[obs["candidate_ids"]]`` is the full observation's
        ``candidates``, with ``observation="ids"`` too (see ``Simulator.item_features``)."""
        return self.sim.item_features

    # -- hidden state -----------------------------------------------------------------------------
    def oracle_affinities(self) -> np.ndarray:
        """True affinities ``(N, C)`` of every row's candidates. Hidden state: oracles only."""
        if self._state is None:
            raise RuntimeError("call reset() before oracle_affinities()")
        return self.sim.oracle_affinities(self._state)

    @property
    def state(self) -> SimState:
        """The full simulator state, hidden parts included. On the compiled path it lives in
        buffers that a later step overwrites (two steps later): copy it, e.g. with
        ``state.take(np.arange(num_envs))``, to keep it."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state
