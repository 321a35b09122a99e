"""Where the cold compile time of the first reset and step goes (docs/performance.md, Cold start).

Times every ``Dispatcher.compile`` of numba (inclusive of the callees compiled inside it) during the
self-check and the first reset and step of ``SlateRec-v0`` on the compiled path, compiled before the
first step (background compilation off). Run it with an empty cache::

    rm -rf /tmp/nbcache && NUMBA_CACHE_DIR=/tmp/nbcache python scripts/compile_breakdown.py
"""

from __future__ import annotations

import os
import time
from typing import Any

os.environ["SLATEGYM_KERNELS_BACKGROUND"] = "0"

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from numba.core.dispatcher import Dispatcher  # noqa: E402

import slategym  # noqa: E402, F401
from slategym import kernels  # noqa: E402

TIMES: dict[str, list[tuple[float, int]]] = {}
_compile = Dispatcher.compile
_depth = [0]


def _timed(self: Any, sig: Any) -> Any:
    _depth[0] += 1
    start = time.perf_counter()
    try:
        return _compile(self, sig)
    finally:
        _depth[0] -= 1
        TIMES.setdefault(self.py_func.__name__, []).append((time.perf_counter() - start, _depth[0]))


def main() -> None:
    Dispatcher.compile = _timed  # type: ignore[method-assign]
    t = time.perf_counter()
    kernels.exact()
    check = time.perf_counter() - t
    env = gym.make("SlateRec-v0")
    t = time.perf_counter()
    env.reset(seed=0)
    reset = time.perf_counter() - t
    t = time.perf_counter()
    env.step(np.arange(6))
    step = time.perf_counter() - t
    print(f"self-check {check:.2f}s, reset+observe {reset:.2f}s, step+observe {step:.2f}s")
    print("first compile of each function (s, inclusive; depth 0 = called from Python):")
    rows = sorted(TIMES.items(), key=lambda kv: -max(dt for dt, _ in kv[1]))
    for name, calls in rows:
        dt, depth = max(calls)
        if dt >= 0.05:
            print(f"  {name:26s} {dt:6.2f}  depth {depth}")
    from slategym.kernels import _npmath, choice, world
    from slategym.kernels import rows as row_kernels

    for module in (world, choice, _npmath, row_kernels):
        for name, fn in vars(module).items():
            ours = isinstance(fn, Dispatcher) and fn.py_func.__module__ == module.__name__
            if ours and len(fn.signatures) > 1:
                print(f"  {module.__name__}.{name}: {len(fn.signatures)} signatures")


if __name__ == "__main__":
    main()
