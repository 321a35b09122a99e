"""Steps a native vector env on the compiled path under ``perf``, with the kernels' names visible.

numba's machine code has no symbols ``perf`` can read. This script compiles the kernels in the
process (point ``NUMBA_CACHE_DIR`` at an empty directory: code loaded from the cache keeps no object
file), reads each function's address and size from the object code, and writes them to
``/tmp/perf-<pid>.map``, the file ``perf report`` reads for JIT code. Then it steps the env. Usage
(docs/performance.md, "What a step costs now"):

    rm -rf /tmp/nbprof && NUMBA_CACHE_DIR=/tmp/nbprof SLATEGYM_KERNELS_BACKGROUND=0 \\
        perf record -o /tmp/perf.data python scripts/perf_step.py --candidates 10 --slate 2
    perf report -i /tmp/perf.data --no-children --sort sym

Inside ``step_rows`` (whose row functions are inlined into it, so ``perf report`` shows one
symbol), ``--dump DIR`` also writes its object code (``DIR/step_rows.o``) and its address in the
process (``DIR/step_rows.addr``); then ``--windows DIR`` reads ``perf script`` output on stdin and
prints the share of the kernel's samples in each 256-byte window of its code, hottest first, with
the hottest instructions (``objdump`` disassembles the object)::

    ... perf record -o /tmp/perf.data python scripts/perf_step.py --dump /tmp/pa
    perf script -i /tmp/perf.data -F ip,sym | python scripts/perf_step.py --windows /tmp/pa

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


def dump_step_rows(folder: str) -> None:
    """Write ``step_rows``' object code and the address of its machine code (see the docstring)."""
    os.makedirs(folder, exist_ok=True)
    for result in step.step_rows.overloads.values():
        library: Any = result.library
        obj = library._get_compiled_object()
        with open(os.path.join(folder, "step_rows.o"), "wb") as out:
            out.write(obj)
        for name, size in _functions(obj):
            if _dotted(name) == "slategym.kernels.step.step_rows" and not name.startswith("cfunc"):
                address = library.get_pointer_to_function(name)
                with open(os.path.join(folder, "step_rows.addr"), "w") as out:
                    out.write(f"{name} {address} {size}\n")


def windows(folder: str, top: int = 12) -> None:
    """Print the hottest 256-byte windows and instructions of ``step_rows`` from ``perf script``
    lines (``ip sym``) on stdin."""
    import collections
    import re
    import subprocess
    import sys

    name, address, size = open(os.path.join(folder, "step_rows.addr")).read().split()
    start, end = int(address), int(address) + int(size)
    offsets = []
    for line in sys.stdin:
        parts = line.split()
        if parts and re.fullmatch(r"[0-9a-f]+", parts[0]) and start <= int(parts[0], 16) < end:
            offsets.append(int(parts[0], 16) - start)
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", os.path.join(folder, "step_rows.o")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    head = re.search(rf"^([0-9a-f]+) <{re.escape(name)}>:$", asm, flags=re.M)
    origin = int(head.group(1), 16) if head else 0
    code = {int(m.group(1), 16) - origin: m.group(2).strip()
            for m in re.finditer(r"^\s+([0-9a-f]+):\s+(.*)$", asm, flags=re.M)}  # fmt: skip
    total = max(len(offsets), 1)
    print(f"{len(offsets)} samples in step_rows ({size} bytes of code)")
    for window, n in collections.Counter(o // 256 for o in offsets).most_common(top):
        print(f"  {window * 256:6x}-{window * 256 + 255:6x}  {n / total:5.1%}")
    for offset, n in collections.Counter(offsets).most_common(top):
        print(f"  {offset:6x}  {n / total:5.1%}  {code.get(offset, '?')[:70]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--slate", type=int, default=2)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--light", action="store_true", help='observation="ids", info_keys=(), copy=False')
    parser.add_argument("--dump", help="also write step_rows' object code and address here")
    parser.add_argument("--windows", help="read `perf script -F ip,sym` on stdin (see above)")
    args = parser.parse_args()
    if args.windows:
        windows(args.windows)
        return
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
    if args.dump:
        dump_step_rows(args.dump)
    start = time.perf_counter()
    for _ in range(args.steps):
        env.step(slates)
    elapsed = time.perf_counter() - start
    print(f"{args.steps * args.rows / elapsed:,.0f} user-steps/s ({elapsed / args.steps * 1e3:.2f} ms/step)")


if __name__ == "__main__":
    main()
