#!/usr/bin/env bash
# CI for the RL-library recipes of docs/integrations.md (called by .ci/run after the main job, which
# ran the CleanRL and SB3 recipes in tests/test_examples.py). Tiny budgets: this proves that each
# recipe runs, not that it learns (the CleanRL recipe's learning figure is in docs/integrations.md).
# 1. The main venv (.venv, the newest gymnasium): the Tianshou recipe.
# 2. A second, fresh venv with RLlib and TorchRL. ray[rllib] 2.60 pins gymnasium 1.2.2, so this
#    venv also proves that slategym works on gymnasium 1.2.2: conformance, vector env and wrapper
#    tests run there too.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
start=$SECONDS
run() { echo "+ $*"; "$@"; }

# --no-compile: byte-compiling every module of torch, ray & co. costs more than the install itself
# (measured 76 s against 23 s for torch alone); Python compiles what it imports when it imports it.
run .venv/bin/pip install -q --no-compile -e ".[tianshou]"
run .venv/bin/python docs/examples/tianshou_ppo.py --epochs 1 --steps-per-epoch 1000 --num-envs 4 --test-envs 2
main_venv=$((SECONDS - start))

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
run "$venv/bin/pip" install -q --no-compile torch==2.13.0  # the CPU build first (an unpinned torch is CUDA's)
# the test tools of [dev] without its data and experiment extras; matplotlib because gymnasium
# 1.2.2's check_env opens every declared render mode, "human" (a matplotlib window) included
run "$venv/bin/pip" install -q --no-compile -e ".[agents,rllib,torchrl]" "pytest>=7" "hypothesis>=6" "matplotlib>=3.7"
"$venv/bin/python" - <<'PY'
import gymnasium
print("gymnasium", gymnasium.__version__, "in the RLlib/TorchRL venv")
assert gymnasium.__version__.startswith("1.2."), "ray[rllib] no longer pins gymnasium 1.2: update docs/integrations.md"
PY
installed=$((SECONDS - start))
run "$venv/bin/python" docs/examples/torchrl_ppo.py --frames 1024 --num-envs 8 --frames-per-batch 512 --minibatch 256
run "$venv/bin/python" docs/examples/rllib_ppo.py --variant both --iterations 1 --batch 256 --num-envs 8 --max-episode-steps 20
recipes=$((SECONDS - start))
run "$venv/bin/python" -m pytest -q \
    tests/test_conformance.py tests/test_vector_env.py tests/test_wrappers.py
echo "integrations: tianshou ${main_venv} s, second venv installed at ${installed} s," \
     "recipes done at ${recipes} s, total $((SECONDS - start)) s"
