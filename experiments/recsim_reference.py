"""RecSim 0.2.4 reference figures: a uniform random policy's episodes, and RecSim's step throughput.

This is the *RecSim side* of the check that slategym's RecSim presets (``interest_evolution``,
``interest_exploration``, ``long_term_satisfaction``) reproduce Google RecSim 0.2.4. It imports
``recsim`` and ``numpy`` only and never imports slategym: it runs in a throwaway venv that holds
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
import contextlib
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ENV_NAMES = ("interest_evolution", "interest_exploration", "long_term_satisfaction")
RUNNER_MAX_STEPS = 27000
"""``recsim.simulator.runner_lib.Runner``'s default ``max_steps_per_episode`` (runner_lib.py:94)."""
DEFAULT_MAX_STEPS = {
    "interest_evolution": RUNNER_MAX_STEPS,
    "interest_exploration": 100,
    "long_term_satisfaction": RUNNER_MAX_STEPS,
}
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
CI_Z = 1.96
FLOAT_DIGITS = 8
"""Significant digits kept for per-episode floats in the JSON (files stay well under 1 MB)."""


# --------------------------------------------------------------------------------------------------
# RecSim access


def _import_recsim() -> None:
    """Imports the RecSim modules quietly: TensorFlow/gym chatter goes to stderr, never stdout."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    with contextlib.redirect_stdout(sys.stderr):
        for name in ENV_NAMES:
            importlib.import_module(f"recsim.environments.{name}")


def make_env(env_name: str, num_candidates: int, slate_size: int, resample: bool, seed: int) -> Any:
    """RecSim's gym env exactly as the module's ``create_environment(env_config)`` builds it."""
    _import_recsim()
    module = importlib.import_module(f"recsim.environments.{env_name}")
    env_config = {
        "num_candidates": num_candidates,
        "slate_size": slate_size,
        "resample_documents": resample,
        "seed": seed,
    }
    return module.create_environment(env_config)


class ShuffleRandomAgent:
    """The draw of RecSim's ``RandomAgent`` (random_agent.py:32-59), for when it cannot be imported.

    ``recsim.agents/__init__.py`` imports the DQN agents, which need ``dopamine.agents``: that
    module is gone from dopamine-rl 4.x, so ``import recsim.agents.random_agent`` fails unless
    ``dopamine-rl<4`` is installed. The environments do not need it.
    """

    def __init__(self, slate_size: int, seed: int) -> None:
        self._slate_size = slate_size
        self._rng = np.random.RandomState(seed)

    def begin_episode(self, observation: dict[str, Any]) -> list[int]:
        return self.step(0.0, observation)

    def step(self, reward: float, observation: dict[str, Any]) -> list[int]:
        del reward
        doc_ids = list(range(len(observation["doc"])))
        self._rng.shuffle(doc_ids)
        return doc_ids[: self._slate_size]


def make_agent(env: Any, seed: int) -> Any:
    """RecSim's ``RandomAgent`` (shuffle ``range(num_candidates)``, take the first ``slate_size``)."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module("recsim.agents.random_agent")
    except ImportError:
        return ShuffleRandomAgent(env.environment.slate_size, seed)
    return module.RandomAgent(env.action_space, random_seed=seed)


def episode_seeds(seed: int, episode: int) -> list[int]:
    """Four independent 32-bit seeds for episode ``episode``: user, documents, np.random, policy."""
    return [int(word) for word in np.random.SeedSequence([seed, episode]).generate_state(4)]


def reseed_for_episode(env: Any, seeds: list[int], resample: bool) -> None:
    """Gives the next episode its own streams (see the module docstring, ``--seeding episode``)."""
    raw = env.environment
    raw.user_model._user_sampler._rng = np.random.RandomState(seeds[0])
    raw._document_sampler._rng = np.random.RandomState(seeds[1])
    np.random.seed(seeds[2])  # noqa: NPY002 (RecSim draws from the global RNG)
    if not resample:
        raw._do_resample_documents()  # reset() keeps the candidate set when not resampling


def user_state(env: Any) -> Any:
    return env.environment.user_model._user_state


def model_parameters(env_name: str, env: Any) -> dict[str, Any]:
    """The model constants as read from the live RecSim objects (a sampled user, the samplers)."""
    raw = env.environment
    state = user_state(env)
    doc_sampler = raw._document_sampler
    choice: Any = getattr(raw.user_model, "choice_model", None)
    params: dict[str, Any] = {
        "user_sampler": type(raw.user_model._user_sampler).__name__,
        "document_sampler": type(doc_sampler).__name__,
        "choice_model": type(choice).__name__ if choice is not None else None,
        "reward": env._reward_aggregator.__name__,
    }
    if env_name == "interest_evolution":
        module = importlib.import_module("recsim.environments.interest_evolution")
        params.update(
            num_features=int(state.NUM_FEATURES),
            time_budget=float(state.time_budget),
            step_penalty=float(state.step_penalty),
            no_click_mass=float(state.choice_features["no_click_mass"]),
            min_normalizer=float(state.choice_features["min_normalizer"]),
            score_scaling=float(state.choice_features["score_scaling"]),
            attention_prob=float(state.choice_features["attention_prob"]),
            user_update_alpha=float(state.user_update_alpha),
            user_quality_factor=float(state.user_quality_factor),
            document_quality_factor=float(state.document_quality_factor),
            alpha_x_intercept=float(raw.user_model._alpha_x_intercept),
            alpha_y_intercept=float(raw.user_model._alpha_y_intercept),
            video_length=float(doc_sampler._video_length),
            cluster_quality_means=[float(m) for m in doc_sampler.cluster_means],
            cluster_quality_std=0.1,
            max_video_length=float(module.IEvVideo.MAX_VIDEO_LENGTH),
        )
    elif env_name == "interest_exploration":
        sampler = raw.user_model._user_sampler
        params.update(
            user_type_distribution=list(sampler._user_type_dist),
            user_document_mean_affinity_matrix=[list(r) for r in sampler._user_doc_means],
            user_document_stddev_affinity_matrix=[list(r) for r in sampler._user_doc_stddev],
            topic_distribution=list(doc_sampler._topic_dist),
            topic_quality_mean=list(doc_sampler._topic_quality_mean),
            topic_quality_stddev=list(doc_sampler._topic_quality_stddev),
            no_click_mass=float(choice._no_click_mass),
        )
    else:
        params.update(
            {
                k: float(v)
                for k, v in raw.user_model._user_sampler._state_parameters.items()
                if k != "net_positive_exposure"
            }
        )
        params["max_engagement_magnitude"] = float(
            importlib.import_module(
                f"recsim.environments.{env_name}"
            ).LTSResponse.MAX_ENGAGEMENT_MAGNITUDE
        )
    return params


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("recsim", "numpy", "gym", "gin-config", "tensorflow", "scipy", "absl-py"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


# --------------------------------------------------------------------------------------------------
# Episodes


def _doc_list(obs: dict[str, Any]) -> list[Any]:
    return list(obs["doc"].values())


def run_episode(env_name: str, env: Any, agent: Any, max_steps: int) -> dict[str, Any]:
    """One episode under ``agent``; returns the per-episode facts (see ``FACTS``)."""
    obs = env.reset()
    state = user_state(env)
    initial_interests = (
        np.array(state.user_interests, copy=True) if env_name == "interest_evolution" else None
    )
    initial_npe = (
        float(state.net_positive_exposure) if env_name == "long_term_satisfaction" else None
    )
    action = agent.begin_episode(obs)
    total = 0.0
    steps = clicks = 0
    watch_time = clicked_quality = clicked_clickbait = engagement_clipped = 0.0
    clicks_topic0 = 0
    done = False
    while True:
        docs = _doc_list(obs)
        obs, reward, done, _ = env.step(action)
        total += float(reward)
        steps += 1
        for position, response in enumerate(obs["response"]):
            if not response["click"]:
                continue
            clicks += 1
            doc = docs[action[position]]
            if env_name == "interest_evolution":
                watch_time += float(response["watch_time"])
                clicked_quality += float(response["quality"])
            elif env_name == "interest_exploration":
                clicked_quality += float(response["quality"])
                clicks_topic0 += int(response["cluster_id"] == 0)
            else:
                engagement_clipped += float(response["engagement"])
                clicked_clickbait += float(doc[0])
        if done or steps >= max_steps:
            break
        action = agent.step(reward, obs)
    record: dict[str, Any] = {
        "return": total,
        "length": steps,
        "clicks": clicks,
        "clicks_per_step": clicks / steps,
        "truncated": int(not done),
    }
    state = user_state(env)
    if env_name == "interest_evolution":
        record.update(
            watch_time=watch_time,
            mean_clicked_quality=clicked_quality / clicks if clicks else None,
            final_time_budget=float(state.time_budget),
            interest_drift_l1=float(np.abs(state.user_interests - initial_interests).sum()),
        )
    elif env_name == "interest_exploration":
        record.update(
            mean_clicked_quality=clicked_quality / clicks if clicks else None,
            clicks_topic0=clicks_topic0,
            affinity_topic0=float(state.topic_affinity[0]),
            affinity_topic1=float(state.topic_affinity[1]),
        )
    else:
        record.update(
            return_clipped_engagement=engagement_clipped,
            mean_clicked_clickbait=clicked_clickbait / clicks if clicks else None,
            initial_npe=initial_npe,
            final_npe=float(state.net_positive_exposure),
            final_satisfaction=float(state.satisfaction),
        )
    return record


FACTS = {
    "return": "sum of RecSim's rewards over the episode",
    "length": "steps (slates served) in the episode",
    "clicks": "clicked slate items over the episode (at most one per step in all three envs)",
    "clicks_per_step": "clicks / length of the episode",
    "truncated": "1 if the episode was cut at max_steps rather than ended by RecSim's done",
    "watch_time": "interest_evolution: sum of watch_time of clicked responses (equals return)",
    "mean_clicked_quality": "mean document quality of the clicked items (null: no click)",
    "final_time_budget": "interest_evolution: hidden time_budget after the last step (<= 0 if done)",
    "interest_drift_l1": "interest_evolution: L1 distance between final and initial hidden interests",
    "clicks_topic0": "interest_exploration: clicks on documents of topic (cluster) 0",
    "affinity_topic0": "interest_exploration: the user's hidden affinity to topic 0",
    "affinity_topic1": "interest_exploration: the user's hidden affinity to topic 1",
    "return_clipped_engagement": "long_term_satisfaction: sum of the *observed* engagement, clipped to [0, 100]",
    "mean_clicked_clickbait": "long_term_satisfaction: mean clickbait_score of clicked documents",
    "initial_npe": "long_term_satisfaction: hidden net_positive_exposure after reset",
    "final_npe": "long_term_satisfaction: hidden net_positive_exposure after the last step",
    "final_satisfaction": "long_term_satisfaction: hidden satisfaction after the last step",
}


def summarize(values: list[Any]) -> dict[str, Any]:
    data = np.array([v for v in values if v is not None], dtype=np.float64)
    n = int(data.size)
    if n == 0:
        return {"n": 0}
    std = float(data.std(ddof=1)) if n > 1 else 0.0
    return {
        "n": n,
        "mean": float(data.mean()),
        "std": std,
        "ci95": CI_Z * std / math.sqrt(n),
        "min": float(data.min()),
        "max": float(data.max()),
    }


def pooled_ratio(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """sum(num) / sum(den) with the ratio estimator's standard error (episodes i.i.d.)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    n = num.size
    ratio = float(num.sum() / den.sum())
    residual = num - ratio * den
    se = float(math.sqrt((residual**2).sum() / (n * (n - 1))) / den.mean()) if n > 1 else 0.0
    return {"ratio": ratio, "se": se, "ci95": CI_Z * se}


def _compact(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value


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


def run_episodes(
    env_name: str,
    num_candidates: int,
    slate_size: int,
    episodes: int,
    seed: int,
    resample: bool = True,
    max_steps: int | None = None,
    seeding: str = "episode",
    progress: bool = True,
) -> dict[str, Any]:
    max_steps = DEFAULT_MAX_STEPS[env_name] if max_steps is None else max_steps
    started = time.perf_counter()
    env = make_env(env_name, num_candidates, slate_size, resample, seed)
    parameters = model_parameters(env_name, env)
    agent = None
    if seeding == "recsim":
        np.random.seed(seed)  # noqa: NPY002 (as recsim/main.py:70)
        agent = make_agent(env, seed)
    records: list[dict[str, Any]] = []
    for episode in range(episodes):
        if seeding == "episode":
            seeds = episode_seeds(seed, episode)
            reseed_for_episode(env, seeds, resample)
            agent = make_agent(env, seeds[3])
        records.append(run_episode(env_name, env, agent, max_steps))
        if progress and (episode + 1) % max(1, episodes // 10) == 0:
            print(f"{env_name} c{num_candidates} k{slate_size}: {episode + 1}/{episodes} episodes, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
    keys = list(records[0])
    per_episode = {key: [_compact(record[key]) for record in records] for key in keys}
    summary = {key: summarize([record[key] for record in records]) for key in keys}
    summary["clicks_per_step_pooled"] = pooled_ratio(per_episode["clicks"], per_episode["length"])
    return {
        "what": "RecSim 0.2.4 reference: uniform random policy (RecSim's RandomAgent), per-episode facts",
        "env": env_name,
        "env_config": {
            "num_candidates": num_candidates,
            "slate_size": slate_size,
            "resample_documents": resample,
            "seed": seed,
        },
        "max_steps": max_steps,
        "episodes": episodes,
        "seeding": seeding,
        "policy": f"{type(agent).__name__}: RandomState(policy_seed).shuffle(list(range(num_candidates)))"
        "[:slate_size] (distinct indices, uniform over ordered selections; RecSim's RandomAgent)",
        "model_parameters": parameters,
        "versions": versions(),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "facts": {key: FACTS[key] for key in keys},
        "summary": summary,
        "per_episode": per_episode,
    }


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
# Throughput


def run_throughput(
    env_name: str,
    num_candidates: int,
    slate_size: int,
    seconds: float,
    rounds: int,
    seed: int,
    resample: bool = True,
    max_steps: int | None = None,
    warmup_seconds: float = 0.5,
    jsonl: bool = False,
) -> dict[str, Any]:
    max_steps = DEFAULT_MAX_STEPS[env_name] if max_steps is None else max_steps
    env = make_env(env_name, num_candidates, slate_size, resample, seed)
    np.random.seed(seed)  # noqa: NPY002 (RecSim draws from the global RNG)
    rng = np.random.default_rng(seed)
    pool = np.argsort(rng.random((1024, num_candidates)), axis=1)[:, :slate_size].tolist()
    step = env.step
    reset = env.reset

    def loop(duration: float) -> dict[str, Any]:
        reset()
        steps = episodes = in_episode = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while True:
            _, _, done, _ = step(pool[steps & 1023])
            steps += 1
            in_episode += 1
            if done or in_episode >= max_steps:
                reset()
                episodes += 1
                in_episode = 0
            if time.perf_counter() - wall0 >= duration:
                break
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        return {
            "steps": steps,
            "episodes_ended": episodes,
            "wall_s": wall,
            "cpu_s": cpu,
            "steps_per_s": steps / wall,
            "steps_per_cpu_s": steps / cpu if cpu > 0 else None,
            "us_per_step": 1e6 * wall / steps,
        }

    loop(warmup_seconds)
    config = {"env": env_name, "num_candidates": num_candidates, "slate_size": slate_size,
              "resample_documents": resample, "seed": seed, "max_steps": max_steps}  # fmt: skip
    results = []
    for index in range(rounds):
        record = {"round": index, **loop(seconds)}
        results.append(record)
        if jsonl:
            print(json.dumps({"mode": "throughput_round", **config, **record}), flush=True)
    return {
        "mode": "throughput",
        "what": "steps/s of one RecSim gym env (create_environment) stepped with uniform random "
        "slates of distinct indices drawn before the timed loop, reset at each episode end "
        "(reset time included, resets not counted as steps)",
        **config,
        "seconds_per_round": seconds,
        "rounds": results,
        "steps_per_s_median": statistics.median(r["steps_per_s"] for r in results),
        "steps_per_cpu_s_median": statistics.median(
            r["steps_per_cpu_s"] for r in results if r["steps_per_cpu_s"] is not None
        ),
        "loadavg": list(os.getloadavg()),
        "cpu": _cpu_model(),
        "versions": versions(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


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
