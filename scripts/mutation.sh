#!/usr/bin/env bash
# Mutation testing of slategym's maths with mutmut. Not part of CI: run it before touching the maths
# of the choice models, user models, timeline, rewards, simulator or vector env, and after, and
# compare with the figures recorded in docs/testing.md.
#
#   bash scripts/mutation.sh                       # every mutant (~2,300): hours on 2 busy cores
#   MUTATION_SAMPLE=400 bash scripts/mutation.sh   # a seeded random sample of 400 mutants
#   bash scripts/mutation.sh 'slategym.rewards*'   # only the mutants whose name matches
#
#   MUTATION_JOBS=3    workers (default 2)        MUTATION_SEED=0  seed of the sample
#   MUTATION_KEEP=1    reuse the verdicts cached in mutants/ (default: start afresh)
#
# What is mutated and which tests run is configured in pyproject.toml ([tool.mutmut]). The run
# ends with the score and every mutant not caught, as a diff (also in mutants/report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "create .venv first (README: run the tests)" >&2; exit 1; }
.venv/bin/pip install -q -e ".[dev,mutation]"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
[ "${MUTATION_KEEP:-0}" = 1 ] || rm -rf mutants
jobs="${MUTATION_JOBS:-2}"
start=$(date -u +%FT%TZ)
mutmut() { nice -n 10 .venv/bin/mutmut "$@" | tr '\r' '\n' | tail -n 3; }
report=(.venv/bin/python scripts/mutation_report.py --started "$start")
if [ -n "${MUTATION_SAMPLE:-}" ]; then
    # generate every mutant (and the test statistics) by running the smallest function's, then
    # draw the sample and run the mutants of the sample that have no verdict yet
    mutmut run --max-children "$jobs" 'slategym.rewards.xǁWeightedRewardǁ__init__*'
    .venv/bin/python scripts/mutation_report.py --sample "$MUTATION_SAMPLE" \
        --seed "${MUTATION_SEED:-0}" --write-sample mutants/sample.txt
    mapfile -t todo < <(.venv/bin/python scripts/mutation_report.py --unchecked mutants/sample.txt)
    [ "${#todo[@]}" -eq 0 ] || mutmut run --max-children "$jobs" "${todo[@]}"
    report+=(--names mutants/sample.txt)
else
    mutmut run --max-children "$jobs" "$@"
fi
"${report[@]}" | tee mutants/report.md
