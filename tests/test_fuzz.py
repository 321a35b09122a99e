"""Fuzzing: configurations x actions x bad inputs x custom models (hypothesis, derandomised).

Properties, whatever hypothesis draws:

* no exception but the documented ones: ``ValueError`` (or ``TypeError`` for a keyword ``gym.make``
  does not know) whose message names the parameter, the action or the model at fault;
* rewards are finite Python floats, flags Python bools;
* observations lie inside the observation space;
* every step ``info`` holds the keys of :data:`slategym.types.STEP_INFO_FIELDS`.

2,000 examples per run in total (``EXAMPLES``), derandomised: the same examples on every run, so CI
is stable, and no example database is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slategym  # noqa: F401  (registers SlateRec-v0)
from slategym.catalog import Catalog
from slategym.choice import ChoiceModel, MultinomialLogit
from slategym.registry import BUILTIN_CHOICE_MODELS
from slategym.types import STEP_INFO_FIELDS
from slategym.users import DefaultUserModel, Population, UserState

EXAMPLES = {"configs": 400, "bad_configs": 600, "actions": 500, "models": 500}
"""Examples per test: 2,000 in total."""

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALLOWED = (ValueError, TypeError)
STEPS = 6
"""Steps per example (the env is reset when an episode ends)."""


def _check_step(env: gym.Env, obs: Any, reward: Any, terminated: Any, truncated: Any, info: dict) -> None:
    assert env.observation_space.contains(obs), {k: (v.dtype, v.shape) for k, v in obs.items()}
    assert type(reward) is float and math.isfinite(reward), reward
    assert type(terminated) is bool and type(truncated) is bool
    assert set(STEP_INFO_FIELDS) <= set(info), set(STEP_INFO_FIELDS) - set(info)


def _run_single(env: gym.Env, seed: int, actions: np.random.Generator) -> None:
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    space = env.action_space
    for _ in range(STEPS):
        obs, reward, terminated, truncated, info = env.step(actions.integers(0, space.nvec))
        _check_step(env, obs, reward, terminated, truncated, info)
        if terminated or truncated:
            obs, _ = env.reset()


# -- valid configurations ---------------------------------------------------------------------------
@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    num_items = draw(st.integers(1, 300))
    num_candidates = draw(st.integers(1, min(num_items, 40)))
    return {
        "num_items": num_items,
        "num_candidates": num_candidates,
        "slate_size": draw(st.integers(1, min(num_candidates, 8))),
        "num_users": draw(st.integers(1, 60)),
        "num_topics": draw(st.integers(1, 12)),
        "latent_dim": draw(st.integers(1, 12)),
        "history_length": draw(st.integers(1, 12)),
        "days": draw(st.integers(1, 3)),
        "step_minutes": draw(st.floats(0.01, 1440.0)),
        "max_session_steps": draw(st.integers(1, 40)),
        "min_return_gap_minutes": draw(st.floats(0.0, 5000.0)),
        "new_items_per_day": draw(st.integers(0, 30)),
        "choice_model": draw(st.sampled_from(BUILTIN_CHOICE_MODELS)),
        "user_model": draw(st.sampled_from(["default", "deterministic"])),
        "reward": draw(st.sampled_from(
            ["click", "purchase", "engagement", {"click": 1.0, "purchase": 5.0, "engagement": 0.1}]
        )),  # fmt: skip
        "topic_spread": draw(st.floats(0.0, 3.0)),
        "catalog_seed": draw(st.integers(0, 2**32)),
        "population_seed": draw(st.integers(0, 2**32)),
    }


@settings(FUZZ, max_examples=EXAMPLES["configs"])
@given(config=configs(), seed=st.integers(0, 2**63), strict=st.booleans(), vector=st.booleans())
def test_valid_configurations_run(config: dict, seed: int, strict: bool, vector: bool) -> None:
    """Valid configurations build and step; duplicates in random slates are allowed unless
    ``strict_slates``, which then raises naming ``strict_slates``."""
    actions = np.random.default_rng(seed % 2**32)
    if vector:
        envs = gym.make_vec("SlateRec-v0", 3, vectorization_mode="vector_entry_point",
                            strict_slates=strict, **config)  # fmt: skip
        obs, _ = envs.reset(seed=seed)
        for _ in range(STEPS):
            slates = actions.integers(0, config["num_candidates"], (3, config["slate_size"]))
            try:
                obs, rewards, terminated, truncated, info = envs.step(slates)
            except ValueError as err:
                assert strict and "strict_slates=True" in str(err), err
                continue
            assert envs.observation_space.contains(obs)
            assert np.all(np.isfinite(rewards)) and rewards.shape == (3,)
            assert set(STEP_INFO_FIELDS) <= set(info)
        return
    env = gym.make("SlateRec-v0", strict_slates=strict, **config)
    try:
        _run_single(env, seed, actions)
    except ValueError as err:
        assert strict and "strict_slates=True" in str(err), err


# -- bad configuration values -----------------------------------------------------------------------
NUMERIC_FIELDS = [
    "num_items", "num_candidates", "slate_size", "num_users", "num_topics", "latent_dim",
    "history_length", "days", "step_minutes", "max_session_steps", "min_return_gap_minutes",
    "new_items_per_day", "topic_spread", "catalog_seed", "population_seed", "memory_limit_gib",
]  # fmt: skip
ODD_VALUES = st.one_of(
    st.integers(-(2**64), 2**64),
    st.sampled_from([0, 1, 2, 10**9, 10**12, 2**63 - 1, 2**63, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([None, True, False, "3", "x", [3], (2,), {"a": 1}, b"1", 2 + 0j]),
    st.sampled_from([np.float64(2.0), np.float32(1.5), np.bool_(True), np.int8(3), np.int16(200),
                     np.uint8(7), np.uint64(300), np.int64(-4), np.uint64(2**63)]),  # fmt: skip
)


@settings(FUZZ, max_examples=EXAMPLES["bad_configs"])
@given(
    name=st.sampled_from(NUMERIC_FIELDS),
    value=ODD_VALUES,
    other=st.sampled_from(["strict_slates", "reward", "choice_model", "user_model", "slates"]),
    other_value=st.sampled_from([None, "x", 3, 1.5, np.bool_(False), {"click": float("nan")}]),
    both=st.booleans(),
)
def test_bad_configuration_values_name_the_parameter(
    name: str, value: Any, other: str, other_value: Any, both: bool
) -> None:
    """Any value of a numeric field: it builds and steps, or fails fast naming the field."""
    kwargs = {"num_users": 20, "days": 1, name: value}
    if both and other not in kwargs:
        kwargs[other] = other_value
    try:
        env = gym.make("SlateRec-v0", **kwargs)
    except ALLOWED as err:
        named = [key for key in kwargs if key in str(err)]
        assert named, f"{type(err).__name__} names none of {sorted(kwargs)}: {err}"
        return
    _run_single(env, 0, np.random.default_rng(0))


# -- actions, seeds and options ---------------------------------------------------------------------
SMALL_ENV = {"num_items": 50, "num_candidates": 8, "slate_size": 3, "num_users": 20, "days": 1}
DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.uint64, np.float32,
          np.float64, np.bool_, object, str]  # fmt: skip
ACTIONS = st.one_of(
    st.builds(
        lambda shape, dtype, values: np.resize(np.array(values), shape).astype(dtype),
        shape=st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple),
        dtype=st.sampled_from(DTYPES),
        values=st.lists(st.integers(-300, 300), min_size=1, max_size=8),
    ),
    st.lists(st.integers(-10, 10), max_size=6),
    st.sampled_from([None, "abc", 3, 2.5, {"a": 1}, [[0, 1, 2]], (0, 1, 2), [0.0, 1.0, 2.0]]),
)
SEEDS = st.one_of(st.none(), st.integers(-(2**65), 2**65), st.floats(), st.text(max_size=3),
                  st.sampled_from([True, np.int8(3), np.uint64(2**63), [1, 2]]))  # fmt: skip
OPTIONS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["user_id", "reset_mask", "x"]),
                    st.one_of(st.integers(-5, 30), st.floats(), st.none(), st.just([1, 2])),
                    max_size=2),  # fmt: skip
    st.sampled_from(["user_id", 3, [1]]),
)


def _expect_named(err: Exception, *words: str) -> None:
    assert isinstance(err, ALLOWED), f"{type(err).__name__}: {err}"
    assert any(w in str(err) for w in words), f"{err!r} names none of {words}"


@settings(FUZZ, max_examples=EXAMPLES["actions"])
@given(action=ACTIONS, seed=SEEDS, options=OPTIONS, vector=st.booleans())
def test_bad_actions_seeds_and_options(action: Any, seed: Any, options: Any, vector: bool) -> None:
    """Arbitrary actions, seeds and reset options: a step/reset, or an error naming them."""

    def make() -> Any:
        if vector:
            return gym.make_vec("SlateRec-v0", 2, vectorization_mode="vector_entry_point",
                                **SMALL_ENV)  # fmt: skip
        return gym.make("SlateRec-v0", **SMALL_ENV)

    env = make()
    try:
        env.reset(seed=seed, options=options)
    except Exception as err:  # noqa: BLE001  (the property is about which exceptions)
        _expect_named(err, "seed", "options", "user_id", "reset_mask")
        # A fresh env: after a first reset() that raised, gymnasium's PassiveEnvChecker (1.3+)
        # fails the next step() on its own bookkeeping (TypeError in env_data_reuse_passive_checker).
        env = make()
        env.reset(seed=0)
    try:
        obs, reward, terminated, truncated, info = env.step(action)
    except Exception as err:  # noqa: BLE001
        _expect_named(err, "slate", "action")
        return
    assert env.observation_space.contains(obs)
    assert np.all(np.isfinite(reward))
    assert set(STEP_INFO_FIELDS) <= set(info)


# -- custom models --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FuzzChoice(ChoiceModel):
    """MNL probabilities, corrupted on some calls as ``fault`` says; records what it returned."""

    fault: str = "none"
    rate: float = 0.0
    seed: int = 0
    bad: list = field(default_factory=list)

    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        p = MultinomialLogit(beta=1.0).probabilities(affinities)
        rng = np.random.default_rng([self.seed, len(self.bad)])
        if self.fault == "float32":
            p = p.astype(np.float32)
        elif self.fault != "none" and rng.random() < self.rate:
            if self.fault == "nan":
                p.flat[rng.integers(p.size)] = np.nan
            elif self.fault == "negative":
                p[..., 0] -= 1.5
                p[..., -1] += 1.5
            elif self.fault == "unnormalised":
                p *= 1.0 + rng.uniform(0.01, 1.0)
            elif self.fault == "short":
                p = p[..., :-1]
        k = affinities.shape[-1]  # an oracle independent of slategym.checks:
        valid = (p.shape[-1] == k + 1 and np.isfinite(p).all() and (p >= 0).all()
                 and np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-4))  # fmt: skip
        self.bad.append(not valid)
        return p


@dataclass(frozen=True)
class FuzzUser(DefaultUserModel):
    """Default affinities, transformed by ``transform`` and corrupted on some calls."""

    transform: str = "identity"
    rate: float = 0.0
    seed: int = 0
    bad: list = field(default_factory=list)

    def affinity(
        self, population: Population, state: UserState, catalog: Catalog, item_ids: np.ndarray
    ) -> np.ndarray:
        a = super().affinity(population, state, catalog, item_ids)
        rng = np.random.default_rng([self.seed, len(self.bad)])
        with np.errstate(all="ignore"):
            if self.transform == "scale":
                a = a * 50.0
            elif self.transform == "log":
                a = np.log(a)  # NaN for negative affinities: the example
            elif self.transform == "inject" and rng.random() < self.rate:
                a = a.copy()
                a.flat[rng.integers(a.size)] = rng.choice([np.nan, np.inf, -np.inf])
        self.bad.append(not np.isfinite(a).all())
        return a


def _nan_sometimes(outcome: Any) -> np.ndarray:
    return np.where(outcome.clicks.sum(axis=1) > 2, np.nan, outcome.clicks.sum(axis=1) * 1.0)


@settings(FUZZ, max_examples=EXAMPLES["models"])
@given(
    fault=st.sampled_from(["none", "nan", "negative", "unnormalised", "short", "float32"]),
    transform=st.sampled_from(["identity", "scale", "log", "inject"]),
    rate=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
    reward=st.sampled_from(["click", "engagement", _nan_sometimes]),
    slate_size=st.integers(1, 5),
)
def test_custom_models_fail_loudly_or_run_cleanly(
    fault: str, transform: str, rate: float, seed: int, reward: Any, slate_size: int
) -> None:
    """A custom model's bad output raises ValueError naming that model; good outputs run cleanly."""
    choice = FuzzChoice(fault=fault, rate=rate, seed=seed)
    user = FuzzUser(transform=transform, rate=rate, seed=seed)
    env = gym.make("SlateRec-v0", choice_model=choice, user_model=user, reward=reward,
                   slate_size=slate_size, **{k: v for k, v in SMALL_ENV.items() if k != "slate_size"})  # fmt: skip
    try:
        _run_single(env, seed, np.random.default_rng(seed))
    except ValueError as err:
        message = str(err)
        if message.startswith("user model"):
            assert "FuzzUser" in message and user.bad[-1], message
        elif message.startswith("choice model"):
            assert "FuzzChoice" in message and choice.bad[-1] and not user.bad[-1], message
        else:
            assert message.startswith("reward function _nan_sometimes"), message
        return
    assert not any(user.bad), "a non-finite affinity went unnoticed"
    assert not any(choice.bad), "a bad probability went unnoticed"
