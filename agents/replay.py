"""A ring of fixed capacity holding rows of named arrays: the storage of the replay buffers.

Every push appends rows (overwriting the oldest once full); the shapes and dtypes of the fields are
fixed by the first push, and a later push with other shapes raises ``ValueError``. Used by the
GFlowNets' ``"mixed"`` buffer (:mod:`agents.gfn.buffer`) and SlateQ's buffer
(:mod:`agents.slateq.buffer`).

Example:
    >>> import numpy as np
    >>> from agents.replay import Ring
    >>> ring = Ring(capacity=3)
    >>> ring.push({"x": np.arange(4)})
    >>> len(ring), sorted(ring.get(ring.newest(2))["x"].tolist())
    (3, [2, 3])
"""

from __future__ import annotations

import numpy as np

from slategym.validation import check_int

__all__ = ["Ring"]


class Ring:
    """See the module docstring."""

    def __init__(self, capacity: int) -> None:
        self.capacity = check_int("capacity", capacity, 1)
        self._data: dict[str, np.ndarray] = {}  # (capacity, ...) per field
        self._size = 0  # rows held
        self._next = 0  # ring position of the next write
        self._pushed = 0  # rows pushed in total

    def __len__(self) -> int:
        return self._size

    @property
    def pushed(self) -> int:
        """Rows pushed since construction."""
        return self._pushed

    def push(self, fields: dict[str, np.ndarray]) -> None:
        """Append the rows of ``fields`` (every array has the same leading size)."""
        sizes = {np.shape(v)[0] if np.ndim(v) else -1 for v in fields.values()}
        if len(sizes) != 1 or -1 in sizes:
            raise ValueError(f"fields disagree on the number of rows: {sorted(sizes)}")
        n = sizes.pop()
        if n == 0:
            return
        if not self._data:
            self._data = {
                k: np.zeros((self.capacity, *np.shape(v)[1:]), np.asarray(v).dtype)
                for k, v in fields.items()
            }
        if set(fields) != set(self._data):
            raise ValueError(f"fields {sorted(fields)} differ from the first push {sorted(self._data)}")
        for k, v in fields.items():
            if np.shape(v)[1:] != self._data[k].shape[1:]:
                raise ValueError(
                    f"{k} rows have shape {np.shape(v)[1:]}, expected {self._data[k].shape[1:]} "
                    "(the shapes of the first push)"
                )
        self._pushed += n
        if n > self.capacity:  # only the newest rows fit
            fields = {k: np.asarray(v)[-self.capacity :] for k, v in fields.items()}
            n = self.capacity
        idx = (self._next + np.arange(n)) % self.capacity
        for k, v in fields.items():
            self._data[k][idx] = v
        self._next = int((self._next + n) % self.capacity)
        self._size = min(self._size + n, self.capacity)

    def newest(self, n: int) -> np.ndarray:
        """Ring positions of the ``min(n, len)`` newest rows, newest first."""
        n = min(int(n), self._size)
        return (self._next - 1 - np.arange(n)) % self.capacity

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` ring positions drawn uniformly (with replacement) from the rows held."""
        if self._size == 0:
            raise ValueError("the replay buffer is empty: push feedback before sampling")
        # Before the ring wraps, rows live at [0, size); after, every slot is filled.
        return rng.integers(0, self._size, size=int(n))

    def get(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """The rows at ring positions ``idx`` (copies)."""
        return {k: v[idx] for k, v in self._data.items()}
