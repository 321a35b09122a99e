"""stable-baselines3 on the native SlateRec vector env: an SB3 ``VecEnv`` over ``N`` batched rows.

SB3 does not take Gymnasium ``VectorEnv``s, so the usual route, ``make_vec_env("SlateRec-v0",
n_envs=8)``, steps 8 single envs one after the other in Python. :class:`SlateRecSB3VecEnv` gives SB3
the native vector env instead: one call of the batched simulator steps all ``N`` rows.

SB3's conventions, and how the adapter meets them:

* **Autoreset in the same step.** SB3 expects a finished row to come back already reset: ``done``
  True, the *first observation of the next episode* in ``obs``, the last observation of the finished
  one in ``info["terminal_observation"]``. That is the native env's ``autoreset_mode=SAME_STEP``
  (:func:`make_sb3_vec_env` builds it so): the adapter moves ``info["final_obs"]`` to
  ``terminal_observation`` and takes a finished row's step info from ``info["final_info"]``. Over a
  ``NEXT_STEP`` env (the default of ``gym.make_vec``, which resets a row on the *next* step and
  ignores that step's action) the adapter resets the finished rows itself with
  ``reset(options={"reset_mask": done})``, which continues each row's random stream exactly where
  the autoreset would. Either way a row's episodes are the native env's (tested row by row), without
  the ignored step of ``NEXT_STEP``.
* ``info["TimeLimit.truncated"]`` is ``truncated and not terminated`` (as SB3's ``DummyVecEnv`` sets
  it), so PPO bootstraps the value of an episode cut at the horizon. The step ``info`` keys of
  SlateRec (:data:`slategym.types.STEP_INFO_FIELDS`, or the subset in ``info_keys``) are copied into
  each row's dict.
* ``reset()`` returns only the observations (the reset infos are in ``reset_infos``);
  ``seed(s)`` makes the next reset use ``reset(seed=s)``: row ``i`` gets the stream keyed by
  ``(s, i)``, so different seeds never share rows (SB3's own ``seed + i`` per env would make seed 1
  row 0 equal seed 0 row 1). ``set_options({"user_id": ...})`` is passed on to the next reset.
* ``dones`` is a bool array, rewards are float32, observations the native env's dict of ``(N, ...)``
  arrays (fresh every step).
* ``get_attr`` reads an attribute of the vector env (one object for all rows); ``set_attr`` and
  ``env_method`` act on all rows at once and refuse a strict subset of ``indices`` (the rows have no
  separate env objects). ``env_is_wrapped`` is False (wrap the adapter in SB3's ``VecMonitor`` for
  episode statistics: :func:`make_sb3_vec_env` does).
* ``render()`` tiles the frames of the vector env's ``render()`` when it was made with
  ``render_mode="rgb_array"``, as ``DummyVecEnv`` does.

Example:
    >>> from stable_baselines3 import PPO
    >>> from stable_baselines3.common.logger import Logger
    >>> from agents.sb3_vec_env import make_sb3_vec_env
    >>> venv = make_sb3_vec_env(64, seed=0, num_users=200, days=1)
    >>> model = PPO("MultiInputPolicy", venv, n_steps=4, batch_size=64, n_epochs=1, seed=0)
    >>> model.set_logger(Logger(folder=None, output_formats=[]))  # no SB3-<date> folder in /tmp
    >>> model = model.learn(total_timesteps=256)
    >>> model.num_timesteps
    256
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from slategym.types import RESET_INFO_KEYS, STEP_INFO_FIELDS
from slategym.validation import check_seed


class SlateRecSB3VecEnv(VecEnv):
    """An SB3 ``VecEnv`` whose ``num_envs`` rows are the rows of a native SlateRec vector env.

    Args:
        env: a Gymnasium vector env with ``SAME_STEP`` autoreset (preferred: one call per step), or
            with ``NEXT_STEP`` autoreset and ``reset(options={"reset_mask": mask})``; usually
            ``gym.make_vec("SlateRec-v0", N, vectorization_mode="vector_entry_point",
            autoreset_mode=AutoresetMode.SAME_STEP, ...)``.
        info_keys: step ``info`` keys copied into each row's info dict (default: all of
            :data:`slategym.types.STEP_INFO_FIELDS`; ``()`` for the fastest step).
    """

    def __init__(self, env: gym.vector.VectorEnv, info_keys: Sequence[str] | None = None) -> None:
        if not isinstance(env, gym.vector.VectorEnv):
            raise ValueError(
                f"env={env!r} is not allowed: expected a Gymnasium VectorEnv, e.g. gym.make_vec("
                "'SlateRec-v0', N, vectorization_mode='vector_entry_point')"
            )
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode not in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
            raise ValueError(
                f"env has autoreset_mode={mode!r}: expected AutoresetMode.SAME_STEP or NEXT_STEP "
                "(SB3 expects finished rows to come back reset)"
            )
        self.autoreset_mode = mode
        keys = tuple(STEP_INFO_FIELDS) if info_keys is None else tuple(info_keys)
        unknown = sorted(set(keys) - set(STEP_INFO_FIELDS))
        if unknown:
            raise ValueError(
                f"info_keys has unknown key(s) {unknown}: expected keys among "
                f"{list(STEP_INFO_FIELDS)}"
            )
        self.env = env
        self.info_keys = keys
        self._actions: np.ndarray | None = None
        self._seed: int | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    # -- reset and step ---------------------------------------------------------------------------
    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the next :meth:`reset`: row ``i`` gets the stream keyed by ``(seed, i)``."""
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        self._seed = check_seed(seed)
        return [self._seed] * self.num_envs

    def _merged_options(self) -> dict[str, Any] | None:
        """SB3's per-env options as one options dict of the vector env (``user_id`` per row)."""
        options = self._options
        if not any(options):
            return None
        if all(o == options[0] for o in options):
            return dict(options[0])
        if all(set(o) == {"user_id"} for o in options):
            return {"user_id": np.array([o["user_id"] for o in options])}
        raise ValueError(
            "set_options() gave different options per row: only 'user_id' may differ between "
            f"rows (one options dict for all rows otherwise), got {options[:3]}..."
        )

    def reset(self) -> VecEnvObs:
        obs, info = self.env.reset(seed=self._seed, options=self._merged_options())
        self._seed = None
        self._reset_options()
        self.reset_infos = _row_dicts(info, RESET_INFO_KEYS, self.num_envs)
        self._actions = None
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async(actions) (or step(actions)) before step_wait()")
        obs, rewards, terminated, truncated, info = self.env.step(self._actions)
        self._actions = None
        dones = np.logical_or(terminated, truncated)
        rows = np.flatnonzero(dones)
        if rows.size and self.autoreset_mode == AutoresetMode.SAME_STEP:
            final, last = info["final_info"], info["final_obs"]
            step_info = {k: _merged(info[k], final[k], rows) for k in self.info_keys}
            terminal = {i: last[i] for i in rows}
            reset_info = info
        else:
            step_info = info
            if rows.size:  # NEXT_STEP: reset the finished rows now, on their own streams
                terminal = {i: {k: v[i] for k, v in obs.items()} for i in rows}
                obs, reset_info = self.env.reset(options={"reset_mask": dones})
        infos = _row_dicts(step_info, self.info_keys, self.num_envs)
        for row_info, cut in zip(infos, (truncated & ~terminated).tolist()):
            row_info["TimeLimit.truncated"] = cut
        if rows.size:
            fresh = _row_dicts(reset_info, RESET_INFO_KEYS, self.num_envs)
            for i in rows:
                infos[i]["terminal_observation"] = terminal[i]
                self.reset_infos[i] = fresh[i]
        return obs, np.asarray(rewards, np.float32), dones, infos

    def close(self) -> None:
        self.env.close()

    # -- attributes and methods -------------------------------------------------------------------
    def _rows(self, indices: VecEnvIndices) -> list[int]:
        rows = list(self._get_indices(indices))
        bad = [i for i in rows if not 0 <= int(i) < self.num_envs]
        if bad:
            raise ValueError(f"indices {bad} are not allowed: expected rows in [0, {self.num_envs})")
        return rows

    def _all_rows(self, indices: VecEnvIndices, what: str) -> list[int]:
        rows = self._rows(indices)
        if sorted(set(rows)) != list(range(self.num_envs)):
            raise ValueError(
                f"{what} with indices={indices!r} is not allowed: the {self.num_envs} rows share one "
                "native vector env, so this acts on all rows: pass indices=None"
            )
        return rows

    def _target(self, name: str) -> Any:
        """The vector env, or the innermost one that has ``name``."""
        env: Any = self.env
        while not hasattr(env, name) and hasattr(env, "env"):
            env = env.env
        return env

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self._target(attr_name), attr_name)
        return [value] * len(self._rows(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._all_rows(indices, f"set_attr({attr_name!r})")
        setattr(self._target(attr_name), attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        rows = self._all_rows(indices, f"env_method({method_name!r})")
        result = getattr(self._target(method_name), method_name)(*method_args, **method_kwargs)
        return [result] * len(rows)

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False] * len(self._rows(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            warnings.warn(
                f"The render mode is {self.render_mode}, but get_images() needs 'rgb_array': "
                "make the vector env with render_mode='rgb_array'",
                stacklevel=2,
            )
            return [None] * self.num_envs
        frames: Any = self.env.render()
        if frames is None:
            return [None] * self.num_envs
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            return [frames]  # one picture of all rows
        return [np.asarray(frame) for frame in frames]


def _merged(top: np.ndarray, final: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``top`` with the ``rows`` taken from ``final`` (a SAME_STEP info and its final_info)."""
    out = np.array(top, copy=True)
    out[rows] = final[rows]
    return out


def _row_dicts(info: dict[str, Any], keys: Sequence[str], n: int) -> list[dict[str, Any]]:
    """One dict per row from batched info arrays: Python scalars for ``(N,)`` keys, row arrays for
    ``(N, K)`` keys (the vector env's info arrays are fresh each step, so row views are safe)."""
    columns = []
    for key in keys:
        value = np.asarray(info[key])
        columns.append(value.tolist() if value.ndim == 1 else list(value))
    if not columns:
        return [{} for _ in range(n)]
    return [dict(zip(keys, row)) for row in zip(*columns)]


def make_sb3_vec_env(
    num_envs: int,
    seed: int | None = None,
    monitor: bool = True,
    info_keys: Sequence[str] | None = None,
    **config: Any,
) -> VecEnv:
    """``SlateRec-v0``'s native vector env of ``num_envs`` rows (``SAME_STEP`` autoreset) as an SB3
    ``VecEnv``.

    Args:
        num_envs: rows ``N`` stepped together.
        seed: seeds the first reset (row ``i`` gets the stream ``(seed, i)``); None for entropy.
        monitor: wrap in SB3's ``VecMonitor`` (episode return and length in ``info["episode"]``,
            what SB3 logs as ``ep_rew_mean``).
        info_keys: see :class:`SlateRecSB3VecEnv`.
        **config: any :class:`~slategym.config.SlateRecConfig` field.
    """
    import slategym  # noqa: F401  (registers SlateRec-v0)

    env = gym.make_vec(
        "SlateRec-v0", num_envs=num_envs, vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.SAME_STEP, **config,
    )  # fmt: skip
    venv: VecEnv = SlateRecSB3VecEnv(env, info_keys=info_keys)
    if seed is not None:
        venv.seed(seed)
    return VecMonitor(venv) if monitor else venv
