"""Replay of served slates for the GFlowNet agents: ``"latest"`` or ``"mixed"``.

Each stored row is what one user saw and did: the observation keys the networks read (``user``,
``candidates``, ``candidate_ids``, ``history_ids``, ``history``), the slate ``(K,)``, the clicks and
purchases per position ``(K,)``, and the env reward.

* ``"latest"`` keeps only the most recent pushed batch and :meth:`ReplayBuffer.sample` returns it
  (a uniform subset without replacement when it holds more than ``batch_size`` rows). This is what
  the released GFN4Rec training scripts effectively do: every gradient step learns from the slates
  just served, nearly on-policy.
* ``"mixed"`` is a ring buffer of ``capacity`` rows; a sample of ``batch_size`` rows takes half from
  the most recent ``batch_size // 2`` pushed rows and half uniformly (with replacement) from the
  whole buffer, so fresh data is always seen while older slates are replayed.

Sampling uses an explicit ``np.random.Generator``. Shapes are fixed by the first push; a later push
with other shapes raises ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.gfn.networks import OBS_KEYS

__all__ = ["BEHAVIOURS", "OBS_KEYS", "Batch", "ReplayBuffer"]

BEHAVIOURS = ("latest", "mixed")


@dataclass(frozen=True)
class Batch:
    """Rows of replayed experience."""

    observations: dict[str, np.ndarray]  # (B, ...) the OBS_KEYS
    slates: np.ndarray  # (B, K) int64
    clicks: np.ndarray  # (B, K) bool
    purchases: np.ndarray  # (B, K) bool
    rewards: np.ndarray  # (B,) float64 env reward

    @property
    def size(self) -> int:
        return int(self.slates.shape[0])


class ReplayBuffer:
    """See the module docstring."""

    def __init__(self, behaviour: str = "latest", capacity: int = 10_000) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(
                f"behaviour={behaviour!r} is not allowed: expected one of {BEHAVIOURS}"
            )
        if (
            isinstance(capacity, bool)
            or not isinstance(capacity, (int, np.integer))
            or capacity < 1
        ):
            raise ValueError(f"capacity={capacity!r} is not allowed: expected an integer >= 1")
        self.behaviour = behaviour
        self.capacity = int(capacity)
        self._data: dict[str, np.ndarray] = {}  # (capacity, ...) per field, "latest": (n, ...)
        self._size = 0  # rows held
        self._next = 0  # ring position of the next write ("mixed")
        self._pushed = 0  # rows pushed in total

    def __len__(self) -> int:
        return self._size

    @property
    def pushed(self) -> int:
        """Rows pushed since construction."""
        return self._pushed

    def push(self, batch: Batch) -> None:
        """Store ``batch`` (``"latest"``: replace; ``"mixed"``: append, overwriting the oldest)."""
        fields = self._fields(batch)
        n = batch.size
        if n == 0:
            return
        self._pushed += n
        if self.behaviour == "latest":
            self._data = {k: v.copy() for k, v in fields.items()}
            self._size = n
            return
        if not self._data:
            self._data = {
                k: np.zeros((self.capacity, *v.shape[1:]), v.dtype) for k, v in fields.items()
            }
        for k, v in fields.items():
            if v.shape[1:] != self._data[k].shape[1:]:
                raise ValueError(
                    f"{k} rows have shape {v.shape[1:]}, expected {self._data[k].shape[1:]} "
                    "(the shapes of the first push)"
                )
        if n > self.capacity:  # only the newest rows fit
            fields = {k: v[-self.capacity :] for k, v in fields.items()}
            n = self.capacity
        idx = (self._next + np.arange(n)) % self.capacity
        for k, v in fields.items():
            self._data[k][idx] = v
        self._next = int((self._next + n) % self.capacity)
        self._size = min(self._size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """A batch of at most ``batch_size`` rows (see the module docstring)."""
        if self._size == 0:
            raise ValueError("the replay buffer is empty: push feedback before sampling")
        if self.behaviour == "latest":
            if self._size <= batch_size:
                idx = np.arange(self._size)
            else:
                idx = np.sort(rng.choice(self._size, size=batch_size, replace=False))
        else:
            recent_n = min(batch_size // 2, self._size)
            recent = (self._next - 1 - np.arange(recent_n)) % self.capacity
            uniform = rng.integers(0, self._size, size=batch_size - recent_n)
            # Before the ring wraps, rows live at [0, size); after, every slot is filled.
            idx = np.concatenate([recent, uniform])
        d = {k: v[idx] for k, v in self._data.items()}
        return Batch(
            observations={k: d[k] for k in OBS_KEYS},
            slates=d["slates"],
            clicks=d["clicks"],
            purchases=d["purchases"],
            rewards=d["rewards"],
        )

    def _fields(self, batch: Batch) -> dict[str, np.ndarray]:
        n = batch.size
        fields = {k: np.asarray(batch.observations[k]) for k in OBS_KEYS}
        fields["slates"] = np.asarray(batch.slates, np.int64)
        fields["clicks"] = np.asarray(batch.clicks, bool)
        fields["purchases"] = np.asarray(batch.purchases, bool)
        fields["rewards"] = np.asarray(batch.rewards, np.float64)
        for k, v in fields.items():
            if v.ndim == 0 or v.shape[0] != n:
                raise ValueError(f"{k} has shape {v.shape}, expected a leading axis of size {n}")
        k_size = fields["slates"].shape[1:]
        for k in ("clicks", "purchases"):
            if fields[k].shape[1:] != k_size:
                raise ValueError(f"{k} has shape {fields[k].shape}, expected {(n, *k_size)}")
        return fields
