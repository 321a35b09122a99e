"""One throughput measurement per fresh process: the worker of ``slategym throughput`` and
``slategym throughput compare``.

Why: within one process, a measurement's figure depends on what the process did before it. glibc
adapts its ``malloc`` thresholds (``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``) to the largest
blocks freed so far, so the first configuration that allocates and frees fresh 1–2 MB arrays
every step hands them back to the system and page-faults them in again, while a configuration
measured after a larger env was closed does not (``minor_faults_per_step`` in the records shows
it; the figures are in ``docs/performance.md``, *Measurement: one process per measurement*). With
every measurement in its own process, each starts from the same state, whatever the order.

:func:`measurement` runs one measurement function either here (``in_process=True``) or in a fresh
``python -m experiments.throughput_process SPEC`` (the same interpreter and environment, so
``MALLOC_*``/``GLIBC_TUNABLES`` settings and ``SLATEGYM_KERNELS`` reach it), which loads the compiled
kernels first (:func:`slategym.kernels.wait`: they are read from numba's disk cache, or compiled
once if it is empty), so that neither the timed steps nor the ``tracemalloc`` peak of the sweep
include numba, then prints its record as one JSON line. Every record carries the ``pid`` of the
process that measured it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Sequence
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
"""Environment variables that change glibc's allocator; a report records those that are set."""


def allocator_environment() -> dict[str, str]:
    """The allocator settings of this process's environment (inherited by the workers)."""
    return {name: os.environ[name] for name in ALLOCATOR_VARIABLES if name in os.environ}


def _function(kind: str) -> Any:
    if kind not in FUNCTIONS:
        raise ValueError(f"kind={kind!r} is not allowed: expected one of {list(FUNCTIONS)}")
    module, name = FUNCTIONS[kind]
    return getattr(importlib.import_module(module), name)


def measurement(kind: str, in_process: bool, **kwargs: Any) -> dict[str, Any]:
    """One record of ``FUNCTIONS[kind](**kwargs)``, measured in this process or in a fresh one."""
    function = _function(kind)
    if in_process:
        return dict(function(**kwargs))
    spec = json.dumps({"kind": kind, "kwargs": kwargs})
    command = [sys.executable, "-m", __name__, spec]
    done = subprocess.run(command, capture_output=True, text=True)
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
    record = dict(function(**spec["kwargs"]))
    print(MARKER + json.dumps(record), flush=True)
    return record


if __name__ == "__main__":
    main()
