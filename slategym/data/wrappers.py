"""Wrappers that log every served slate of a ``SlateRec`` env or native vector env to Parquet.

The wrapped env behaves exactly as before; each ``step`` also writes the ``K`` impression rows of
every served request to an :class:`~slategym.data.recorder.ImpressionWriter`. A policy that knows
its propensities hands them over with :meth:`set_propensities` before the step; otherwise they are
written as nulls.

Example:
    >>> import os, tempfile
    >>> import gymnasium as gym
    >>> import slategym
    >>> from slategym.data import ImpressionWriter, RecordImpressions, read_table
    >>> path = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> env = RecordImpressions(gym.make("SlateRec-v0", num_users=20), ImpressionWriter(path, 50, 6))
    >>> obs, info = env.reset(seed=0)
    >>> for _ in range(3):
    ...     obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> env.close()
    >>> read_table(path).num_rows
    18
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from slategym.data.recorder import ImpressionWriter


class _Recorder:
    """What both wrappers share: the candidates the next action indexes into, and the pending
    propensities of the logging policy."""

    writer: ImpressionWriter
    _pending: dict[str, np.ndarray | None]
    _candidates: np.ndarray | None

    def _start(self, writer: ImpressionWriter) -> None:
        self.writer = writer
        self._candidates = None
        self._pending = {}

    def set_propensities(
        self,
        slate: Any = None,
        position: Any = None,
        cascade: Any = None,
    ) -> None:
        """The logging policy's propensities for the next step's slate(s) (used once)."""
        self._pending = {
            "propensity_slate": None if slate is None else np.asarray(slate, np.float64),
            "propensity_position": None if position is None else np.asarray(position, np.float64),
            "propensity_cascade": None if cascade is None else np.asarray(cascade, np.float64),
        }

    def _seen(self, obs: Any) -> None:
        self._candidates = np.asarray(obs["candidate_ids"]).copy()

    def _record(self, info: dict[str, Any], rewards: Any, actions: Any, rows: int | None) -> None:
        """Write the step; ``rows=1`` adds a leading axis to a single env's values."""
        if self._candidates is None:
            raise RuntimeError("call reset() before step()")
        pending, self._pending = self._pending, {}
        cand, actions = self._candidates, np.asarray(actions)
        if rows == 1:
            info = {key: np.asarray(value)[None] for key, value in info.items()}
            pending = {k: None if v is None else v.reshape(1, -1) for k, v in pending.items()}
            cand, actions, rewards = cand[None], actions[None], [rewards]
        self.writer.add_info(info, rewards, cand, actions, **pending)


class RecordImpressions(gym.Wrapper, _Recorder):
    """Logs every step of a single ``SlateRec`` env (closing the env closes the writer)."""

    def __init__(self, env: gym.Env, writer: ImpressionWriter) -> None:
        super().__init__(env)
        self._start(writer)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._seen(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if self._candidates is None:
            raise RuntimeError("call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._record(info, reward, action, rows=1)
        self._seen(obs)
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        self.writer.close()
        super().close()


def served_info(info: dict[str, Any]) -> dict[str, Any]:
    """The step keys of every row served by a vector env step, whatever its autoreset mode.

    Under ``SAME_STEP`` the rows that ended are reset within the step and their last step's keys move
    to ``info["final_info"]`` (masked off at the top level); this puts them back. Under ``NEXT_STEP``
    and ``DISABLED`` the info is returned as it is.
    """
    final = info.get("final_info")
    ended = np.asarray(info.get("_final_info", False), bool)
    if final is None or not ended.any():
        return info
    merged = dict(info)
    for key, value in final.items():
        if key.startswith("_") or key not in info:
            continue
        full = np.array(info[key], copy=True)
        full[ended] = np.asarray(value)[ended]
        merged[key] = full
        merged["_" + key] = np.asarray(info["_" + key], bool) | ended
    return merged


class RecordVectorImpressions(VectorWrapper, _Recorder):
    """Logs every served row of a native ``SlateRec`` vector env: under ``NEXT_STEP`` the autoreset
    rows served nothing and are skipped; under ``SAME_STEP`` the last slate of an ending row is read
    from ``info["final_info"]``."""

    def __init__(self, env: VectorEnv, writer: ImpressionWriter) -> None:
        super().__init__(env)
        self._start(writer)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._seen(obs)
        return obs, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        if self._candidates is None:
            raise RuntimeError("call reset() before step()")
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        self._record(served_info(info), rewards, actions, rows=None)
        self._seen(obs)
        return obs, rewards, terminated, truncated, info

    def close(self, **kwargs: Any) -> None:
        self.writer.close()
        super().close(**kwargs)
