"""Write ``docs/img/render_frame.png``: an ``rgb_array`` frame of ``SlateRec-v0`` for the docs.

    python docs/render_frame.py

The frame is drawn by the env itself (numpy only); matplotlib only writes the PNG. The slate is
greedy on the first item feature, with position 4 repeating position 1 to show how a duplicate
looks; the rollout stops at the first slate that led to a purchase. ``tests/test_render.py``
checks that the PNG holds exactly the frame this script draws.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

import slategym  # noqa: F401  (registers SlateRec-v0)

OUT = Path(__file__).resolve().parent / "img" / "render_frame.png"


def frame(max_steps: int = 500) -> np.ndarray:
    """The frame after the first slate with a purchase (seed 0, default configuration)."""
    env = gym.make("SlateRec-v0", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    for _ in range(max_steps):
        slate = np.argsort(-obs["candidates"][:, 0], kind="stable")[:6]
        slate[4] = slate[1]
        obs, _, terminated, truncated, info = env.step(slate)
        if info["purchases"].any():
            return env.render()
        if terminated or truncated:
            obs, _ = env.reset()
    raise RuntimeError(f"no purchase in {max_steps} steps")


def main(argv: list[str] | None = None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUT.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(OUT, frame())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
