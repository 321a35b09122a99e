"""A flat ``Box`` observation for default MLP policies, with the id keys dropped or embedded.

The ``Dict`` observation of a SlateRec env holds three keys that are *ids*, not quantities:
``candidate_ids`` and ``history_ids`` (catalog ids, ``-1`` = empty history slot) and
``candidate_topics`` (topic ids). Gymnasium's ``FlattenObservation``, RLlib's
``FlattenObservations`` connector and SB3's ``MultiInputPolicy`` all feed them to the network as
floats: item 917 becomes "917 times item 1", a magnitude the network cannot use and that
swamps the real features (a flat MLP on that view did not learn in 50k steps in any library).
``FlattenSlateObservation`` builds the flat vector from the standard keys instead:

| part | size | content |
|---|---|---|
| ``user`` | ``P`` | observable profile, as is (in ``[0, 1]``) |
| ``candidates`` | ``C * F`` | candidate features, as is |
| ``candidate_topics`` | ``C * T`` | one-hot topics (``topics="one_hot"``, default) or nothing (``"drop"``) |
| ``candidate_ids`` | ``C * d`` | nothing (``ids="drop"``, default) or a fixed random embedding (``"embed"``) |
| ``history`` | ``L * (F + 2)`` | history features and responses, as is |
| ``history_ids`` | ``L * d`` | nothing, or the embedding (zeros for an empty slot) |
| ``time`` | 3 | day, hour, session position, divided by their maxima (in ``[0, 1]``) |

Keys a world adds beyond the standard seven are left out (agents read the standard keys).

Dropping or embedding: the candidate features already carry what the simulator knows of an item
(latent vector, price, popularity), so ``ids="drop"`` loses only the item's identity: the
network cannot memorise per-item facts beyond the features (fine for the built-in worlds, whose
affinities are functions of the features). ``ids="embed"`` gives each catalog id a fixed random
unit vector of ``embedding_dim`` (drawn from ``embedding_seed``, never trained): the network can
tell items apart and memorise them, at ``(C + L) * d`` more inputs, and random codes of small
``d`` collide often (two of 1000 ids in 16 dimensions are rarely near-orthogonal). A *learned*
embedding needs a network that takes the ids as integers (an embedding layer in a custom
policy); keep the ``Dict`` observation for that.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from slategym.validation import check_int, check_seed
from slategym.wrappers.topk import autoreset_mode_of

STANDARD_KEYS = (
    "user", "candidates", "candidate_ids", "candidate_topics", "history_ids", "history", "time",
)  # fmt: skip
"""The observation keys every SlateRec world has (and the only ones flattened)."""


class SlateObservationFlattener:
    """The map from a SlateRec ``Dict`` observation (any leading batch shape) to a flat float32
    vector, with its ``Box`` space; shared by the single and vector wrappers.

    Args:
        space: the ``Dict`` observation space of one env.
        ids: ``"drop"`` (default) or ``"embed"``: what becomes of ``candidate_ids`` and
            ``history_ids``.
        topics: ``"one_hot"`` (default) or ``"drop"``: what becomes of ``candidate_topics``.
        embedding_dim: ``d``, size of an id embedding (``ids="embed"``).
        embedding_seed: seed of the fixed random embedding table.
    """

    def __init__(
        self,
        space: gym.Space[Any],
        ids: Literal["drop", "embed"] = "drop",
        topics: Literal["one_hot", "drop"] = "one_hot",
        embedding_dim: int = 16,
        embedding_seed: int = 0,
    ) -> None:
        if not isinstance(space, spaces.Dict) or any(k not in space.spaces for k in STANDARD_KEYS):
            raise ValueError(
                f"the observation space must be a Dict with the SlateRec keys {list(STANDARD_KEYS)}, "
                f"got {space}"
            )
        if ids not in ("drop", "embed"):
            raise ValueError(f"ids={ids!r} is not allowed: expected 'drop' or 'embed'")
        if topics not in ("one_hot", "drop"):
            raise ValueError(f"topics={topics!r} is not allowed: expected 'one_hot' or 'drop'")
        self.ids, self.topics = ids, topics
        boxes: dict[str, spaces.Box] = {k: space.spaces[k] for k in STANDARD_KEYS}  # type: ignore[misc]
        self.num_topics = int(np.max(boxes["candidate_topics"].high)) + 1
        self.time_scale = np.maximum(boxes["time"].high, 1.0).astype(np.float32)
        c = boxes["candidate_ids"].shape[0]
        length = boxes["history_ids"].shape[0]
        lows: list[np.ndarray] = [boxes["user"].low.ravel(), boxes["candidates"].low.ravel()]
        highs: list[np.ndarray] = [boxes["user"].high.ravel(), boxes["candidates"].high.ravel()]
        if topics == "one_hot":
            lows.append(np.zeros(c * self.num_topics, np.float32))
            highs.append(np.ones(c * self.num_topics, np.float32))
        self.table: np.ndarray | None = None
        if ids == "embed":
            d = check_int("embedding_dim", embedding_dim, 1)
            rng = np.random.default_rng(check_seed(embedding_seed, "embedding_seed"))
            num_ids = int(np.max(boxes["candidate_ids"].high)) + 1
            table = rng.standard_normal((num_ids + 1, d)).astype(np.float32)
            table /= np.linalg.norm(table, axis=1, keepdims=True)
            table[-1] = 0.0  # row -1: an empty history slot
            self.table = table
            lows.append(np.full(c * d, -1.0, np.float32))
            highs.append(np.ones(c * d, np.float32))
        lows.append(boxes["history"].low.ravel())
        highs.append(boxes["history"].high.ravel())
        if ids == "embed":
            lows.append(np.full(length * embedding_dim, -1.0, np.float32))
            highs.append(np.ones(length * embedding_dim, np.float32))
        lows.append(np.zeros(3, np.float32))
        highs.append(np.ones(3, np.float32))
        low, high = np.concatenate(lows), np.concatenate(highs)
        self.space = spaces.Box(low, high, low.shape, np.float32)

    def __call__(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """``(..., D)`` float32 for observations with leading shape ``(...)``."""
        batch = np.shape(obs["user"])[:-1]

        def flat(a: Any) -> np.ndarray:
            return np.asarray(a, np.float32).reshape(*batch, -1)

        parts = [flat(obs["user"]), flat(obs["candidates"])]
        if self.topics == "one_hot":
            eye = np.eye(self.num_topics, dtype=np.float32)
            parts.append(flat(eye.take(np.asarray(obs["candidate_topics"]), axis=0)))
        if self.table is not None:
            parts.append(flat(self.table.take(np.asarray(obs["candidate_ids"]), axis=0)))
        parts.append(flat(obs["history"]))
        if self.table is not None:  # -1 takes the last (zero) row
            parts.append(flat(self.table.take(np.asarray(obs["history_ids"]), axis=0)))
        parts.append(flat(np.asarray(obs["time"], np.float32) / self.time_scale))
        return np.concatenate(parts, axis=-1)


class FlattenSlateObservation(
    gym.ObservationWrapper[np.ndarray, Any, dict[str, np.ndarray]],
    gym.utils.RecordConstructorArgs,
):
    """A single env whose observation is the flat vector of :class:`SlateObservationFlattener`
    (same arguments after ``env``; ids dropped by default, topics one-hot).

    Example:

    >>> import gymnasium as gym, slategym
    >>> from slategym.wrappers import FlattenSlateObservation
    >>> env = FlattenSlateObservation(gym.make("SlateRec-v0"))
    >>> env.observation_space.shape  # 10 + 50*10 + 50*10 (topics) + 10*12 + 3
    (1133,)
    """

    def __init__(self, env: gym.Env[Any, Any], **kwargs: Any) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, **kwargs)
        gym.ObservationWrapper.__init__(self, env)
        self.flattener = SlateObservationFlattener(env.observation_space, **kwargs)
        self.observation_space = self.flattener.space

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return self.flattener(observation)


class FlattenSlateObservationVector(VectorWrapper):
    """The vector counterpart of :class:`FlattenSlateObservation` (same arguments), for any
    Gymnasium ``VectorEnv`` of SlateRec envs. Works in every autoreset mode: under ``SAME_STEP``
    the ``info["final_obs"]`` of ended rows are flattened too (Gymnasium's
    ``VectorObservationWrapper`` refuses that mode)."""

    def __init__(self, env: VectorEnv, **kwargs: Any) -> None:
        super().__init__(env)
        self.flattener = SlateObservationFlattener(env.single_observation_space, **kwargs)
        self.single_observation_space = self.flattener.space
        self.observation_space = batch_space(self.flattener.space, self.num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)  # type: ignore[arg-type]
        return self.flattener(obs), info

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        if "final_obs" in info:
            final = np.full(self.num_envs, None, dtype=object)
            for r in np.flatnonzero(info["_final_obs"]):
                final[r] = self.flattener(info["final_obs"][r])
            info["final_obs"] = final
        return self.flattener(obs), rewards, terminated, truncated, info

    @property
    def autoreset_mode(self) -> AutoresetMode:
        """The wrapped env's (TorchRL reads it to reset rows with ``reset_mask``)."""
        return autoreset_mode_of(self.env)
