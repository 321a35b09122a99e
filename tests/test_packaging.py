"""Packaging: the core install needs only numpy, scipy and gymnasium; everything else is an extra.

The real proof is ``.ci/run``'s last step (a fresh venv with only ``pip install .`` steps the envs,
``.ci/core_smoke.py``). These tests are its cheap, every-run counterpart: the declared dependencies,
every import of the code against them, and slategym running with the optional packages made
unimportable.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = {"gymnasium", "numpy", "scipy"}
OPTIONAL_MODULES = ("torch", "stable_baselines3", "matplotlib", "tqdm", "tyro", "pandas", "pyarrow",
                    "minari")  # fmt: skip
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings (extras kept as ``name[extra,...]``)."""
    return {re.match(r"[A-Za-z0-9_.\-]+(\[[^\]]*\])?", r.replace(" ", ""))[0].lower()  # type: ignore[index]
            for r in requirements}  # fmt: skip


def test_declared_dependencies() -> None:
    project = _project()
    assert _names(project["dependencies"]) == CORE
    extras = {k: _names(v) for k, v in project["optional-dependencies"].items()}
    assert {"torch", "stable-baselines3"} <= extras["agents"]
    assert {"slategym[agents]", "matplotlib", "tqdm", "tyro"} <= extras["experiments"]
    assert {"pytest", "hypothesis", "ruff", "mypy"} <= extras["dev"]
    assert any(d.startswith("slategym[") and {"agents", "experiments", "data"} <= set(
        d[len("slategym["):-1].split(",")) for d in extras["dev"])  # the tests need every extra
    torch = [r for r in project["optional-dependencies"]["agents"] if r.startswith("torch")]
    assert torch and "==" not in torch[0], "torch stays a range (the CPU build is installed first)"


def _imported(node: ast.AST) -> list[str]:
    """Top-level names imported by an ``import`` statement (none for relative or other nodes)."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The import statements that run when a module is imported (``if TYPE_CHECKING`` excluded)."""
    found: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                found += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            found += _module_level(node.body)
        elif _imported(node):
            found.append(node)
    return found


COMPILED_ONLY = (
    "slategym/kernels/_jit.py",
    "slategym/kernels/_npmath.py",
    "slategym/kernels/_atomic.py",
)
"""Modules of the compiled path, imported only once ``slategym.kernels.unavailable_reason()`` found
numba usable (the ``fast`` extra): their module-level imports are checked against that extra."""


def _third_party_imports(folder: str, module_level: bool) -> dict[str, str]:
    """Top-level module -> first file importing it: every import of ``folder`` (lazy ones too), or
    only those that run at import time (the compiled-only modules aside)."""
    local = {"slategym", "agents", "experiments", "tests"}
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if module_level and str(path.relative_to(ROOT)) in COMPILED_ONLY:
            continue
        tree = ast.parse(path.read_text())
        nodes = _module_level(tree.body) if module_level else list(ast.walk(tree))
        for node in nodes:
            for top in _imported(node):
                if top not in local and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


HAND_INSTALLED = {"obp": "experiments/ope_obp_check.py"}
"""Imports allowed without a declaration: a one-off cross-check script whose package does not
install from the index with the others (obp 0.4.1, installed by hand as docs/ope.md describes)."""


ALL = ("agents", "experiments", "data", "ray", "fast")


@pytest.mark.parametrize(
    ("folder", "module_level", "extras"),
    [
        ("slategym", True, ()),  # at import time: the core only
        ("slategym", False, ALL),  # lazily, inside the function that needs it: any extra
        ("agents", False, ("agents",)),
        ("experiments", False, ALL),
    ],
)
def test_every_import_is_a_declared_dependency(
    folder: str, module_level: bool, extras: tuple[str, ...]
) -> None:
    """Every ``import`` of ``folder`` is a core dependency or in the extras it may use;
    ``slategym/`` imports optional packages only lazily (``slategym._optional.require``)."""
    project = _project()
    allowed = set(CORE)
    for extra in extras:
        allowed |= _names(project["optional-dependencies"][extra])
    allowed = {a.split("[")[0] for a in allowed}
    dists = importlib.metadata.packages_distributions()
    for module, where in _third_party_imports(folder, module_level).items():
        if HAND_INSTALLED.get(module) == where:
            continue
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        assert names & allowed, f"{where} imports {module!r}, not declared for {folder}/"


def test_compiled_only_modules_import_the_fast_extra_and_only_lazily() -> None:
    """The modules that import numba at import time need only the ``fast`` extra, and ``import
    slategym`` (or an env on the numpy path) never imports them or numba."""
    allowed = {a.split("[")[0] for a in _names(_project()["optional-dependencies"]["fast"])}
    allowed |= set(CORE)
    for where in COMPILED_ONLY:
        for node in _module_level(ast.parse((ROOT / where).read_text()).body):
            for top in _imported(node):
                if top not in {"slategym"} and top not in sys.stdlib_module_names:
                    assert top in allowed, f"{where} imports {top!r} outside the fast extra"
    done = _run(
        "import sys, gymnasium as gym, slategym; gym.make('SlateRec-v0', backend='numpy'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numba' or m in "
        f"{[m.replace('/', '.')[:-3] for m in COMPILED_ONLY]!r}))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)  # fmt: skip


def test_import_slategym_loads_no_optional_package() -> None:
    code = (
        "import sys, pkgutil, importlib, slategym\n"
        "for m in pkgutil.walk_packages(slategym.__path__, 'slategym.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    loaded = set(eval(result.stdout))
    assert "slategym" in loaded and "numpy" in loaded
    assert not loaded & set(OPTIONAL_MODULES), loaded & set(OPTIONAL_MODULES)


BLOCK_OPTIONAL = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""


def test_slategym_works_with_the_optional_packages_unimportable() -> None:
    code = BLOCK_OPTIONAL + (
        "import gymnasium as gym, numpy as np, slategym\n"
        "env = gym.make('SlateRec-v0'); env.reset(seed=0)\n"
        "for _ in range(3): env.step(env.action_space.sample())\n"
        "envs = gym.make_vec('SlateRec-v0', 4, vectorization_mode='vector_entry_point')\n"
        "envs.reset(seed=0); envs.step(envs.action_space.sample())\n"
        "p = slategym.Platform(num_users=20, days=1); p.reset(seed=0)\n"
        "import slategym.metrics\n"
        "print('ok')\n"
    )
    result = _run(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_cli_names_the_extra_when_an_optional_package_is_missing() -> None:
    code = BLOCK_OPTIONAL + "from experiments.cli import main\nsys.exit(main(['bench', '--quick']))\n"
    result = _run(code)
    assert result.returncode == 2, result.stderr
    assert "slategym bench: error: it needs" in result.stderr
    assert "pip install 'slategym[experiments]'" in result.stderr


def test_platform_and_requests_are_exported() -> None:
    import slategym
    from slategym.platform import Platform, Requests

    assert slategym.Platform is Platform and slategym.Requests is Requests
    assert {"Platform", "Requests"} <= set(slategym.__all__)


def test_the_version_is_written_once_in_effect() -> None:
    """``slategym.__version__`` and the installed distribution's version (pyproject) agree."""
    import slategym

    assert slategym.__version__ == importlib.metadata.version("slategym")
