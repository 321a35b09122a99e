#!/usr/bin/env bash
# Mutation testing of slategym's maths with mutmut. Not part of CI: run it before touching the maths
# of the choice models, user models, timeline, rewards, simulator or vector env, and after, and
# compare with the last figures recorded in docs/testing.md.
#
#   bash scripts/mutation.sh                      # full run: about 1-2 hours on 2 shared cores
#   bash scripts/mutation.sh 'slategym.rewards*'  # only the mutants whose name matches
#   MUTATION_JOBS=1 MUTATION_KEEP=1 bash scripts/mutation.sh   # 1 worker, reuse cached results
#
# What is mutated and which tests run is configured in pyproject.toml ([tool.mutmut]). The run
# prints the score and every surviving mutant as a diff (also written to mutants/report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "create .venv first (README: run the tests)" >&2; exit 1; }
.venv/bin/pip install -q -e ".[dev,mutation]"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
[ "${MUTATION_KEEP:-0}" = 1 ] || rm -rf mutants
start=$(date -u +%FT%TZ)
nice -n 10 .venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" "$@" | tr '\r' '\n' | tail -n 4
.venv/bin/python scripts/mutation_report.py --started "$start" | tee mutants/report.md
