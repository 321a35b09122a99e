"""The ``slategym`` command: ``slategym <command> [options]`` (the commands are listed below).

Each subcommand is the ``main(argv)`` of an experiment module, so ``slategym bench --quick`` and
``python -m experiments.benchmark --quick`` are the same run; ``slategym <command> --help`` lists the
options.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "bench": ("experiments.benchmark", "train and compare the agents (the main job)"),
    "online": ("experiments.online_loop", "the online recommendation loop on the platform view"),
    "throughput": ("experiments.throughput", "simulator speed: single, sync and native vector env"),
    "log": ("experiments.log", "write a Parquet impression log from a named logging policy"),
    "ope": ("experiments.ope", "slate off-policy estimators against the simulator's ground truth"),
    "calibrate": ("experiments.calibrate", "fit the timeline side of a user model to an event log"),
    "worlds": ("experiments.world_checks", "measure what each world is for (lift, non-stationarity)"),
    "recsim-compare": ("experiments.recsim_compare", "RecSim presets against RecSim 0.2.4's figures"),
    "gfn-tradeoff": ("experiments.gfn_tradeoff", "GFlowNets: b_r x reward scale, greedy vs sampled"),
    "ppo-check": ("experiments.ppo_check", "does PPO learn on SlateRec-v0 (vs random and the oracle)"),
    "gfn-throughput": ("experiments.gfn_throughput", "SlateGFN_DB iterations per second"),
    "sb3-throughput": ("experiments.sb3_throughput", "SB3 PPO: make_vec_env vs the native-env adapter"),
    "memory-estimate": ("experiments.memory_estimate", "slategym.limits' estimate vs measured peak"),
    "check-cost": ("experiments.check_cost", "cost of the model-output checks per step"),
}

OPTIONAL = {
    "torch": "experiments", "stable_baselines3": "experiments", "matplotlib": "experiments",
    "tqdm": "experiments", "tyro": "experiments", "pyarrow": "data", "pandas": "data",
    "minari": "data", "ray": "ray",
}  # fmt: skip
"""Package -> the extra that installs it (the core install of slategym has none of them)."""


def usage() -> str:
    lines = ["usage: slategym <command> [options]", "", "commands:"]
    lines += [f"  {name:<15} {text}" for name, (_, text) in COMMANDS.items()]
    lines.append("\n`slategym <command> --help` shows a command's options.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, rest = args[0].replace("_", "-"), args[1:]  # ppo_check = ppo-check
    if command not in COMMANDS:
        print(f"unknown command {command!r}: expected one of {list(COMMANDS)}\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    try:
        importlib.import_module(COMMANDS[command][0]).main(rest)
    except ModuleNotFoundError as err:  # an optional dependency, imported at load time or lazily
        extra = OPTIONAL.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"slategym {command}: error: it needs {err.name!r}, which the core install of slategym "
            f"does not include: pip install 'slategym[{extra}]' (see README.md)",
            file=sys.stderr,
        )
        return 2
    except ValueError as err:  # bad arguments: say what is wrong, no traceback
        print(f"slategym {command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
