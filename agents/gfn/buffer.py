"""Replay of served slates for the GFlowNet agents: ``"latest"`` or ``"mixed"``.

Each stored row is what one user saw and was served: the observation keys the networks read
(:data:`agents.tensors.OBS_KEYS`), the slate ``(K,)`` and the reward ``R`` the agent computed for it.

* ``"latest"`` keeps only the most recent pushed batch and :meth:`ReplayBuffer.sample` returns it
  (a uniform subset without replacement when it holds more than ``batch_size`` rows). This is what
  the released GFN4Rec training scripts do: their ``SequentialBuffer`` returns the newest
  ``batch_size`` rows (its random share ``buffer_random_rate`` defaults to 0, and the scripts' flag
  ``--random_rate`` is not that option: ``parse_known_args`` drops it), and the episode batch equals
  the training batch (128), so every gradient step learns from the slates just served.
* ``"mixed"`` is a ring buffer of ``capacity`` rows (:class:`agents.replay.Ring`); a sample of
  ``batch_size`` rows takes half from the most recent ``batch_size // 2`` pushed rows and half
  uniformly (with replacement) from the whole buffer, so fresh data is always seen while older slates
  are replayed.

Sampling uses an explicit ``np.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.replay import Ring
from agents.tensors import OBS_KEYS

__all__ = ["BEHAVIOURS", "Batch", "ReplayBuffer"]

BEHAVIOURS = ("latest", "mixed")


@dataclass(frozen=True)
class Batch:
    """Rows of replayed experience."""

    observations: dict[str, np.ndarray]  # (B, ...) the OBS_KEYS
    slates: np.ndarray  # (B, K) int64
    rewards: np.ndarray  # (B,) float64 the agent's reward R

    @property
    def size(self) -> int:
        return int(self.slates.shape[0])

    def fields(self) -> dict[str, np.ndarray]:
        n = self.size
        out = {k: np.asarray(self.observations[k]) for k in OBS_KEYS}
        out["slates"] = np.asarray(self.slates, np.int64)
        out["rewards"] = np.asarray(self.rewards, np.float64)
        for k, v in out.items():
            if v.ndim == 0 or v.shape[0] != n:
                raise ValueError(f"{k} has shape {v.shape}, expected a leading axis of size {n}")
        return out

    @staticmethod
    def of(fields: dict[str, np.ndarray]) -> Batch:
        return Batch({k: fields[k] for k in OBS_KEYS}, fields["slates"], fields["rewards"])


class ReplayBuffer:
    """See the module docstring."""

    def __init__(self, behaviour: str = "latest", capacity: int = 10_000) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(
                f"behaviour={behaviour!r} is not allowed: expected one of {BEHAVIOURS}"
            )
        self.behaviour = behaviour
        self.ring = Ring(capacity)
        self._latest: dict[str, np.ndarray] = {}
        self._pushed = 0

    def __len__(self) -> int:
        if self.behaviour == "latest":
            return int(self._latest["slates"].shape[0]) if self._latest else 0
        return len(self.ring)

    @property
    def pushed(self) -> int:
        """Rows pushed since construction."""
        return self._pushed

    def push(self, batch: Batch) -> None:
        """Store ``batch`` (``"latest"``: replace; ``"mixed"``: append, overwriting the oldest)."""
        fields = batch.fields()
        if batch.size == 0:
            return
        self._pushed += batch.size
        if self.behaviour == "latest":
            self._latest = {k: v.copy() for k, v in fields.items()}
        else:
            self.ring.push(fields)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """A batch of at most ``batch_size`` rows (see the module docstring)."""
        if len(self) == 0:
            raise ValueError("the replay buffer is empty: push feedback before sampling")
        if self.behaviour == "latest":
            n = len(self)
            idx = np.arange(n) if n <= batch_size else np.sort(
                rng.choice(n, size=batch_size, replace=False)
            )
            return Batch.of({k: v[idx] for k, v in self._latest.items()})
        idx = np.concatenate([self.ring.newest(batch_size // 2),
                              self.ring.uniform(batch_size - min(batch_size // 2, len(self)), rng)])
        return Batch.of(self.ring.get(idx))
