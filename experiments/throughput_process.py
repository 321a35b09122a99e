"""One throughput measurement per fresh process, with glibc's allocator thresholds pinned: the
worker of ``slategym throughput`` and ``slategym throughput compare``.

Why: a measurement's figure depends on the allocation history of the process that takes it. glibc
adapts its ``malloc`` thresholds (``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``) to the blocks freed so
far; until they exceed a step's fresh 1–2 MB arrays, every step hands those pages back to the
system and faults them in again (hundreds of minor faults per step for the native env of 4096 rows
at 10x2, up to 1.5x slower; figures in ``docs/performance.md``). Within one process a path pays
that the first time it runs and not later, so the order of the modes biased their figures; in a
fresh process whether the thresholds ever rise depends on details as small as whether numba's cache
was loaded in a thread or which array was freed first. So by default:

* each measurement runs in a fresh ``python -m experiments.throughput_process SPEC`` (same
  interpreter, same environment), which loads the compiled kernels first
  (:func:`slategym.kernels.wait`: from numba's disk cache, or compiled once if it is empty), so
  that neither the timed steps nor the sweep's ``tracemalloc`` peak include numba, then prints its
  record as one JSON line;
* ``malloc="pinned"``: the worker's environment fixes the two thresholds at the ceiling glibc's own
  adaptation can reach (``MALLOC_MMAP_THRESHOLD_`` = 32 MiB, ``MALLOC_TRIM_THRESHOLD_`` = twice
  that), unless the environment sets them already; ``"adaptive"`` leaves glibc's defaults.

Every record carries the ``pid`` of the process that measured it and that process's allocator
variables (``allocator_environment``); figures and commands are in ``docs/performance.md``,
*Measurement: one process per measurement*.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

FUNCTIONS = {
    "sweep": ("experiments.throughput", "measure"),
    "compare": ("experiments.throughput_compare", "measure"),
}
"""Measurement kind -> (module, function returning one JSON-able record)."""
MARKER = "THROUGHPUT-RECORD "
"""Prefix of the worker's result line on stdout (anything else it prints is ignored)."""
ALLOCATOR_VARIABLES = ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                       "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX")  # fmt: skip
"""Environment variables that change glibc's allocator; a record names those that are set."""
PINNED = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}
"""``malloc="pinned"``: the largest mmap threshold glibc's dynamic adaptation reaches on 64-bit
(``DEFAULT_MMAP_THRESHOLD_MAX``) and the trim threshold it pairs with it (twice that)."""
MALLOC = ("pinned", "adaptive")


def allocator_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allocator variables set in ``environ`` (default: this process's environment)."""
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in ALLOCATOR_VARIABLES if name in environ}


def worker_environment(malloc: str) -> dict[str, str]:
    """The environment of a measurement process (or RecSim's): this one's, and with ``"pinned"``
    the thresholds of :data:`PINNED` where the environment does not set them."""
    if malloc not in MALLOC:
        raise ValueError(f"malloc={malloc!r} is not allowed: expected one of {list(MALLOC)}")
    environ = dict(os.environ)
    if malloc == "pinned":
        for name, value in PINNED.items():
            environ.setdefault(name, value)
    return environ


def _function(kind: str) -> Any:
    if kind not in FUNCTIONS:
        raise ValueError(f"kind={kind!r} is not allowed: expected one of {list(FUNCTIONS)}")
    module, name = FUNCTIONS[kind]
    return getattr(importlib.import_module(module), name)


def measurement(kind: str, in_process: bool, malloc: str, **kwargs: Any) -> dict[str, Any]:
    """One record of ``FUNCTIONS[kind](**kwargs)``, measured in this process (as it is: ``malloc``
    cannot change a running process's allocator) or in a fresh one."""
    function = _function(kind)
    environ = worker_environment(malloc)
    if in_process:
        return {**function(**kwargs), "allocator_environment": allocator_environment()}
    spec = json.dumps({"kind": kind, "kwargs": kwargs})
    command = [sys.executable, "-m", __name__, spec]
    done = subprocess.run(command, capture_output=True, text=True, env=environ)
    records = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or len(records) != 1:
        raise RuntimeError(
            f"the measurement process {' '.join(command)} exited with code {done.returncode} "
            f"and {len(records)} records; its stderr ends with:\n{done.stderr[-2000:]}"
        )
    return dict(json.loads(records[0][len(MARKER) :]))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Worker: ``python -m experiments.throughput_process '{"kind": ..., "kwargs": {...}}'``."""
    (text,) = sys.argv[1:] if argv is None else argv
    spec = json.loads(text)
    function = _function(spec["kind"])
    inspect.signature(function).bind(**spec["kwargs"])  # a wrong keyword fails before numba loads
    from slategym import kernels

    if kernels.setting() != "numpy":
        kernels.wait()  # numba's cache is loaded (or filled) before anything is built or timed
    record = {**function(**spec["kwargs"]), "allocator_environment": allocator_environment()}
    print(MARKER + json.dumps(record), flush=True)
    return record


if __name__ == "__main__":
    main()
