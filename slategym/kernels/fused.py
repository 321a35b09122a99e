"""The compiled path of a :class:`~slategym.simulator.Simulator`: the glue between the
simulator's typed state and the row kernels of :mod:`slategym.kernels.step` and
:mod:`slategym.kernels.world` (and, for RecSim's users, of :mod:`slategym.kernels.recsim`).

For a simulator whose world the kernels cover
(:func:`slategym.kernels.dispatch.reason_not_compiled`), :class:`CompiledWorld` stands in for the
simulator's ``step``, ``reset`` and ``observe`` with the same inputs and outputs (fresh arrays, the
same sharing between old and new state as the general path), and splits the rows between
``num_threads`` threads.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym.catalog import _strata
from slategym.kernels import layout
from slategym.kernels.dispatch import kernel_group
from slategym.recycle import Recycler
from slategym.rewards import SIGNALS
from slategym.types import SimState, StepOutcome
from slategym.users.dynamic import DynamicUserModel

if TYPE_CHECKING:
    from slategym.simulator import Simulator

MIN_ROWS_PER_THREAD = 256
"""Below this many rows per thread a call stays on one thread (starting threads costs more)."""
CHUNKS_PER_THREAD = 8
""":meth:`CompiledWorld.observe_begin` deals the rows out in this many chunks per thread."""


class CompiledWorld:
    """The compiled ``step``/``reset``/``observe`` of a simulator whose world it covers."""

    def __init__(self, sim: Simulator, num_threads: int = 1) -> None:
        from slategym.kernels import choice, dynamic, rows, step, world

        self.sim = sim
        self._world = world
        self._step: Any = step  # the step kernel's module (the user's own, below)
        c, cat, pop = sim.config, sim.catalog, sim.population
        kind, params, gamma = choice.choice_spec(sim.choice_model, c.slate_size)  # type: ignore[misc]
        starts, sizes = _strata(cat.num_items, c.num_candidates)
        iw = np.zeros(12, np.int64)
        iw[world.I_USERS] = c.num_users
        iw[world.I_DAYS] = c.days
        iw[world.I_MAX_STEPS] = c.max_session_steps
        iw[world.I_SESSION_EPISODES] = sim.session_episodes
        iw[world.I_STRICT] = c.strict_slates
        iw[world.I_LIVE] = cat.num_items
        iw[world.I_NEW_PER_DAY] = cat.new_items_per_day
        iw[world.I_U_CHOICE] = sim._u_choice.start
        iw[world.I_U_USER] = sim._u_user.start
        iw[world.I_U_NEXT] = sim._u_next
        iw[world.I_STEP_UNIFORMS] = sim.step_uniforms
        iw[world.I_KIND] = kind
        fw = np.zeros(4)
        fw[world.F_HORIZON] = sim.horizon
        fw[world.F_STEP_MINUTES] = c.step_minutes
        fw[world.F_MIN_GAP] = c.min_return_gap_minutes
        fw[world.F_LAST_MINUTE] = np.nextafter(sim.horizon, 0.0)
        codes = {"click": rows.CLICK, "purchase": rows.PURCHASE, "engagement": rows.ENGAGEMENT}
        assert list(codes) == list(SIGNALS)
        weights = sim.reward_fn.weights  # type: ignore[attr-defined]
        reward = (
            np.array([codes[name] for name in weights], np.int64),
            np.array(list(weights.values()), np.float64),
        )
        dynamic_world = dynamic.dynamic_arrays(sim)
        strata = (np.asarray(starts), np.asarray(sizes))
        timeline = (_c(pop.hour_profile), _c(pop.activity))
        interests, profile = _c(pop.interests, np.float64), _c(pop.profile)
        # the user's own kernels (None: the default world's step_rows covers the user)
        self._user: Any = None
        self._extra_specs: dict[str, tuple[Any, tuple[int, ...]]] = {}
        self._blank: np.ndarray = layout.NO_EXTRA  # the stand-in of extra state a user does not have
        self._interest_width = c.latent_dim
        if kernel_group(sim) == "recsim":
            from slategym.kernels import recsim

            self._step = self._user = recsim
            kind = recsim.user_kind(sim)
            self._kernel_extra = recsim.slot_names(kind)  # the extra state step_rows takes
            self._blank = recsim.BLANK
            self._extra_specs = recsim.extra_specs(sim)
            self._interest_width = recsim.interest_width(sim)
            ip = recsim.user_params(sim)
            self._step_world = (
                iw, fw, kind, ip, params, gamma, *reward, *strata, *timeline,
                *recsim.world_arrays(sim),
            )  # fmt: skip
            self._user_reset = (kind, ip, sim._r_user.start)
            self._user_observe = (kind,)
            # the observation's "user": the interest-evolution user's interests, else a constant
            self._user_width = self._interest_width if kind == recsim.IEV else 1
            # world.reset_rows and observe_rows skip the interests and the profile: no columns
            interests, profile = np.zeros((1, 0)), np.zeros((1, 0), np.float32)
        else:
            self._kernel_extra = layout.EXTRA
            if isinstance(sim.user_model, DynamicUserModel):
                self._extra_specs = {name: (np.int64, ()) for name in layout.EXTRA}
            self._step_world = (
                iw, fw, layout.model_params(sim.user_model, world.PARAMS), params, gamma,
                *reward, np.ascontiguousarray(cat.item_table), cat.topic, *strata, *timeline,
                _c(pop.price_sensitivity), _c(pop.patience), *dynamic_world,
            )  # fmt: skip
        self._extra = tuple(self._extra_specs)  # the user's extra state, as the kernels know it
        self._reset_world = (
            iw, fw, *strata, *timeline, interests, _c(pop.initial_satisfaction, np.float64),
            *dynamic_world[1:],
        )  # fmt: skip
        self._observe_world = (cat.features, cat.topic, profile, c.days, c.max_session_steps)
        if self._user is None:
            self._user_width = profile.shape[1]  # of the observation's "user": the profile
        from slategym.kernels._jit import entry_point

        self._entry_point = entry_point
        self._entries: dict[Any, Any] = {}
        self._made: SimState | None = None  # the last state made here (C-contiguous arrays)
        self._buffers: list[SimState] = []  # the two state buffers of step(reuse=True)
        self._plans: dict[int, tuple[Any, ...]] = {}  # id(state) -> arguments of a pool step
        self._workspaces: dict[Any, list[tuple[np.ndarray, ...]]] = {}  # scratch, per thread
        self._recyclers: dict[int, Recycler] = {}  # observation sets, by number of rows
        # the keys of observation_buffers the observation leaves out (the other mode's)
        self._unobserved = (
            ("history_response",) if sim.full_observation else ("candidates", "history")
        )
        self.num_threads = 1
        self._pool: ThreadPoolExecutor | None = None
        self.set_threads(num_threads)

    # -- threads ----------------------------------------------------------------------------------
    def set_threads(self, num_threads: int) -> None:
        """Split the rows of every call between ``num_threads`` threads (1: the calling thread)."""
        self.num_threads = int(num_threads)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self.num_threads > 1:  # the calling thread runs one share of the rows itself
            self._pool = ThreadPoolExecutor(self.num_threads - 1, thread_name_prefix="slategym")

    def _run(
        self,
        kernel: Any,
        n: int,
        args: tuple[Any, ...],
        inputs: tuple[np.ndarray, ...] = (),
        work: tuple[Any, ...] | None = None,
    ) -> list[Any]:
        """``kernel(lo, hi, *args, *workspace)`` over ``[0, n)``, in chunks on the pool; results in
        row order.

        ``work``: ``(key, make)``, where ``make()`` returns the kernel's scratch arrays; each thread
        gets its own set, made once per ``key`` and kept. ``inputs`` are the arguments that come
        from the caller (the others are this object's or fresh): when they are C-contiguous the
        kernel's compiled entry point is called directly, skipping numba's type dispatch (several
        microseconds with sixty arguments).
        """
        pool = self._pool
        parts = 1 if pool is None else min(self.num_threads, max(1, n // MIN_ROWS_PER_THREAD))
        spaces: list[tuple[np.ndarray, ...]] = [()] * parts
        if work is not None:
            key, make = work
            kept = self._workspaces.setdefault(key, [])
            while len(kept) < parts:
                kept.append(make())
            spaces = kept
        for a in inputs:
            if not a.flags.c_contiguous:
                break
        else:
            entry = self._entries.get(kernel)
            if entry is None:
                entry = self._entries[kernel] = self._entry_point(kernel, (0, n, *args, *spaces[0]))
            kernel = entry
        if parts == 1 or pool is None:
            return [kernel(0, n, *args, *spaces[0])]
        bounds = [(n * i) // parts for i in range(parts + 1)]
        futures = [
            pool.submit(kernel, bounds[i], bounds[i + 1], *args, *spaces[i])
            for i in range(1, parts)
        ]
        first = kernel(bounds[0], bounds[1], *args, *spaces[0])  # the calling thread's share
        return [first, *(f.result() for f in futures)]

    def close(self) -> None:
        """Stop the worker threads."""
        self.set_threads(1)

    # -- the simulator's functions ------------------------------------------------------------------
    def step(
        self, state: SimState, slates: np.ndarray, reuse: bool = False
    ) -> tuple[SimState, StepOutcome] | None:
        """``Simulator.step``, or None when a row fails a check (the general path then raises).

        ``reuse``: write the next state into one of two buffers kept here, alternately, and the
        outcome into a buffer of its own (the single env's fast path: a step allocates nothing).
        The returned state and outcome then stay valid until the second next call.
        """
        n, k = slates.shape
        if tuple(state.user.extra) != self._extra:  # the user's state, as the kernels know it
            return None
        plan = self._plans.get(id(state)) if reuse else None
        if plan is None or plan[0] is not state or plan[2].item_ids.shape != (n, k):
            plan = self._step_plan(state, n, k, reuse)
        _, new, out, head, tail, work = plan
        if state is self._made or self.owns(state):
            inputs: tuple[np.ndarray, ...] = (slates,)  # the state's arrays are ours
        else:
            inputs = (slates, *layout.state_arrays(state, self._kernel_extra, self._blank))
        for status, _row in self._run(self._step.step_rows, n, (*head, slates, *tail), inputs, work):
            if status != self._step.OK:
                return None
        self._made = new
        return new, out

    def _step_plan(self, state: SimState, n: int, k: int, reuse: bool) -> tuple[Any, ...]:
        """``(state, new, out, head, tail, work)`` of a step from ``state``: the buffers it writes,
        the arguments of ``step_rows`` before and after ``slates``, its workspace (see
        :meth:`_run`); kept for the two buffers of ``reuse``."""
        if reuse:
            if len(self._buffers) != 2 or self._buffers[0].num_rows != n:
                self._buffers = [layout.empty_like(state) for _ in range(2)]
                self._plans.clear()
            new = self._buffers[1] if state is self._buffers[0] else self._buffers[0]
        else:
            new = layout.empty_like(state)
        out = layout.empty_outcome(state, new, k)
        iw, d, t = self._step_world[0], state.user.interests.shape[1], state.user.fatigue.shape[1]
        work = (("step", k, d, t), lambda: self._step.step_workspace(iw, k, d, t))
        extra, blank = self._kernel_extra, self._blank
        tail = (
            *layout.state_arrays(state, extra, blank), *layout.step_outputs(new, out, extra, blank)
        )
        plan = (state, new, out, self._step_world, tail, work)
        if reuse and self.owns(state):
            self._plans[id(state)] = plan
        return plan

    def owns(self, state: SimState) -> bool:
        """Whether ``state`` is one of the two buffers of ``step(reuse=True)`` (its arrays are
        this object's own, C-contiguous, shared with no other state)."""
        b = self._buffers
        return len(b) == 2 and (state is b[0] or state is b[1])

    def reset(
        self, keys: np.ndarray, counters: np.ndarray, user_ids: np.ndarray | None
    ) -> SimState:
        """``Simulator.reset``."""
        c, cat = self.sim.config, self.sim.catalog
        n = keys.shape[0]
        state = layout.empty_state(
            n, self._interest_width, cat.num_topics, c.num_candidates, c.history_length,
            self._extra_specs,
        )  # fmt: skip
        self._reset_rows(state, np.arange(n), keys, counters, user_ids)
        self._made = state
        return state

    def reset_into(
        self, state: SimState, rows: np.ndarray, keys: np.ndarray, counters: np.ndarray
    ) -> None:
        """``state.put(rows, Simulator.reset(keys, counters))`` without the intermediate state:
        the rows are started in place (``state``: one of :meth:`owns`'s buffers)."""
        assert self.owns(state)
        self._reset_rows(state, _c(rows, np.int64), keys, counters, None)

    def _reset_rows(
        self,
        state: SimState,
        rows: np.ndarray,
        keys: np.ndarray,
        counters: np.ndarray,
        user_ids: np.ndarray | None,
    ) -> None:
        """Start entry ``i`` of ``keys``/``counters`` in row ``rows[i]`` of ``state``."""
        n = keys.shape[0]
        given = np.full(n, -1, np.int64) if user_ids is None else _c(user_ids, np.int64)
        args = (
            *self._reset_world, _c(keys, np.uint64), _c(counters, np.uint64), given, rows,
            *layout.state_arrays(state),
        )  # fmt: skip
        d = state.user.interests.shape[1]
        work = (("reset", d), lambda: (self._world.reset_workspace(d),))
        self._run(self._world.reset_rows, n, args, (), work)
        if self._user is not None:  # the user's own start: interests, extra state
            u = state.user
            user_args = (
                *self._user_reset, _c(keys, np.uint64), _c(counters, np.uint64), rows,
                u.interests, u.satisfaction,
                *layout.extra_arrays(state, self._kernel_extra, self._blank),
            )  # fmt: skip
            self._run(self._user.reset_user_rows, n, user_args)

    def observation_buffers(self, n: int) -> dict[str, np.ndarray]:
        """Arrays :meth:`observe` can write ``n`` rows into (``into=``); the keys of the other
        observation mode get no rows (the kernel skips them)."""
        c, cat = self.sim.config, self.sim.catalog
        f = cat.num_features
        full, ids = (n, 0) if self.sim.full_observation else (0, n)
        user = {"user": np.empty((n, self._user_width), np.float32)}
        if self._user is not None:  # the user's response observation
            dtype, shape = self._extra_specs["response"]
            user["response"] = np.empty((n, *shape), dtype)
        return {
            **user,
            "candidates": np.empty((full, c.num_candidates, f), np.float32),
            "candidate_ids": np.empty((n, c.num_candidates), np.int64),
            "candidate_topics": np.empty((n, c.num_candidates), np.int64),
            "history_ids": np.empty((n, c.history_length), np.int64),
            "history": np.empty((full, c.history_length, f + 2), np.float32),
            "history_response": np.empty((ids, c.history_length, 2), np.float32),
            "time": np.empty((n, 3), np.float32),
        }

    def observe(
        self, state: SimState, into: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """``Simulator.observe``: arrays nobody else holds (:mod:`slategym.recycle`: new ones, or
        ones the caller has let go), or written into ``into`` (from :meth:`observation_buffers`,
        for as many rows as ``state``)."""
        n = state.num_rows
        obs = self._observation_set(n, into)
        inputs = () if state is self._made else _observed(state)
        self._run(self._world.observe_rows, n, self.observe_arguments(state, obs), inputs)
        if self._user is not None:  # the user's own keys
            mine = (state.user.interests, state.user.extra["response"])
            args = (*self._user_observe, *mine, obs["user"], obs["response"])
            self._run(self._user.observe_user_rows, n, args, () if state is self._made else mine)
        return self._without_unobserved(obs)

    def observe_begin(
        self, state: SimState, into: dict[str, np.ndarray] | None = None
    ) -> Callable[[], dict[str, np.ndarray]]:
        """:meth:`observe`, started on the worker threads: returns the function that finishes it
        and returns the observation. Until then the caller may do other work (its Python runs
        while the workers' kernel runs without the GIL), but must leave ``state`` alone.

        The rows go out in chunks that each thread claims as it becomes free
        (``world.observe_chunks``); the calling thread takes the chunks left when it finishes, so
        a worker that starts late, or a caller busy for long, costs no balance. With one thread,
        few rows or a state that is not this object's own, the observation is made at once.
        """
        n = state.num_rows
        pool = self._pool
        if pool is None or n < 2 * MIN_ROWS_PER_THREAD or not self.owns(state) or self._user:
            obs = self.observe(state, into)
            return lambda: obs
        obs = self._observation_set(n, into)
        chunk = max(MIN_ROWS_PER_THREAD // 4, n // (CHUNKS_PER_THREAD * self.num_threads))
        args = (np.zeros(1, np.int64), chunk, n, *self.observe_arguments(state, obs))
        kernel = self._world.observe_chunks
        workers = [pool.submit(kernel, *args) for _ in range(self.num_threads - 1)]

        def finish() -> dict[str, np.ndarray]:
            kernel(*args)
            for worker in workers:
                worker.result()
            return self._without_unobserved(obs)

        return finish

    def _observation_set(self, n: int, into: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """The arrays an observation of ``n`` rows is written into: ``into``'s, or a set nobody
        else holds (:meth:`_recycler`)."""
        return self._recycler(n).get() if into is None else dict(into)

    def _without_unobserved(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``obs`` without the keys of the other observation mode (written with no rows)."""
        for key in self._unobserved:
            del obs[key]
        return obs

    def observe_arguments(self, state: SimState, obs: dict[str, np.ndarray]) -> tuple[Any, ...]:
        """The arguments of ``world.observe_rows`` after its row range: ``state``'s arrays it
        reads, the world's, and the ``obs`` arrays it writes."""
        return (*_observed(state), *self._observe_world, *(obs[key] for key in OBSERVED))

    def _recycler(self, n: int) -> Recycler:
        """The observation sets of ``n`` rows handed out so far (the last few row counts)."""
        recycler = self._recyclers.get(n)
        if recycler is None:
            if len(self._recyclers) >= 4:  # e.g. the ended rows of a vector env: let go
                del self._recyclers[next(iter(self._recyclers))]
            recycler = self._recyclers[n] = Recycler(lambda: self.observation_buffers(n))
        return recycler


OBSERVED = (
    "user", "candidates", "candidate_ids", "candidate_topics", "history_ids", "history",
    "history_response", "time",
)  # fmt: skip
"""The observation arrays ``world.observe_rows`` writes, in its order."""


def _observed(state: SimState) -> tuple[np.ndarray, ...]:
    """The arrays of ``state`` that ``world.observe_rows`` reads, in its order."""
    s = state
    return (s.clock, s.session_step, s.candidates, s.history_ids, s.history_response, s.user.user_id)


def _c(a: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A C-contiguous array (a copy only if needed)."""
    return np.ascontiguousarray(a, dtype=dtype)
