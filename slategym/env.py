"""``SlateRec-v0``: one simulated user over a timeline of days, as a Gymnasium environment."""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np

from slategym.config import SlateRecConfig
from slategym.rng import row_key
from slategym.simulator import Simulator
from slategym.timeline import minute_to_day_hour
from slategym.types import SimState, StepOutcome, reset_info_arrays, step_info_arrays
from slategym.validation import check_seed


def _scalar(value: np.ndarray) -> Any:
    """A Python scalar for a 0-d value, a fresh array otherwise."""
    return value.item() if value.ndim == 0 else value.copy()


def step_info(outcome: StepOutcome, row: int) -> dict[str, Any]:
    """The ``info`` dict of one row after a step (Python scalars, fresh arrays)."""
    return {key: _scalar(value[row]) for key, value in step_info_arrays(outcome).items()}


def reset_info(state: SimState, row: int) -> dict[str, Any]:
    """The ``info`` dict of one row after a reset."""
    return {key: _scalar(value) for key, value in reset_info_arrays(state, row).items()}


class SlateRecEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    r"""One user from the population, followed session by session over ``days`` of hourly slots.

    ## Description

    Each step serves one slate request: the agent picks ``slate_size`` of the ``num_candidates``
    candidate items (indices into the observation's candidate list), the user's choice model turns
    affinities into clicks, a click may become a purchase with some dwell time, and the user either
    asks for another slate in the same session or leaves. Between sessions the clock jumps to the
    user's next visit (drawn from their hour-of-day profile and satisfaction). See
    ``docs/concepts.md`` for the timeline and :class:`~slategym.config.SlateRecConfig` for every
    parameter.

    ## Action Space

    ``MultiDiscrete([num_candidates] * slate_size)``: candidate indices, position 0 first.
    Out-of-range indices or a wrong shape or dtype raise ``ValueError``. A repeated index is shown
    once; later copies occupy their position but are never clicked, and ``info["n_duplicates"]``
    counts them (``strict_slates=True`` raises instead).

    ## Observation Space

    A ``Dict``:

    | key | shape | dtype | content |
    |---|---|---|---|
    | ``user`` | (10,) | float32 | profile: age, gender, region (4), device (3), tenure |
    | ``candidates`` | (C, F) | float32 | item features: latent (D), log-price z, log-popularity z |
    | ``candidate_ids`` | (C,) | int64 | catalog ids of the candidates |
    | ``candidate_topics`` | (C,) | int64 | topic of each candidate |
    | ``history_ids`` | (L,) | int64 | last ``L`` clicked items, oldest first, -1 = empty |
    | ``history`` | (L, F + 2) | float32 | their features, then (purchased, dwell / 30 min) |
    | ``time`` | (3,) | float32 | day, hour of day, position in the session |

    ## Rewards

    By default the number of clicks on the slate; ``reward=`` takes "purchase", "engagement"
    (dwell minutes), weights over these, or a callable (see :mod:`slategym.rewards`).

    ## Episode End

    ``terminated`` when the user churns (decided at the end of a session), ``truncated`` when their
    next session would start after the horizon.

    ## Info

    Every step: ``clicks``, ``purchases``, ``dwell`` (per position), ``slate_item_ids``, ``day``,
    ``hour``, ``session_index``, ``session_step`` (of the request served), ``n_duplicates``,
    ``session_ended``, ``churned``, ``user_id``, ``satisfaction`` (hidden state, for analysis).

    ## Example

    >>> import gymnasium as gym
    >>> import slategym
    >>> env = gym.make("SlateRec-v0", num_users=50)
    >>> obs, info = env.reset(seed=0)
    >>> obs["candidates"].shape
    (50, 10)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> sorted(info)[:4]
    ['churned', 'clicks', 'day', 'dwell']

    ## Seeding

    ``reset(seed=s)`` starts the random stream keyed by ``(s, 0)`` (:func:`slategym.rng.row_key`);
    row ``i`` of a vector env reset with ``s`` runs ``(s, i)``, user ``u`` of a platform ``(s, u)``.
    Same seed, same trajectory; different seeds never share a stream. ``options={"user_id": u}``
    starts the episode as user ``u`` instead of a uniformly drawn one.

    ## Version History

    * v0: initial version.
    * v0, slategym 0.2: random streams keyed by ``(seed, row)`` (``SeedSequence(seed,
      spawn_key=(row,))``) instead of ``seed + row``, so that consecutive seeds no longer share the
      streams of shifted rows. Trajectories of a given seed differ from slategym 0.1; the dynamics
      and their distributions are unchanged.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self, config: SlateRecConfig | None = None, render_mode: str | None = None, **kwargs: Any
    ) -> None:
        if config is None:
            config = SlateRecConfig.from_kwargs(**kwargs)
        elif kwargs:
            config = config.replace(**kwargs)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not allowed: expected None or one of "
                f"{self.metadata['render_modes']}"
            )
        self.render_mode = render_mode
        self.config = config
        self.sim = Simulator(config)
        self.observation_space = cast(gym.Space[dict[str, np.ndarray]], self.sim.observation_space)
        self.action_space = self.sim.action_space
        self._state: SimState | None = None
        self._last: StepOutcome | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        if seed is not None:
            seed = check_seed(seed)
        user_ids = self.sim.check_reset_options(options, 1)
        super().reset(seed=seed)
        if seed is not None or self._state is None:
            key = row_key(seed) if seed is not None else self.np_random.integers(2**63)
            keys = np.array([key], np.uint64)
            counters = np.zeros(1, np.uint64)
        else:  # a new episode on the same stream
            keys, counters = self._state.key, self._state.counter
        self._state = self.sim.reset(keys, counters, user_ids)
        self._last = None
        obs = {k: v[0] for k, v in self.sim.observe(self._state).items()}
        return obs, reset_info(self._state, 0)

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if bool(self._state.done[0]):
            raise RuntimeError("the episode has ended (terminated or truncated): call reset()")
        slates = self.sim.validate_slates(np.asarray(action)[None], 1)
        self._state, outcome = self.sim.step(self._state, slates)
        self._last = outcome
        obs = {k: v[0] for k, v in self.sim.observe(self._state).items()}
        return (
            obs,
            float(outcome.reward[0]),
            bool(outcome.terminated[0]),
            bool(outcome.truncated[0]),
            step_info(outcome, 0),
        )

    def oracle_affinities(self) -> np.ndarray:
        """True affinities ``(C,)`` of the pending request's candidates. Hidden state: oracles only."""
        if self._state is None:
            raise RuntimeError("call reset() before oracle_affinities()")
        return self.sim.oracle_affinities(self._state)[0]

    @property
    def state(self) -> SimState:
        """The full simulator state (one row), hidden parts included."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def render(self) -> str | None:  # "ansi" mode returns text
        if self.render_mode != "ansi" or self._state is None:
            return None
        s = self._state
        day, hour = (int(v) for v in minute_to_day_hour(s.clock[0]))
        text = (
            f"user {int(s.user.user_id[0])} day {day} {hour:02d}h session {int(s.session_index[0])}"
            f" step {int(s.session_step[0])} satisfaction {float(s.user.satisfaction[0]):.2f}"
        )
        if self._last is not None:
            text += f" | last slate clicks {self._last.clicks[0].astype(int).tolist()}"
        return text
