"""The platform view: the whole user population on one global clock, served slot by slot.

Where the Gymnasium envs follow one user per episode, the platform advances every user of the
population together through the hourly slots of the timeline, so that an online loop can serve "the
active users of this hour" in batches and update its policy between slots. It is a shell over the
same batched dynamics (:class:`~slategym.simulator.Simulator`); row ``u`` is user ``u`` with the random
stream keyed by ``(seed, u)`` (:func:`slategym.rng.row_key`).

Within a slot, :meth:`Platform.requests` returns every user whose next slate request falls before the
end of the slot; :meth:`Platform.serve` answers them. Users still browsing come back in the next call
for the same slot; once no request is left, :meth:`Platform.next_slot` moves the clock on an hour.

Example:
    >>> import numpy as np
    >>> from slategym.platform import Platform
    >>> platform = Platform(num_users=200, days=1)
    >>> platform.reset(seed=0)
    >>> served = 0
    >>> while not platform.finished:
    ...     while (batch := platform.requests()) is not None:
    ...         slates = np.tile(np.arange(6), (batch.size, 1))
    ...         feedback = platform.serve(slates)
    ...         served += batch.size
    ...     platform.next_slot()
    >>> served > 200
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from slategym.config import SlateRecConfig
from slategym.rng import row_keys
from slategym.simulator import Simulator
from slategym.timeline import HOURS, MINUTES_PER_HOUR
from slategym.types import SimState, StepOutcome
from slategym.validation import check_seed


@dataclass(frozen=True)
class Requests:
    """The pending slate requests of a slot: one row per active user."""

    rows: np.ndarray  # (n,) int64 user ids (= platform rows)
    observations: dict[str, np.ndarray]  # batched (n, ...) like the vector env's
    minute: np.ndarray  # (n,) float64 when each request arrives

    @property
    def size(self) -> int:
        """Number of requests ``n``."""
        return int(self.rows.shape[0])


class Platform:
    """Every user of a SlateRec population advancing on one clock, one hourly slot at a time."""

    def __init__(self, config: SlateRecConfig | None = None, **kwargs: Any) -> None:
        if config is None:
            config = SlateRecConfig.from_kwargs(**kwargs)
        elif kwargs:
            config = config.replace(**kwargs)
        self.config = config
        self.sim = Simulator(config, num_rows=config.num_users)
        self.num_slots = config.days * HOURS
        self._state: SimState | None = None
        self._pending: np.ndarray | None = None
        self.slot = 0

    @property
    def observation_space(self) -> Any:
        """The observation space of one request (a row of :attr:`Requests.observations`)."""
        return self.sim.observation_space

    @property
    def action_space(self) -> Any:
        """The action space of one request: ``slate_size`` candidate indices."""
        return self.sim.action_space

    def reset(self, seed: int) -> None:
        """Start every user at their first session; the clock at slot 0 (day 0, 00:00)."""
        users = np.arange(self.config.num_users)
        keys = row_keys(check_seed(seed), users)
        self._state = self.sim.reset(keys, np.zeros(users.size, np.uint64), user_ids=users)
        self._pending = None
        self.slot = 0

    @property
    def state(self) -> SimState:
        """The full state of the population (hidden parts included)."""
        if self._state is None:
            raise RuntimeError("call reset(seed) first")
        return self._state

    @property
    def day(self) -> int:
        """Day of the current slot."""
        return self.slot // HOURS

    @property
    def hour(self) -> int:
        """Hour of day of the current slot."""
        return self.slot % HOURS

    @property
    def finished(self) -> bool:
        """True once the clock has passed the last slot of the timeline."""
        return self.slot >= self.num_slots

    def active(self) -> np.ndarray:
        """Users not churned and not past the horizon, ``(U,)`` bool."""
        return ~self.state.done

    def requests(self) -> Requests | None:
        """The users with a request pending before the end of the current slot, or None if none."""
        state = self.state
        if self._pending is not None:
            raise RuntimeError("serve() the pending requests before asking for more")
        if self.finished:
            return None
        end = (self.slot + 1) * MINUTES_PER_HOUR
        rows = np.flatnonzero(~state.done & (state.clock < end))
        if rows.size == 0:
            return None
        self._pending = rows
        sub = state.take(rows)
        return Requests(rows=rows, observations=self.sim.observe(sub), minute=sub.clock)

    def serve(self, slates: Any) -> StepOutcome:
        """Answer the pending requests with ``slates (n, K)``; returns what the users did."""
        if self._pending is None:
            raise RuntimeError("no pending requests: call requests() first")
        rows = self._pending
        slates = self.sim.validate_slates(slates, rows.size)
        sub, outcome = self.sim.step(self.state.take(rows), slates)
        self.state.put(rows, sub)
        self._pending = None
        return outcome

    def oracle_affinities(self) -> np.ndarray:
        """True affinities ``(n, C)`` of the pending requests' candidates (hidden state)."""
        if self._pending is None:
            raise RuntimeError("no pending requests: call requests() first")
        return self.sim.oracle_affinities(self.state.take(self._pending))

    def next_slot(self) -> None:
        """Move the clock to the next hourly slot (all requests of this slot must be served)."""
        if self._pending is not None:
            raise RuntimeError("serve() the pending requests before moving to the next slot")
        self.slot += 1
