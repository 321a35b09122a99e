"""Hand-written mutants of the slips issue 14 listed: each must make at least one test fail.

Each mutant replaces one exact snippet of a file (it must occur exactly once) in a scratch copy of the
tracked tree, runs the given test files there, and reports the tests that fail. A mutant that no test
catches, or whose snippet is no longer found (the code moved: update the list), fails the run.

    .venv/bin/python scripts/mutation_classes.py            # every mutant (about 10 minutes)
    .venv/bin/python scripts/mutation_classes.py -k reward  # the mutants whose name contains "reward"
    .venv/bin/python scripts/mutation_classes.py --check    # every snippet still found? (no tests)

Not part of CI; ``scripts/mutation.sh`` (mutmut) is the broad tool, this is the named checklist.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


T_CHOICE = ("tests/test_formulas_choice.py", "tests/test_choice_models.py")
T_USER = ("tests/test_formulas_user.py",)
T_TIME = ("tests/test_formulas_timeline.py", "tests/test_timeline.py")
T_SIM = ("tests/test_formulas_simulator.py", "tests/test_formulas_timeline.py",
         "tests/test_timeline.py")  # fmt: skip
T_REWARD = ("tests/test_formulas_rewards.py", "tests/test_docs.py")
T_KERNEL = ("tests/test_kernels.py", "tests/test_pinned.py", "tests/test_kernels_slips.py")
T_IEV = ("tests/test_kernels_recsim.py",)  # RecSim's three users

MUTANTS = [
    Mutant("proportional: no-click mass not offset", "slategym/choice/proportional.py",
           "scores[..., -1] = self.no_click_mass - self.min_normalizer",
           "scores[..., -1] = self.no_click_mass", T_CHOICE),
    Mutant("position-based: sigmoid(beta (a + bias))", "slategym/choice/position_based.py",
           "sigmoid(self.beta * aff + self.bias)", "sigmoid(self.beta * (aff + self.bias))",
           T_CHOICE),
    Mutant("exponential cascade: attention_prob dropped", "slategym/choice/exponential_cascade.py",
           "sequential_to_first_click(self.attention_prob * scores)",
           "sequential_to_first_click(scores)", T_CHOICE),
    Mutant("proportional cascade: + min_normalizer", "slategym/choice/proportional_cascade.py",
           "np.float64) - self.min_normalizer", "np.float64) + self.min_normalizer", T_CHOICE),
    Mutant("user: purchase price sign flipped", "slategym/users/default.py",
           "b_q * quality - rho * price_z", "b_q * quality + rho * price_z", T_USER),
    Mutant("user: fatigue decays by 1 - fatigue_decay", "slategym/users/default.py",
           "fatigue = self.fatigue_decay * state.fatigue",
           "fatigue = (1.0 - self.fatigue_decay) * state.fatigue", T_USER),
    Mutant("user: leave logit streak * patience", "slategym/users/default.py",
           "l_n * streak / patience", "l_n * streak * patience", T_USER),
    Mutant("user: fatigue raises the affinity", "slategym/users/default.py",
           "aff = aff - w_f * fatigue", "aff = aff + w_f * fatigue", T_USER),
    Mutant("timeline: profile mirrored", "slategym/timeline.py",
           "return rate / rate.sum()", "return rate[::-1] / rate.sum()", T_TIME),
    Mutant("timeline: profile shifted by 30 minutes", "slategym/timeline.py",
           "hours = np.arange(HOURS) + 0.5", "hours = np.arange(HOURS) + 0.0", T_TIME),
    Mutant("timeline: night main bump at 23:00 (busiest slot 23)", "slategym/timeline.py",
           '"night": ((23.5, 1.0), (1.5, 0.6)', '"night": ((23.0, 1.0), (1.5, 0.6)', T_TIME),
    Mutant("simulator: fast duplicate path misses a repeat K-1 apart", "slategym/slates.py",
           "for d in range(1, k))", "for d in range(1, k - 1))", T_SIM),
    Mutant("simulator: dwell does not advance the clock", "slategym/simulator.py",
           "clock = state.clock + c.step_minutes + np.add.reduce(dwell, axis=1)",
           "clock = state.clock + c.step_minutes", T_SIM),
    Mutant("simulator: sessions run one slate past max_session_steps", "slategym/simulator.py",
           "full = state.session_step + 1 >= c.max_session_steps",
           "full = state.session_step >= c.max_session_steps", T_SIM),
    Mutant("reward: purchase counts clicks", "slategym/rewards.py",
           '"purchase": lambda o: o.purchases.sum(', '"purchase": lambda o: o.clicks.sum(',
           T_REWARD),
    Mutant("reward: weighted keeps only its last term", "slategym/rewards.py",
           "total += weight * SIGNALS[name](outcome)", "total = weight * SIGNALS[name](outcome)",
           T_REWARD),
    Mutant("reward: engagement averages", "slategym/rewards.py",
           '"engagement": lambda o: o.dwell.sum(axis=1)',
           '"engagement": lambda o: o.dwell.mean(axis=1)', T_REWARD),
    # mutmut forks its workers from a process whose cache of comparison masks is already filled,
    # so it cannot see these two; a fresh process does
    Mutant("simulator: cached comparison mask never built", "slategym/slates.py",
           "    if k not in _EARLIER:", "    if k in _EARLIER:", T_SIM),
    Mutant("simulator: cached comparison mask includes the diagonal", "slategym/slates.py",
           "np.tri(k, k, -1, dtype=bool)", "np.tri(k, k, 0, dtype=bool)", T_SIM),
    # found by mutmut, caught by tests added for them
    Mutant("proportional: small totals treated as empty", "slategym/choice/proportional.py",
           "empty = total[..., 0] <= 0.0", "empty = total[..., 0] <= 1.0", T_CHOICE),
    Mutant("vector env: an autoreset writes into the previous state", "slategym/autoreset.py",
           "return dataclasses.replace(new, **changes) if changes else new", "return new",
           ("tests/test_formulas_simulator.py",)),
    # the weak tests the issue listed, each against the slip its name is about
    Mutant("vector env: custom choice model replaced by the default", "slategym/vector_env.py",
           "self.sim = Simulator(config, num_rows=self.num_envs)",
           "self.sim = Simulator(config.replace(choice_model='mnl', choice_model_kwargs={}), "
           "num_rows=self.num_envs)",
           ("tests/test_extension.py",)),
    Mutant("vector env: reset_mask rows not reset", "slategym/vector_env.py",
           "            self._state.put(rows, fresh)", "            pass",
           ("tests/test_conformance.py",)),
    Mutant("docs: extending example's user ignores its price weight", "docs/extending.md",
           "return base - self.price_weight * catalog.price_z[item_ids]", "return base",
           ("tests/test_docs.py",)),
    Mutant("docs: README quick start stops after one slate", "README.md",
           "clicks, steps, done = clicks + reward, steps + 1, terminated or truncated",
           "clicks, steps, done = clicks + reward, steps + 1, True", ("tests/test_docs.py",)),
    Mutant("agents: doctest output changed", "agents/gfn/agent.py",
           "['buffer_size', 'click_rate', 'entropy']", "['buffer_size', 'click_rate', 'loss']",
           ("agents/gfn/agent.py",)),
]

# slips in the compiled kernels (numba: mutmut cannot mutate them), against the parity and pinned
# tests
MUTANTS += [
    Mutant("kernel: MNL normalised without the no-click (the kernel falls back)",
           "slategym/kernels/choice.py", "normalize(out, k + 1)", "normalize(out, k)", T_KERNEL),
    Mutant("kernel: next candidates' day not clamped to days - 1", "slategym/kernels/rows.py",
           "next_day = min(day_hour(new_clock)[0], days - 1)",
           "next_day = day_hour(new_clock)[0]", T_KERNEL),
    Mutant("kernel: strict duplicate check needs two duplicates", "slategym/kernels/step.py",
           "if dups and iw[I_STRICT]:", "if dups > 1 and iw[I_STRICT]:", T_KERNEL),
    Mutant("kernel: MNL shifted by the largest item logit only", "slategym/kernels/choice.py",
           "m = _max(out, k + 1)", "m = _max(out, k)", T_KERNEL),
    Mutant("kernel: arrival loop counts the hour it stops in", "slategym/kernels/rows.py",
           "        if cum[j] > rest:\n            break\n        count += 1",
           "        count += 1\n        if cum[j] > rest:\n            break", T_KERNEL),
    Mutant("kernel: history responses not shifted", "slategym/kernels/rows.py",
           "resp_out[r, j, 0] = resp_in[r, j + n, 0]", "resp_out[r, j, 0] = resp_in[r, j, 0]",
           T_KERNEL),
    Mutant("kernel: candidate rotation wraps only past num_live", "slategym/kernels/rows.py",
           "if p >= num_live:", "if p > num_live:", T_KERNEL),
    Mutant("kernel: leave decision reads the churn uniform", "slategym/kernels/step.py",
           "end = full or u[uo + 2 * k] < leave_blk[2 * b]",
           "end = full or u[uo + 2 * k + 1] < leave_blk[2 * b]", T_KERNEL),
    Mutant("kernel: dwell does not advance the clock", "slategym/kernels/step.py",
           "new_clock = clock[r] + fw[F_STEP_MINUTES] + pairwise_sum(dwell_row, 0, k, 1)",
           "new_clock = clock[r] + fw[F_STEP_MINUTES]", T_KERNEL),
    Mutant("kernel: fatigue count misses the last clicked topic", "slategym/kernels/step.py",
           "for i in range(n_topics):", "for i in range(n_topics - 1):", T_KERNEL),
    Mutant("kernel: drift sum drops the first item", "slategym/kernels/step.py",
           "pulled[q] = 0.0 + c0 * item_table[row0, q]", "pulled[q] = 0.0", T_KERNEL),
    Mutant("kernel: session_index not incremented at a session end", "slategym/kernels/rows.py",
           "o_session_index[r] = session_index[r] + end", "o_session_index[r] = session_index[r]",
           T_KERNEL),
    Mutant("kernel: observation's day and hour swapped", "slategym/kernels/world.py",
           "ob_time[r, 0] = np.float32(min(day, days - 1))\n        ob_time[r, 1] = np.float32(hour)",
           "ob_time[r, 0] = np.float32(hour)\n        ob_time[r, 1] = np.float32(min(day, days - 1))",
           T_KERNEL),
    Mutant("kernel: dynamic drift misses the last day crossed", "slategym/kernels/dynamic.py",
           "range(old_day + 1, day + 1)", "range(old_day + 1, day)", T_KERNEL),
    Mutant("kernel: dynamic hour term read at the wrong hour", "slategym/kernels/step.py",
           "a += hour_topic[x_hour[r], topic[item]]",
           "a += hour_topic[(x_hour[r] + 1) % 24, topic[item]]", T_KERNEL),
    Mutant("kernel: dynamic trend drawn from the user's own stream", "slategym/kernels/dynamic.py",
           "trend = R.stream_base(trend_key[0], np.uint64(today))",
           "trend = R.stream_base(drift_key[uid], np.uint64(today))", T_KERNEL),
    Mutant("kernel: slate index C let through the range check", "slategym/kernels/rows.py",
           "if s < 0 or s >= num_candidates:", "if s < 0 or s > num_candidates:", T_KERNEL),
    Mutant("kernel: chunked observation claims two chunks at a time", "slategym/kernels/world.py",
           "i = fetch_add(counter, 1)", "i = fetch_add(counter, 2)", T_KERNEL),
    Mutant("kernel: interest evolution moves the interests the other way",
           "slategym/kernels/recsim_iev.py", "moved = theta + (step if toward else -step)",
           "moved = theta + (-step if toward else step)", T_IEV),
    Mutant("kernel: interest evolution charges nothing for a slate without a click",
           "slategym/kernels/recsim_iev.py", "left = b - ip[P_PENALTY]", "left = b", T_IEV),
    Mutant("kernel: RecSim users' response observed at the first slate position only",
           "slategym/kernels/recsim.py",
           "for j in range(response.shape[1]):\n            for m in range(response.shape[2]):\n"
           "                ob_response[r, j, m]",
           "for j in range(1):\n            for m in range(response.shape[2]):\n"
           "                ob_response[r, j, m]", T_IEV),
    Mutant("kernel: RecSim users' dwell not checked", "slategym/kernels/recsim.py",
           "if live and not (resp_dwell[j] >= 0.0 and math.isfinite(resp_dwell[j])):",
           "if False:", T_IEV),
    Mutant("kernel: interest exploration's affinity without the item's quality",
           "slategym/kernels/recsim_ie.py",
           "a_row[j] = interests[r, topic[items[j]]] + quality[items[j]]",
           "a_row[j] = interests[r, topic[items[j]]]", T_IEV),
    Mutant("kernel: interest exploration's reset takes cosines only",
           "slategym/kernels/recsim_ie.py", "(xp.cos(angle) if q < m else xp.sin(angle))",
           "xp.cos(angle)", T_IEV),
    Mutant("kernel: interest exploration's response records the quality as the topic",
           "slategym/kernels/recsim_ie.py", "o_response[r, j, 2] = np.float32(topic[items[j]])",
           "o_response[r, j, 2] = np.float32(quality[items[j]])", T_IEV),
    Mutant("kernel: long-term satisfaction's innovation reuses the engagement's normal",
           "slategym/kernels/recsim_lts.py", "lts.exposure_after(level[r], b, z1,",
           "lts.exposure_after(level[r], b, z0,", T_IEV),
    Mutant("kernel: long-term satisfaction charges the budget without a click",
           "slategym/kernels/recsim_lts.py", "left = budget[r] - (1.0 if clicked else 0.0)",
           "left = budget[r] - 1.0", T_IEV),
    Mutant("kernel: long-term satisfaction's observed engagement not clipped",
           "slategym/kernels/recsim_lts.py", "min(max(dwell[j], 0.0), lts.MAX_ENGAGEMENT)",
           "max(dwell[j], 0.0)", T_IEV),
]


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()  # fmt: skip
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def run(mutant: Mutant, python: str) -> tuple[str, list[str]]:
    """Status ("caught", "SURVIVED", "NOT FOUND", "NOT RUN") and the failing tests of one mutant."""
    with tempfile.TemporaryDirectory(prefix="slategym-mutant-") as tmp:
        dest = Path(tmp)
        _copy_tree(dest)
        path = dest / mutant.path
        text = path.read_text()
        if text.count(mutant.old) != 1:
            return "NOT FOUND", []
        path.write_text(text.replace(mutant.old, mutant.new))
        result = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             "--no-header", "-rf", *mutant.tests],
            cwd=dest, capture_output=True, text=True,
        )  # fmt: skip
        failed = re.findall(r"^FAILED (\S+)", result.stdout, flags=re.M)
        if result.returncode in (4, 5):  # usage error, nothing collected (an untracked test file)
            return "NOT RUN", [f"pytest exit {result.returncode}: {result.stdout[-300:]}"]
        if result.returncode not in (0, 1):  # collection error, crash: caught, show why
            failed = failed or [f"pytest exit {result.returncode}: {result.stdout[-300:]}"]
        return ("caught" if failed else "SURVIVED"), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the mutants whose name contains this")
    parser.add_argument("--check", action="store_true",
                        help="only check that every snippet occurs exactly once (no tests run)")
    args = parser.parse_args(argv)
    if args.check:
        moved = [m for m in MUTANTS if args.k in m.name
                 and (ROOT / m.path).read_text().count(m.old) != 1]  # fmt: skip
        for mutant in moved:
            print(f"NOT FOUND  {mutant.name} ({mutant.path})")
        return 1 if moved else 0
    python = str(ROOT / ".venv" / "bin" / "python")
    bad = 0
    for mutant in MUTANTS:
        if args.k not in mutant.name:
            continue
        status, failed = run(mutant, python)
        bad += status != "caught"
        print(f"{status:>9}  {mutant.name}")
        for test in failed:
            print(f"           -> {test}")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
