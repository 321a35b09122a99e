r"""Items from a table of real item features (a CSV file), read with the standard library only."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym.catalog import FEATURE_BOUND, Catalog
from slategym.items.base import ItemModel
from slategym.validation import check_int, check_positive

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig

KINDS = ("number", "log", "category", "vector")
"""How a feature column is read: a number, a non-negative number taken as ``log1p``, a category
(one-hot), or a vector of numbers in one cell (separated by ``vector_delimiter``)."""
MISSING = ("error", "drop")


@dataclass(frozen=True)
class TableItemModel(ItemModel):
    r"""A catalog whose items are the rows of a table of real item features.

    ## Description

    Each used row of the CSV file ``path`` becomes one item (ids follow the table order). The columns
    named in ``features`` are read as numbers, ``log1p`` numbers, categories (one-hot, the
    ``max_categories - 1`` most frequent values and one shared "other") or vectors (one cell holding
    several numbers, e.g. an embedding), standardised column by column, and projected on their first
    ``D = min(latent_dim, columns)`` principal components: that projection, scaled to unit length, is
    the item's latent vector, which the user models match against user interests exactly as for the
    synthetic catalog. Optional columns give the topic, price, duration, popularity and quality;
    what the table does not have is drawn as in :class:`~slategym.items.DefaultItemModel`.

    The observable features are, as in the default catalog, ``[latent (D) | log-price z |
    log-popularity z]`` clipped to ``[-5, 5]``.

    A missing column raises ``ValueError`` listing the table's columns; an empty or NaN cell in a
    used column raises ``ValueError`` naming the column and the first line, unless
    ``missing="drop"`` (rows with a missing value are left out). The file is read with :mod:`csv`
    (slategym does not need pandas).

    ## Generation

    With :math:`X` the standardised feature matrix of the ``n`` used rows and
    :math:`X = U S V^\top` its singular value decomposition,

    .. math::

        v_i = \frac{(X V_{:, :D})_i}{\lVert (X V_{:, :D})_i \rVert}

    (each component's sign fixed so that its largest loading is positive). Topics: the
    ``num_topics - 1`` most frequent values of ``topic_column`` and one topic for the rest, or,
    without a topic column, ``num_topics`` k-means clusters of the latent vectors (20 Lloyd
    iterations from ``num_topics`` distinct items drawn at random). Without a quality column the hidden
    quality is :math:`q_i \sim \mathcal{N}(0, 1)` (a quality column is standardised); without a price
    column :math:`\log p_i \sim \mathcal{N}(\log 20 + o_{\tau_i}, 0.5^2)`; without a popularity column
    :math:`\rho_i \propto \exp(0.5\,q_i + g_i)` (a popularity column is read as counts,
    :math:`\rho_i \propto 1 + \text{count}_i`). Durations are ``duration_column`` times
    ``duration_scale`` minutes.

    When the table has more usable rows than the ``num_items + new_items_per_day (days - 1)`` the
    timeline needs, a random subset is used (in table order, so releases follow the table).

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``path`` | (required) | the CSV file |
    | ``features`` | (required) | column name -> kind, one of ``number``, ``log``, ``category``, ``vector`` |
    | ``topic_column`` | None | a categorical column giving the topic |
    | ``price_column`` | None | prices (> 0) |
    | ``duration_column`` | None | durations (>= 0), in units of ``1 / duration_scale`` minutes |
    | ``duration_scale`` | 1.0 | minutes per unit of ``duration_column`` (``1 / 60000`` for milliseconds) |
    | ``popularity_column`` | None | counts (>= 0) |
    | ``quality_column`` | None | a hidden quality score |
    | ``delimiter`` | "," | field separator of the file |
    | ``vector_delimiter`` | "," | separator inside a ``vector`` cell |
    | ``missing`` | "error" | ``"error"`` or ``"drop"`` rows with an empty or NaN cell in a used column |
    | ``max_categories`` | 20 | one-hot width of a ``category`` feature |

    Config fields read: ``num_items``, ``days``, ``new_items_per_day`` (rows used), ``latent_dim``
    (at most ``D``), ``num_topics`` (at most that many topics).

    ## Example

    >>> import tempfile, pathlib
    >>> import gymnasium as gym
    >>> import slategym
    >>> from slategym.items import TableItemModel
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "items.csv"
    >>> rows = [f"{i},{i % 3},{1.5 + i},{10 * (i % 4)}" for i in range(12)]
    >>> _ = path.write_text("item,genre,price,length\n" + "\n".join(rows))
    >>> items = TableItemModel(path=str(path), features={"genre": "category", "length": "log"},
    ...                        topic_column="genre", price_column="price")
    >>> env = gym.make("SlateRec-v0", item_model=items, num_items=12, num_candidates=4, slate_size=2)
    >>> obs, info = env.reset(seed=0)
    >>> obs["candidates"].shape, env.unwrapped.sim.catalog.num_topics
    ((4, 6), 3)

    ``docs/worlds.md`` builds catalogs from the RL4RS and KuaiRand item tables.

    ## References

    RL4RS: K. Wang et al. (2023), "RL4RS: A Real-World Dataset for Reinforcement Learning based
    Recommender System". KuaiRand: C. Gao et al. (2022), "KuaiRand: An Unbiased Sequential
    Recommendation Dataset with Randomly Exposed Videos".

    ## Version History

    * v0: initial version (slategym 0.2).
    """

    path: str
    features: Mapping[str, str] = field(default_factory=dict)
    topic_column: str | None = None
    price_column: str | None = None
    duration_column: str | None = None
    duration_scale: float = 1.0
    popularity_column: str | None = None
    quality_column: str | None = None
    delimiter: str = ","
    vector_delimiter: str = ","
    missing: str = "error"
    max_categories: int = 20

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, Path)) or not str(self.path):
            raise ValueError(f"path={self.path!r} is not allowed: expected the path of a CSV file")
        if not isinstance(self.features, Mapping) or not self.features:
            raise ValueError(
                f"features={self.features!r} is not allowed: expected a non-empty mapping of "
                f"column name -> kind, kinds among {list(KINDS)}"
            )
        for column, kind in self.features.items():
            if kind not in KINDS:
                raise ValueError(
                    f"features[{column!r}]={kind!r} is not allowed: expected one of {list(KINDS)}"
                )
        if self.missing not in MISSING:
            raise ValueError(f"missing={self.missing!r} is not allowed: expected one of {list(MISSING)}")
        check_positive("duration_scale", self.duration_scale)
        check_int("max_categories", self.max_categories, 2)
        for name in ("delimiter", "vector_delimiter"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) != 1:
                raise ValueError(f"{name}={value!r} is not allowed: expected one character")

    # -- reading --------------------------------------------------------------------------------
    def columns(self) -> dict[str, str]:
        """Every column the model reads -> its kind (``number`` for price, duration, ...)."""
        used = dict(self.features)
        for name in ("price_column", "duration_column", "popularity_column", "quality_column"):
            column = getattr(self, name)
            if column is not None:
                used.setdefault(column, "number")
        if self.topic_column is not None:
            used.setdefault(self.topic_column, "category")
        return used

    def read(self) -> tuple[dict[str, list[Any]], np.ndarray]:
        """The used columns' cells of every row, and the table line of each row (1 = first data row).

        Numbers become floats (NaN when empty), vectors tuples of floats, categories strings.
        """
        path = Path(self.path)
        if not path.is_file():
            raise ValueError(f"path={str(self.path)!r} is not allowed: no such file")
        used = self.columns()
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"path={str(self.path)!r} is empty: expected a header row")
            absent = [c for c in used if c not in header]
            if absent:
                raise ValueError(
                    f"the table {str(self.path)!r} has no column(s) {absent}: its columns are {header}"
                )
            index = {c: header.index(c) for c in used}
            cells: dict[str, list[Any]] = {c: [] for c in used}
            for line, row in enumerate(reader, start=1):
                if not row:
                    continue
                if len(row) != len(header):
                    raise ValueError(
                        f"line {line} of {str(self.path)!r} has {len(row)} fields: expected "
                        f"{len(header)} (delimiter={self.delimiter!r})"
                    )
                for column, kind in used.items():
                    cells[column].append(self._parse(row[index[column]], kind, column, line))
        lines = np.arange(1, len(next(iter(cells.values()))) + 1)
        return cells, lines

    def _parse(self, text: str, kind: str, column: str, line: int) -> Any:
        text = text.strip()
        if kind == "category":
            return text if text else None
        try:
            if kind == "vector":
                return tuple(float(x) for x in text.split(self.vector_delimiter)) if text else None
            return float(text) if text else math.nan
        except ValueError:
            raise ValueError(
                f"column {column!r} holds {text!r} at line {line}: expected "
                + ("numbers" if kind == "vector" else "a number")
            ) from None

    # -- the catalog ---------------------------------------------------------------------------
    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        cells, lines = self.read()
        keep = self._complete_rows(cells, lines)
        total = config.num_items + config.new_items_per_day * (config.days - 1)
        if keep.size < total:
            raise ValueError(
                f"num_items={config.num_items} is not allowed with the table {str(self.path)!r}: "
                f"it has {keep.size} usable rows and the timeline needs num_items + "
                f"new_items_per_day * (days - 1) = {total}"
            )
        if keep.size > total:
            keep = np.sort(rng.choice(keep, size=total, replace=False))
        rows = {c: [v[i] for i in keep] for c, v in cells.items()}
        x = self._feature_matrix(rows)  # (total, F_table), standardised
        latent = principal_directions(x, config.latent_dim)
        topic, num_topics = self._topics(rows, latent, config.num_topics, rng)
        quality = self._standardised(rows, self.quality_column)
        if quality is None:
            quality = rng.normal(size=total)
        price = self._prices(rows, topic, num_topics, rng)
        log_price = np.log(price)
        log_pop = self._log_popularity(rows, quality, rng)
        popularity = np.exp(log_pop - log_pop.max())
        popularity /= popularity.sum()
        price_z, popularity_z = standardise(log_price), standardise(log_pop)
        d = latent.shape[1]
        features = np.zeros((total + 1, d + 2), np.float32)
        features[:total, :d] = latent
        features[:total, d] = price_z
        features[:total, d + 1] = popularity_z
        np.clip(features, -FEATURE_BOUND, FEATURE_BOUND, out=features)
        centres = np.stack([latent[topic == t].mean(axis=0) for t in range(num_topics)])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        duration = None
        if self.duration_column is not None:
            duration = np.asarray(rows[self.duration_column], np.float64) * self.duration_scale
            if duration.min() < 0:
                raise ValueError(
                    f"duration_column={self.duration_column!r} holds negative values: expected >= 0"
                )
        return Catalog(
            num_items=config.num_items,
            new_items_per_day=config.new_items_per_day,
            num_topics=num_topics,
            topic=topic,
            latent=latent,
            quality=quality,
            price=price,
            price_z=price_z,
            popularity_z=popularity_z,
            popularity=popularity,
            features=features,
            topic_centres=centres,
            duration=duration,
            extra={"table_line": lines[keep]},
        )

    def _complete_rows(self, cells: dict[str, list[Any]], lines: np.ndarray) -> np.ndarray:
        """Indices of the rows without a missing value in a used column (or ValueError)."""
        ok = np.ones(lines.size, bool)
        for column, values in cells.items():
            bad = np.array(
                [v is None or (isinstance(v, float) and math.isnan(v)) for v in values], bool
            )
            if bad.any() and self.missing == "error":
                raise ValueError(
                    f"column {column!r} of {str(self.path)!r} has {int(bad.sum())} empty or NaN "
                    f"cell(s), the first at line {int(lines[bad][0])}: fill them, leave the column "
                    "out, or pass missing='drop' to skip those rows"
                )
            ok &= ~bad
        return np.flatnonzero(ok)

    def _feature_matrix(self, rows: dict[str, list[Any]]) -> np.ndarray:
        blocks = []
        for column, kind in self.features.items():
            values = rows[column]
            if kind == "category":
                blocks.append(one_hot(values, self.max_categories))
                continue
            if kind == "vector":
                widths = {len(v) for v in values}
                if len(widths) != 1:
                    raise ValueError(
                        f"column {column!r} holds vectors of lengths {sorted(widths)}: expected "
                        "one length"
                    )
                block = np.asarray(values, np.float64)
            else:
                block = np.asarray(values, np.float64)[:, None]
                if kind == "log":
                    if block.min() < 0:
                        raise ValueError(
                            f"features[{column!r}]='log' is not allowed: the column holds "
                            "negative values (log1p needs values >= 0)"
                        )
                    block = np.log1p(block)
            if not np.all(np.isfinite(block)):
                raise ValueError(f"column {column!r} holds infinite values: expected finite numbers")
            blocks.append(block)
        x = np.concatenate(blocks, axis=1)
        return (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)

    def _topics(
        self, rows: dict[str, list[Any]], latent: np.ndarray, num_topics: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, int]:
        if self.topic_column is None:
            return kmeans(latent, min(num_topics, latent.shape[0]), rng)
        codes = one_hot(rows[self.topic_column], num_topics).argmax(axis=1)
        used = np.unique(codes)
        return np.searchsorted(used, codes).astype(np.int64), int(used.size)

    def _standardised(self, rows: dict[str, list[Any]], column: str | None) -> np.ndarray | None:
        if column is None:
            return None
        return standardise(np.asarray(rows[column], np.float64))

    def _prices(
        self, rows: dict[str, list[Any]], topic: np.ndarray, num_topics: int, rng: np.random.Generator
    ) -> np.ndarray:
        if self.price_column is None:
            offset = rng.normal(0.0, 0.5, size=num_topics)
            return np.exp(np.log(20.0) + offset[topic] + rng.normal(0.0, 0.5, size=topic.size))
        price = np.asarray(rows[self.price_column], np.float64)
        if price.min() <= 0:
            raise ValueError(f"price_column={self.price_column!r} holds prices <= 0: expected > 0")
        return price

    def _log_popularity(
        self, rows: dict[str, list[Any]], quality: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        if self.popularity_column is None:
            return 0.5 * quality + rng.normal(size=quality.size)
        counts = np.asarray(rows[self.popularity_column], np.float64)
        if counts.min() < 0:
            raise ValueError(
                f"popularity_column={self.popularity_column!r} holds negative counts: expected >= 0"
            )
        return np.log1p(counts)


def standardise(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` (a constant column becomes zeros)."""
    return (x - x.mean()) / (x.std() + 1e-12)


def one_hot(values: list[Any], width: int) -> np.ndarray:
    """``(n, width)`` one-hot of categories: the ``width - 1`` most frequent values (ties by value),
    then one column shared by all the others (only if there are others)."""
    counts = Counter(values)
    ranked = sorted(counts, key=lambda v: (-counts[v], str(v)))
    if len(ranked) <= width:
        code = {v: i for i, v in enumerate(ranked)}
        width = len(ranked)
    else:
        code = {v: i for i, v in enumerate(ranked[: width - 1])}
    out = np.zeros((len(values), width))
    out[np.arange(len(values)), [code.get(v, width - 1) for v in values]] = 1.0
    return out


def principal_directions(x: np.ndarray, dim: int) -> np.ndarray:
    """Rows of ``x (n, F)`` projected on their first ``min(dim, F, n)`` principal components, each
    component's sign fixed by its largest loading, and scaled to unit length."""
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    d = min(dim, vt.shape[0])
    components = vt[:d]
    sign = np.sign(components[np.arange(d), np.abs(components).argmax(axis=1)])
    latent = centred @ (components * sign[:, None]).T
    return latent / np.maximum(np.linalg.norm(latent, axis=1, keepdims=True), 1e-12)


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 20) -> tuple[np.ndarray, int]:
    """Lloyd's k-means from ``k`` distinct points drawn with ``rng``: labels ``(n,)`` and the number
    of non-empty clusters (labels are renumbered ``0 .. k' - 1``)."""
    centres = points[rng.choice(points.shape[0], size=k, replace=False)]
    labels = np.zeros(points.shape[0], np.int64)
    for _ in range(iterations):
        distance = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
        labels = distance.argmin(axis=1)
        for j in range(k):
            members = points[labels == j]
            if members.size:
                centres[j] = members.mean(axis=0)
    used = np.unique(labels)
    return np.searchsorted(used, labels).astype(np.int64), int(used.size)
