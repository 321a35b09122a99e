"""A 5 x 7 bitmap font (digits, capitals, a little punctuation) for the numpy-only renderer.

``slategym`` may not import matplotlib or pygame, so :mod:`slategym.render` draws text itself with
these glyphs. Lower-case letters are drawn as capitals; an unknown character is drawn as ``?``.

Example:
    >>> mask = glyph("A", scale=1)
    >>> mask.shape, mask.dtype
    ((7, 5), dtype('bool'))
    >>> text_width("DAY 3", scale=2)
    58
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

GLYPH_WIDTH = 5
GLYPH_HEIGHT = 7
SPACING = 1
"""Blank font pixels between two glyphs."""

_GLYPHS: dict[str, str] = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    " ": "..... ..... ..... ..... ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "-": "..... ..... ..... ##### ..... ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
}
CHARACTERS = "".join(_GLYPHS)
"""Every character the font draws (lower-case letters are drawn as their capitals)."""


def _parse(rows: str) -> np.ndarray:
    lines = rows.split()
    return np.array([[c == "#" for c in line] for line in lines], dtype=bool)


_MASKS = {c: _parse(rows) for c, rows in _GLYPHS.items()}


@cache
def glyph(char: str, scale: int = 1) -> np.ndarray:
    """The ``(7 * scale, 5 * scale)`` bool mask of ``char`` (``?`` for a character not in the font)."""
    mask = _MASKS.get(char.upper(), _MASKS["?"])
    return np.kron(mask, np.ones((scale, scale), dtype=bool)).astype(bool)


def text_width(text: str, scale: int = 1) -> int:
    """Width in pixels of ``text`` drawn at ``scale`` (no trailing spacing)."""
    if not text:
        return 0
    return (len(text) * (GLYPH_WIDTH + SPACING) - SPACING) * scale


@lru_cache(maxsize=4096)
def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """The ``(7 * scale, text_width(text, scale))`` bool mask of ``text`` (cached: frames redraw
    the same labels and numbers over and over)."""
    mask = np.zeros((GLYPH_HEIGHT * scale, max(text_width(text, scale), 0)), dtype=bool)
    step = (GLYPH_WIDTH + SPACING) * scale
    for i, char in enumerate(text):
        mask[:, i * step : i * step + GLYPH_WIDTH * scale] = glyph(char, scale)
    mask.flags.writeable = False
    return mask


def draw_text(
    canvas: np.ndarray, x: int, y: int, text: str, color: tuple[int, int, int], scale: int = 1
) -> int:
    """Draw ``text`` with its top-left corner at ``(x, y) >= (0, 0)``, clipped to the canvas;
    returns the x just after the text."""
    end = x + len(text) * (GLYPH_WIDTH + SPACING) * scale
    if not text:
        return end
    mask = text_mask(text, scale)
    h = max(0, min(mask.shape[0], canvas.shape[0] - y))
    w = max(0, min(mask.shape[1], canvas.shape[1] - x))
    if h and w:
        canvas[y : y + h, x : x + w][mask[:h, :w]] = color
    return end
