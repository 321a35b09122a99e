"""The docs are generated from the code and their examples run."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_generated_pages_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--check"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("page", ["README.md", "docs/extending.md", "docs/agents/README.md"])
def test_code_examples_run(page: str, tmp_path: Path) -> None:
    blocks = _python_blocks(ROOT / page)
    assert blocks, f"{page} has no python example"
    namespace: dict = {}
    for block in blocks:
        script = tmp_path / "example.py"
        script.write_text(block)
        namespace = runpy.run_path(str(script), init_globals=namespace)
