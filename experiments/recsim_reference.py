"""RecSim 0.2.4 reference figures: a uniform random policy's episodes, and RecSim's step throughput.

This is the *RecSim side* of the check that slategym's RecSim presets (``interest_evolution``,
``interest_exploration``, ``long_term_satisfaction``) reproduce Google RecSim 0.2.4: this module
(the commands and the reference files), :mod:`experiments.recsim_access` (RecSim's environments and
agent, seeding, model parameters) and :mod:`experiments.recsim_runs` (the episodes and throughput
runs). They import ``recsim`` and ``numpy`` only and never import slategym: this module runs as a
script (it puts the checkout on ``sys.path`` for the other two) in a throwaway venv that holds
RecSim, never in the project's environment (RecSim needs TensorFlow, gym 0.25 and numpy < 2)::

    python3 -m venv /work/recsim-venv
    /work/recsim-venv/bin/pip install --no-deps -r docs/data/recsim_reference/recsim-venv.txt

(the exact venv that wrote the reference files: recsim 0.2.4, numpy 1.26.4, gym 0.25.2, tensorflow
2.15.1, dopamine-rl 3.2.1, Python 3.11). Unpinned: ``pip install recsim==0.2.4 "tensorflow<2.16"``
runs the environments; ``pip install --no-deps dopamine-rl==3.2.1`` then makes ``recsim.agents``
importable (dopamine-rl 4 lacks ``dopamine.agents``).

The environments are specified in words and formulas, with file:line citations into recsim 0.2.4, in
the RecSim specification note delivered with this work (see ``docs/data/recsim_reference/README.md``).

Commands:

``episodes``
    Runs ``--episodes`` episodes of one RecSim environment (built by the module's own
    ``create_environment(env_config)``) under a uniform random policy and writes a JSON file with the
    per-episode arrays (return, length, clicks, and cheap diagnostics: watch time, mean quality of
    clicked documents, final time budget, ... depending on the environment), a summary of each (mean,
    std, 95 % CI half-width = 1.96 std / sqrt(n)), the configuration, the environment's model
    parameters as read from the live RecSim objects, and the package versions::

        /work/recsim-venv/bin/python experiments/recsim_reference.py episodes \\
            --env interest_evolution --num-candidates 10 --slate-size 2 --episodes 2000 --seed 0 \\
            --out docs/data/recsim_reference/interest_evolution_c10_k2.json

``throughput``
    Steps one RecSim gym env with uniform random slates (drawn before the timed loop), resetting it
    at the end of each episode, and prints JSON on stdout (nothing else goes to stdout): steps per
    wall-clock second and per CPU second of each of ``--rounds`` rounds of ``--seconds`` each, and
    their median. ``--jsonl`` prints one JSON line per round as soon as it ends, then the summary
    line, so that a driver can interleave RecSim rounds with slategym rounds::

        /work/recsim-venv/bin/python experiments/recsim_reference.py throughput \\
            --env interest_evolution --num-candidates 10 --slate-size 2 --seconds 5 --rounds 3

``all`` regenerates every committed reference file (the configurations in ``REFERENCE_RUNS``).

The random policy
    Each step the slate is ``slate_size`` *distinct* candidate indices, uniform over ordered
    selections. It is RecSim's own ``recsim.agents.random_agent.RandomAgent``: a
    ``numpy.random.RandomState(policy_seed)`` shuffles ``list(range(num_candidates))`` in place and
    the slate is its first ``slate_size`` entries (``random_agent.py:52-57``). (RecSim's
    ``env.action_space.sample()`` would instead draw a ``MultiDiscrete`` vector *with* repetition,
    which RecSim accepts and scores twice; it is not used here.)

Episodes and seeding
    An episode ends when RecSim's ``done`` is true or after ``--max-steps`` steps (the runner's cap,
    ``runner_lib.py:252-298``; RecSim's ``Runner`` default is 27000). ``interest_exploration`` never
    terminates by itself (``is_terminal`` is always False), so its default cap here is 100 steps: its
    episode length is that cap by construction and a re-implementation must truncate at the same cap.

    ``--seeding episode`` (default): one env per run; before episode ``i`` the user sampler's and the
    document sampler's ``RandomState``, numpy's global RNG (RecSim draws choices, interest flips,
    engagement and NPE noise from ``np.random``) and the policy's ``RandomState`` are re-seeded with
    four 32-bit words of ``numpy.random.SeedSequence([seed, i])``. Episode ``i``'s record therefore
    depends only on ``(config, seed, i)`` and streams are independent (RecSim itself seeds the user and
    document samplers with the *same* seed, and ``long_term_satisfaction`` ignores the seed). With
    ``resample_documents=False`` the fixed candidate set is re-drawn at the start of each episode
    from that episode's document stream (RecSim would keep one set for all episodes of an env).

    ``--seeding recsim``: RecSim's own usage (``main.py:68-85``): one env built with
    ``env_config['seed'] = seed``, ``np.random.seed(seed)`` once, one ``RandomAgent(random_seed=seed)``,
    episodes run back to back with ``env.reset()``. Reproducible as a whole run only. Used as a check
    that the re-seeding above does not change the distributions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (RecSim's venv has no slategym): the checkout's
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/ is importable

from experiments.recsim_access import ENV_NAMES, RUNNER_MAX_STEPS  # noqa: E402
from experiments.recsim_runs import run_episodes, run_throughput  # noqa: E402

REFERENCE_DIR = "docs/data/recsim_reference"
REFERENCE_EPISODES = 5000
REFERENCE_RUNS: tuple[tuple[str, int, int, bool, str], ...] = (
    # (env, num_candidates, slate_size, resample_documents, seeding)
    ("interest_evolution", 10, 2, True, "episode"),
    ("interest_evolution", 100, 10, True, "episode"),
    ("interest_evolution", 5, 2, True, "episode"),  # recsim/main.py's config
    ("interest_evolution", 10, 2, False, "episode"),
    ("interest_evolution", 10, 2, True, "recsim"),
    ("interest_exploration", 10, 2, True, "episode"),
    ("interest_exploration", 100, 10, True, "episode"),
    ("interest_exploration", 20, 2, False, "episode"),  # interest_exploration_test.py's config
    ("interest_exploration", 10, 2, True, "recsim"),
    ("long_term_satisfaction", 10, 2, True, "episode"),
    ("long_term_satisfaction", 100, 10, True, "episode"),
    ("long_term_satisfaction", 10, 2, False, "episode"),
    ("long_term_satisfaction", 10, 2, True, "recsim"),
)


# --------------------------------------------------------------------------------------------------
# Reference files


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Indented JSON, except that each per-episode array stays on one line."""
    items = list(data.items())
    lines = ["{"]
    for index, (key, value) in enumerate(items):
        if key == "per_episode":
            inner = ",\n".join(
                f"    {json.dumps(name)}: {json.dumps(array, separators=(',', ':'))}"
                for name, array in value.items()
            )
            text = "{\n" + inner + "\n  }"
        else:
            text = json.dumps(value, indent=2).replace("\n", "\n  ")
        lines.append(f"  {json.dumps(key)}: {text}" + ("," if index < len(items) - 1 else ""))
    lines.append("}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def reference_filename(
    env_name: str, num_candidates: int, slate_size: int, resample: bool, seeding: str
) -> str:
    name = f"{env_name}_c{num_candidates}_k{slate_size}"
    if not resample:
        name += "_fixed"
    if seeding != "episode":
        name += f"_{seeding}seeding"
    return name + ".json"


# --------------------------------------------------------------------------------------------------
# Command line


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=ENV_NAMES, required=True)
    parser.add_argument("--num-candidates", type=int, default=10)
    parser.add_argument("--slate-size", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-resample-documents", dest="resample", action="store_false",
                        help="env_config['resample_documents'] = False (default True, as main.py)")  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cap on steps per episode (default: 100 for interest_exploration, "
                        f"else RecSim's runner default {RUNNER_MAX_STEPS})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    episodes = sub.add_parser("episodes", help="per-episode figures of a uniform random policy")
    _add_config_arguments(episodes)
    episodes.add_argument("--episodes", type=int, default=2000)
    episodes.add_argument("--seeding", choices=("episode", "recsim"), default="episode")
    episodes.add_argument("--out", type=Path, default=None, help="JSON file (default: stdout)")
    throughput = sub.add_parser("throughput", help="steps/s of one RecSim env, JSON on stdout")
    _add_config_arguments(throughput)
    throughput.add_argument("--seconds", type=float, default=5.0)
    throughput.add_argument("--rounds", type=int, default=1)
    throughput.add_argument("--warmup-seconds", type=float, default=0.5)
    throughput.add_argument("--jsonl", action="store_true",
                            help="one JSON line per round as it ends, then the summary line")  # fmt: skip
    everything = sub.add_parser("all", help="regenerate every committed reference file")
    everything.add_argument("--episodes", type=int, default=REFERENCE_EPISODES)
    everything.add_argument("--seed", type=int, default=0)
    everything.add_argument("--out-dir", type=Path, default=Path(REFERENCE_DIR))
    args = parser.parse_args(argv)

    if args.command == "episodes":
        result = run_episodes(args.env, args.num_candidates, args.slate_size, args.episodes,
                              args.seed, args.resample, args.max_steps, args.seeding)  # fmt: skip
        if args.out is None:
            print(json.dumps(result))
        else:
            write_json(args.out, result)
            print(f"wrote {args.out}", file=sys.stderr)
    elif args.command == "throughput":
        result = run_throughput(args.env, args.num_candidates, args.slate_size, args.seconds,
                                args.rounds, args.seed, args.resample, args.max_steps,
                                args.warmup_seconds, args.jsonl)  # fmt: skip
        print(json.dumps(result) if args.jsonl else json.dumps(result, indent=2), flush=True)
    else:
        for env_name, candidates, slate, resample, seeding in REFERENCE_RUNS:
            out = args.out_dir / reference_filename(env_name, candidates, slate, resample, seeding)
            write_json(out, run_episodes(env_name, candidates, slate, args.episodes, args.seed,
                                         resample, None, seeding))  # fmt: skip
            print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
