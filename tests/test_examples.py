"""The recipes of docs/integrations.md run: the ones of the main venv here, on a tiny budget; the
RLlib, TorchRL and Tianshou ones in .ci/integrations.sh (their own installs). A recipe that
neither runs is a failure."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from slategym.wrappers import plackett_luce_log_prob

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
HERE = {"cleanrl_ppo.py", "sb3_ppo.py"}
"""Recipes run by this module (main venv)."""


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_recipe_runs_in_ci() -> None:
    script = (ROOT / ".ci" / "integrations.sh").read_text()
    in_script = set(re.findall(r"docs/examples/(\w+\.py)", script))
    recipes = {p.name for p in EXAMPLES.glob("*.py")}
    assert recipes, "no recipes found"
    assert recipes <= HERE | in_script, f"never run: {sorted(recipes - HERE - in_script)}"
    assert "integrations.sh" in (ROOT / ".ci" / "run").read_text()


def test_cleanrl_slate_log_prob_matches_the_wrappers_formula() -> None:
    torch = pytest.importorskip("torch")
    ppo = load("cleanrl_ppo")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((64, 12)) * 3
    slates = np.argsort(rng.random((64, 12)), axis=1)[:, :5]
    got = ppo.slate_log_prob(torch.as_tensor(logits), torch.as_tensor(slates)).numpy()
    assert np.allclose(got, plackett_luce_log_prob(logits, slates), atol=1e-5)


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_cleanrl_ppo_recipe_learns() -> None:
    # 8k steps (about 12 s of CPU): held-out greedy return 25.7 against 8.9 for random slates
    ppo = load("cleanrl_ppo")
    result = ppo.main(["--steps", "8192", "--eval-users", "128"])
    assert result["steps"] == 8192
    assert result["random_return"] > 5.0  # the baseline itself is sane
    assert result["greedy_return"] > 2.0 * result["random_return"]


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("route", ["make_vec_env", "native"])
def test_sb3_recipe_runs(route: str) -> None:
    sb3 = load("sb3_ppo")
    argv = ["--route", route, "--steps", "256", "--num-envs", "4", "--n-steps", "64"]
    result = sb3.main([*argv, "--eval-episodes", "2"])
    assert result["steps"] >= 256 and math.isfinite(result["greedy_return"])
