"""Every documented parameter range of the models and reward specs is enforced at construction:
values just outside raise ``ValueError`` naming the parameter, the boundary values are accepted."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from slategym.choice import (
    ExponentialCascade,
    MultiClick,
    MultinomialLogit,
    MultinomialProportional,
    PositionBased,
    ProportionalCascade,
)
from slategym.rewards import make_reward
from slategym.users import DefaultUserModel
from tests.conftest import SMALL

NAN = float("nan")

# (model, parameter, accepted boundary values, rejected values)
RANGES = [
    (MultinomialLogit, "beta", [1e-9], [0.0, -1.0, NAN, math.inf]),
    (MultinomialLogit, "no_click_logit", [-math.inf, -50.0, 50.0], [NAN, math.inf]),
    (MultinomialProportional, "min_normalizer", [-100.0, 100.0], [NAN, -math.inf]),
    (MultinomialProportional, "no_click_mass", [-100.0, 0.0], [NAN, math.inf]),
    (ExponentialCascade, "attention_prob", [0.0, 1.0], [-1e-9, 1.0 + 1e-9, NAN]),
    (ExponentialCascade, "score_scaling", [1e-9], [0.0, -0.1, math.inf]),
    (ProportionalCascade, "attention_prob", [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (ProportionalCascade, "score_scaling", [1e-9], [0.0, NAN]),
    (ProportionalCascade, "min_normalizer", [-7.0, 7.0], [NAN, math.inf]),
    (PositionBased, "beta", [1e-9], [0.0, NAN]),
    (PositionBased, "bias", [-9.0, 9.0], [NAN, -math.inf]),
    (PositionBased, "eta", [0.0, 3.0], [-1e-9, NAN]),
    (PositionBased, "examination", [(0.0, 1.0), (0.5,)], [(0.5, 1.2), (-0.1,), (), ((0.5,),)]),
    (MultiClick, "mode", ["independent", "dependent"], ["sometimes", ""]),
    (MultiClick, "beta", [1e-9], [0.0, math.inf]),
    (MultiClick, "bias", [-9.0, 9.0], [NAN]),
    (MultiClick, "continue_prob", [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (DefaultUserModel, "chronotype_weights", [(0.0, 0.0, 1.0), (2.0, 1.0, 0.0)],
     [(0.0, 0.0, 0.0), (-0.1, 0.5, 0.6), (0.5, 0.5), (NAN, 1.0, 1.0)]),
    (DefaultUserModel, "hour_profile_concentration", [math.inf, 1e-9], [0.0, -1.0, NAN]),
    (DefaultUserModel, "patience_mean", [1.0], [1.0 - 1e-9, NAN]),
]  # fmt: skip
for _name in ("mean_sessions_per_day", "dwell_minutes", "dwell_cap"):
    RANGES.append((DefaultUserModel, _name, [1e-9], [0.0, -1.0, NAN]))
for _name in ("activity_dispersion", "interest_strength", "shared_interest", "interest_noise",
              "price_sensitivity_mean", "quality_weight", "popularity_weight", "fatigue_weight",
              "dwell_affinity"):  # fmt: skip
    RANGES.append((DefaultUserModel, _name, [0.0, 5.0], [-1e-9, NAN, math.inf]))
for _name in ("fatigue_decay", "interest_drift", "satisfaction_rate"):
    RANGES.append((DefaultUserModel, _name, [0.0, 1.0], [-1e-9, 1.0 + 1e-9]))
for _name in ("chronotype_age_effect", "purchase_bias", "purchase_affinity", "purchase_quality",
              "leave_bias", "leave_satisfaction", "leave_streak", "churn_bias",
              "churn_satisfaction", "return_satisfaction"):  # fmt: skip
    RANGES.append((DefaultUserModel, _name, [-40.0, 40.0], [NAN, math.inf]))


@pytest.mark.parametrize(("model", "name", "ok", "bad"), RANGES,
                         ids=[f"{m.__name__}.{n}" for m, n, _, _ in RANGES])  # fmt: skip
def test_parameter_range_is_enforced_naming_the_parameter(model, name, ok, bad) -> None:  # type: ignore[no-untyped-def]
    for value in ok:
        built = model(**{name: value})
        if not isinstance(value, tuple):
            assert getattr(built, name) == value
    for value in bad:
        with pytest.raises(ValueError, match=rf"^{name}\b"):
            model(**{name: value})


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({}, r"reward=\{\} is not allowed"),
        ({"click": NAN}, r"reward\['click'\]=nan"),
        ({"purchase": 1.0, "engagement": math.inf}, r"reward\['engagement'\]=inf"),
        ({"clicks": 1.0}, r"unknown signal 'clicks'.*\['click', 'engagement', 'purchase'\]"),
        ("dwell", r"reward='dwell' is not allowed.*\['click', 'engagement', 'purchase'\]"),
        (3, r"reward=3 is not allowed.*\['click', 'engagement', 'purchase'\]"),
    ],
)
def test_bad_reward_specs_name_what_is_allowed(spec: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_reward(spec)


def test_bad_user_id_options_say_what_is_allowed() -> None:
    single = gym.make("SlateRec-v0", **SMALL)
    with pytest.raises(ValueError, match=r"expected an integer in \[0, 99\]$"):
        single.reset(seed=0, options={"user_id": "seven"})
    envs = gym.make_vec("SlateRec-v0", 3, vectorization_mode="vector_entry_point", **SMALL)
    with pytest.raises(ValueError, match=r"expected an integer or an integer array \(3,\) in \[0, 99\]"):
        envs.reset(seed=0, options={"user_id": np.array([1, 2])})
