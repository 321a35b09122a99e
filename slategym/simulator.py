"""The batched dynamics: pure functions over a leading row axis, shared by every view of the world.

:class:`Simulator` holds what does not change during a run (config, catalog, population, models) and
exposes three functions of an explicit :class:`SimState`:

* ``reset(keys, counters, user_ids=None) -> state``: start rows at their user's first session;
* ``observe(state) -> dict``: the observation of each row's pending slate request;
* ``step(state, slates) -> (state', outcome)``: serve one slate per row.

``SlateRecEnv`` (one row), ``SlateRecVectorEnv`` (N rows) and ``Platform`` (the whole population on
one clock) are thin shells over these; none of them re-implements the maths.

A world is the five parts the simulator is built from, each injected as an instance (or a registered
name): an item model (:mod:`slategym.items`: catalog, candidates, corpus dynamics), a user model
(:mod:`slategym.users`: population, state, affinities, responses, and the user part of the
observation), a choice model (:mod:`slategym.choice`), the timeline (:mod:`slategym.timeline`, with
the ``episode`` scope of the config) and a reward function (:mod:`slategym.rewards`).

Randomness is counter-based (:mod:`slategym.rng`): a row's draws depend only on its key and how many
blocks it has drawn, never on the other rows in the batch. A step reads one block laid out as

``[candidates: n_i | choice model: n_c | user model: n_u | next session: 1]``

and a reset reads ``[user id: 1 | first session: 1 | candidates: n_i | user model: n_r]``, with
``n_i`` the item model's uniforms per candidate draw (``C + 1`` for the built-in draw) and ``n_r`` the
user model's uniforms per reset (0 for the default model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces

from slategym import observation
from slategym._arrays import take_rows
from slategym.catalog import Catalog, check_catalog
from slategym.checks import check_affinities, check_response, check_rewards
from slategym.config import SlateRecConfig
from slategym.kernels.dispatch import KernelDispatch
from slategym.limits import check_limits
from slategym.observation import DWELL_SCALE, RESPONSE_COLUMNS
from slategym.registry import make_choice_model, make_item_model, make_user_model
from slategym.rewards import make_reward
from slategym.rng import uniforms
from slategym.slates import duplicate_mask, validate_slates
from slategym.timeline import (
    MINUTES_PER_DAY,
    arrival_after,
    minute_to_day_hour,
    truncated_exponential,
)
from slategym.types import SimState, StepOutcome
from slategym.users.base import Population

if TYPE_CHECKING:
    from slategym.kernels.fused import CompiledWorld

_NO_ROWS = np.zeros(0, np.int64)


class Simulator:
    """The static world of a SlateRec run and the batched functions over its state."""

    def __init__(self, config: SlateRecConfig, num_rows: int = 1) -> None:
        self.config = config
        c = config
        self.item_model = make_item_model(c.item_model, c.item_model_kwargs)
        self.user_model = make_user_model(c.user_model, c.user_model_kwargs)
        self.choice_model = make_choice_model(c.choice_model, c.choice_model_kwargs)
        check_limits(c, self.choice_model, self.user_model, num_rows)  # before allocating
        self.reward_fn = make_reward(c.reward)
        self.catalog: Catalog = self._check_catalog(
            self.item_model.generate(c, np.random.default_rng(c.catalog_seed))
        )
        self.population: Population = self.user_model.sample_population(
            c.num_users, self.catalog, np.random.default_rng(c.population_seed)
        )
        self.horizon = c.days * MINUTES_PER_DAY
        self.session_episodes = c.episode == "session"
        k, nc = c.slate_size, c.num_candidates
        n_item = self.item_model.num_uniforms(nc)
        n_choice = self.choice_model.num_uniforms(k)
        n_user = self.user_model.num_uniforms(k)
        n_reset = self.user_model.num_reset_uniforms(self.catalog)
        self._u_cand = slice(0, n_item)
        self._u_choice = slice(n_item, n_item + n_choice)
        self._u_user = slice(self._u_choice.stop, self._u_choice.stop + n_user)
        self._u_next = self._u_user.stop
        self.step_uniforms = self._u_next + 1
        self._r_cand = slice(2, 2 + n_item)
        self._r_user = slice(2 + n_item, 2 + n_item + n_reset)
        self.reset_uniforms = self._r_user.stop
        self.full_observation = c.observation == "full"
        # the padded table of the full history (None: observation="ids")
        self._history_features = (
            observation.history_table(self.catalog.features) if self.full_observation else None
        )
        self.observation_space = observation.observation_space(
            c, self.catalog,
            self.user_model.observation_spaces(self.population, self.catalog, c.slate_size),
            self.full_observation,
        )  # fmt: skip
        self.action_space = spaces.MultiDiscrete(np.full(k, nc, dtype=np.int64))
        self._dispatch = KernelDispatch(self)  # the compiled world or the numpy path

    @property
    def kernel(self) -> CompiledWorld | None:
        """The compiled world that runs this simulator's calls, or None for the numpy path.

        While the kernels compile in the background (``backend="auto"``, see
        :mod:`slategym.kernels._background`) this is None; the first access after they are ready
        (the start of the next ``reset``/``step``/``observe``) switches to the compiled world
        (:mod:`slategym.kernels.dispatch`).
        """
        return self._dispatch.current()

    @property
    def kernel_threads(self) -> int:
        """Threads of the compiled world (:meth:`set_kernel_threads`; 1 by default)."""
        return self._dispatch.num_threads

    def set_kernel_threads(self, num_threads: int) -> None:
        """Rows of every compiled call split between ``num_threads`` threads, now and for a
        compiled world that becomes ready later (no effect on the numpy path)."""
        self._dispatch.set_threads(num_threads)

    def __getstate__(self) -> dict[str, Any]:
        # compiled entry points and worker threads do not pickle: rebuilt on unpickling
        return KernelDispatch.pickled(self.__dict__, "_dispatch")

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        threads = KernelDispatch.unpickled_threads(state)
        self.__dict__.update(state)
        self._dispatch = KernelDispatch(self, threads)

    def _check_catalog(self, catalog: Catalog) -> Catalog:
        """The item model's catalog, checked once against the config (ValueError if unusable)."""
        c = self.config
        check_catalog(catalog)
        needed = catalog.num_items + catalog.new_items_per_day * (c.days - 1)
        if needed > catalog.total:
            raise ValueError(
                f"the item model's catalog has {catalog.total} items: the timeline needs "
                f"num_items + new_items_per_day * (days - 1) = {needed}"
            )
        if catalog.num_items < c.num_candidates:
            raise ValueError(
                f"num_candidates={c.num_candidates} is not allowed: the item model keeps "
                f"{catalog.num_items} items live (candidates are distinct live items)"
            )
        return catalog

    # -- spaces -----------------------------------------------------------------------------------
    @property
    def item_features(self) -> np.ndarray:
        """``(total + 1, F)`` float32, read-only: the observable features of every item of the
        timeline, row ``i`` for item id ``i``, and a last row of zeros that id ``-1`` (an empty
        history slot) indexes. ``item_features[candidate_ids]`` is the full observation's
        ``candidates`` and ``item_features[history_ids]`` the features part of its ``history``."""
        table = self.catalog.features.view()
        table.flags.writeable = False
        return table

    # -- reset --------------------------------------------------------------------------------------
    def reset(
        self, keys: np.ndarray, counters: np.ndarray, user_ids: np.ndarray | None = None
    ) -> SimState:
        """Start rows at the first session of their user (drawn uniformly unless ``user_ids``)."""
        if self.kernel is not None:
            return self.kernel.reset(keys, counters, user_ids)
        c = self.config
        n = keys.shape[0]
        u = uniforms(keys, counters, self.reset_uniforms)
        if user_ids is None:
            user_ids = np.minimum((u[:, 0] * c.num_users).astype(np.int64), c.num_users - 1)
        pop = self.population
        rate = pop.activity.take(user_ids)
        first = arrival_after(
            np.zeros(n),
            pop.hour_profile.take(user_ids, axis=0),
            rate,
            truncated_exponential(u[:, 1], c.days * rate),
        )
        first = np.minimum(first, np.nextafter(self.horizon, 0.0))
        day, _ = minute_to_day_hour(first)
        cat, model = self.catalog, self.user_model
        user = model.initial_state(pop, cat, user_ids, u[:, self._r_user], c.slate_size)
        if set(user.extra) != set(model.EXTRA_STATE):
            raise ValueError(
                f"{type(model).__name__}.initial_state() returned extra state {sorted(user.extra)}: "
                f"expected the fields it declares in EXTRA_STATE, {sorted(model.EXTRA_STATE)}"
            )
        return SimState(
            key=keys.astype(np.uint64),
            counter=counters + np.uint64(1),
            user=model.advance(pop, user, cat, first),
            clock=first,
            session_index=np.zeros(n, np.int64),
            session_step=np.zeros(n, np.int64),
            candidates=self.item_model.candidates(cat, day, u[:, self._r_cand], c.num_candidates),
            history_ids=np.full((n, c.history_length), -1, np.int64),
            history_response=np.zeros((n, c.history_length, len(RESPONSE_COLUMNS)), np.float32),
            done=np.zeros(n, bool),
        )

    def check_reset_options(
        self, options: Any, num_rows: int, extra: tuple[str, ...] = ()
    ) -> np.ndarray | None:
        """The ``user_id`` of a reset's ``options`` as ``(num_rows,)`` int64, or None if absent.

        ``options["user_id"]`` is one integer (every row starts as that user) or, for ``num_rows``
        rows, an integer array of shape ``(num_rows,)``; any key other than ``user_id`` and
        ``extra`` raises ``ValueError`` naming the allowed keys.
        """
        if options is None:
            return None
        if not isinstance(options, dict):
            raise ValueError(f"options={options!r} is not allowed: expected None or a dict")
        allowed = ("user_id", *extra)
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(
                f"options has unknown key(s) {unknown}: expected keys among {list(allowed)}"
            )
        if "user_id" not in options or options["user_id"] is None:
            return None
        value = options["user_id"]
        top = self.config.num_users - 1
        arr = np.asarray(value)
        if arr.dtype == bool or arr.dtype.kind not in "iu" or arr.shape not in ((), (num_rows,)):
            shape = "an integer" + ("" if num_rows == 1 else f" or an integer array ({num_rows},)")
            raise ValueError(
                f"options['user_id']={value!r} is not allowed: expected {shape} in [0, {top}]"
            )
        if arr.min() < 0 or arr.max() > top:
            raise ValueError(
                f"options['user_id']={value!r} is not allowed: expected user ids in [0, {top}]"
            )
        return np.broadcast_to(arr.astype(np.int64), (num_rows,)).copy()

    # -- observation --------------------------------------------------------------------------------
    def observe(
        self, state: SimState, into: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Observations of the pending requests, batched ``(N, ...)``: arrays nobody else holds
        (fresh, or on the compiled path arrays of an earlier call that the caller has let go, see
        :mod:`slategym.recycle`), or, on the compiled path when ``into``
        (``kernel.observation_buffers(N)``) is given, written into those arrays."""
        if self.kernel is not None:
            return self.kernel.observe(state, into)
        user = self.user_model.observe(self.population, state.user, self.catalog)
        return observation.observe(state, user, self.config, self.catalog, self._history_features)

    # -- slates -------------------------------------------------------------------------------------
    def validate_slates(self, slates: Any, num_rows: int) -> np.ndarray:
        """Slates as an ``(N, K)`` int64 array, or ValueError naming what is allowed
        (:func:`slategym.slates.validate_slates`)."""
        c = self.config
        return validate_slates(slates, num_rows, c.slate_size, c.num_candidates)

    def slates_for_step(self, slates: Any, num_rows: int) -> tuple[np.ndarray, bool]:
        """``(slates, checked)`` for :meth:`step`: a C-contiguous int64 ``(N, K)`` array goes on as
        it is, its indices left to the compiled kernel, which checks them as it reads them
        (``checked=False``); anything else through :meth:`validate_slates` (``checked=True``)."""
        arr = np.asarray(slates)
        expected = (num_rows, self.config.slate_size)
        if arr.dtype == np.int64 and arr.flags.c_contiguous and arr.shape == expected:
            return arr, False
        return self.validate_slates(arr, num_rows), True

    # -- step ---------------------------------------------------------------------------------------
    def step(
        self, state: SimState, slates: np.ndarray, reuse: bool = False, checked: bool = True
    ) -> tuple[SimState, StepOutcome]:
        """Serve ``slates (N, K)`` (validated candidate indices) to every row of ``state``.

        The new state and the outcome are fresh arrays, unless ``reuse``: then the compiled path
        writes them into two buffers it alternates between (the single env's fast path), valid
        until the second next call with ``reuse``.

        ``checked=False``: ``slates`` is an ``(N, K)`` int64 array whose indices have not been
        checked yet. The compiled kernel checks them as it reads them; otherwise (or when a row
        fails) :meth:`validate_slates` runs first and raises its usual error.
        """
        if self.kernel is not None:
            done = self.kernel.step(state, slates, reuse)
            if done is not None:  # None: a row failed a check; the general path raises
                return done
        if not checked:
            slates = self.validate_slates(slates, state.num_rows)
        c, cat, pop = self.config, self.catalog, self.population
        n, k = slates.shape
        u = uniforms(state.key, state.counter, self.step_uniforms)
        item_ids = take_rows(state.candidates, slates)
        dup = duplicate_mask(slates)
        n_dup = np.add.reduce(dup, axis=1)
        if c.strict_slates and n_dup.any():
            row = int(np.flatnonzero(n_dup)[0])
            raise ValueError(
                f"slate {slates[row].tolist()} repeats a candidate and strict_slates=True: "
                f"expected {k} distinct indices in [0, {c.num_candidates - 1}]"
            )
        valid = ~dup
        # Rows with no pending request (a vector env's rows due for an autoreset) are stepped as
        # placeholders and their outputs discarded: models' outputs are checked on live rows only.
        live = ~state.done if state.done.any() else None
        aff = self.user_model.affinity(pop, state.user, cat, item_ids)
        aff = check_affinities(self.user_model, aff, (n, k), live)
        if live is not None:
            aff = np.where(live[:, None], aff, 0.0)
        clicks = self.choice_model.clicks(aff, u[:, self._u_choice], valid)
        full = state.session_step + 1 >= c.max_session_steps
        user, resp = self.user_model.respond(
            pop, state.user, cat, item_ids, aff, clicks, full, u[:, self._u_user]
        )
        check_response(self.user_model, resp, n, k, live)
        purchases = resp.purchases & clicks
        dwell = np.where(clicks, resp.dwell, 0.0)

        day, hour = minute_to_day_hour(state.clock)
        day = np.minimum(day, c.days - 1)  # a "session" episode may run past the horizon
        clock = state.clock + c.step_minutes + np.add.reduce(dwell, axis=1)
        ended = resp.session_end
        churned = ended & resp.churn
        # the next session of users who left without churning (a "session" episode ends instead)
        returning = _NO_ROWS if self.session_episodes else np.flatnonzero(ended & ~churned)
        if returning.size:
            uid = user.user_id.take(returning)
            clock[returning] = arrival_after(
                clock.take(returning) + c.min_return_gap_minutes,
                pop.hour_profile.take(uid, axis=0),
                pop.activity.take(uid) * resp.return_multiplier.take(returning),
                -np.log1p(-u[returning, self._u_next]),
            )
        if self.session_episodes:
            truncated = ended & ~churned
        else:
            truncated = ~churned & (clock >= self.horizon)
        next_day = np.minimum(minute_to_day_hour(clock)[0], c.days - 1)
        history_ids, history_response = self._push_history(
            state, item_ids, clicks, purchases, dwell
        )
        candidates = self.item_model.next_candidates(
            cat, state.candidates, next_day, u[:, self._u_cand], c.num_candidates
        )
        new_state = SimState(
            key=state.key,
            counter=state.counter + np.uint64(1),
            user=self.user_model.advance(pop, user, cat, clock),
            clock=clock,
            session_index=state.session_index + ended,
            session_step=np.where(ended, 0, state.session_step + 1),
            candidates=candidates,
            history_ids=history_ids,
            history_response=history_response,
            done=churned | truncated,
        )
        outcome = StepOutcome(
            item_ids=item_ids,
            valid=valid,
            n_duplicates=n_dup,
            affinities=aff,
            clicks=clicks,
            purchases=purchases,
            dwell=dwell,
            reward=np.zeros(n),
            session_ended=ended,
            churned=churned,
            terminated=churned,
            truncated=truncated,
            minute=state.clock,
            day=day,
            hour=hour,
            session_index=state.session_index,
            session_step=state.session_step,
            user_id=user.user_id,
            satisfaction=user.satisfaction,
        )
        reward = check_rewards(self.reward_fn, self.reward_fn(outcome), n, live)
        outcome.reward[:] = reward  # the reward function saw zeros, as it always has
        return new_state, outcome

    def _push_history(
        self,
        state: SimState,
        item_ids: np.ndarray,
        clicks: np.ndarray,
        purchases: np.ndarray,
        dwell: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Append each row's clicked items (slate order) to its history, keeping the last ``L``.

        Fresh arrays: the history is shifted left by the row's number of clicks, then the clicks
        are written into the freed columns at the end (the newest ``L`` entries survive).
        """
        n_clicks = np.add.reduce(clicks, axis=1)
        if not n_clicks.any():
            return state.history_ids.copy(), state.history_response.copy()
        length = self.config.history_length
        shift = np.minimum(n_clicks[:, None] + np.arange(length), length - 1)  # (N, L)
        ids = take_rows(state.history_ids, shift)
        resp = take_rows(state.history_response, shift)
        rows, pos = np.nonzero(clicks)  # row-major: each row's clicks in slate order
        rank = np.arange(rows.size) - np.searchsorted(rows, rows)  # j-th click of its row
        dest = rank + (length - n_clicks[rows])  # column in the new history; < 0 falls out
        if dest.min() < 0:
            keep = dest >= 0
            rows, pos, dest = rows[keep], pos[keep], dest[keep]
        ids[rows, dest] = item_ids[rows, pos]
        resp[rows, dest, 0] = purchases[rows, pos]
        resp[rows, dest, 1] = np.minimum(dwell[rows, pos] / DWELL_SCALE, 1.0)
        return ids, resp

    # -- hidden state, for oracles and analysis ----------------------------------------------------
    def oracle_affinities(self, state: SimState) -> np.ndarray:
        """True affinities ``(N, C)`` of every candidate of the pending requests (hidden state)."""
        aff = self.user_model.affinity(self.population, state.user, self.catalog, state.candidates)
        return check_affinities(self.user_model, aff, state.candidates.shape)
