"""The examples in the docstrings of the agents' modules run (doctest)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["agents.spec", "agents.loop", "agents.reward", "agents.replay", "agents.encoder",
           "agents.gfn.agent", "agents.slateq.agent"]  # fmt: skip


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
