"""The frames of ``render_mode="rgb_array"``: a session drawn with numpy (no plotting library).

A frame (``(H, W, 3)`` uint8, ``W = 512``, ``H`` fixed by the configuration) shows, top to bottom:

* the time of the pending slate request (day, hour:minute, session, step in the session) and the
  user id, with ``CHURNED`` / ``END OF TIMELINE`` once the episode ended, ``NEW EPISODE`` before
  its first slate;
* the last slate served: one box per position (``P0`` first) filled with the colour of its item's
  topic and labelled with the topic and the catalog id; a white frame and ``CLICK`` under a clicked
  position, a gold frame and ``CLICK+BUY`` under a purchase, a hatched box and ``DUP`` for a
  repeated item; its time, clicks, purchases and reward above;
* the candidates of the pending request as small squares in their topics' colours, and the legend;
* the observable user profile (one bar per column of ``obs["user"]``, all in ``[0, 1]``) and, marked
  hidden, the satisfaction of the user model (hidden state the agent never observes).

Text is drawn with the bitmap font of :mod:`slategym.font`. :class:`FrameLayout` places everything
for one configuration and draws a :class:`SessionView`; :mod:`slategym.render` builds the views
from the simulator state.

Example:
    >>> layout = FrameLayout(slate_size=6, num_candidates=50, profile_size=10, num_topics=10)
    >>> layout.height, layout.width
    (251, 512)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from slategym.font import GLYPH_HEIGHT, draw_text

WIDTH = 512
MARGIN = 8
LINE = GLYPH_HEIGHT + 4  # one line of scale-1 text
SLOT, SLOT_PITCH, SLOT_COLUMNS = 56, 62, 8  # slate boxes
SLOT_ROW = SLOT + LINE + 3  # a box and its status line
CELL, CELL_PITCH, CELLS_PER_LINE, MAX_CELL_LINES = 8, 10, 49, 6  # candidate squares
LEGEND_PITCH, LEGEND_PER_LINE, MAX_LEGEND_LINES = 26, 19, 2
BAR_WIDTH, BAR_PITCH, BAR_HEIGHT, MAX_BARS = 8, 12, 40, 24  # profile bars
SATISFACTION_X, SATISFACTION_WIDTH = 330, 150

BACKGROUND = (24, 26, 33)
TEXT = (235, 235, 235)
DIM = (140, 142, 152)
TRACK = (58, 60, 70)
PROFILE = (120, 180, 255)
HIDDEN = (230, 120, 120)
CLICK = (255, 255, 255)
PURCHASE = (255, 196, 0)
DUPLICATE = (90, 92, 104)
_HATCH = np.add.outer(np.arange(SLOT), np.arange(SLOT)) % 8 < 3  # diagonal stripes
_TAB10 = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip


def topic_colors(num_topics: int) -> np.ndarray:
    """``(num_topics, 3)`` uint8: tab10 up to 10 topics, evenly spaced hues beyond."""
    if num_topics <= len(_TAB10):
        return np.array(_TAB10[:num_topics], np.uint8)
    hue = np.arange(num_topics) / num_topics
    # HSV -> RGB with saturation 0.65, value 0.9
    k = (np.array([5.0, 3.0, 1.0]) + hue[:, None] * 6.0) % 6.0
    rgb = 0.9 - 0.9 * 0.65 * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return np.round(rgb * 255).astype(np.uint8)


@dataclass(frozen=True)
class SlateView:
    """The last slate served to a row and what the user did with it."""

    item_ids: np.ndarray  # (K,) int64 catalog ids, position 0 first
    topics: np.ndarray  # (K,) int64
    valid: np.ndarray  # (K,) bool, False for a repeated item
    clicks: np.ndarray  # (K,) bool
    purchases: np.ndarray  # (K,) bool
    reward: float
    day: int
    hour: int
    session_index: int
    session_step: int


@dataclass(frozen=True)
class SessionView:
    """What one frame (or one line of text) shows of one row."""

    user_id: int
    day: int  # of the pending request
    hour: int
    minute: int  # of the hour
    session_index: int
    session_step: int
    profile: np.ndarray  # (P,) float32 in [0, 1], observable
    satisfaction: float  # hidden state of the user model
    candidate_topics: np.ndarray  # (C,) int64
    status: str  # "", "NEW EPISODE", "CHURNED" or "END OF TIMELINE"
    slate: SlateView | None


def _rect(canvas: np.ndarray, x: int, y: int, w: int, h: int, color: Any) -> None:
    canvas[max(y, 0) : y + h, max(x, 0) : x + w] = color


def _frame(canvas: np.ndarray, x: int, y: int, w: int, h: int, color: Any, t: int) -> None:
    _rect(canvas, x, y, w, t, color)
    _rect(canvas, x, y + h - t, w, t, color)
    _rect(canvas, x, y, t, h, color)
    _rect(canvas, x + w - t, y, t, h, color)


def _ink(color: np.ndarray) -> tuple[int, int, int]:
    """Black or white text, whichever reads better on ``color``."""
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    return (0, 0, 0) if luminance > 150 else (255, 255, 255)


class FrameLayout:
    """Where everything goes in the frames of one configuration (fixed size for every step)."""

    def __init__(
        self, slate_size: int, num_candidates: int, profile_size: int, num_topics: int
    ) -> None:
        self.slate_size = slate_size
        self.num_candidates = num_candidates
        self.profile_size = profile_size
        self.colors = topic_colors(num_topics)
        self.shown_candidates = min(num_candidates, CELLS_PER_LINE * MAX_CELL_LINES)
        self.shown_topics = min(num_topics, LEGEND_PER_LINE * MAX_LEGEND_LINES)
        self.shown_bars = min(profile_size, MAX_BARS)
        y = MARGIN
        self.y_header = y
        y += 2 * GLYPH_HEIGHT + 6
        self.y_user = y
        y += LINE + 6
        self.y_slate_label = y
        y += LINE
        self.y_slots = y
        y += -(-slate_size // SLOT_COLUMNS) * SLOT_ROW + 4
        self.y_cand_label = y
        y += LINE
        self.y_cells = y
        y += -(-self.shown_candidates // CELLS_PER_LINE) * CELL_PITCH + 2
        self.y_legend = y
        y += -(-self.shown_topics // LEGEND_PER_LINE) * CELL_PITCH + 6
        self.y_profile_label = y
        y += LINE
        self.y_bars = y
        y += BAR_HEIGHT + 2 + LINE
        self.height = y + MARGIN
        self.width = WIDTH
        self._background: np.ndarray | None = None

    def slot_box(self, position: int) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the box of slate ``position`` and its status line."""
        row, col = divmod(position, SLOT_COLUMNS)
        return MARGIN + col * SLOT_PITCH, self.y_slots + row * SLOT_ROW, SLOT, SLOT_ROW

    def _static(self) -> np.ndarray:
        """What every frame of this layout shares: labels, legend, tracks (drawn once)."""
        canvas = np.empty((self.height, self.width, 3), np.uint8)
        canvas[:] = BACKGROUND
        label = "CANDIDATES OF THE NEXT REQUEST (COLOUR = TOPIC)"
        if self.shown_candidates < self.num_candidates:
            label += f"  FIRST {self.shown_candidates} OF {self.num_candidates}"
        draw_text(canvas, MARGIN, self.y_cand_label, label, DIM)
        for t in range(self.shown_topics):
            row, col = divmod(t, LEGEND_PER_LINE)
            x, y = MARGIN + col * LEGEND_PITCH, self.y_legend + row * CELL_PITCH
            _rect(canvas, x, y, CELL, CELL, self.colors[t])
            draw_text(canvas, x + CELL + 2, y, str(t), DIM)
        draw_text(canvas, MARGIN, self.y_profile_label, "USER PROFILE (OBSERVED)", DIM)
        for i in range(self.shown_bars):
            x = MARGIN + i * BAR_PITCH
            _rect(canvas, x, self.y_bars, BAR_WIDTH, BAR_HEIGHT, TRACK)
            draw_text(canvas, x, self.y_bars + BAR_HEIGHT + 3, str(i % 100), DIM)  # fits the pitch
        x = SATISFACTION_X
        draw_text(canvas, x, self.y_profile_label, "SATISFACTION (HIDDEN STATE)", DIM)
        _rect(canvas, x, self.y_bars + 8, SATISFACTION_WIDTH, 12, TRACK)
        return canvas

    def draw(self, view: SessionView) -> np.ndarray:
        """The ``(H, W, 3)`` uint8 frame of ``view``."""
        if self._background is None:
            self._background = self._static()
        canvas = self._background.copy()
        draw_text(
            canvas, MARGIN, self.y_header,
            f"DAY {view.day}  {view.hour:02d}:{view.minute:02d}  SESSION {view.session_index}  "
            f"STEP {view.session_step}",
            TEXT, scale=2,
        )  # fmt: skip
        x = draw_text(canvas, MARGIN, self.y_user, f"USER {view.user_id}", TEXT)
        draw_text(canvas, x + 12, self.y_user, view.status, PURCHASE)
        self._draw_slate(canvas, view.slate)
        self._draw_candidates(canvas, view.candidate_topics)
        self._draw_user(canvas, view)
        return canvas

    def _draw_slate(self, canvas: np.ndarray, slate: SlateView | None) -> None:
        if slate is None:
            draw_text(canvas, MARGIN, self.y_slate_label, "LAST SLATE  NONE YET", DIM)
        else:
            draw_text(
                canvas, MARGIN, self.y_slate_label,
                f"LAST SLATE  DAY {slate.day} {slate.hour:02d}H  SESSION {slate.session_index}  "
                f"STEP {slate.session_step}  CLICKS {int(slate.clicks.sum())}  "
                f"BUYS {int(slate.purchases.sum())}  REWARD {slate.reward:.2f}",
                TEXT,
            )  # fmt: skip
        for j in range(self.slate_size):
            x, y, _, _ = self.slot_box(j)
            if slate is None:
                _frame(canvas, x, y, SLOT, SLOT, TRACK, 1)
                draw_text(canvas, x + 3, y + 3, f"P{j}", DIM)
                continue
            if slate.valid[j]:
                fill = self.colors[slate.topics[j] % len(self.colors)]
                _rect(canvas, x, y, SLOT, SLOT, fill)
                ink = _ink(fill)
            else:  # a repeat is shown but never clicked: hatched, in no topic's colour
                canvas[y : y + SLOT, x : x + SLOT][_HATCH] = DUPLICATE
                _frame(canvas, x, y, SLOT, SLOT, DIM, 1)
                ink = TEXT
            draw_text(canvas, x + 4, y + 4, f"P{j}", ink)
            draw_text(canvas, x + 4, y + 16, f"T{slate.topics[j]}", ink)
            draw_text(canvas, x + 4, y + 28, f"#{str(int(slate.item_ids[j]))[-7:]}", ink)
            status = ""
            if not slate.valid[j]:
                status = "DUP"
            elif slate.purchases[j]:
                _frame(canvas, x, y, SLOT, SLOT, PURCHASE, 4)
                status = "CLICK+BUY"
            elif slate.clicks[j]:
                _frame(canvas, x, y, SLOT, SLOT, CLICK, 4)
                status = "CLICK"
            color = PURCHASE if slate.purchases[j] else TEXT if slate.clicks[j] else DIM
            draw_text(canvas, x, y + SLOT + 3, status, color)

    def _draw_candidates(self, canvas: np.ndarray, topics: np.ndarray) -> None:
        """One ``CELL``-square per candidate, ``CELLS_PER_LINE`` a line (one block assignment)."""
        shown = self.shown_candidates
        lines = -(-shown // CELLS_PER_LINE)
        block = canvas[
            self.y_cells : self.y_cells + lines * CELL_PITCH,
            MARGIN : MARGIN + CELLS_PER_LINE * CELL_PITCH,
        ].reshape(lines, CELL_PITCH, CELLS_PER_LINE, CELL_PITCH, 3)
        colors = self.colors[topics[:shown] % len(self.colors)]  # (shown, 3)
        rows, cols = np.divmod(np.arange(shown), CELLS_PER_LINE)
        block[rows, :CELL, cols, :CELL] = colors[:, None, None, :]

    def _draw_user(self, canvas: np.ndarray, view: SessionView) -> None:
        y0 = self.y_bars
        for i in range(self.shown_bars):
            filled = int(round(float(np.clip(view.profile[i], 0.0, 1.0)) * BAR_HEIGHT))
            _rect(
                canvas, MARGIN + i * BAR_PITCH, y0 + BAR_HEIGHT - filled, BAR_WIDTH, filled, PROFILE
            )
        value = float(np.clip(view.satisfaction, 0.0, 1.0))
        _rect(canvas, SATISFACTION_X, y0 + 8, int(round(value * SATISFACTION_WIDTH)), 12, HIDDEN)
        draw_text(canvas, SATISFACTION_X, y0 + 26, f"{value:.2f}", HIDDEN)
