"""What a call of numpy's inner loop costs inside a compiled kernel: one value per call (a row
function's ``xp.exp(x)``) against 64 values per call (a block of rows), the same values, the same
loop (docs/performance.md, "Fifth round")::

    python scripts/numpy_loop_calls.py

Prints nanoseconds per value for ``exp``, ``log1p`` and ``tanh``, and checks that both ways give
the same floats, bit for bit (numpy's result for a value does not depend on its neighbours). Not
part of CI.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from slategym.kernels import xp
from slategym.kernels._jit import jit
from slategym.kernels._npmath import vexp, vlog1p, vtanh

BLOCK = 64


@jit
def _one_at_a_time(kind: int, x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.shape[0]):
        if kind == 0:
            out[i] = xp.exp(x[i])
        elif kind == 1:
            out[i] = xp.log1p(x[i])
        else:
            out[i] = xp.tanh(x[i])


@jit
def _by_block(kind: int, x: np.ndarray, out: np.ndarray) -> None:
    for i in range(0, x.shape[0], BLOCK):
        n = min(BLOCK, x.shape[0] - i)
        if kind == 0:
            vexp(x[i:], out[i:], n)
        elif kind == 1:
            vlog1p(x[i:], out[i:], n)
        else:
            vtanh(x[i:], out[i:], n)


def _time(fn: Any, kind: int, x: np.ndarray, out: np.ndarray, reps: int = 20) -> float:
    fn(kind, x, out)
    start = time.perf_counter()
    for _ in range(reps):
        fn(kind, x, out)
    return (time.perf_counter() - start) / reps / x.size * 1e9


def main() -> None:
    x = np.random.default_rng(0).uniform(-0.99, 3.0, 100_000)
    for kind, name in enumerate(("exp", "log1p", "tanh")):
        one, block = np.empty_like(x), np.empty_like(x)
        t_one = _time(_one_at_a_time, kind, x, one)
        t_block = _time(_by_block, kind, x, block)
        same = np.array_equal(one, block) and np.array_equal(one, getattr(np, name)(x))
        print(f"{name:6s} one value a call {t_one:5.1f} ns/value, {BLOCK} a call {t_block:4.1f} "
              f"ns/value ({t_one / t_block:.0f}x); same floats as numpy: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
