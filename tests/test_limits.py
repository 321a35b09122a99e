"""Size limits: configurations beyond the memory or random-block limit fail before allocating, with
messages that name the parameters; the estimate follows what a run really allocates."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import slategym
from experiments.memory_estimate import CASES, measured_peak
from slategym.limits import DEFAULT_MEMORY_LIMIT_GIB, GIB, check_limits, estimate_memory
from slategym.platform import Platform
from slategym.users import DefaultUserModel


def _fails_fast(build: Callable[[], Any], match: str) -> str:
    """Run ``build``, expecting ``ValueError`` matching ``match`` within 1 s and 20 MB."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match) as err:
            build()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, elapsed
    assert peak < 20e6, peak
    return str(err.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda kw: gym.make("SlateRec-v0", **kw),
        lambda kw: gym.make_vec("SlateRec-v0", 4, vectorization_mode="vector_entry_point", **kw),
        lambda kw: Platform(**kw),
    ],
    ids=["single", "vector", "platform"],
)
def test_a_billion_items_fail_fast_naming_num_items_and_the_estimate(build: Callable) -> None:
    message = _fails_fast(
        lambda: build({"num_items": 10**9}), r"num_items=1000000000 is not allowed"
    )
    assert "GiB" in message and "memory_limit_gib=2" in message
    assert "catalog of 1,000,000,000 items" in message


def test_a_million_candidates_name_num_candidates_not_the_random_block() -> None:
    message = _fails_fast(
        lambda: gym.make("SlateRec-v0", num_items=10**6, num_candidates=10**6),
        r"num_candidates=1000000 with slate_size=6 is not allowed",
    )
    assert "expected num_candidates <= 65,519" in message
    assert "uniforms per block" not in message


def test_the_largest_num_candidates_allowed_runs() -> None:
    """The bound in the message is exact: one more candidate is refused, this one steps."""
    kwargs = {"num_items": 65519, "num_candidates": 65519, "num_users": 5, "days": 1}
    env = gym.make("SlateRec-v0", **kwargs)
    env.reset(seed=0)
    env.step(np.arange(6))
    with pytest.raises(ValueError, match="num_candidates=65520"):
        gym.make("SlateRec-v0", **{**kwargs, "num_items": 65520, "num_candidates": 65520})


def test_a_long_history_is_accounted_and_refused() -> None:
    config = slategym.SlateRecConfig(history_length=10**7)
    assert estimate_memory(config).total > 1.9 * GIB
    message = _fails_fast(
        lambda: gym.make("SlateRec-v0", history_length=10**7), r"history_length=10000000"
    )
    assert "observations of 1 row " in message


def test_many_rows_are_named_as_rows() -> None:
    _fails_fast(
        lambda: gym.make_vec("SlateRec-v0", 10**6, vectorization_mode="vector_entry_point"),
        r"1,000,000 rows stepped together .*num_envs",
    )


def test_the_limit_can_be_raised_and_lowered_explicitly() -> None:
    config = slategym.SlateRecConfig(num_items=100_000)  # about 28 MiB of catalog
    assert 20 * 2**20 < estimate_memory(config).total < 60 * 2**20
    with pytest.raises(ValueError, match=r"num_items=100000 .*memory_limit_gib=0.01"):
        gym.make("SlateRec-v0", num_items=100_000, memory_limit_gib=0.01)
    gym.make("SlateRec-v0", num_items=100_000).reset(seed=0)
    big = {"num_items": 10**8}  # 27 GiB: refused by default, allowed (not built here) above it
    with pytest.raises(ValueError, match="num_items=100000000"):
        check_limits(slategym.SlateRecConfig(**big), slategym.choice.MultinomialLogit(),
                     DefaultUserModel())  # fmt: skip
    check_limits(slategym.SlateRecConfig(**big, memory_limit_gib=64),
                 slategym.choice.MultinomialLogit(), DefaultUserModel())  # fmt: skip
    assert slategym.SlateRecConfig().memory_limit_gib == DEFAULT_MEMORY_LIMIT_GIB


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "2", None, True])
def test_bad_memory_limits_name_the_field(value: object) -> None:
    with pytest.raises(ValueError, match=r"memory_limit_gib="):
        slategym.SlateRecConfig(memory_limit_gib=value)  # type: ignore[arg-type]


class _Greedy(DefaultUserModel):
    """A user model that asks for ``wanted`` uniforms per step."""

    def __init__(self, wanted: Any) -> None:
        super().__init__()
        object.__setattr__(self, "wanted", wanted)

    def num_uniforms(self, slate_size: int) -> Any:
        return self.wanted  # type: ignore[attr-defined]


def test_model_uniforms_count_toward_the_block_and_are_checked() -> None:
    with pytest.raises(ValueError, match=r"num_candidates=50 with slate_size=6 .*_Greedy"):
        gym.make("SlateRec-v0", user_model=_Greedy(70_000))
    for bad in (-1, 2.5, "3"):
        with pytest.raises(ValueError, match=r"user model _Greedy.num_uniforms\(6\) returned"):
            gym.make("SlateRec-v0", user_model=_Greedy(bad))


@pytest.mark.parametrize(("num_rows", "config"), CASES[:10])
def test_estimate_is_within_a_factor_of_the_measured_peak(
    num_rows: int | None, config: dict
) -> None:
    measured = measured_peak(num_rows, **config)
    estimate = estimate_memory(slategym.SlateRecConfig(**config), num_rows or 1).total
    assert measured / 1.25 <= estimate <= measured * 1.25, (measured, estimate)


@pytest.mark.parametrize(
    ("name", "value"), [("max_session_steps", 2**70), ("new_items_per_day", 2**63), ("days", 2**64)]
)
def test_sizes_beyond_int64_name_the_field(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"{name}={value} is not allowed: expected at most"):
        gym.make("SlateRec-v0", **{"num_users": 20, "days": 1, name: value})
