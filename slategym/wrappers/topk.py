"""Wrappers that take per-candidate scores and serve slates of distinct candidates.

``TopKSlate`` (a single env) and ``TopKSlateVector`` (a Gymnasium ``VectorEnv``, e.g. the native
one) replace the slate action ``MultiDiscrete([C] * K)`` by a ``Box`` of ``C`` scores, one per
candidate of the observation. They serve the ``K`` best-scored candidates (``mode="top_k"``,
deterministic, ties to the lower index) or a Plackett–Luce sample with the scores as logits
(``mode="plackett_luce"``), and report the slate they served in ``info["slate"]`` and, when
sampling, its log-probability in ``info["slate_log_prob"]`` (for policy-gradient methods). The
maths is in :mod:`slategym.wrappers.ranking`.

Why: every RL library's default policy for ``MultiDiscrete`` samples each position from its own
head, so a greedy evaluation puts the same best candidate in every position (see
:mod:`slategym.repeats`). A ``Box`` of scores gets any library's Gaussian or deterministic
policy (SB3, RLlib, TorchRL, Tianshou, CleanRL) to serve distinct slates with no custom head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space

from slategym.validation import check_float, check_seed
from slategym.wrappers.ranking import (
    plackett_luce_log_prob,
    plackett_luce_sample,
    sampler_rng,
    top_k,
)

Mode = Literal["top_k", "plackett_luce"]
MODES: tuple[str, ...] = ("top_k", "plackett_luce")


def slate_shape(space: gym.Space[Any], owner: str) -> tuple[int, int]:
    """``(num_candidates, slate_size)`` of a slate action space ``MultiDiscrete([C] * K)``."""
    if (
        not isinstance(space, spaces.MultiDiscrete)
        or space.nvec.ndim != 1
        or not np.all(space.nvec == space.nvec[0])
    ):
        raise ValueError(
            f"{owner} needs an env whose action space is MultiDiscrete([num_candidates] * "
            f"slate_size), got {space}"
        )
    return int(space.nvec[0]), int(space.nvec.size)


def autoreset_mode_of(env: VectorEnv) -> AutoresetMode:
    """The autoreset mode of a vector env (attribute, else metadata, else Gymnasium's default)."""
    mode = getattr(env, "autoreset_mode", None)
    return mode if mode is not None else env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)


class _Scorer:
    """The checks and options shared by the single and vector wrappers."""

    def __init__(self, owner: str, mode: str, temperature: float, low: float, high: float) -> None:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not allowed: expected one of {list(MODES)}")
        self.owner, self.mode = owner, mode
        self.temperature = check_float("temperature", temperature, 0.0, low_open=True)
        self.low, self.high = float(low), float(high)
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ValueError(
                f"low={low!r}, high={high!r} are not allowed: expected finite bounds, low < high "
                "(the bounds of the score Box; SB3 and RLlib need them finite)"
            )

    def scores(self, action: Any, shape: tuple[int, ...]) -> np.ndarray:
        """The action as float64 scores of ``shape``, or ``ValueError``."""
        arr = np.asarray(action)
        if arr.shape != shape or arr.dtype.kind not in "fiu":
            raise ValueError(
                f"{self.owner} expects real scores of shape {shape} (one per candidate), got "
                f"{arr.dtype} {arr.shape}"
            )
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{self.owner} got non-finite scores {arr[~np.isfinite(arr)][:3].tolist()}: "
                "expected finite reals (NaN has no rank)"
            )
        return arr


class TopKSlate(
    gym.ActionWrapper[dict[str, np.ndarray], np.ndarray, np.ndarray],
    gym.utils.RecordConstructorArgs,
):
    """A single env whose action is one score per candidate; serves the top-K distinct candidates
    or a Plackett–Luce sample.

    Args:
        env: an env with action space ``MultiDiscrete([C] * K)`` (any SlateRec world).
        mode: ``"top_k"`` (default): the ``K`` highest scores, highest first, equal scores to the
            lower candidate index. ``"plackett_luce"``: ``scores / temperature`` are logits, the
            slate is a Plackett–Luce sample and ``info["slate_log_prob"]`` its log-probability.
        temperature: divides the scores before sampling (``> 0``; only ranks matter for top-K).
            With scores in ``[-1, 1]`` a temperature of 0.1 lets the policy be nearly
            deterministic; at 1 the most likely candidate is at most ``e^2`` times as likely as
            the least.
        low, high: bounds of the action ``Box(low, high, (C,), float32)`` (default ``[-1, 1]``,
            the range SB3 recommends). Scores outside the bounds are accepted as they are (not
            clipped); libraries that clip to the bounds create ties, broken by index.
        rng: a ``np.random.Generator`` for Plackett–Luce sampling. Without it, ``reset(seed=s)``
            seeds the sampler from ``SeedSequence(s, spawn_key=(0, SAMPLER_STREAM))`` (never the
            env's own stream); an explicit ``rng`` is never reseeded.

    ``info["slate"]`` (``(K,)`` int64) is the slate served, in positions; the wrapped env's
    ``n_duplicates`` is always 0.

    Example:

    >>> import gymnasium as gym, numpy as np, slategym
    >>> from slategym.wrappers import TopKSlate
    >>> env = TopKSlate(gym.make("SlateRec-v0", num_candidates=5, slate_size=3))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(np.array([0.1, 0.9, 0.5, 0.9, 0.0]))
    >>> info["slate"], info["n_duplicates"]
    (array([1, 3, 2]), 0)
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        mode: Mode = "top_k",
        temperature: float = 1.0,
        low: float = -1.0,
        high: float = 1.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, mode=mode, temperature=temperature, low=low, high=high, rng=rng
        )
        gym.ActionWrapper.__init__(self, env)
        self.num_candidates, self.slate_size = slate_shape(env.action_space, "TopKSlate")
        self._scorer = _Scorer("TopKSlate", mode, temperature, low, high)
        self.mode = mode
        self.action_space = spaces.Box(low, high, (self.num_candidates,), np.float32)
        self._own_rng = rng is None
        self.sampler: np.random.Generator | None = rng
        self._log_prob = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        if self._own_rng and seed is not None:
            self.sampler = sampler_rng(check_seed(seed))
        return obs, info

    def action(self, action: np.ndarray) -> np.ndarray:
        """The ``(K,)`` slate for ``action`` (``C`` scores); samples in Plackett–Luce mode."""
        scores = self._scorer.scores(action, (self.num_candidates,))
        if self.mode == "top_k":
            return top_k(scores, self.slate_size)
        if self.sampler is None:  # never seeded: fresh OS entropy, as Gymnasium does
            self.sampler = np.random.default_rng()
        logits = scores / self._scorer.temperature
        slate = plackett_luce_sample(logits, self.slate_size, self.sampler)
        self._log_prob = float(plackett_luce_log_prob(logits, slate))
        return slate

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        slate = self.action(action)
        obs, reward, terminated, truncated, info = self.env.step(slate)
        info["slate"] = slate
        if self.mode == "plackett_luce":
            info["slate_log_prob"] = self._log_prob
        return obs, float(reward), terminated, truncated, info


class TopKSlateVector(VectorActionWrapper):
    """The vector counterpart of :class:`TopKSlate` (same arguments), for any Gymnasium
    ``VectorEnv`` with a ``MultiDiscrete([C] * K)`` single action space, such as the native
    ``gym.make_vec("SlateRec-v0", N, vectorization_mode="vector_entry_point")``.

    The action is an ``(N, C)`` array of scores. ``info["slate"]`` (``(N, K)`` int64) and, in
    Plackett–Luce mode, ``info["slate_log_prob"]`` (``(N,)`` float64) come with Gymnasium's masks
    ``info["_slate"]``, ``info["_slate_log_prob"]``: under ``NEXT_STEP`` autoreset a row that
    ended at the previous step is being reset, its scores are ignored (not checked, not sampled)
    and its mask is False. Under ``SAME_STEP`` the rows that end in a step keep their slate at the
    top level too (a ``SyncVectorEnv`` of ``TopKSlate`` moves it into ``info["final_info"]`` with
    the rest of their step info), so a learner reads every served slate in one place.

    Each row samples from its own generator: ``reset(seed=s)`` seeds row ``i`` from ``(s, i)``,
    ``reset(seed=[s_0, ...])`` row ``i`` as a :class:`TopKSlate` reset with ``s_i``, so this
    wrapper over the native env equals a ``SyncVectorEnv`` of ``TopKSlate``-wrapped single envs
    reset with the same list (tested). An explicit ``rng`` is either one generator shared by all
    rows or a sequence of ``N``. The wrapped env's ``autoreset_mode`` is exposed (TorchRL reads it).

    Example:

    >>> import gymnasium as gym, numpy as np, slategym
    >>> from slategym.wrappers import TopKSlateVector
    >>> envs = TopKSlateVector(
    ...     gym.make_vec("SlateRec-v0", 4, vectorization_mode="vector_entry_point"),
    ...     mode="plackett_luce",
    ... )
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.zeros((4, 50), np.float32))
    >>> info["slate"].shape, bool(np.allclose(info["slate_log_prob"], -np.log(50 * 49 * 48 * 47 * 46 * 45)))
    ((4, 6), True)
    """

    def __init__(
        self,
        env: VectorEnv,
        mode: Mode = "top_k",
        temperature: float = 1.0,
        low: float = -1.0,
        high: float = 1.0,
        rng: np.random.Generator | Sequence[np.random.Generator] | None = None,
    ) -> None:
        super().__init__(env)
        self.num_candidates, self.slate_size = slate_shape(
            env.single_action_space, "TopKSlateVector"
        )
        self._scorer = _Scorer("TopKSlateVector", mode, temperature, low, high)
        self.mode = mode
        self.single_action_space = spaces.Box(low, high, (self.num_candidates,), np.float32)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        n = self.num_envs
        if isinstance(rng, np.random.Generator):
            rng = [rng] * n
        elif rng is not None and len(rng) != n:
            raise ValueError(f"rng holds {len(rng)} generators: expected one or num_envs={n}")
        self._own_rng = rng is None
        self.samplers: list[np.random.Generator] | None = None if rng is None else list(rng)
        self._pending = np.zeros(n, bool)  # rows that the next step resets (NEXT_STEP)
        self._log_prob = np.zeros(n)

    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)  # type: ignore[arg-type]
        mask = (options or {}).get("reset_mask")
        rows = np.arange(self.num_envs) if mask is None else np.flatnonzero(mask)
        self._pending[rows] = False
        if self._own_rng and seed is not None:
            if self.samplers is None:  # rows not seeded below keep fresh OS entropy
                self.samplers = [np.random.default_rng() for _ in range(self.num_envs)]
            for r in rows:
                if not isinstance(seed, (list, tuple, np.ndarray)):  # (s, r), as the native env
                    self.samplers[r] = sampler_rng(check_seed(seed), int(r))
                elif seed[r] is not None:  # as a single TopKSlate reset with seed[r]
                    self.samplers[r] = sampler_rng(check_seed(seed[r]))
        return obs, info

    def actions(self, actions: Any) -> np.ndarray:
        """The ``(N, K)`` slates for ``actions`` (``(N, C)`` scores); rows pending a reset get a
        placeholder slate (their action is ignored by the env)."""
        n, k = self.num_envs, self.slate_size
        arr = np.asarray(actions)
        served = ~self._pending
        if arr.shape != (n, self.num_candidates):  # report the shape error
            self._scorer.scores(arr, (n, self.num_candidates))
        rows = np.flatnonzero(served)
        scores = self._scorer.scores(arr[rows], (rows.size, self.num_candidates))
        slates = np.broadcast_to(np.arange(k), (n, k)).copy()
        self._log_prob = np.zeros(n)
        if self.mode == "top_k":
            slates[rows] = top_k(scores, k)
            return slates
        if self.samplers is None:  # never reset with a seed: fresh OS entropy
            self.samplers = [np.random.default_rng() for _ in range(n)]
        logits = scores / self._scorer.temperature
        samplers = [self.samplers[r] for r in rows]
        slates[rows] = plackett_luce_sample(logits, k, samplers)
        self._log_prob[rows] = plackett_luce_log_prob(logits, slates[rows])
        return slates

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        slates = self.actions(actions)
        served = ~self._pending
        obs, rewards, terminated, truncated, info = self.env.step(slates)
        info["slate"], info["_slate"] = slates, served
        if self.mode == "plackett_luce":
            info["slate_log_prob"], info["_slate_log_prob"] = self._log_prob, served.copy()
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._pending = terminated | truncated
        return obs, rewards, terminated, truncated, info

    @property
    def autoreset_mode(self) -> AutoresetMode:
        """The wrapped env's (TorchRL reads it to reset rows with ``reset_mask``)."""
        return autoreset_mode_of(self.env)
