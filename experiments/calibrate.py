"""``slategym calibrate``: fit the timeline side of the default user model to a real event log.

    slategym calibrate --events events.csv --timezone Europe/Berlin --out results/calibration/mine
    slategym calibrate --events ../shared/data/otto/train_sample_20sessions.jsonl --source otto \
        --timezone Europe/Berlin --holdout users --out results/calibration/otto

The log is split into a fit part and a held-out part (``--holdout time``: the last
``--holdout-fraction`` of the period; ``users``: that share of the users). The fit part gives the
session gap, the chronotype mixture, sessions per day, session length and the click -> purchase rate
(:mod:`slategym.calibration`). The fitted world is then simulated over the held-out window and its
histograms (session-start hour, session length, return gap, sessions per user) are compared with
the real held-out ones by total variation; the TV between the real fit and held-out parts is shown
next to it as the noise floor of the data itself. Writes ``calibration.json`` (``env_kwargs`` with
``user_model_kwargs`` for ``gym.make``, the report) and ``fit.png``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tyro

from slategym.calibration.events import EventLog, load_source
from slategym.calibration.fit import (
    COUNT_BINS,
    GAP_BINS,
    LENGTH_BINS,
    choose_gap,
    fit_activity,
    fit_chronotypes,
    histogram,
    hour_histogram,
    mixture_profile,
    sessions,
    total_variation,
)
from slategym.calibration.simulate import fit_by_simulation, simulate_sessions
from slategym.timeline import CHRONOTYPES

PARTS = ("hour_profile", "sessions", "purchase")


@dataclass
class Args:
    """Fit user-model timeline parameters to an event log and report the held-out fit."""

    events: str
    """event log: CSV/Parquet (user id, timestamp with offset, event type) or a --source format"""
    out: str = "results/calibration"
    source: Literal["events", "obd", "uci", "otto"] = "events"
    timezone: str = "UTC"
    """IANA timezone of the users (hours of day are read in it)"""
    user_col: str = "user_id"
    time_col: str = "timestamp"
    type_col: str = "event_type"
    click_types: tuple[str, ...] = ("click", "clicks")
    purchase_types: tuple[str, ...] = ("purchase", "orders")
    session_types: tuple[str, ...] = ()
    """event types that make sessions (default: all types)"""
    holdout: Literal["time", "users"] = "time"
    holdout_fraction: float = 0.3
    parts: tuple[str, ...] = PARTS
    """what to fit: hour_profile, sessions (gap, activity, length), purchase"""
    sim_users: int = 1000
    """simulated users for the goodness-of-fit report"""
    max_sim_days: int = 60
    seed: int = 0
    plot: bool = True


def _split(log: EventLog, how: str, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if how == "time":
        cut = log.minute.min() + (1.0 - fraction) * (log.minute.max() - log.minute.min())
        held = log.minute >= cut
    else:
        rng = np.random.default_rng(seed)
        held_users = rng.random(log.num_users) < fraction
        held = held_users[log.user]
    if held.all() or not held.any():
        raise ValueError(
            f"holdout={how!r} with holdout_fraction={fraction} leaves an empty fit or held-out part"
        )
    return ~held, held


def _stats(s: Any, num_users: int) -> dict[str, np.ndarray]:
    per_user = s.per_user(num_users)
    return {
        "session_start_hour": hour_histogram(s.start_hour) * len(s.start_hour),
        "session_length": histogram(s.length, LENGTH_BINS),
        "return_gap": histogram(s.return_gaps(), GAP_BINS),
        "sessions_per_user": histogram(per_user[per_user > 0], COUNT_BINS),
    }


def run(args: Args) -> dict[str, Any]:
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        raise ValueError(f"parts={unknown} are not allowed: expected names among {list(PARTS)}")
    if not 0.0 < args.holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction={args.holdout_fraction} is not allowed: expected (0, 1)")
    log = load_source(args.events, args.source, args.timezone, args.user_col, args.time_col, args.type_col)
    types = set(log.event_type.tolist())
    n_click = int(np.isin(log.event_type, args.click_types).sum())
    n_buy = int(np.isin(log.event_type, args.purchase_types).sum())
    if args.session_types:
        log_s = log.subset(np.isin(log.event_type, args.session_types))
    else:
        log_s = log
    fit_mask, held_mask = _split(log_s, args.holdout, args.holdout_fraction, args.seed)
    fit, held = log_s.subset(fit_mask), log_s.subset(held_mask)
    span_days = lambda part: max((part.minute.max() - part.minute.min()) / 1440.0, 1.0 / 24)  # noqa: E731
    notes: list[str] = []
    user_kwargs: dict[str, Any] = {}
    env_kwargs: dict[str, Any] = {}
    gap = choose_gap(fit.user, fit.minute) if "sessions" in args.parts else 30.0
    s_fit = sessions(fit.user, fit.minute, gap)
    s_held = sessions(held.user, held.minute, gap)
    fitted: dict[str, Any] = {"session_gap_minutes": round(gap, 1)}
    if "hour_profile" in args.parts:
        w = fit_chronotypes(s_fit.user, s_fit.start_hour)
        user_kwargs["chronotype_weights"] = tuple(round(float(x), 4) for x in w)
        user_kwargs["chronotype_age_effect"] = 0.0
        free_tv = total_variation(hour_histogram(s_fit.start_hour), hour_histogram(s_held.start_hour))
        mix_tv = total_variation(mixture_profile(w), hour_histogram(s_held.start_hour))
        fitted["chronotype_weights"] = dict(zip(CHRONOTYPES, user_kwargs["chronotype_weights"]))
        fitted["hour_tv_mixture_vs_heldout"] = round(mix_tv, 4)
        fitted["hour_tv_free_profile_vs_heldout"] = round(free_tv, 4)
    if "sessions" in args.parts:
        counts = s_fit.per_user(log.num_users)
        mean_rate, dispersion = fit_activity(counts[counts > 0], span_days(fit))
        user_kwargs["mean_sessions_per_day"] = round(mean_rate, 5)
        user_kwargs["activity_dispersion"] = round(dispersion, 4)
        env_kwargs["min_return_gap_minutes"] = round(gap, 1)
        env_kwargs["max_session_steps"] = int(max(30, np.percentile(s_fit.length, 99)))
    conversion = None
    if "purchase" in args.parts:
        fit_clicks = int(np.isin(fit.event_type, args.click_types).sum())
        fit_buys = int(np.isin(fit.event_type, args.purchase_types).sum())
        if fit_clicks and fit_buys:
            conversion = fit_buys / fit_clicks
            fitted["purchases_per_click"] = round(conversion, 4)
        else:
            notes.append(
                f"no click -> purchase rate: the log has {n_click} click and {n_buy} purchase events "
                f"(types {sorted(types)}); purchase_bias keeps its default"
            )
    base_env = {"num_candidates": 50, "slate_size": 6, **env_kwargs}
    if "sessions" in args.parts or conversion is not None:
        tuned = fit_by_simulation(
            {**base_env, "user_model_kwargs": user_kwargs},
            float(s_fit.length.mean()) if "sessions" in args.parts else 3.0,
            conversion,
            seed=args.seed,
        )
        if "sessions" not in args.parts:
            tuned.pop("leave_bias")
        user_kwargs.update(tuned)
    env_kwargs["user_model_kwargs"] = user_kwargs
    days = int(min(args.max_sim_days, math.ceil(span_days(held))))
    sim = simulate_sessions({**base_env, "user_model_kwargs": user_kwargs}, args.sim_users, days, args.seed)
    real_h = _stats(s_held, log.num_users)
    real_f = _stats(s_fit, log.num_users)
    sim_h = _stats(sim.sessions, sim.num_users)
    report = {}
    for key in real_h:
        report[key] = {
            "tv_sim_vs_heldout": round(total_variation(sim_h[key], real_h[key]), 4),
            "tv_fit_vs_heldout_real": round(total_variation(real_f[key], real_h[key]), 4),
            "heldout_count": int(real_h[key].sum()),
            "real_heldout": real_h[key].tolist(),
            "simulated": sim_h[key].tolist(),
        }
    if sim.clicks:
        fitted["simulated_purchases_per_click"] = round(sim.purchases / sim.clicks, 4)
    if log.num_users < 100:
        notes.append(f"only {log.num_users} users: per-user histograms rest on few users (thin data)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "events": args.events,
        "source": args.source,
        "timezone": args.timezone,
        "holdout": args.holdout,
        "counts": {
            "events": log.num_events, "users": log.num_users, "types": sorted(types),
            "fit_events": fit.num_events, "heldout_events": held.num_events,
            "fit_sessions": int(s_fit.length.size), "heldout_sessions": int(s_held.length.size),
            "days": round(span_days(log), 2), "simulated_days": days,
        },  # fmt: skip
        "fitted": fitted,
        "env_kwargs": env_kwargs,
        "report": report,
        "notes": notes,
        "args": asdict(args),
    }
    (out / "calibration.json").write_text(json.dumps(result, indent=1, default=str))
    if args.plot:
        _plot(report, out / "fit.png", f"{args.source}: {Path(args.events).name} ({args.timezone})")
    return result


def _plot(report: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {
        "session_start_hour": [str(h) for h in range(24)],
        "session_length": ["1", "2", "3", "4-5", "6-10", "11-20", "21-50", "51+"],
        "return_gap": ["<1h", "1-3h", "3-12h", "12-24h", "1-2d", "2-7d", "7-30d", "30d+"],
        "sessions_per_user": ["1", "2", "3", "4-5", "6-10", "11-20", "21+"],
    }
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.6))
    for ax, (key, r) in zip(axes, report.items()):
        real = np.asarray(r["real_heldout"])
        sim = np.asarray(r["simulated"])
        x = np.arange(real.size)
        ax.bar(x - 0.2, real / max(real.sum(), 1), 0.4, label="real (held out)")
        ax.bar(x + 0.2, sim / max(sim.sum(), 1), 0.4, label="simulated")
        ax.set_xticks(x, labels[key], rotation=90 if key == "session_start_hour" else 45, fontsize=7)
        ax.set_title(f"{key}\nTV {r['tv_sim_vs_heldout']:.3f} (real fit vs held-out {r['tv_fit_vs_heldout_real']:.3f})", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = tyro.cli(Args, args=argv)
    result = run(args)
    print(json.dumps({k: result[k] for k in ("counts", "fitted", "env_kwargs", "notes")}, indent=1, default=str))
    print({k: (v["tv_sim_vs_heldout"], v["tv_fit_vs_heldout_real"]) for k, v in result["report"].items()})
    return result


if __name__ == "__main__":
    main()
