"""The item catalog: the arrays every model reads, its live window over days, and candidate draws.

A :class:`Catalog` is produced by an item model (:mod:`slategym.items`): the default synthetic one
(:class:`~slategym.items.DefaultItemModel`, whose maths is documented there), a table of real item
features (:class:`~slategym.items.TableItemModel`) or RecSim's document samplers. This module holds
the container and the two pieces of corpus dynamics every item model shares.

## Ageing

With ``new_items_per_day = a > 0``, ``a`` new items are released each day and the ``a`` oldest retire,
so that ``num_items`` items are live at any time: on day ``d`` the live items are the ids
``[d a, d a + num_items)``. Ids are never reused; the catalog holds ``num_items + a (days - 1)`` items.

## Candidates

Each slate request draws ``num_candidates = C`` distinct live items by stratified sampling under a
random rotation: the live window of ``n`` items is cut into ``C`` strata of sizes
``floor((c+1) n / C) - floor(c n / C)``, one item is drawn uniformly from each stratum, and the whole
draw is rotated by a uniform offset modulo ``n``. Every live item is a candidate with probability
exactly ``C / n``, the ``C`` candidates are distinct, and the draw costs ``C + 1`` uniforms per request
with no loop over users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

__all__ = ["FEATURE_BOUND", "Catalog", "check_catalog", "generate_catalog"]

_CHUNK = 1 << 15
"""Elements per pass in :meth:`Catalog.sample_candidates` (temporaries stay in cache)."""

FEATURE_BOUND = 5.0
"""Observable item features are clipped to ``[-FEATURE_BOUND, FEATURE_BOUND]``."""


@dataclass(frozen=True)
class Catalog:
    """All items of a timeline, with the arrays every model reads.

    ``total`` is ``num_items + new_items_per_day * (days - 1)``. Ids are row indices. ``num_topics``
    and the number of features ``F`` are the catalog's own (an item model may not follow the config's
    ``num_topics`` / ``latent_dim``); the observation space is built from them.
    """

    num_items: int  # live items at any time
    new_items_per_day: int
    num_topics: int
    topic: np.ndarray  # (total,) int64
    latent: np.ndarray  # (total, D) float64 latent vectors (unit norm in the default model)
    quality: np.ndarray  # (total,) float64, hidden
    price: np.ndarray  # (total,) float64, currency units
    price_z: np.ndarray  # (total,) float64, standardised log-price
    popularity_z: np.ndarray  # (total,) float64, standardised log-popularity
    popularity: np.ndarray  # (total,) float64, prior share, sums to 1
    features: np.ndarray  # (total + 1, F) float32; the last row is zeros (padding for "no item")
    topic_centres: np.ndarray  # (T, D)
    duration: np.ndarray | None = None  # (total,) float64 minutes to consume an item, or None
    feature_low: float = -FEATURE_BOUND  # every observable feature lies in [feature_low, feature_high]
    feature_high: float = FEATURE_BOUND
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)  # model-specific (total, ...) arrays

    @property
    def total(self) -> int:
        """Number of items over the whole timeline."""
        return int(self.topic.shape[0])

    @property
    def num_features(self) -> int:
        """Observable features per item (``F``)."""
        return int(self.features.shape[1])

    @cached_property
    def item_table(self) -> np.ndarray:
        """``(total, D + 3)`` float64 rows ``[latent | quality | popularity_z | price_z]``.

        The per-item numbers a user model reads, side by side, so that the items of a batch of
        slates are gathered with one ``np.take`` (see :meth:`gather`) instead of one per attribute.
        Built on first use; the values are copies of the attribute arrays, bit for bit.
        """
        d = self.latent.shape[1]
        table = np.empty((self.total, d + 3))
        table[:, :d] = self.latent
        table[:, d] = self.quality
        table[:, d + 1] = self.popularity_z
        table[:, d + 2] = self.price_z
        table.flags.writeable = False
        return table

    def gather(self, item_ids: np.ndarray) -> np.ndarray:
        """Rows of :attr:`item_table` for ``item_ids (...)``, shape ``(..., D + 3)``."""
        return self.item_table.take(item_ids, axis=0)

    def window_start(self, day: np.ndarray) -> np.ndarray:
        """First live item id on each ``day`` (``(N,)`` int64)."""
        return day.astype(np.int64) * self.new_items_per_day

    def sample_candidates(
        self, day: np.ndarray, uniforms: np.ndarray, num_candidates: int
    ) -> np.ndarray:
        """Distinct candidate ids ``(N, C)`` for rows on ``day`` from ``uniforms (N, C + 1)``."""
        n = self.num_items
        c = num_candidates
        starts, sizes = _strata(n, c)
        rows = uniforms.shape[0]
        rotation = (uniforms[:, c] * n).astype(np.int64)  # (N,)
        positions = np.empty((rows, c), np.int64)
        chunk = max(1, _CHUNK // c)  # rows per pass, so that the passes stay in cache
        scaled = np.empty((min(chunk, rows), c))
        wrap = np.empty((min(chunk, rows), c), bool)
        for lo in range(0, rows, chunk):
            hi = min(lo + chunk, rows)
            p, f, w = positions[lo:hi], scaled[: hi - lo], wrap[: hi - lo]
            np.multiply(uniforms[lo:hi, :c], sizes, out=f)
            p[...] = f  # truncation toward zero of non-negative offsets, as astype(int64)
            p += starts
            p += rotation[lo:hi, None]  # < 2 n: wrap with one subtraction instead of a modulo
            np.greater_equal(p, n, out=w)
            np.subtract(p, n, out=p, where=w)
        if self.new_items_per_day:
            positions += self.window_start(day)[:, None]
        return positions


@lru_cache(maxsize=64)
def _strata(n: int, num_candidates: int) -> tuple[np.ndarray, np.ndarray]:
    """First index ``(C,)`` int64 and size ``(C,)`` float64 (exact, >= 1) of each stratum."""
    bounds = (np.arange(num_candidates + 1, dtype=np.int64) * n) // num_candidates
    starts, sizes = bounds[:-1], np.diff(bounds).astype(np.float64)
    starts.flags.writeable = sizes.flags.writeable = False
    return starts, sizes


def check_catalog(catalog: Any) -> Catalog:
    """``catalog`` if it is a consistent :class:`Catalog`, else ValueError saying what is wrong.

    Item models from outside slategym go through this check once, when the simulator is built.
    """
    if not isinstance(catalog, Catalog):
        raise ValueError(
            f"the item model returned {type(catalog).__name__}: expected a slategym Catalog"
        )
    total = catalog.topic.shape[0]
    live = catalog.num_items
    if live < 1 or live > total:
        raise ValueError(f"catalog has num_items={live} live items but {total} items in all")
    rows = {
        "latent": catalog.latent.shape[:1], "quality": catalog.quality.shape,
        "price": catalog.price.shape, "price_z": catalog.price_z.shape,
        "popularity_z": catalog.popularity_z.shape, "popularity": catalog.popularity.shape,
    }  # fmt: skip
    for name, shape in rows.items():
        if shape != (total,):
            raise ValueError(f"catalog.{name} has shape {shape}: expected {total} rows, one per item")
    if catalog.features.ndim != 2 or catalog.features.shape[0] != total + 1:
        raise ValueError(
            f"catalog.features has shape {catalog.features.shape}: expected ({total + 1}, F), one "
            "row per item and a last row of zeros"
        )
    if catalog.topic.min(initial=0) < 0 or catalog.topic.max(initial=0) >= catalog.num_topics:
        raise ValueError(f"catalog.topic holds ids outside [0, {catalog.num_topics - 1}]")
    if catalog.duration is not None and catalog.duration.shape != (total,):
        raise ValueError(f"catalog.duration has shape {catalog.duration.shape}: expected ({total},)")
    for name in ("latent", "quality", "price", "price_z", "popularity_z", "popularity", "features"):
        if not np.all(np.isfinite(getattr(catalog, name))):
            raise ValueError(f"catalog.{name} holds NaN or infinite values: expected finite numbers")
    f = catalog.features[:total]
    if f.size and (f.min() < catalog.feature_low or f.max() > catalog.feature_high):
        raise ValueError(
            f"catalog.features lie in [{f.min()}, {f.max()}]: expected them inside "
            f"[feature_low, feature_high] = [{catalog.feature_low}, {catalog.feature_high}]"
        )
    return catalog


# The default item model's draw, under its historical name (it needs Catalog, defined above).
from slategym.items.default import draw_default_catalog as generate_catalog  # noqa: E402
