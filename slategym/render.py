"""Rendering of the single and the vector env: modes, the views of the simulator state, text, and
the ``"human"`` window.

``render_mode="rgb_array"`` returns the frames of :mod:`slategym.frame` (numpy only); ``"ansi"`` one
line of text per row, with the satisfaction labelled as hidden state; ``"human"`` shows the frames
with matplotlib, imported lazily (``slategym`` itself imports only numpy, scipy and gymnasium).

Example:
    >>> import gymnasium as gym
    >>> import slategym
    >>> env = gym.make("SlateRec-v0", render_mode="rgb_array", num_users=50)
    >>> _ = env.reset(seed=0)
    >>> _ = env.step(env.action_space.sample())
    >>> frame = env.render()
    >>> frame.shape, frame.dtype
    ((251, 512, 3), dtype('uint8'))
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import logger

from slategym._optional import require
from slategym.frame import TRACK, FrameLayout, SessionView, SlateView
from slategym.timeline import minute_to_day_hour
from slategym.types import SimState, StepOutcome

if TYPE_CHECKING:
    from slategym.simulator import Simulator

RENDER_MODES: tuple[str, ...] = ("ansi", "rgb_array", "human")
"""Render modes of ``SlateRecEnv`` and ``SlateRecVectorEnv``."""


def check_render_mode(owner: str, render_mode: Any) -> Any:
    """``render_mode`` unchanged; an unsupported one is warned about, as Gymnasium does, not refused.

    (``gym.make`` warns the same way before building the env; ``render()`` then returns None.)
    """
    if render_mode is not None and render_mode not in RENDER_MODES:
        logger.warn(
            f"{owner} is initialised with render_mode={render_mode!r}, which is not one of the "
            f"supported render modes {list(RENDER_MODES)}: render() will return None"
        )
    return render_mode


def session_views(
    sim: Simulator,
    state: SimState,
    outcome: StepOutcome | None,
    served: np.ndarray,
    rows: np.ndarray | None = None,
) -> list[SessionView]:
    """One view per row of ``state`` (or per row of ``rows``); ``served[r]`` says whether
    ``outcome`` row ``r`` belongs to the row's current episode (False after a reset: no slate)."""
    cat = sim.catalog
    user_ids = state.user.user_id
    day, hour = minute_to_day_hour(state.clock)
    views = []
    for r in range(state.num_rows) if rows is None else rows:
        slate = None
        status = "NEW EPISODE"
        if outcome is not None and served[r]:
            items = outcome.item_ids[r]
            slate = SlateView(
                item_ids=items.copy(),
                topics=cat.topic.take(items),
                valid=outcome.valid[r].copy(),
                clicks=outcome.clicks[r].copy(),
                purchases=outcome.purchases[r].copy(),
                reward=float(outcome.reward[r]),
                day=int(outcome.day[r]),
                hour=int(outcome.hour[r]),
                session_index=int(outcome.session_index[r]),
                session_step=int(outcome.session_step[r]),
            )
            status = ""
            if outcome.churned[r]:
                status = "CHURNED"
            elif outcome.truncated[r]:
                status = "END OF TIMELINE"
        views.append(
            SessionView(
                user_id=int(user_ids[r]),
                day=int(day[r]),
                hour=int(hour[r]),
                minute=int(state.clock[r] % 60.0),
                session_index=int(state.session_index[r]),
                session_step=int(state.session_step[r]),
                profile=sim.population.profile[user_ids[r]],
                satisfaction=float(state.user.satisfaction[r]),
                candidate_topics=cat.topic.take(state.candidates[r]),
                status=status,
                slate=slate,
            )
        )
    return views


def session_text(view: SessionView) -> str:
    """The ``ansi`` rendering: one line; the satisfaction is labelled as hidden state."""
    text = (
        f"user {view.user_id} day {view.day} {view.hour:02d}h session {view.session_index}"
        f" step {view.session_step} | hidden state (not observed): satisfaction"
        f" {view.satisfaction:.2f}"
    )
    if view.slate is not None:
        text += f" | last slate clicks {view.slate.clicks.astype(int).tolist()}"
    if view.status and view.status != "NEW EPISODE":
        text += f" | {view.status.lower()}"
    return text


def frame_layout(sim: Simulator) -> FrameLayout:
    """The layout of the frames of ``sim``'s configuration."""
    c = sim.config
    return FrameLayout(
        c.slate_size, c.num_candidates, sim.population.profile.shape[1], c.num_topics
    )


def tile(frames: list[np.ndarray], columns: int) -> np.ndarray:
    """Frames of equal shape in a grid, row-major, 4 px gaps; empty cells are background."""
    h, w, _ = frames[0].shape
    rows = -(-len(frames) // columns)
    gap = 4
    grid = np.empty((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, 3), np.uint8)
    grid[:] = TRACK
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = frame
    return grid


class HumanViewer:
    """Shows frames in a matplotlib window at most ``fps`` times a second (``"human"`` mode)."""

    def __init__(self, fps: float, title: str) -> None:
        self.fps = fps
        self.title = title
        self.figure: Any = None
        self.image: Any = None
        self._last = -np.inf

    def show(self, frame: np.ndarray) -> None:
        plt = require("matplotlib.pyplot", 'render_mode="human"')
        if self.figure is None or not plt.fignum_exists(self.figure.number):
            h, w, _ = frame.shape
            self.figure = plt.figure(figsize=(w / 100, h / 100), dpi=100)
            ax = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
            ax.set_axis_off()
            self.image = ax.imshow(frame, interpolation="nearest")
            manager = self.figure.canvas.manager
            if manager is not None:
                manager.set_window_title(self.title)
        else:
            self.image.set_data(frame)
        wait = 1.0 / self.fps - (time.monotonic() - self._last)
        plt.pause(max(wait, 1e-3))
        self._last = time.monotonic()

    def close(self) -> None:
        if self.figure is not None:
            import matplotlib.pyplot as plt

            plt.close(self.figure)
            self.figure = self.image = None
