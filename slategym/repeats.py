r"""A once-per-env warning for policies that put the same item in several positions of a slate.

## Description

A slate of ``K`` positions drawn from ``MultiDiscrete([C] * K)`` may repeat a candidate; the env
shows the first copy and counts the others in ``info["n_duplicates"]`` (they are never clicked).
Every mainstream RL library gives a ``MultiDiscrete`` action one *independent* categorical head per
position, so a trained policy evaluated greedily (``deterministic=True``, argmax per head) tends to
put its single best candidate in every position: ``K - 1`` wasted positions per slate. This
module watches ``n_duplicates`` as the env steps and warns once per env when it is *high*.

## Definition of "high"

Over each window of :data:`WINDOW` = 100 consecutive slates (of one env; a vector env counts the
slates of all its rows), the mean ``n_duplicates`` per slate :math:`\bar d` is compared with

.. math::

    h(C, K) = \max\bigl(1,\; 2\,E_u(C, K)\bigr), \qquad
    E_u(C, K) = \sum_{i=0}^{K-1} \Bigl(1 - \bigl(1 - \tfrac{1}{C}\bigr)^{i}\Bigr),

where :math:`E_u` is the expected ``n_duplicates`` of a uniformly random ``MultiDiscrete`` slate
(``action_space.sample()``: position :math:`i` repeats an earlier one unless it avoids all
:math:`i` earlier draws). "High" is :math:`\bar d \ge h`: at least one wasted position per slate
on average, and at least twice what random slates waste. At the default ``C = 50, K = 6``,
:math:`E_u = 0.29` and :math:`h = 1`; a collapsed policy wastes ``K - 1 = 5``. With ``K = 1``
nothing can repeat and the warning never fires.

## Cost

One addition and one comparison per step (the env computes ``n_duplicates`` anyway); after the
warning, nothing. ``strict_slates=True`` raises on any repeat instead.

## Example

>>> monitor = RepeatMonitor(num_candidates=50, slate_size=6)
>>> round(monitor.threshold, 3), round(expected_uniform_duplicates(50, 6), 3)
(1.0, 0.292)
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     for _ in range(100):
...         monitor.update(5)  # K - 1 = 5 repeats in every slate
>>> len(caught), caught[0].category.__name__
(1, 'RepeatedItemsWarning')

## Version History

* slategym 0.2: added.
"""

from __future__ import annotations

import warnings

WINDOW = 100
"""Slates per window over which the mean ``n_duplicates`` is compared with the threshold."""


class RepeatedItemsWarning(UserWarning):
    """Slates keep repeating items (see :mod:`slategym.repeats`); filter it with
    ``warnings.filterwarnings("ignore", category=RepeatedItemsWarning)``."""


def expected_uniform_duplicates(num_candidates: int, slate_size: int) -> float:
    """:math:`E_u(C, K)`: the expected ``n_duplicates`` of a uniformly random ``MultiDiscrete``
    slate of ``slate_size`` positions over ``num_candidates`` candidates."""
    stay = 1.0 - 1.0 / num_candidates
    return float(sum(1.0 - stay**i for i in range(slate_size)))


class RepeatMonitor:
    """Counts repeated positions over windows of :data:`WINDOW` slates and warns once when their
    mean reaches :attr:`threshold` (``max(1, 2 E_u)``, see the module docstring)."""

    def __init__(self, num_candidates: int, slate_size: int) -> None:
        self.num_candidates, self.slate_size = num_candidates, slate_size
        self.uniform = expected_uniform_duplicates(num_candidates, slate_size)
        self.threshold = max(1.0, 2.0 * self.uniform)
        self.active = slate_size > 1  # False once warned: no more work
        self._repeats = 0
        self._slates = 0

    def update(self, repeats: int, slates: int = 1) -> None:
        """Add ``slates`` served slates holding ``repeats`` repeated positions in total."""
        self._repeats += repeats
        self._slates += slates
        if self._slates < WINDOW:
            return
        mean = self._repeats / self._slates
        self._repeats = self._slates = 0
        if mean >= self.threshold:
            self.active = False
            warnings.warn(self.message(mean), RepeatedItemsWarning, stacklevel=3)

    def message(self, mean: float) -> str:
        k = self.slate_size
        return (
            f"SlateRec: the slates repeat items, {mean:.2f} of {k} positions per slate on average "
            f"over the last {WINDOW} slates (uniformly random slates repeat {self.uniform:.2f}); "
            "a repeated item is never clicked. A policy with one independent head per position "
            "(the default MultiDiscrete policy of SB3, RLlib, TorchRL, Tianshou, CleanRL) "
            f"collapses to {k} copies of its best item when evaluated greedily. Use "
            "slategym.wrappers.TopKSlate (per-candidate scores -> the top-K distinct candidates, "
            "or Plackett-Luce sampling) or a policy that masks chosen candidates; see "
            "docs/integrations.md. Shown once per env."
        )
