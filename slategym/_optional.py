"""Lazy imports of optional dependencies, with an error that names the extra to install.

``slategym`` imports only numpy, scipy and gymnasium at import time. Features that need more
(Parquet logs, pandas frames, Minari datasets) call :func:`require` when they run.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS: dict[str, str] = {
    "pyarrow": "data", "pandas": "data", "minari": "data", "matplotlib": "experiments",
}  # fmt: skip
"""Optional module -> the ``pip install 'slategym[extra]'`` that provides it."""


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming ``feature`` and the extra that provides it.

    >>> require("numpy", "arrays").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = EXTRAS.get(module.split(".")[0], "data")
        raise ImportError(
            f"{feature} needs the optional package {module!r}: install it with "
            f"pip install 'slategym[{extra}]'"
        ) from err
