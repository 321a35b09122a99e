"""Summarise the mutmut run in ``mutants/``: score per module and every mutant not caught, as a diff.

    .venv/bin/python scripts/mutation_report.py [--started ISO-TIME] [--names FILE]
    .venv/bin/python scripts/mutation_report.py --sample N --seed S --write-sample FILE
    .venv/bin/python scripts/mutation_report.py --unchecked FILE   # names in FILE without a verdict

Score = (killed + timeout) / (mutants with a verdict, "no tests" included as not caught). With
``--names`` only those mutants count (a seeded random sample: the score comes with a 95 % Wilson
interval). Mutants on lines excluded by ``[tool.mutmut] do_not_mutate_patterns`` are never generated.
"""

from __future__ import annotations

import argparse
import collections
import math
import random
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = str(ROOT / ".venv" / "bin" / "mutmut")
CAUGHT = {"killed", "timeout", "caught by type check"}
NOT_RUN = {"not checked", "skipped"}


def _mutmut(*args: str) -> str:
    return subprocess.run([MUTMUT, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def statuses() -> dict[str, str]:
    """Every generated mutant's status, by name."""
    out: dict[str, str] = {}
    for line in _mutmut("results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if m:
            out[m[1]] = m[2].strip()
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def report(status: dict[str, str], started: str, sampled: bool) -> None:
    by_module: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for name, s in status.items():
        by_module[re.split(r"\.x_|\.xǁ", name)[0]][s] += 1
    total = collections.Counter(status.values())
    counted = sum(n for s, n in total.items() if s not in NOT_RUN)
    caught = sum(n for s, n in total.items() if s in CAUGHT)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"# mutmut run (started {started or '?'}, reported {now})\n")
    line = f"score: {caught}/{counted} = {100 * caught / max(counted, 1):.1f} %"
    if sampled:
        lo, hi = wilson(caught, counted)
        line += f" (95 % interval {100 * lo:.1f}-{100 * hi:.1f} %, a random sample)"
    print(f"{line}; statuses: {dict(sorted(total.items()))}\n")
    print("| module | caught | with a verdict | score |\n|---|---|---|---|")
    for module, c in sorted(by_module.items()):
        n = sum(v for s, v in c.items() if s not in NOT_RUN)
        k = sum(v for s, v in c.items() if s in CAUGHT)
        print(f"| `{module}` | {k} | {n} | {100 * k / max(n, 1):.1f} % |")
    survivors = sorted(n for n, s in status.items() if s not in CAUGHT | NOT_RUN)
    print(f"\n## {len(survivors)} not caught\n")
    for name in survivors:
        diff = [ln for ln in _mutmut("show", name).splitlines() if re.match(r"^[-+] ", ln)]
        print(f"- `{name}` ({status[name]}): " + " => ".join(f"`{d[1:].strip()}`" for d in diff))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--started", default="", help="when the run started (for the record)")
    parser.add_argument("--names", type=Path, help="count only the mutants listed in this file")
    parser.add_argument("--sample", type=int, help="draw this many mutants at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--write-sample", type=Path, help="file to write the sample's names to")
    parser.add_argument("--unchecked", type=Path, help="print the names in this file without a verdict")
    parser.add_argument("--caught-before", type=Path,
                        help="names caught by an earlier run whose tests were a subset of today's "
                             "(adding tests cannot un-kill a mutant): counted as caught")  # fmt: skip
    args = parser.parse_args(argv)
    status = statuses()
    if not status:
        print("no mutmut results: run scripts/mutation.sh first", file=sys.stderr)
        return 1
    if args.sample is not None:
        names = sorted(random.Random(args.seed).sample(sorted(status), min(args.sample, len(status))))
        (args.write_sample or ROOT / "mutants" / "sample.txt").write_text("\n".join(names) + "\n")
        return 0
    if args.unchecked is not None:
        for name in args.unchecked.read_text().split():
            if status.get(name) in NOT_RUN:
                print(name)
        return 0
    if args.names is not None:
        wanted = set(args.names.read_text().split())
        status = {n: s for n, s in status.items() if n in wanted}
    if args.caught_before is not None:
        for name in set(args.caught_before.read_text().split()) & set(status):
            if status[name] not in CAUGHT:
                status[name] = "killed"
    report(status, args.started, sampled=args.names is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
