"""``SlateRec-v0``: one simulated user over a timeline of days, as a Gymnasium environment."""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np

from slategym.config import CONFIG_KEYWORDS, SlateRecConfig, check_keywords
from slategym.render import (
    RENDER_MODES,
    HumanViewer,
    check_render_mode,
    frame_layout,
    session_text,
    session_views,
)
from slategym.repeats import RepeatMonitor
from slategym.rng import row_key
from slategym.simulator import Simulator
from slategym.types import SimState, StepOutcome, reset_info_arrays, step_info_arrays
from slategym.validation import check_seed


def _scalar(value: np.ndarray) -> Any:
    """A Python scalar for a 0-d value, a fresh array otherwise."""
    return value.item() if value.ndim == 0 else value.copy()


def step_info(
    outcome: StepOutcome, row: int, keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The ``info`` dict of one row after a step (Python scalars, fresh arrays); ``keys`` as in
    :func:`~slategym.types.step_info_arrays`."""
    return {
        key: value.item(row) if value.ndim == 1 else value[row].copy()
        for key, value in step_info_arrays(outcome, keys).items()
    }


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
    counts them (``strict_slates=True`` raises instead). When the slates keep repeating items
    (``n_duplicates`` high, defined in :mod:`slategym.repeats`) the env warns once
    (``RepeatedItemsWarning``): a policy with independent per-position heads collapses to copies
    of its best item; :class:`slategym.wrappers.TopKSlate` turns scores into distinct slates.

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

    ``candidate_ids``, ``history_ids`` and ``candidate_topics`` are *ids* (categories), not
    quantities: do not normalise them or feed them to an MLP as floats; drop, one-hot or embed
    them (:class:`slategym.wrappers.FlattenSlateObservation` does).

    ``observation="ids"`` (a lighter observation, see ``docs/performance.md``) leaves out the two
    feature copies, ``candidates`` and ``history``, and adds ``history_response`` ``(L, 2)``
    float32, the (purchased, dwell / 30 min) columns of ``history``. The features are then read
    from the env's shared read-only table ``item_features`` ``(total + 1, F)`` float32 (every item
    of the timeline by id, and a last row of zeros that id ``-1`` indexes):
    ``item_features[obs["candidate_ids"]]`` equals the full observation's ``candidates`` and
    ``item_features[obs["history_ids"]]`` the first ``F`` columns of its ``history``, bit for bit
    (tested). The agents of ``agents/`` read the features and refuse an ids env, naming the mode.

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
    ``info_keys=(...)`` (a configuration keyword) keeps only those keys, ``info_keys=()`` none:
    building the dict is a measurable part of a compiled step (docs/performance.md); the whole
    dict of the last step stays available from ``env.unwrapped.last_step_info()``.

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

    ## Rendering

    ``render_mode="rgb_array"``: ``render()`` returns an ``(H, W, 3)`` uint8 picture of the session
    (the slate with each position's topic colour, clicks and purchases; the time; the candidates'
    topics; the observable user profile; the satisfaction, marked as hidden state), described in
    :mod:`slategym.frame` and drawn with numpy alone. ``"human"`` shows that picture in a
    matplotlib window (``pip install "slategym[experiments]"``) at every ``reset`` and ``step``;
    ``"ansi"`` returns one line of text. Another mode is warned about, as Gymnasium does, and
    renders nothing.

    ## Keywords

    ``gym.make("SlateRec-v0", **kwargs)`` takes ``render_mode`` and the fields of
    :class:`~slategym.config.SlateRecConfig`; any other keyword raises ``TypeError`` ("got an
    unexpected keyword argument", listing the valid ones), as Python does, so that libraries that
    probe keywords (TorchRL passes ``frameskip``) fall back. Bad *values* raise ``ValueError``.

    ## Version History

    * v0: initial version.
    * v0, slategym 0.2: random streams keyed by ``(seed, row)`` (``SeedSequence(seed,
      spawn_key=(row,))``) instead of ``seed + row``, so that consecutive seeds no longer share the
      streams of shifted rows. Trajectories of a given seed differ from slategym 0.1; the dynamics
      and their distributions are unchanged.
    * v0, slategym 0.2: ``render_mode`` ``"rgb_array"`` and ``"human"`` (SB3's ``make_vec_env``
      passes ``"rgb_array"``); an unsupported mode warns instead of raising; ``"ansi"`` labels the
      satisfaction as hidden state. Unknown keywords raise ``TypeError`` instead of ``ValueError``.
      Numpy scalars in the configuration are stored as Python scalars (``np.int8`` sizes no
      longer overflow). A slate of the wrong shape is reported with the single env's shapes
      (``(3,)``, expected ``(K,)``). Trajectories are unchanged.
    * v0, slategym 0.2: a ``RepeatedItemsWarning``, once per env, when the slates keep repeating
      items (:mod:`slategym.repeats`). Trajectories are unchanged.
    * v0, slategym 0.2: the compiled step kernels (``backend``, :mod:`slategym.kernels`), used by
      default when numba is installed and the world's models are built-in; the state is then
      updated in place (two alternating buffers). Trajectories are unchanged, bit for bit.
    * v0, slategym 0.2: ``info_keys`` and ``last_step_info()``. The default ``info`` is unchanged.
    * v0, slategym 0.2: ``observation="ids"``, an observation without the copied item features,
      and the shared table ``item_features``. The default (``"full"``) observation and the
      trajectories are unchanged.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}

    def __init__(
        self, config: SlateRecConfig | None = None, render_mode: str | None = None, **kwargs: Any
    ) -> None:
        check_keywords("SlateRecEnv", kwargs, ("config", "render_mode", *CONFIG_KEYWORDS))
        if config is None:
            config = SlateRecConfig.from_kwargs(**kwargs)
        elif kwargs:
            config = config.replace(**kwargs)
        self.render_mode = check_render_mode("SlateRecEnv", render_mode)
        self.config = config
        self.sim = Simulator(config)
        self.observation_space = cast(gym.Space[dict[str, np.ndarray]], self.sim.observation_space)
        self.action_space = self.sim.action_space
        self._state: SimState | None = None
        self._last: StepOutcome | None = None
        self._info_views: dict[int, tuple[StepOutcome, tuple[Any, ...]]] = {}  # see _step_info
        self._layout = frame_layout(self.sim) if render_mode in ("rgb_array", "human") else None
        self._viewer: HumanViewer | None = None
        self._repeats = RepeatMonitor(config.num_candidates, config.slate_size)

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
        if self.render_mode == "human":
            self.render()
        return obs, reset_info(self._state, 0)

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if bool(self._state.done[0]):
            raise RuntimeError("the episode has ended (terminated or truncated): call reset()")
        action = np.asarray(action)
        if action.shape != self.action_space.shape:  # report the single env's shapes
            c = self.config
            raise ValueError(
                f"slate has shape {action.shape}, expected ({c.slate_size},): {c.slate_size} "
                f"candidate indices in [0, {c.num_candidates - 1}]"
            )
        slates, checked = self.sim.slates_for_step(action[None], 1)
        # reuse: the compiled path writes the state in place (two alternating buffers)
        self._state, outcome = self.sim.step(self._state, slates, reuse=True, checked=checked)
        self._last = outcome
        if self._repeats.active:  # warns once if the slates keep repeating items
            self._repeats.update(int(outcome.n_duplicates[0]))
        obs = {k: v[0] for k, v in self.sim.observe(self._state).items()}
        if self.render_mode == "human":
            self.render()
        return (
            obs,
            float(outcome.reward[0]),
            bool(outcome.terminated[0]),
            bool(outcome.truncated[0]),
            self._step_info(outcome),
        )

    def _step_info(self, outcome: StepOutcome) -> dict[str, Any]:
        """``step_info(outcome, 0, info_keys)``, read through views of row 0 made once for each
        of the outcome buffers the compiled path writes in place (two alternate)."""
        kept = self._info_views.get(id(outcome))
        if kept is None or kept[0] is not outcome:
            arrays = step_info_arrays(outcome, self.config.info_keys).items()
            views = tuple((key, a if a.ndim == 1 else a[0], a.ndim == 1) for key, a in arrays)
            if len(self._info_views) >= 3:  # keep the first two (the buffers): drop the last
                self._info_views.popitem()  # (the general path's outcomes are new every step)
            kept = self._info_views[id(outcome)] = (outcome, views)
        return {key: a.item(0) if scalar else a.copy() for key, a, scalar in kept[1]}

    def last_step_info(self) -> dict[str, Any]:
        """Every step key of the last step (:data:`~slategym.types.STEP_INFO_FIELDS`), whatever
        ``info_keys`` returned: the rest of a slim ``info``, on request."""
        if self._last is None:
            raise RuntimeError("no step since the last reset(): call step() first")
        return step_info(self._last, 0)

    @property
    def item_features(self) -> np.ndarray:
        """``(total + 1, F)`` float32, read-only: every item's observable features by id (last
        row: zeros, for id -1). ``item_features[obs["candidate_ids"]]`` is the full observation's
        ``candidates``, with ``observation="ids"`` too (see ``Simulator.item_features``)."""
        return self.sim.item_features

    def oracle_affinities(self) -> np.ndarray:
        """True affinities ``(C,)`` of the pending request's candidates. Hidden state: oracles only."""
        if self._state is None:
            raise RuntimeError("call reset() before oracle_affinities()")
        return self.sim.oracle_affinities(self._state)[0]

    @property
    def state(self) -> SimState:
        """The full simulator state (one row), hidden parts included. On the compiled path the
        env writes its states into two buffers it alternates between: copy (``state.take([0])``)
        what must outlive the next two steps."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def render(self) -> str | np.ndarray | None:
        """The pending request and the last slate: a line of text (``"ansi"``), an ``(H, W, 3)``
        uint8 picture (``"rgb_array"``, see :mod:`slategym.render`), or the picture shown in a
        matplotlib window (``"human"``, returns None). None before the first reset."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() was called without a render mode: pass render_mode= one of "
                f'{list(RENDER_MODES)}, e.g. gym.make("SlateRec-v0", render_mode="rgb_array")'
            )
            return None
        if self._state is None or self.render_mode not in RENDER_MODES:
            return None
        view = session_views(self.sim, self._state, self._last, np.ones(1, bool))[0]
        if self.render_mode == "ansi":
            return session_text(view)
        assert self._layout is not None
        frame = self._layout.draw(view)
        if self.render_mode == "rgb_array":
            return frame
        if self._viewer is None:
            self._viewer = HumanViewer(self.metadata["render_fps"], "SlateRec-v0")
        self._viewer.show(frame)
        return None

    def close(self) -> None:
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None
        super().close()
