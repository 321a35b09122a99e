"""Compiled kernels for the built-in models (optional: ``pip install "slategym[fast]"`` adds numba).

With numba installed, a world built from the default item model (fresh candidates every request),
the default or the dynamic user model (:class:`~slategym.users.DefaultUserModel` or
:class:`~slategym.users.DynamicUserModel` themselves, so ``SlateRec-v0``, ``SlateRec-Personal-v0``
and ``SlateRec-Dynamic-v0``), any built-in choice model and a named or weighted reward steps through
compiled kernels (:mod:`slategym.kernels.step`, :mod:`slategym.kernels.world`,
:mod:`slategym.kernels.dynamic`): the step, the resets and autoresets, the output checks and the
observation, row by row, with the state kept in place. So do RecSim's three users, each with its
own items (:mod:`slategym.kernels.recsim`; the three RecSim presets). Anything else (a custom or
subclassed model, another pair of user and item models, a callable reward, numba absent) runs on
the general batched numpy path, which stays the reference: both give the same trajectories, bit for
bit on x86-64 (``slategym.kernels._npmath`` explains how), and ``tests/test_kernels.py`` holds them
together. The built-in choice models' public ``probabilities()`` call the same compiled row
functions (:mod:`slategym.kernels.choice`).

Which path runs (chosen per simulator by :mod:`slategym.kernels.dispatch`):

| setting | effect |
|---|---|
| ``backend="auto"`` (default) | compiled when numba is installed and the kernels cover the world |
| ``backend="numpy"`` | always the general path |
| ``backend="compiled"`` | compiled, or ``ValueError`` saying why it cannot be |

``backend`` is a field of :class:`~slategym.config.SlateRecConfig` (so a ``gym.make`` keyword); the
environment variable ``SLATEGYM_KERNELS=numpy`` forces the general path everywhere (``=auto`` and
``=compiled`` are the other values). numba is imported when the first simulator is built (not by
``import slategym``; with ``backend="auto"``, by the background thread below); the kernels are
compiled once and cached on disk (:mod:`slategym.kernels._jit`).

Compiling them costs seconds on first use (an empty cache), so with ``backend="auto"`` they are
compiled in a background thread while the simulator starts on the numpy path, which switches to
the compiled path at its first call after they are ready (same trajectories either way;
:mod:`slategym.kernels._background`). ``SLATEGYM_KERNELS_BACKGROUND=0`` turns that off;
``backend="compiled"`` always waits for the kernels; :func:`wait` blocks until they are ready.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from slategym.kernels import _background

BACKENDS: tuple[str, ...] = ("auto", "numpy", "compiled")
"""Values of ``SlateRecConfig.backend`` and of the ``SLATEGYM_KERNELS`` environment variable."""
ENV_VAR = "SLATEGYM_KERNELS"

_STATUS: dict[str, Any] = {}
_STATUS_LOCK = threading.Lock()  # the background thread and the caller may ask at the same time
_FORCED: list[str] = []


def unavailable_reason() -> str | None:
    """Why the compiled path cannot run in this process (None if it can). Imports numba and runs
    ``_npmath.self_check()`` once, which compiles its three small kernels. They must come first:
    with an empty cache, ``step_rows`` (compiled without reference counting) fails to type
    ``pairwise_sum``'s ``np.empty`` when it is the first to compile it."""
    with _STATUS_LOCK:
        if "reason" not in _STATUS:
            try:
                import numba

                if getattr(numba.config, "DISABLE_JIT", False):
                    raise ImportError("NUMBA_DISABLE_JIT is set")
                from slategym.kernels import _npmath

                _STATUS["exact"] = _npmath.self_check()
                _STATUS["reason"] = None
            except ImportError as err:
                _STATUS["reason"] = f"numba is not usable ({err}); pip install 'slategym[fast]'"
            except ValueError as err:  # numpy's ufunc layout is not what the kernels expect
                _STATUS["reason"] = str(err)
        return _STATUS["reason"]


def exact() -> bool:
    """Whether the compiled path reproduces numpy's rounding bit for bit here (see ``_npmath``)."""
    return unavailable_reason() is None and all(_STATUS["exact"].values())


def wait(timeout: float | None = None) -> bool:
    """Block until the kernels compiled in the background are ready (starting that if needed), at
    most ``timeout`` seconds; True when they are (or nothing compiles in the background)."""
    return _background.wait(timeout)


def setting(backend: str = "auto") -> str:
    """The effective backend: ``backend``, unless the environment or :func:`forced` overrides it."""
    if _FORCED:
        return _FORCED[-1]
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in ("0", "off", "numpy"):
        return "numpy"
    if value in ("1", "on", "compiled"):
        return "compiled"
    return backend


@contextlib.contextmanager
def forced(backend: str) -> Iterator[None]:
    """Run the block with ``backend`` for every simulator built inside it (tests, benchmarks)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not allowed: expected one of {list(BACKENDS)}")
    _FORCED.append(backend)
    try:
        yield
    finally:
        _FORCED.pop()


def compiled_choice(model: Any, affinities: Any, marginal: bool = False) -> np.ndarray | None:
    """A built-in choice model's ``probabilities`` (or, ``marginal``, ``click_probabilities``)
    computed by the compiled row function, or None when the general path must answer (numba absent,
    the general path forced, not a built-in class, an input the numpy method must judge)."""
    backend = setting()
    if backend == "numpy" or _background.broken():
        return None
    if backend == "auto" and _background.deferred():
        _background.start()  # the numpy method answers (same floats) until the kernels are ready
        return None
    if unavailable_reason() is not None:
        return None
    from slategym.kernels import choice

    aff = np.asarray(affinities, dtype=np.float64)
    if aff.ndim == 0:
        return None
    k = aff.shape[-1]
    spec = choice.choice_spec(model, k)
    if spec is None:
        return None
    kind, params, gamma = spec
    flat = np.ascontiguousarray(aff.reshape(-1, k))
    out = np.empty((flat.shape[0], k + 1))
    choice.probabilities_rows(kind, params, gamma, flat, out, marginal)
    if marginal:
        return out[:, :k].reshape(aff.shape)
    return out.reshape(*aff.shape[:-1], k + 1)
