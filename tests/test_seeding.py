"""Seeds: streams keyed by ``(seed, row)``, same seed same run, errors that name ``seed``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import slategym
from slategym.platform import Platform
from slategym.rng import row_key
from tests.conftest import SMALL


def _vector(n: int = 16) -> gym.vector.VectorEnv:
    return gym.make_vec("SlateRec-v0", n, vectorization_mode="vector_entry_point", **SMALL)


def test_consecutive_seeds_share_no_row_stream() -> None:
    """Before streams were keyed by (seed, row), reset(seed=1) row i was reset(seed=0) row i + 1."""
    a, _ = _vector().reset(seed=0)
    b, _ = _vector().reset(seed=1)
    for key in ("candidate_ids", "user"):
        shifted = [np.array_equal(b[key][i], a[key][i + 1]) for i in range(15)]
        assert not any(shifted), key
    keys = {int(row_key(s, r)) for s in range(20) for r in range(20)}
    assert len(keys) == 400


def test_single_env_is_row_zero_and_list_seeds_are_single_env_seeds() -> None:
    single = slategym.SlateRecEnv(**SMALL)
    obs, _ = single.reset(seed=4)
    vec = _vector(3)
    by_int, _ = vec.reset(seed=4)
    assert np.array_equal(obs["candidate_ids"], by_int["candidate_ids"][0])
    by_list, _ = vec.reset(seed=[7, 4, None])
    assert np.array_equal(obs["candidate_ids"], by_list["candidate_ids"][1])


@pytest.mark.parametrize("seed", [1.5, -1, "3", True, np.float64(2.0)])
def test_bad_seeds_name_seed(seed: object) -> None:
    with pytest.raises(ValueError, match=r"seed=.*non-negative integer"):
        slategym.SlateRecEnv(**SMALL).reset(seed=seed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed"):
        _vector(2).reset(seed=seed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed=.*non-negative integer"):
        Platform(**SMALL).reset(seed=seed)  # type: ignore[arg-type]


def test_bad_seed_lists_name_the_entry() -> None:
    with pytest.raises(ValueError, match=r"seed\[1\]=-2"):
        _vector(2).reset(seed=[0, -2])
    with pytest.raises(ValueError, match="num_envs=2"):
        _vector(2).reset(seed=[0, 1, 2])


def test_numpy_integer_seeds_equal_python_ints() -> None:
    a, _ = slategym.SlateRecEnv(**SMALL).reset(seed=np.uint16(3))
    b, _ = slategym.SlateRecEnv(**SMALL).reset(seed=3)
    assert np.array_equal(a["candidate_ids"], b["candidate_ids"])


def test_vector_env_honours_user_id_per_row() -> None:
    envs = _vector(4)
    _, info = envs.reset(seed=0, options={"user_id": np.array([5, 6, 7, 5])})
    assert info["user_id"].tolist() == [5, 6, 7, 5]
    _, info = envs.reset(seed=0, options={"user_id": 9})
    assert info["user_id"].tolist() == [9] * 4
    mask = np.array([True, False, True, False])
    _, info = envs.reset(options={"user_id": np.array([1, 2, 3, 4]), "reset_mask": mask})
    assert info["user_id"][mask].tolist() == [1, 3]


@pytest.mark.parametrize(
    "options, match",
    [
        ({"user_id": 100}, r"user ids in \[0, 99\]"),
        ({"user_id": np.array([1, 2])}, r"options\['user_id'\]"),
        ({"user_id": 1.0}, r"options\['user_id'\]"),
        ({"userid": 3}, r"unknown key\(s\) \['userid'\]"),
    ],
)
def test_bad_reset_options_are_rejected(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _vector(4).reset(seed=0, options=options)
    with pytest.raises(ValueError, match=match):
        slategym.SlateRecEnv(**SMALL).reset(seed=0, options=options)
