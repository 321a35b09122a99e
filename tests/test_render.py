"""Rendering: the bitmap font, the frames (what they show, shape, determinism), ansi, human, modes."""

from __future__ import annotations

import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

import slategym
from slategym import font
from slategym.frame import SLOT, FrameLayout, SessionView, SlateView, topic_colors
from slategym.render import session_text
from tests.conftest import SMALL

# -- font ------------------------------------------------------------------------------------------


def test_glyphs_are_5x7_and_distinct() -> None:
    masks = [font.glyph(c) for c in font.CHARACTERS]
    assert all(m.shape == (7, 5) and m.dtype == bool for m in masks)
    assert all(m.any() for c, m in zip(font.CHARACTERS, masks) if c != " ")
    flat = {m.tobytes() for m in masks}
    assert len(flat) == len(masks)
    assert np.array_equal(font.glyph("a"), font.glyph("A"))
    assert np.array_equal(font.glyph("~"), font.glyph("?"))
    assert font.glyph("8", scale=3).shape == (21, 15)


def test_draw_text_writes_the_glyph_pixels_and_clips() -> None:
    canvas = np.zeros((10, 20, 3), np.uint8)
    end = font.draw_text(canvas, 1, 2, "7A", (255, 0, 0))
    assert end == 1 + 2 * 6
    assert np.array_equal(canvas[2:9, 1:6, 0] == 255, font.glyph("7"))
    assert np.array_equal(canvas[2:9, 7:12, 0] == 255, font.glyph("A"))
    assert not canvas[:, :, 1:].any()
    font.draw_text(canvas, 17, 6, "WIDE TEXT", (0, 255, 0))  # clipped at the right and bottom
    assert canvas[6:, 17:, 1].any()


# -- frames ------------------------------------------------------------------------------------------


def _view(k: int = 4, clicks: tuple = (), purchases: tuple = (), valid: bool = True) -> SessionView:
    slate = SlateView(
        item_ids=np.arange(100, 100 + k),
        topics=np.arange(k) % 3,
        valid=np.full(k, valid),
        clicks=np.isin(np.arange(k), clicks),
        purchases=np.isin(np.arange(k), purchases),
        reward=float(len(clicks)),
        day=1, hour=14, session_index=2, session_step=3,
    )  # fmt: skip
    return SessionView(
        user_id=7, day=1, hour=14, minute=5, session_index=2, session_step=4,
        profile=np.linspace(0, 1, 10, dtype=np.float32), satisfaction=0.6,
        candidate_topics=np.arange(20) % 3, status="", slate=slate,
    )  # fmt: skip


LAYOUT = FrameLayout(slate_size=4, num_candidates=20, profile_size=10, num_topics=3)


def _slot(frame: np.ndarray, j: int) -> np.ndarray:
    x, y, w, h = LAYOUT.slot_box(j)
    return frame[y : y + h, x : x + w]


def test_a_click_changes_the_pixels_of_its_slot_only() -> None:
    plain = LAYOUT.draw(_view())
    clicked = LAYOUT.draw(_view(clicks=(2,)))
    assert not np.array_equal(_slot(plain, 2), _slot(clicked, 2))
    for j in (0, 1, 3):
        assert np.array_equal(_slot(plain, j), _slot(clicked, j))
    # and the summary line counts it; nothing below the slate changes
    changed_rows = np.flatnonzero((plain != clicked).any(axis=(1, 2)))
    assert changed_rows.max() < LAYOUT.y_cand_label
    bought = LAYOUT.draw(_view(clicks=(2,), purchases=(2,)))
    assert not np.array_equal(_slot(bought, 2), _slot(clicked, 2))  # a purchase is visible too


def test_slot_fill_is_the_topic_colour_and_duplicates_are_hatched() -> None:
    frame = LAYOUT.draw(_view())
    colors = topic_colors(3)
    for j in range(4):
        x, y, _, _ = LAYOUT.slot_box(j)
        corner = frame[y + SLOT - 2, x + SLOT - 2]  # inside the box, away from the text
        assert np.array_equal(corner, colors[j % 3])
    dup = LAYOUT.draw(_view(valid=False))
    x, y, _, _ = LAYOUT.slot_box(0)
    box = dup[y + 1 : y + SLOT - 1, x + 1 : x + SLOT - 1].reshape(-1, 3)
    assert not (box == colors[0]).all(axis=1).any()  # no pixel in the topic's colour
    assert len(np.unique(box, axis=0)) >= 2  # stripes


def test_frames_depend_on_what_they_show() -> None:
    base = LAYOUT.draw(_view())
    for change in ({"user_id": 8}, {"hour": 15}, {"day": 2}, {"session_step": 5},
                   {"satisfaction": 0.1}, {"candidate_topics": np.zeros(20, np.int64)},
                   {"profile": np.zeros(10, np.float32)}, {"slate": None}):  # fmt: skip
        view = SessionView(**{**_view().__dict__, **change})
        assert not np.array_equal(LAYOUT.draw(view), base), change


def test_topic_colors_are_distinct() -> None:
    for t in (3, 10, 25):
        colors = topic_colors(t)
        assert colors.shape == (t, 3) and colors.dtype == np.uint8
        assert len({c.tobytes() for c in colors}) == t


def _rollout_frames(seed: int, steps: int = 40, **kwargs: object) -> list[np.ndarray]:
    env = gym.make("SlateRec-v0", render_mode="rgb_array", **{**SMALL, **kwargs})
    env.reset(seed=seed)
    c, k = env.unwrapped.config.num_candidates, env.unwrapped.config.slate_size
    rng = np.random.default_rng(0)
    frames = [env.render()]
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(rng.permutation(c)[:k])
        frames.append(env.render())
        if term or trunc:
            env.reset()
    return frames


def test_rgb_array_frames_have_a_fixed_shape_and_are_deterministic() -> None:
    a, b = _rollout_frames(3), _rollout_frames(3)
    assert all(f.shape == a[0].shape and f.dtype == np.uint8 and f.ndim == 3 for f in a)
    assert a[0].shape[1] == 512 and a[0].shape[2] == 3
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, _rollout_frames(4)))
    assert len({f.tobytes() for f in a}) > 10  # frames change as the session goes on


@pytest.mark.parametrize(
    "kwargs", [{"slate_size": 20}, {"num_candidates": 200, "num_items": 400}, {"num_topics": 40}]
)
def test_large_configurations_render(kwargs: dict) -> None:
    frames = _rollout_frames(0, steps=3, **kwargs)
    assert len({f.shape for f in frames}) == 1


# -- ansi, modes ---------------------------------------------------------------------------------------


def test_ansi_labels_satisfaction_as_hidden() -> None:
    assert "hidden state" in session_text(_view()) and "satisfaction 0.60" in session_text(_view())
    env = gym.make("SlateRec-v0", render_mode="ansi", **SMALL)
    env.reset(seed=0)
    env.step(np.arange(4))
    text = env.render()
    assert "hidden state (not observed): satisfaction" in text and "last slate clicks" in text


@pytest.mark.parametrize("make", [
    lambda mode: slategym.SlateRecEnv(render_mode=mode, **SMALL),
    lambda mode: gym.make("SlateRec-v0", render_mode=mode, **SMALL),
    lambda mode: slategym.SlateRecVectorEnv(2, render_mode=mode, **SMALL),
])  # fmt: skip
def test_an_unsupported_render_mode_warns_and_renders_nothing(make: object) -> None:
    with pytest.warns(UserWarning, match=r"render_mode='depth_array'"):
        env = make("depth_array")  # type: ignore[operator]
    assert env.unwrapped.render_mode == "depth_array"
    env.unwrapped.reset(seed=0)
    assert env.unwrapped.render() is None


def test_render_without_a_mode_warns() -> None:
    env = slategym.SlateRecEnv(**SMALL)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="without a render mode"):
        assert env.render() is None


def test_rgb_array_list_is_collected_by_gymnasium() -> None:
    env = gym.make("SlateRec-v0", render_mode="rgb_array_list", **SMALL)
    env.reset(seed=0)
    env.step(np.arange(4))
    frames = env.render()
    assert len(frames) == 2 and frames[0].shape == frames[1].shape


# -- human ---------------------------------------------------------------------------------------------


def test_human_mode_shows_the_rgb_frame() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    human = slategym.SlateRecEnv(render_mode="human", **SMALL)
    rgb = slategym.SlateRecEnv(render_mode="rgb_array", **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg cannot show windows
        human.reset(seed=5)  # human mode renders by itself at reset and step
        rgb.reset(seed=5)
        human.step(np.arange(4))
        rgb.step(np.arange(4))
        assert human.render() is None
    assert human._viewer is not None
    assert np.array_equal(np.asarray(human._viewer.image.get_array()), rgb.render())
    human.close()
    assert human._viewer is None


def test_human_mode_without_matplotlib_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    env = slategym.SlateRecEnv(render_mode="human", **SMALL)
    with pytest.raises(
        ImportError, match=r"render_mode=\"human\" needs .*'slategym\[experiments\]'"
    ):
        env.reset(seed=0)


def test_the_docs_picture_is_the_frame_the_env_draws() -> None:
    plt = pytest.importorskip("matplotlib.pyplot")
    import runpy
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = runpy.run_path(str(root / "docs" / "render_frame.py"))
    png = plt.imread(root / "docs" / "img" / "render_frame.png")  # RGBA floats in [0, 1]
    assert np.array_equal(np.round(png[:, :, :3] * 255).astype(np.uint8), script["frame"]())


def test_a_masked_reset_row_renders_its_new_episode_not_its_last_slate() -> None:
    """Row 0 reset through ``reset_mask`` draws the frame a single env draws after ``reset()`` on the
    same stream: a fresh episode without the previous episode's slate."""
    slate = np.arange(SMALL["slate_size"])
    single = slategym.SlateRecEnv(render_mode="rgb_array", **SMALL)
    single.reset(seed=4)
    single.step(slate)
    single.reset()
    envs = gym.make_vec(
        "SlateRec-v0", 2, vectorization_mode="vector_entry_point", render_mode="rgb_array", **SMALL
    )
    envs.reset(seed=[4, 5])
    envs.step(np.tile(slate, (2, 1)))
    stepped = envs.render()[0]
    envs.reset(options={"reset_mask": np.array([True, False])})
    frame = envs.render()[0]
    assert np.array_equal(frame, single.render())
    assert not np.array_equal(frame, stepped)
