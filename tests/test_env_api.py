"""The env's API as other libraries use it: keywords, config types, shapes, SB3's entry point."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import slategym
from slategym import registry
from slategym.config import SlateRecConfig
from tests.conftest import SMALL

# -- unknown keywords are TypeErrors (Python's convention), bad values stay ValueErrors -----------

UNKNOWN = r"got an unexpected keyword argument 'frameskip': expected keywords among \[.*'num_items'"


@pytest.mark.parametrize(
    "make",
    [
        lambda: gym.make("SlateRec-v0", frameskip=4),
        lambda: gym.make_vec(
            "SlateRec-v0", 2, vectorization_mode="vector_entry_point", frameskip=4
        ),
        lambda: slategym.SlateRecEnv(frameskip=4),
        lambda: slategym.SlateRecEnv(config=SlateRecConfig(), frameskip=4),
        lambda: slategym.SlateRecVectorEnv(2, frameskip=4),
        lambda: slategym.SlateRecVectorEnv(2, config=SlateRecConfig(), frameskip=4),
        lambda: SlateRecConfig.from_kwargs(frameskip=4),
        lambda: SlateRecConfig().replace(frameskip=4),
    ],
    ids=[
        "make",
        "make_vec",
        "env",
        "env+config",
        "vector",
        "vector+config",
        "from_kwargs",
        "replace",
    ],
)
def test_unknown_keyword_is_a_type_error_listing_the_valid_ones(make: object) -> None:
    with pytest.raises(TypeError, match=UNKNOWN):
        make()  # type: ignore[operator]


def test_every_unknown_keyword_is_named() -> None:
    with pytest.raises(TypeError) as err:
        SlateRecConfig.from_kwargs(frameskip=4, slates=3)
    assert "unexpected keyword argument 'frameskip'" in str(err.value)
    assert "unexpected keyword argument 'slates'" in str(err.value)


def test_env_lists_its_own_keywords() -> None:
    with pytest.raises(TypeError, match=r"SlateRecEnv\(\) .*'render_mode'"):
        gym.make("SlateRec-v0", frameskip=4)
    with pytest.raises(TypeError, match=r"SlateRecVectorEnv\(\) .*'autoreset_mode'.*'max_episode"):
        slategym.SlateRecVectorEnv(2, frameskip=4)


def test_torchrl_style_probing_falls_back() -> None:
    """TorchRL's ``GymEnv`` passes ``frameskip`` and retries without it on a TypeError whose text
    holds "unexpected keyword argument 'frameskip'"; any other error is fatal."""
    kwargs = {"frameskip": 4, **SMALL}
    try:
        env = gym.make("SlateRec-v0", **kwargs)
    except TypeError as err:
        assert "unexpected keyword argument 'frameskip'" in str(err)
        kwargs.pop("frameskip")
        env = gym.make("SlateRec-v0", **kwargs)
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_bad_values_stay_value_errors() -> None:
    with pytest.raises(ValueError, match=r"num_items=-5"):
        gym.make("SlateRec-v0", num_items=-5)
    with pytest.raises(ValueError, match=r"max_episode_steps=0"):
        gym.make_vec("SlateRec-v0", 2, vectorization_mode="vector_entry_point", max_episode_steps=0)


def test_model_kwargs_rejected_by_the_model_are_value_errors_listing_its_keywords() -> None:
    # choice_model_kwargs is a known keyword with a bad value: ValueError, so that a probing
    # library does not mistake it for an unsupported keyword of gym.make
    with pytest.raises(ValueError, match=r"rejected by 'mnl'.*'temperature'.*\['beta', "):
        gym.make("SlateRec-v0", choice_model_kwargs={"temperature": 2.0})
    # a factory that forwards **kwargs: its TypeError is still reported as a rejected keyword
    with pytest.raises(ValueError, match=r"user_model_kwargs=\{'x': 1\} rejected by 'determ"):
        gym.make("SlateRec-v0", user_model="deterministic", user_model_kwargs={"x": 1})


def test_a_type_error_inside_a_factory_is_not_reported_as_a_bad_keyword(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(beta: float = 1.0) -> slategym.choice.ChoiceModel:
        return slategym.choice.MultinomialLogit(beta=beta) + 1  # type: ignore[operator]

    monkeypatch.setitem(registry._CHOICE, "broken", broken)
    with pytest.raises(TypeError, match=r"unsupported operand"):
        gym.make("SlateRec-v0", choice_model="broken", choice_model_kwargs={"beta": 2.0})


# -- numpy scalars in the config become Python scalars --------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "python_type"),
    [
        ("num_candidates", np.int8(20), int),  # overflowed at the first step
        ("num_candidates", np.int16(20), int),
        ("num_items", np.uint64(200), int),  # UFuncTypeError when mixed with int64 arrays
        ("slate_size", np.uint8(4), int),
        ("history_length", np.int32(10), int),
        ("days", np.uint16(2), int),
        ("population_seed", np.uint64(0), int),
        ("strict_slates", np.bool_(False), bool),  # was rejected
        ("step_minutes", np.float32(1.0), float),
        ("topic_spread", np.float16(0.5), float),
        ("min_return_gap_minutes", 30, float),
    ],
)
def test_numpy_scalars_are_converted_and_run_like_python_ones(
    name: str, value: object, python_type: type
) -> None:
    def rollout(**kwargs: object) -> list:
        env = gym.make("SlateRec-v0", **{**SMALL, **kwargs})
        env.reset(seed=0)
        k, c = env.unwrapped.config.slate_size, env.unwrapped.config.num_candidates
        out = []
        for t in range(30):
            _, reward, term, trunc, info = env.step((np.arange(k) + t) % c)
            out.append((reward, info["clicks"].tolist(), info["day"], info["hour"]))
            if term or trunc:
                env.reset()
        return out

    assert rollout(**{name: value}) == rollout(**{name: python_type(value)})  # type: ignore[call-arg]
    config = SlateRecConfig(**{**SMALL, name: value})
    assert type(getattr(config, name)) is python_type
    assert getattr(config, name) == value


def test_strict_slates_numpy_bool_true_is_strict() -> None:
    env = slategym.SlateRecEnv(**SMALL, strict_slates=np.bool_(True))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="strict_slates=True"):
        env.step(np.array([1, 1, 2, 3]))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_candidates", np.float64(20.0)),
        ("num_candidates", np.array(20)),
        ("strict_slates", np.int64(1)),
        ("step_minutes", np.float32("nan")),
        ("num_items", np.bool_(True)),
    ],
)
def test_other_types_are_rejected_with_the_usual_message(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"{name}=.* is not allowed"):
        SlateRecConfig(**{**SMALL, name: value})


# -- the single env reports the single env's shapes ------------------------------------------------


def test_single_env_shape_errors_name_the_single_shape() -> None:
    env = gym.make("SlateRec-v0", **SMALL)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"slate has shape \(3,\), expected \(4,\): 4 candidate"):
        env.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"slate has shape \(\), expected \(4,\)"):
        env.step(3)


# -- SB3's usual entry point ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_sb3_make_vec_env_and_ppo_learn(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path))  # SB3's logger would litter the temp dir
    venv = make_vec_env(
        "SlateRec-v0", n_envs=4, seed=0, env_kwargs=SMALL
    )  # render_mode="rgb_array"
    assert venv.get_attr("render_mode") == ["rgb_array"] * 4
    venv.reset()
    frames = venv.get_images()
    assert len(frames) == 4 and frames[0].ndim == 3 and frames[0].dtype == np.uint8
    model = PPO(
        "MultiInputPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(total_timesteps=128)
    assert model.num_timesteps >= 128
    venv.close()
