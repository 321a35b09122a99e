"""The docs are generated from the code and their examples run."""

from __future__ import annotations

import doctest
import math
import re
import runpy
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from slategym.choice import PositionBased
from slategym.users import DefaultUserModel

ROOT = Path(__file__).resolve().parents[1]


def test_generated_pages_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--check"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def _check_readme(after: list[dict]) -> None:
    """The quick start ran one episode to its end and counted clicks per slate."""
    ns = after[0]
    env = ns["env"].unwrapped
    assert ns["done"] is True and ns["steps"] >= 1
    assert env.state.done[0]  # the episode really ended (churn or horizon)
    assert 0 <= ns["clicks"] <= ns["steps"] * env.config.slate_size
    assert env.config.num_candidates == 50 and env.config.slate_size == 6
    assert after[1]["envs"].num_envs == 1024


def _check_extending(after: list[dict]) -> None:
    """The registered models are the ones the page defines, and they compute what they document."""
    choice = after[0]["env"].unwrapped.sim.choice_model
    assert type(choice).__name__ == "TopHeavyLogit" and choice.position_cost == 1.0
    assert after[0]["info"]["clicks"].shape == (6,)
    aff = np.array([0.3, 1.2, -0.4])
    # P(k) = exp(a_k - c k) / (exp(n) + sum_j exp(a_j - c j)), c = 1 (kwargs), n = 2 (default)
    w = [math.exp(a - 1.0 * k) for k, a in enumerate(aff)]
    total = sum(w) + math.exp(2.0)
    np.testing.assert_allclose(choice.probabilities(aff), [*(x / total for x in w), math.exp(2.0) / total],
                               rtol=1e-12)  # fmt: skip

    envs = after[1]["envs"].unwrapped
    user = envs.sim.user_model
    assert type(user).__name__ == "PriceAverseUser" and user.price_weight == 2.0
    assert after[1]["rewards"].shape == (8,)
    # a_ui = default affinity - 2 price_z_i
    sim, state = envs.sim, envs.state
    items = state.candidates[:, :4]
    base = DefaultUserModel.affinity(user, sim.population, state.user, sim.catalog, items)
    got = user.affinity(sim.population, state.user, sim.catalog, items)
    np.testing.assert_allclose(base - got, 2.0 * sim.catalog.price_z[items], rtol=1e-12)

    # the last example: a choice model instance and the purchase reward
    env = after[2]["env"].unwrapped
    assert isinstance(env.sim.choice_model, PositionBased)
    assert (env.sim.choice_model.eta, env.sim.choice_model.bias) == (0.5, -2.0)
    env.reset(seed=0)
    for _ in range(30):
        _, reward, term, trunc, info = env.step(np.arange(6))
        assert reward == float(np.sum(info["purchases"]))
        if term or trunc:
            env.reset()


def _check_agents(after: list[dict]) -> None:
    """Every agent produced a slate CTR in [0, 1] (the example asserts the slates' shapes)."""
    ns = after[-1]
    assert set(ns["results"]) and len(ns["results"]) == len(ns["AGENT_NAMES"])
    assert all(0.0 <= v <= 1.0 for v in ns["results"].values())


def _check_worlds(after: list[dict]) -> None:
    """The worlds page builds what it says: a real-table catalog, a world from parts, an item model
    that offers the newest items, a user model with an observable budget."""
    catalog = after[0]["env"].unwrapped.sim.catalog
    assert catalog.total == 283 and catalog.price[:3].tolist() == [7.0, 13.1, 14.6]
    assert after[1]["videos"].topic_column == "tag"
    assert "MyShop-v0" in gym.registry and after[2]["envs"].unwrapped.config.user_model == "personal"
    assert after[2]["env"].unwrapped.config.episode == "session"
    assert after[3]["obs"]["candidate_ids"][:3].tolist() == [999, 998, 997]
    assert after[4]["obs"]["budget_share"].tolist() == [[1.0]] * 8


CHECKS = {"README.md": _check_readme, "docs/extending.md": _check_extending,
          "docs/agents/README.md": _check_agents, "docs/worlds.md": _check_worlds}  # fmt: skip


@pytest.mark.parametrize("page", list(CHECKS))
def test_code_examples_run(page: str, tmp_path: Path) -> None:
    """Run a page's python blocks in order (one namespace), then check what they produced."""
    blocks = _python_blocks(ROOT / page)
    assert blocks, f"{page} has no python example"
    namespace: dict = {}
    after: list[dict] = []
    for block in blocks:
        script = tmp_path / "example.py"
        script.write_text(block)
        namespace = runpy.run_path(str(script), init_globals=namespace)
        after.append(dict(namespace))
    CHECKS[page](after)


@pytest.mark.parametrize("page", ["docs/platform.md", "docs/sb3.md"])
def test_doctest_pages_run(page: str) -> None:
    """Pages whose examples are ``>>>`` sessions: every example runs and prints what it shows."""
    result = doctest.testfile(str(ROOT / page), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)  # fmt: skip
    assert result.attempted >= 3, f"{page}: no doctest examples found"
    assert result.failed == 0, f"{page}: {result.failed} example(s) failed (output above)"
