"""Steps a native vector env on the compiled path under ``perf``, with the kernels' names visible.

numba's machine code has no symbols ``perf`` can read. This script compiles the kernels in the
process (point ``NUMBA_CACHE_DIR`` at an empty directory: code loaded from the cache keeps no object
file), reads each function's address and size from the object code, and writes them to
``/tmp/perf-<pid>.map``, the file ``perf report`` reads for JIT code. Then it steps the env. Usage
(docs/performance.md, "What a step costs now"):

    rm -rf /tmp/nbprof && NUMBA_CACHE_DIR=/tmp/nbprof SLATEGYM_KERNELS_BACKGROUND=0 \\
        perf record -o /tmp/perf.data python scripts/perf_step.py --candidates 10 --slate 2
    perf report -i /tmp/perf.data --no-children --sort sym

Not part of CI (needs ``perf``; relies on numba internals that may change).
"""

from __future__ import annotations

import argparse
import os
import struct
import time
from typing import Any

import numpy as np

from slategym.kernels import step, world
from slategym.vector_env import SlateRecVectorEnv


def _functions(obj: bytes) -> list[tuple[str, int]]:
    """``(name, size)`` of the function symbols of an ELF64 object file."""
    shoff = struct.unpack_from("<Q", obj, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]
    found = []
    for sec in sections:
        if sec[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sec[6]][4]
        for off in range(sec[4], sec[4] + sec[5], 24):
            name_off, info, _, _, _, size = struct.unpack_from("<IBBHQQ", obj, off)
            if info & 0xF == 2 and size:  # STT_FUNC
                start = strtab + name_off
                found.append((obj[start : obj.index(b"\0", start)].decode(), size))
    return found


def _dotted(mangled: str) -> str:
    """``slategym.kernels.step.step_rows`` from numba's ``_ZN8slategym7kernels4step9step_rowsB3v...``."""
    parts, i = [], mangled.find("N") + 1
    while 0 < i < len(mangled) and mangled[i].isdigit():
        j = i
        while mangled[j].isdigit():
            j += 1
        n = int(mangled[i:j])
        parts.append(mangled[j : j + n])
        i = j + n
    return ".".join(parts) or mangled


def write_perf_map() -> int:
    """Write ``/tmp/perf-<pid>.map`` for every compiled kernel function; returns how many."""
    lines = []
    for dispatcher in (step.step_rows, world.reset_rows, world.observe_rows):
        for result in dispatcher.overloads.values():
            library: Any = result.library
            try:
                obj = library._get_compiled_object()
            except RuntimeError:  # loaded from the cache: no object file kept
                continue
            for name, size in _functions(obj):
                try:
                    address = library.get_pointer_to_function(name)
                except Exception:  # noqa: BLE001 (a symbol numba did not export)
                    continue
                if address:
                    lines.append(f"{address:x} {size:x} {_dotted(name)}\n")
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        out.writelines(sorted(set(lines)))
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--slate", type=int, default=2)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--light", action="store_true", help='observation="ids", info_keys=(), copy=False')
    args = parser.parse_args()
    light: dict[str, Any] = {"observation": "ids", "info_keys": (), "copy": False}
    env = SlateRecVectorEnv(
        args.rows, num_candidates=args.candidates, slate_size=args.slate, backend="compiled",
        **(light if args.light else {}),
    )  # fmt: skip
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    slates = np.stack([rng.permutation(args.candidates)[: args.slate] for _ in range(args.rows)])
    for _ in range(20):
        env.step(slates)
    print(f"perf map: {write_perf_map()} functions")
    start = time.perf_counter()
    for _ in range(args.steps):
        env.step(slates)
    elapsed = time.perf_counter() - start
    print(f"{args.steps * args.rows / elapsed:,.0f} user-steps/s ({elapsed / args.steps * 1e3:.2f} ms/step)")


if __name__ == "__main__":
    main()
