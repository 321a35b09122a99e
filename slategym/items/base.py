"""The item-model contract: catalog generation, candidates per request and corpus dynamics.

An item model owns the item side of a world; the simulator owns time, users, slates and bookkeeping.
The simulator calls, in this order:

1. ``generate(config, rng)`` once, at construction: the :class:`~slategym.catalog.Catalog` of the
   whole timeline (features, topics, hidden quality, price, duration, popularity, and which items are
   live on which day: releases and retirements, see :mod:`slategym.catalog`);
2. ``candidates(catalog, day, uniforms, num_candidates)`` when a row starts an episode, and
   ``next_candidates(catalog, previous, day, uniforms, num_candidates)`` after every step: the
   ``num_candidates`` distinct live items offered to the row's next request (RecSim's candidate
   generator; ``previous`` lets a model keep one candidate set per episode, RecSim's
   ``resample_documents=False``).

Candidate draws are batched over a leading row axis and pure: randomness comes in as
``num_uniforms(num_candidates)`` uniforms per row, so a row's candidates depend only on its own
random stream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from slategym.catalog import Catalog

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig


class ItemModel(ABC):
    """Base class of item models: implement :meth:`generate`; override the candidate draw if needed.

    The default candidate draw is the stratified, rotated draw of
    :meth:`Catalog.sample_candidates <slategym.catalog.Catalog.sample_candidates>` over the items live
    on the request's day, fresh for every request unless ``resample_documents`` is False (then a row
    keeps the candidates it started its episode with, RecSim's ``resample_documents=False``).
    """

    resample_documents: bool = True

    @abstractmethod
    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        """The catalog of the whole timeline, drawn with an explicit generator.

        ``config`` gives the sizes the model honours (at least ``num_items``, ``days`` and
        ``new_items_per_day``; each model documents the others it reads).
        """

    def num_uniforms(self, num_candidates: int) -> int:
        """Uniforms per row that one candidate draw reads."""
        return num_candidates + 1

    def candidates(
        self, catalog: Catalog, day: np.ndarray, uniforms: np.ndarray, num_candidates: int
    ) -> np.ndarray:
        """Distinct live candidate ids ``(N, C)`` int64 for requests on ``day (N,)``."""
        return catalog.sample_candidates(day, uniforms, num_candidates)

    def next_candidates(
        self,
        catalog: Catalog,
        previous: np.ndarray,
        day: np.ndarray,
        uniforms: np.ndarray,
        num_candidates: int,
    ) -> np.ndarray:
        """Candidates ``(N, C)`` of the request after one with ``previous (N, C)``.

        A fresh draw, or ``previous`` again when ``resample_documents`` is False.
        """
        if not self.resample_documents:
            return previous.copy()
        return self.candidates(catalog, day, uniforms, num_candidates)


def stratified_uniforms(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniforms in ``[0, 1)``, one in each interval ``[j / n, (j + 1) / n)``, in random order.

    The empirical distribution of a catalog drawn by inverse CDF from these matches the target
    distribution up to ``1 / n`` (a categorical share is exact up to rounding), where i.i.d. uniforms
    would leave an error of order ``1 / sqrt(n)``: a finite catalog then stands in for an infinite
    stream of fresh items (RecSim samples a new item every time) without a bias of its own.
    """
    return (rng.permutation(n) + rng.random(n)) / n


def one_hot_features(index: np.ndarray, width: int, total: int) -> np.ndarray:
    """``(total + 1, width)`` float32 one-hot rows of ``index (total,)``, and a last row of zeros."""
    features = np.zeros((total + 1, width), np.float32)
    features[np.arange(total), index] = 1.0
    return features


def unpriced_catalog(
    config: SlateRecConfig,
    topic: np.ndarray,
    num_topics: int,
    latent: np.ndarray,
    quality: np.ndarray,
    features: np.ndarray,
    feature_high: float,
    duration: np.ndarray | None = None,
) -> Catalog:
    """A catalog of items without price or popularity (price 0, a uniform popularity prior), as
    RecSim's items are; features lie in ``[0, feature_high]``."""
    total = topic.shape[0]
    return Catalog(
        num_items=config.num_items,
        new_items_per_day=config.new_items_per_day,
        num_topics=num_topics,
        topic=topic,
        latent=latent,
        quality=quality,
        price=np.zeros(total),
        price_z=np.zeros(total),
        popularity_z=np.zeros(total),
        popularity=np.full(total, 1.0 / total),
        features=features,
        topic_centres=np.eye(num_topics, latent.shape[1]),
        duration=duration,
        feature_low=0.0,
        feature_high=feature_high,
    )


def check_sizes(model: str, config: SlateRecConfig, **expected: int) -> None:
    """ValueError unless each config field named in ``expected`` has the value given."""
    for name, value in expected.items():
        got = getattr(config, name)
        if got != value:
            raise ValueError(
                f"{name}={got!r} is not allowed with the {model} item model: expected {value}"
            )

