"""The item catalog: topics, latent features, quality, price, popularity, and its ageing over days.

## Generation

Topic centres :math:`\\mu_t` are random unit vectors in :math:`\\mathbb{R}^D`. Item ``i`` gets

* a topic :math:`\\tau_i \\sim \\mathrm{Categorical}(\\pi)`, :math:`\\pi_t \\propto (t+1)^{-1/2}`
  (some topics are bigger than others);
* a latent vector :math:`v_i = (\\mu_{\\tau_i} + s\\,\\varepsilon_i) / \\lVert\\cdot\\rVert`,
  :math:`\\varepsilon_i \\sim \\mathcal{N}(0, I_D)`, ``s`` = ``topic_spread``;
* a hidden quality :math:`q_i \\sim \\mathcal{N}(0, 1)`;
* a price :math:`\\log p_i \\sim \\mathcal{N}(\\log 20 + o_{\\tau_i}, 0.5^2)` with a per-topic offset
  :math:`o_t \\sim \\mathcal{N}(0, 0.5^2)`;
* a popularity prior :math:`\\rho_i \\propto \\exp(0.5\\,q_i + g_i)`, :math:`g_i \\sim \\mathcal{N}(0, 1)`
  (heavy-tailed, correlated with quality), summing to 1 over the catalog.

The observable features of an item (``F = D + 2`` columns, clipped to ``[-5, 5]``) are its latent
vector, its standardised log-price and its standardised log-popularity. Quality stays hidden: agents
learn it only through clicks.

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

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

_CHUNK = 1 << 15
"""Elements per pass in :meth:`Catalog.sample_candidates` (temporaries stay in cache)."""

FEATURE_BOUND = 5.0
"""Observable item features are clipped to ``[-FEATURE_BOUND, FEATURE_BOUND]``."""


@dataclass(frozen=True)
class Catalog:
    """All items of a timeline, with the arrays every model reads.

    ``total`` is ``num_items + new_items_per_day * (days - 1)``.
    """

    num_items: int  # live items at any time
    new_items_per_day: int
    num_topics: int
    topic: np.ndarray  # (total,) int64
    latent: np.ndarray  # (total, D) float64, unit norm
    quality: np.ndarray  # (total,) float64, hidden
    price: np.ndarray  # (total,) float64, currency units
    price_z: np.ndarray  # (total,) float64, standardised log-price
    popularity_z: np.ndarray  # (total,) float64, standardised log-popularity
    popularity: np.ndarray  # (total,) float64, prior share, sums to 1
    features: np.ndarray  # (total + 1, F) float32; the last row is zeros (padding for "no item")
    topic_centres: np.ndarray  # (T, D)

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


def generate_catalog(
    num_items: int,
    num_topics: int,
    latent_dim: int,
    days: int,
    new_items_per_day: int,
    topic_spread: float,
    rng: np.random.Generator,
) -> Catalog:
    """Draw a catalog as described in the module docstring, with an explicit generator."""
    total = num_items + new_items_per_day * max(days - 1, 0)
    centres = rng.normal(size=(num_topics, latent_dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    shares = (np.arange(num_topics) + 1.0) ** -0.5
    topic = rng.choice(num_topics, size=total, p=shares / shares.sum()).astype(np.int64)
    latent = centres[topic] + topic_spread * rng.normal(size=(total, latent_dim))
    latent /= np.linalg.norm(latent, axis=1, keepdims=True)
    quality = rng.normal(size=total)
    topic_offset = rng.normal(0.0, 0.5, size=num_topics)
    log_price = np.log(20.0) + topic_offset[topic] + rng.normal(0.0, 0.5, size=total)
    log_pop = 0.5 * quality + rng.normal(size=total)
    popularity = np.exp(log_pop - log_pop.max())
    popularity /= popularity.sum()

    def standardise(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / (x.std() + 1e-12)

    price_z = standardise(log_price)
    popularity_z = standardise(log_pop)
    features = np.zeros((total + 1, latent_dim + 2), dtype=np.float32)
    features[:total, :latent_dim] = latent
    features[:total, latent_dim] = price_z
    features[:total, latent_dim + 1] = popularity_z
    np.clip(features, -FEATURE_BOUND, FEATURE_BOUND, out=features)
    return Catalog(
        num_items=num_items,
        new_items_per_day=new_items_per_day,
        num_topics=num_topics,
        topic=topic,
        latent=latent,
        quality=quality,
        price=np.exp(log_price),
        price_z=price_z,
        popularity_z=popularity_z,
        popularity=popularity,
        features=features,
        topic_centres=centres,
    )
