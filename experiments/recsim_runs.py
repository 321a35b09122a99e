"""RecSim 0.2.4 reference runs: a uniform random policy's episodes and RecSim's step throughput.

Part of the *RecSim side* (:mod:`experiments.recsim_reference`, whose docstring describes the
commands, the random policy and the seeding): :func:`run_episodes` gives the ``episodes`` command's
record and :func:`run_throughput` the ``throughput`` command's. Like the rest of that side, this
module imports ``recsim`` (through :mod:`experiments.recsim_access`) and ``numpy`` only and never
imports slategym, since it runs in RecSim's own venv.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from experiments.recsim_access import (
    DEFAULT_MAX_STEPS,
    episode_seeds,
    make_agent,
    make_env,
    model_parameters,
    reseed_for_episode,
    user_state,
    versions,
)

CI_Z = 1.96
FLOAT_DIGITS = 8
"""Significant digits kept for per-episode floats in the JSON (files stay well under 1 MB)."""


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
