"""slategym.wrappers: top-K and Plackett–Luce slates from scores, the flat observation, and the
once-per-env warning for slates that repeat items."""

from __future__ import annotations

import itertools
import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import slategym
from slategym.repeats import WINDOW, RepeatedItemsWarning, expected_uniform_duplicates
from slategym.wrappers import (
    FlattenSlateObservation,
    FlattenSlateObservationVector,
    TopKSlate,
    TopKSlateVector,
    plackett_luce_log_prob,
    plackett_luce_sample,
    top_k,
)
from tests.conftest import SMALL
from tests.test_vector_env import FAST, N, _assert_same, _native

C, K = SMALL["num_candidates"], SMALL["slate_size"]


# -- top-K ------------------------------------------------------------------------------------------
@st.composite
def scores_and_k(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    c = draw(st.integers(1, 12))
    # few distinct values, so that ties are common; signed zeros and extremes included
    values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -3.0e38, 3.0e38])
    scores = np.array(draw(st.lists(values | st.floats(-10, 10), min_size=c, max_size=c)))
    return scores, draw(st.integers(1, c))


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(scores_and_k())
def test_top_k_is_distinct_sorted_and_breaks_ties_by_index(case: tuple[np.ndarray, int]) -> None:
    scores, k = case
    slate = top_k(scores, k)
    assert slate.shape == (k,) and slate.dtype == np.int64
    assert len(set(slate.tolist())) == k  # distinct, ties included
    # exactly the first k of the candidates sorted by (score descending, index ascending)
    expected = sorted(range(scores.size), key=lambda i: (-scores[i], i))[:k]
    assert slate.tolist() == expected


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(scores_and_k(), st.integers(0, 2**32))
def test_plackett_luce_samples_are_distinct(case: tuple[np.ndarray, int], seed: int) -> None:
    scores, k = case
    logits = np.clip(scores, -50, 50)  # finite logits (the wrappers refuse others)
    slates = plackett_luce_sample(np.tile(logits, (8, 1)), k, np.random.default_rng(seed))
    for slate in slates:
        assert len(set(slate.tolist())) == k


def test_top_k_batched_rows_are_independent() -> None:
    scores = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    assert top_k(scores, 3).tolist() == [[0, 2, 3], [0, 1, 2]]


# -- Plackett–Luce: exact enumeration -----------------------------------------------------------------
def _product_formula(w: list[float], slate: tuple[int, ...]) -> float:
    """P(slate) = prod_j w[s_j] / (sum of the weights not yet chosen), in plain floats."""
    p, left = 1.0, list(range(len(w)))
    for i in slate:
        p *= w[i] / sum(w[j] for j in left)
        left.remove(i)
    return p


@pytest.mark.parametrize(("c", "k"), [(5, 3), (4, 4), (6, 2), (3, 1)])
@pytest.mark.parametrize("scale", [0.3, 3.0, 30.0])
def test_plackett_luce_probabilities_sum_to_one_and_match_the_product(
    c: int, k: int, scale: float
) -> None:
    logits = np.random.default_rng(c * 10 + k).standard_normal(c) * scale
    slates = np.array(list(itertools.permutations(range(c), k)))
    assert len(slates) == math.perm(c, k)
    log_p = plackett_luce_log_prob(np.broadcast_to(logits, (len(slates), c)), slates)
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-12)
    w = np.exp(logits - logits.max()).tolist()
    for slate, lp in zip(slates, log_p):
        assert lp == pytest.approx(math.log(_product_formula(w, tuple(slate))), rel=1e-9, abs=1e-9)


def test_plackett_luce_log_prob_is_minus_infinity_for_repeats() -> None:
    logits = np.array([0.5, -1.0, 2.0])
    assert plackett_luce_log_prob(logits, np.array([2, 2])) == -np.inf
    assert plackett_luce_log_prob(logits, np.array([0, 1, 0])) == -np.inf


def test_plackett_luce_sampling_frequencies_match_the_log_probabilities() -> None:
    c, k, draws = 4, 2, 30_000
    logits = np.array([1.0, 0.0, -0.5, 0.7])
    slates = plackett_luce_sample(np.tile(logits, (draws, 1)), k, np.random.default_rng(3))
    all_slates = list(itertools.permutations(range(c), k))
    index = {s: i for i, s in enumerate(all_slates)}
    counts = np.bincount([index[tuple(s)] for s in slates.tolist()], minlength=len(all_slates))
    expected = draws * np.exp(plackett_luce_log_prob(logits, np.array(all_slates)))
    assert stats.chisquare(counts, expected).pvalue > 1e-3


# -- TopKSlate on an env ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["top_k", "plackett_luce"])
def test_wrapped_env_passes_both_checkers(mode: str) -> None:
    for wrapped in (
        TopKSlate(gym.make("SlateRec-v0", **SMALL).unwrapped, mode=mode),  # type: ignore[arg-type]
        FlattenSlateObservation(TopKSlate(gym.make("SlateRec-v0", **SMALL), mode=mode)),  # type: ignore[arg-type]
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "the environment is wrapped" and SB3's advice
            check_env(wrapped)
            sb3_check_env(wrapped)


@pytest.mark.parametrize("env_id", slategym.ENV_IDS)
def test_every_world_wrapped_passes_both_checkers(env_id: str) -> None:
    wrapped = FlattenSlateObservation(
        TopKSlate(gym.make(env_id), mode="plackett_luce"),  # type: ignore[arg-type]
        ids="embed",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(wrapped)
        sb3_check_env(wrapped)
    envs = FlattenSlateObservationVector(
        TopKSlateVector(gym.make_vec(env_id, 3, vectorization_mode="vector_entry_point"))
    )
    obs, _ = envs.reset(seed=0)
    obs, *_, info = envs.step(envs.action_space.sample())
    assert obs in envs.observation_space
    assert all(len(set(slate.tolist())) == slate.size for slate in info["slate"])


def test_top_k_wrapper_serves_distinct_slates_and_reports_them() -> None:
    env = TopKSlate(gym.make("SlateRec-v0", **SMALL))
    env.reset(seed=0)
    scores = np.zeros(C, np.float32)
    scores[[7, 3, 11]] = [0.9, 0.9, 0.5]  # a tie between 7 and 3, then 11, then index order
    candidates = env.unwrapped.state.candidates[0].copy()
    _, _, _, _, info = env.step(scores)
    assert info["slate"].tolist() == [3, 7, 11, 0]
    assert info["n_duplicates"] == 0
    assert np.array_equal(info["slate_item_ids"], candidates[[3, 7, 11, 0]])
    assert "slate_log_prob" not in info


def test_plackett_luce_wrapper_log_prob_is_the_slate_probability() -> None:
    env = TopKSlate(gym.make("SlateRec-v0", **SMALL), mode="plackett_luce", temperature=0.5)
    env.reset(seed=4)
    scores = np.linspace(-1, 1, C).astype(np.float32)
    _, _, _, _, info = env.step(scores)
    expected = plackett_luce_log_prob(scores / 0.5, info["slate"])
    assert info["slate_log_prob"] == pytest.approx(float(expected))
    assert len(set(info["slate"].tolist())) == K


def test_plackett_luce_wrapper_is_seeded_by_reset_and_by_an_explicit_generator() -> None:
    def slates(env: TopKSlate, seed: int | None) -> list[list[int]]:
        env.reset(seed=seed)
        out = []
        for _ in range(5):
            _, _, terminated, truncated, info = env.step(np.zeros(C, np.float32))
            out.append(info["slate"].tolist())
            if terminated or truncated:
                env.reset()
        return out

    a = TopKSlate(gym.make("SlateRec-v0", **SMALL), mode="plackett_luce")
    b = TopKSlate(gym.make("SlateRec-v0", **SMALL), mode="plackett_luce")
    assert slates(a, 1) == slates(b, 1)
    assert slates(a, 1) != slates(a, 2)
    c = TopKSlate(
        gym.make("SlateRec-v0", **SMALL), mode="plackett_luce", rng=np.random.default_rng(9)
    )
    d = TopKSlate(
        gym.make("SlateRec-v0", **SMALL), mode="plackett_luce", rng=np.random.default_rng(9)
    )
    assert slates(c, 1) == slates(d, 5)  # an explicit generator is not reseeded by reset


def test_sampling_does_not_touch_the_env_stream() -> None:
    plain = gym.make("SlateRec-v0", **SMALL)
    wrapped = TopKSlate(gym.make("SlateRec-v0", **SMALL), mode="plackett_luce")
    plain.reset(seed=3)
    wrapped.reset(seed=3)
    for _ in range(10):
        info = wrapped.step(np.zeros(C, np.float32))[4]
        _, _, term, trunc, info_plain = plain.step(info["slate"])
        assert np.array_equal(info["clicks"], info_plain["clicks"])
        if term or trunc:
            break


@pytest.mark.parametrize(
    ("kwargs", "action", "match"),
    [
        ({}, np.full(C, np.nan), "non-finite"),
        ({}, np.zeros(C + 1), r"shape \(20,\)"),
        ({}, np.array(["a"] * C), "real scores"),
        ({"mode": "greedy"}, None, "mode='greedy'"),
        ({"temperature": 0.0}, None, "temperature"),
        ({"low": 1.0, "high": -1.0}, None, "low=1.0"),
        ({"low": -np.inf}, None, "finite bounds"),
    ],
)
def test_bad_wrapper_input_raises_value_error(
    kwargs: dict, action: np.ndarray | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        env = TopKSlate(gym.make("SlateRec-v0", **SMALL), **kwargs)
        env.reset(seed=0)
        env.step(action)


def test_wrapping_a_non_slate_env_raises() -> None:
    with pytest.raises(ValueError, match="MultiDiscrete"):
        TopKSlate(gym.make("CartPole-v1"))  # type: ignore[arg-type]


# -- TopKSlateVector ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_wrapper_equals_sync_vector_env_of_wrapped_single_envs(mode: AutoresetMode) -> None:
    native = TopKSlateVector(
        _native(autoreset_mode=mode, max_episode_steps=3),
        mode="plackett_luce",
        temperature=0.2,
    )

    def make() -> gym.Env:
        env = gym.make("SlateRec-v0", max_episode_steps=3, **FAST)
        return TopKSlate(env, mode="plackett_luce", temperature=0.2)  # type: ignore[arg-type]

    sync = gym.vector.SyncVectorEnv([make for _ in range(N)], autoreset_mode=mode)
    seeds = [11 * i + 2 for i in range(N)]
    _assert_same(native.reset(seed=seeds), sync.reset(seed=seeds), "reset")
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(25):
        scores = rng.uniform(-1, 1, (N, FAST["num_candidates"])).astype(np.float32)
        out_n, out_s = native.step(scores), sync.step(scores)
        info_n, info_s = out_n[4], out_s[4]
        for key in ("slate", "slate_log_prob"):
            # every served row at the top level (Sync moves the rows that ended under SAME_STEP
            # into final_info, with the rest of their step info)
            value, rows = np.zeros_like(info_n[key]), np.zeros(N, bool)
            for where in (info_s, info_s.get("final_info", {})):
                if key in where:
                    value[where["_" + key]] = where[key][where["_" + key]]
                    rows |= where["_" + key]
            assert np.array_equal(info_n["_" + key], rows), f"step {t} {key}"
            assert np.allclose(info_n[key][rows], value[rows]), f"step {t} {key}"
        strip = ("slate", "_slate", "slate_log_prob", "_slate_log_prob")
        rest_n = {k: v for k, v in info_n.items() if k not in strip}
        rest_s = {k: v for k, v in info_s.items() if k not in strip}
        if "final_info" in rest_s:
            rest_s["final_info"] = {k: v for k, v in rest_s["final_info"].items() if k not in strip}
        _assert_same((*out_n[:4], rest_n), (*out_s[:4], rest_s), f"step {t}")
        ended += int((out_n[2] | out_n[3]).sum())
    assert ended >= N  # resets were exercised


def test_vector_wrapper_ignores_the_scores_of_rows_being_reset() -> None:
    envs = TopKSlateVector(
        _native(max_episode_steps=2),
        mode="plackett_luce",
    )
    envs.reset(seed=0)
    scores = np.zeros((N, FAST["num_candidates"]), np.float32)
    envs.step(scores)
    *_, truncated, _ = envs.step(scores)
    assert truncated.all()
    scores[0] = np.nan  # row 0 is being reset: its scores are not looked at
    *_, info = envs.step(scores)
    assert not info["_slate"].any() and not info["_slate_log_prob"].any()
    scores[0] = 0.0
    *_, info = envs.step(scores)
    assert info["_slate"].all()
    assert np.allclose(info["slate_log_prob"], plackett_luce_log_prob(scores, info["slate"]))


def test_vector_wrapper_works_with_disabled_autoreset_and_reset_mask() -> None:
    envs = TopKSlateVector(_native(autoreset_mode=AutoresetMode.DISABLED, max_episode_steps=2))
    envs.reset(seed=0)
    scores = np.tile(np.arange(FAST["num_candidates"], dtype=np.float32), (N, 1))
    for _ in range(4):
        _, _, terminated, truncated, info = envs.step(scores)
        assert info["slate"][0].tolist() == [19, 18, 17, 16]
        ended = terminated | truncated
        if ended.any():
            envs.reset(options={"reset_mask": ended})


# -- FlattenSlateObservation ------------------------------------------------------------------------
def test_flat_observation_drops_ids_and_one_hots_topics() -> None:
    env = FlattenSlateObservation(gym.make("SlateRec-v0", **SMALL))
    obs, _ = env.reset(seed=0)
    raw = env.unwrapped.sim.observe(env.unwrapped.state)
    raw = {k: v[0] for k, v in raw.items()}
    assert obs in env.observation_space and obs.dtype == np.float32
    flat = env.flattener
    changed = {
        **raw,
        "candidate_ids": raw["candidate_ids"] + 1,
        "history_ids": raw["history_ids"] * 0,
    }
    assert np.array_equal(flat(changed), obs)  # ids do not reach the vector
    p, f = raw["user"].size, raw["candidates"].shape[1]
    topics = obs[p + C * f : p + C * f + C * flat.num_topics].reshape(C, flat.num_topics)
    assert np.array_equal(topics.argmax(1), raw["candidate_topics"]) and topics.sum() == C
    assert np.all(obs[-3:] <= 1.0) and np.all(obs[-3:] >= 0.0)


def test_flat_observation_embeds_ids_with_a_fixed_table() -> None:
    env = FlattenSlateObservation(gym.make("SlateRec-v0", **SMALL), ids="embed", embedding_dim=4)
    obs, _ = env.reset(seed=0)
    raw = {k: v[0] for k, v in env.unwrapped.sim.observe(env.unwrapped.state).items()}
    table = env.flattener.table
    assert table is not None and np.allclose(np.linalg.norm(table[:-1], axis=1), 1.0)
    assert np.all(table[-1] == 0)  # an empty history slot (-1) embeds to zeros
    other = FlattenSlateObservation(gym.make("SlateRec-v0", **SMALL), ids="embed", embedding_dim=4)
    assert np.array_equal(other.reset(seed=0)[0], obs)  # same seed, same table
    changed = {**raw, "candidate_ids": (raw["candidate_ids"] + 1) % SMALL["num_items"]}
    assert not np.array_equal(env.flattener(changed), obs)
    assert obs in env.observation_space
    assert (
        env.observation_space.shape[0]
        == FlattenSlateObservation(gym.make("SlateRec-v0", **SMALL)).observation_space.shape[0]
        + (C + 10) * 4
    )


def test_flat_vector_wrapper_matches_the_single_one_and_flattens_final_obs() -> None:
    envs = FlattenSlateObservationVector(
        _native(autoreset_mode=AutoresetMode.SAME_STEP, max_episode_steps=2)
    )
    single = FlattenSlateObservation(gym.make("SlateRec-v0", **FAST))
    assert envs.single_observation_space == single.observation_space
    obs, _ = envs.reset(seed=[3] * N)
    assert np.array_equal(obs[0], single.reset(seed=3)[0])
    slates = np.tile(np.arange(FAST["slate_size"]), (N, 1))
    envs.step(slates)
    obs, *_, info = envs.step(slates)
    assert obs in envs.observation_space
    assert info["_final_obs"].all()
    assert all(o.shape == single.observation_space.shape for o in info["final_obs"])


def test_flatten_refuses_a_non_slate_observation_and_bad_options() -> None:
    with pytest.raises(ValueError, match="SlateRec keys"):
        FlattenSlateObservation(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="ids='hash'"):
        FlattenSlateObservation(gym.make("SlateRec-v0", **SMALL), ids="hash")  # type: ignore[arg-type]


# -- the once-per-env warning for repeated items ----------------------------------------------------
def _count_warnings(env: gym.Env, slates: list[np.ndarray], steps: int) -> int:
    """Step ``env`` with ``slates`` in turn (resetting ended episodes); RepeatedItemsWarnings seen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for t in range(steps):
            _, _, terminated, truncated, _ = env.step(slates[t % len(slates)])
            if np.any(terminated) or np.any(truncated):
                if isinstance(env, gym.vector.VectorEnv):
                    continue  # NEXT_STEP autoreset
                env.reset()
    return sum(issubclass(w.category, RepeatedItemsWarning) for w in caught)


def _env(**kwargs: object) -> gym.Env:
    env = gym.make("SlateRec-v0", **{**SMALL, **kwargs})
    env.reset(seed=0)
    return env


def test_collapsed_slates_warn_once_per_env() -> None:
    env, collapsed = _env(), [np.full(K, 3)]
    assert _count_warnings(env, collapsed, WINDOW - 1) == 0  # not before a full window
    assert _count_warnings(env, collapsed, 5 * WINDOW) == 1
    assert _count_warnings(_env(), collapsed, WINDOW) == 1  # once *per env*


def test_uniform_random_slates_and_top_k_slates_do_not_warn() -> None:
    env = _env()
    env.action_space.seed(0)
    samples = [env.action_space.sample() for _ in range(10 * WINDOW)]
    assert np.mean([K - len(set(s.tolist())) for s in samples]) > 0.2  # they do repeat a little
    assert _count_warnings(env, samples, 10 * WINDOW) == 0
    wrapped = TopKSlate(gym.make("SlateRec-v0", **SMALL))
    wrapped.reset(seed=0)
    assert _count_warnings(wrapped, [np.zeros(C, np.float32)], 2 * WINDOW) == 0  # type: ignore[arg-type]


def test_the_threshold_is_one_repeat_per_slate_at_default_like_sizes() -> None:
    e_u = expected_uniform_duplicates(C, K)  # C = 20, K = 4: 0.05 + 0.0975 + 0.142625
    assert e_u == pytest.approx(0.290125)
    one, none = np.array([1, 1, 2, 3]), np.array([1, 2, 3, 4])
    assert _count_warnings(_env(), [one, none], 3 * WINDOW) == 0  # 0.5 per slate
    assert _count_warnings(_env(), [one], 3 * WINDOW) == 1  # 1 per slate: high


def test_native_vector_env_warns_once_and_k1_never() -> None:
    envs = gym.make_vec("SlateRec-v0", 8, vectorization_mode="vector_entry_point", **SMALL)
    envs.reset(seed=0)
    same = [np.full((8, K), 5)]
    assert _count_warnings(envs, same, 10) == 0  # 80 slates < one window
    assert _count_warnings(envs, same, 200) == 1
    k1 = _env(slate_size=1)
    assert not k1.unwrapped._repeats.active
    assert _count_warnings(k1, [np.array([0])], 2 * WINDOW) == 0
