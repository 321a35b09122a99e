"""What the model-output checks (:mod:`slategym.checks`) cost per step, at several batch sizes.

Two figures per number of rows ``N`` (native vector env; ``N = 1`` is also the single env's step):

* ``direct``: the checks timed alone on the arrays of a real step (affinities, probabilities, clicks,
  response, rewards), divided by the time of a full step with the checks;
* ``a/b``: steps timed with the checks on and with them replaced by pass-throughs, interleaved
  (on, off, on, off, ...) so that machine noise hits both alike; the relative difference of the
  medians. Noisier than ``direct``; on a shared machine trust ``direct``.

Run: ``python -m experiments.check_cost`` (figures in ``docs/safety.md``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import slategym
import slategym.choice.base as choice_base
import slategym.simulator as simulator
from experiments.cli_args import parse
from slategym import checks


@dataclass
class Args:
    """Cost of the model-output checks per step."""

    num_rows: tuple[int, ...] = (1, 64, 1024, 4096)
    """Batch sizes ``N`` (rows of the native vector env)."""
    seconds: float = 1.0
    """Time per measurement (on and off each get ``seconds / 2`` per round)."""
    rounds: int = 5
    """Interleaved on/off rounds; the medians are reported."""
    seed: int = 0


@contextlib.contextmanager
def checks_off() -> Iterator[None]:
    """Replace the checks called by the simulator and the choice base by pass-throughs."""
    names = {
        simulator: ("check_affinities", "check_response", "check_rewards"),
        choice_base: ("check_probabilities", "check_clicks"),
    }
    passthrough: dict[str, Any] = {
        "check_affinities": lambda model, aff, shape, live=None: aff,
        "check_response": lambda model, resp, n, k, live=None: None,
        "check_rewards": lambda fn, rewards, n, live=None: np.asarray(rewards, np.float64),
        "check_probabilities": lambda model, probs, shape: None,
        "check_clicks": lambda model, clicks, shape: clicks,
    }
    saved = {(m, n): getattr(m, n) for m, ns in names.items() for n in ns}
    try:
        for module, name in saved:
            setattr(module, name, passthrough[name])
        yield
    finally:
        for (module, name), fn in saved.items():
            setattr(module, name, fn)


def _time_steps(env: slategym.SlateRecVectorEnv, slates: np.ndarray, seconds: float) -> float:
    """Seconds per step, stepping for at least ``seconds`` (and 5 steps)."""
    steps, start = 0, time.process_time()
    while True:
        env.step(slates[steps % len(slates)])
        steps += 1
        elapsed = time.process_time() - start
        if elapsed >= seconds and steps >= 5:
            return elapsed / steps


def _direct_cost(env: slategym.SlateRecVectorEnv, slates: np.ndarray, repeats: int) -> float:
    """Seconds per step spent in the checks, timed alone on the arrays of one real step."""
    sim, state = env.sim, env.state
    n, k = slates.shape
    item_ids = np.take_along_axis(state.candidates, slates, axis=1)
    aff = sim.user_model.affinity(sim.population, state.user, sim.catalog, item_ids)
    probs = sim.choice_model.probabilities(aff)
    _, outcome = sim.step(state, slates)
    u = np.random.default_rng(0).random((n, sim.user_model.num_uniforms(k)))
    _, resp = sim.user_model.respond(
        sim.population, state.user, sim.catalog, item_ids, aff, outcome.clicks,
        np.zeros(n, bool), u,
    )  # fmt: skip
    start = time.process_time()
    for _ in range(repeats):
        checks.check_affinities(sim.user_model, aff, (n, k))
        checks.check_probabilities(sim.choice_model, probs, (n, k))
        checks.check_clicks(sim.choice_model, outcome.clicks, (n, k))
        checks.check_response(sim.user_model, resp, n, k)
        checks.check_rewards(sim.reward_fn, outcome.reward, n)
    return (time.process_time() - start) / repeats


def measure(n: int, seconds: float, rounds: int, seed: int) -> dict[str, Any]:
    """One row: per-step times with and without checks, and the checks' direct cost."""
    env = slategym.SlateRecVectorEnv(n)
    env.reset(seed=seed)
    c, k = env.config.num_candidates, env.config.slate_size
    rng = np.random.default_rng(seed)
    slates = np.argsort(rng.random((8, n, c)), axis=2)[:, :, :k]
    on, off = [], []
    for _ in range(rounds):
        on.append(_time_steps(env, slates, seconds / 2))
        with checks_off():
            off.append(_time_steps(env, slates, seconds / 2))
    step_on, step_off = float(np.median(on)), float(np.median(off))
    direct = _direct_cost(env, slates[0], repeats=max(20, int(2000 / max(1, n // 64))))
    return {
        "num_rows": n,
        "step_us": step_on * 1e6,
        "step_off_us": step_off * 1e6,
        "checks_us": direct * 1e6,
        "direct_share": direct / step_on,
        "ab_share": (step_on - step_off) / step_off,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(Args, argv, "slategym check-cost")
    rows = []
    print(f"{'N':>6} {'step (us)':>10} {'no checks':>10} {'checks (us)':>12} {'direct':>7} {'a/b':>7}")
    for n in args.num_rows:
        r = measure(n, args.seconds, args.rounds, args.seed)
        rows.append(r)
        print(
            f"{n:>6} {r['step_us']:>10.1f} {r['step_off_us']:>10.1f} {r['checks_us']:>12.1f} "
            f"{r['direct_share']:>7.1%} {r['ab_share']:>7.1%}"
        )
    return {"rows": rows}


if __name__ == "__main__":
    main()
