"""Summarise the last mutmut run (``mutants/``): score per module and every surviving mutant's diff.

    .venv/bin/python scripts/mutation_report.py [--started ISO-TIME]

Score = (killed + timeout) / (every mutant tested, plus those no selected test executes). Mutants on
the lines excluded in ``[tool.mutmut] do_not_mutate_patterns`` are not generated, so not counted.
"""

from __future__ import annotations

import argparse
import collections
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--started", default="", help="when the run started (for the record)")
    args = parser.parse_args(argv)
    status: dict[str, str] = {}
    for line in _mutmut("results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if m:
            status[m[1]] = m[2].strip()
    if not status:
        print("no mutmut results: run scripts/mutation.sh first")
        return 1
    by_module: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for name, s in status.items():
        by_module[name.split(".x_")[0].split(".xǁ")[0]][s] += 1
    total = collections.Counter(s for s in status.values())
    counted = sum(n for s, n in total.items() if s not in NOT_RUN)
    caught = sum(n for s, n in total.items() if s in CAUGHT)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"# mutmut run (started {args.started or '?'}, reported {now})\n")
    print(f"score: {caught}/{counted} = {100 * caught / max(counted, 1):.1f} %  "
          f"(statuses: {dict(sorted(total.items()))})\n")  # fmt: skip
    print("| module | caught | counted | score |\n|---|---|---|---|")
    for module, c in sorted(by_module.items()):
        n = sum(v for s, v in c.items() if s not in NOT_RUN)
        k = sum(v for s, v in c.items() if s in CAUGHT)
        print(f"| {module} | {k} | {n} | {100 * k / max(n, 1):.1f} % |")
    survivors = sorted(n for n, s in status.items() if s not in CAUGHT | NOT_RUN)
    print(f"\n## {len(survivors)} not caught\n")
    for name in survivors:
        diff = [ln for ln in _mutmut("show", name).splitlines() if re.match(r"^[-+] ", ln)]
        print(f"- `{name}` ({status[name]}): " + " => ".join(f"`{d[1:].strip()}`" for d in diff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
