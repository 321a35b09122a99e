"""Fresh arrays without fresh pages: sets of arrays handed out as new are taken back once nothing
but this module holds them any more.

A native vector env returns new observation arrays every step (``copy=True``, Gymnasium's
default): at 4096 rows and 10 candidates that is about 4 MB a step, and the allocator hands memory
of that size back to the system when it is freed, so every step pays page faults on fresh pages
(they cost more than writing the observation; ``docs/performance.md``). A :class:`Recycler`
instead keeps the sets it handed out and gives one back out again when the caller has dropped every
array of it: the caller cannot tell, since no reference to a reused array is left anywhere.

Whether an array is still held is read from CPython's reference count (``sys.getrefcount``),
compared with the count of an array held by the recycler alone, measured once on a probe set held
the same way, so the comparison does not depend on how the interpreter counts. Any reference
counts: a name, a dict or list, a view (it holds its base), a ``memoryview``, a
``torch.from_numpy`` tensor. An interpreter without reference counts (no ``sys.getrefcount``)
always gets fresh arrays.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

ArraySet = dict[str, np.ndarray]


class Recycler:
    """Hands out sets of arrays made by ``make()``, reusing a set once the caller holds none of
    its arrays; at most ``keep`` sets are tracked (older ones are the caller's alone).

    >>> import numpy as np
    >>> pool = Recycler(lambda: {"x": np.zeros(3)})
    >>> first = pool.get()
    >>> pool.get() is first  # still held: a new set
    False
    >>> x_id = id(first["x"])
    >>> del first
    >>> id(pool.get()["x"]) == x_id  # dropped: reused
    True
    """

    def __init__(self, make: Callable[[], ArraySet], keep: int = 2) -> None:
        self._make = make
        self._keep = keep
        self._sets: list[ArraySet] = []
        self._enabled = hasattr(sys, "getrefcount")
        self._alone = self._calibrate() if self._enabled else 0

    def _calibrate(self) -> int:
        """The count of an array held only as the recycler holds its sets (in ``_sets``)."""
        probe: list[ArraySet] = [{"probe": np.empty(0)}]
        self._sets, saved = probe, self._sets
        try:
            return self._most_held(0)
        finally:
            self._sets = saved

    def _most_held(self, index: int) -> int:
        """The largest reference count among the arrays of set ``index``."""
        return max(map(sys.getrefcount, self._sets[index].values()))

    def get(self) -> ArraySet:
        """A set whose arrays nobody else holds: a reused one, or a new one from ``make()``. The
        returned dict is a new dict (the caller may change it); the arrays are the set's."""
        if self._enabled:
            for i in range(len(self._sets)):
                if self._most_held(i) <= self._alone:
                    return dict(self._sets[i])
        made = self._make()
        self._sets.append(made)
        if len(self._sets) > self._keep:
            self._sets.pop(0)
        return dict(made)
