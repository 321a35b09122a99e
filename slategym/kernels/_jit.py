"""numba (imported only here, and only when the compiled path is used): the decorator of every
kernel, and where compiled kernels are cached.

Every kernel is compiled with ``cache=True``: the machine code is written to disk on first use and
loaded by later processes (a fraction of a second instead of seconds of compilation). The cache lives

1. in ``NUMBA_CACHE_DIR`` if that is set;
2. else in ``slategym/kernels/__pycache__`` beside the package, if that is writable;
3. else in the user's cache directory (``~/.cache/numba``), so a read-only site-packages works;
4. else in ``<tempdir>/slategym-numba-<uid>``; if nothing is writable the kernels are compiled in
   every process (slower start, same results).

numba checks a cached kernel against the modification time of the file that defines it, but a kernel
also compiles the model formulas it calls, which live in other files (``slategym/users/*.py``, ...).
So the cache entries of slategym's kernels are stamped with every source file of the package: editing
any of them recompiles the kernels on next use instead of running stale code.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.core import caching

PACKAGE = Path(__file__).resolve().parent.parent
KERNELS = Path(__file__).resolve().parent

OPTIONS: dict[str, Any] = {
    "cache": True,
    "nogil": True,  # rows can run on several threads (SlateRecVectorEnv(num_threads=...))
    "error_model": "numpy",  # a division by zero gives inf / nan, as in numpy, never an exception
    "boundscheck": False,
    "fastmath": False,  # no reassociation, no fused multiply-add: numpy's rounding, bit for bit
}
"""Options of every kernel."""

_STAMP: dict[tuple[Any, ...], str] = {}


def source_stamp() -> str:
    """A digest of the size and modification time of every ``.py`` file of the package."""
    stats = []
    for path in sorted(PACKAGE.rglob("*.py")):
        st = path.stat()
        stats.append((str(path.relative_to(PACKAGE)), st.st_mtime_ns, st.st_size))
    key = tuple(stats)
    if key not in _STAMP:
        _STAMP.clear()
        _STAMP[key] = hashlib.sha256(repr(key).encode()).hexdigest()
    return _STAMP[key]


def _ours(py_file: str) -> bool:
    return Path(py_file).resolve().parent == KERNELS


class _PackageStamped:
    """Mixin: slategym's kernels only, stamped with the whole package (see the module docstring)."""

    def get_source_stamp(self) -> str:
        return source_stamp()

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if not _ours(py_file):
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class _UserProvided(_PackageStamped, caching.UserProvidedCacheLocator):
    pass


class _InTree(_PackageStamped, caching.InTreeCacheLocator):
    pass


class _UserWide(_PackageStamped, caching.UserWideCacheLocator):
    pass


class _TempDir(_PackageStamped, caching.UserWideCacheLocator):
    def __init__(self, py_func: Any, py_file: str) -> None:
        super().__init__(py_func, py_file)
        uid = os.getuid() if hasattr(os, "getuid") else 0
        root = os.path.join(tempfile.gettempdir(), f"slategym-numba-{uid}")
        self._cache_path = os.path.join(root, self.get_suitable_cache_subpath(py_file))


_LOCATORS = [_UserProvided, _InTree, _UserWide, _TempDir]
if not any(cls in caching.CacheImpl._locator_classes for cls in _LOCATORS):
    caching.CacheImpl._locator_classes[:0] = _LOCATORS


def _njit(fn: Callable[..., Any], **extra: Any) -> Any:
    """``numba.njit`` with :data:`OPTIONS` and ``extra``; without a writable cache location,
    uncached."""
    options = {**OPTIONS, **extra}
    try:
        return numba.njit(**options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**{**options, "cache": False})(fn)


def jit(fn: Callable[..., Any]) -> Any:
    """``numba.njit`` with :data:`OPTIONS`."""
    return _njit(fn)


def jit_inline(fn: Callable[..., Any]) -> Any:
    """:func:`jit` for a row function a kernel calls once per row: numba inlines it into its
    callers (a call passes every array as seven or more machine words, and with a dozen calls a
    row the argument traffic was a sizeable part of the step; docs/performance.md)."""
    return _njit(fn, inline="always")


def jit_kernel(fn: Callable[..., Any]) -> Any:
    """:func:`jit` for the entry kernels called from Python (``step_rows``, ``reset_rows``,
    ``observe_rows``), compiled without numba's reference counting (``_nrt=False``).

    With reference counting, every array handed to a helper function (``sample_from``,
    ``push_history``, ...) is counted with two atomic operations per call, which cost about a third
    of a step (measured with ``perf``; docs/performance.md). Without it the arrays the kernel sees
    (its arguments, and the views it slices from them) carry no reference count, so neither the
    kernel nor the helpers it calls touch one. The price: an entry kernel cannot allocate, so its
    scratch memory comes in workspace arguments (see ``step.step_workspace``).
    """
    return _njit(fn, _nrt=False)


def jitable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Let compiled code call ``fn`` (a plain Python function that stays plain for Python callers):
    the model formulas are written once and compiled where a kernel calls them."""
    numba.extending.register_jitable(error_model="numpy", boundscheck=False)(fn)
    return fn


def entry_point(dispatcher: Any, args: tuple[Any, ...]) -> Callable[..., Any]:
    """Compile ``dispatcher`` for the types of ``args`` (or load it from the cache) and return the
    compiled function's own entry point, which skips numba's type dispatch (about 1.5 µs a call with
    forty arguments). The caller must then pass arguments of exactly these types."""
    signature = tuple(numba.typeof(a) for a in args)
    dispatcher.compile(signature)
    return dispatcher.overloads[signature].entry_point
