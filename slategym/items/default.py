r"""The default item model: a synthetic catalog of topics, latent vectors, quality, price, popularity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from slategym.catalog import FEATURE_BOUND, Catalog
from slategym.items.base import ItemModel

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig


@dataclass(frozen=True)
class DefaultItemModel(ItemModel):
    r"""Synthetic items: topic clusters in a latent space, a hidden quality, a price, a popularity prior.

    ## Description

    The catalog of ``SlateRec-v0``. Items belong to topics of unequal sizes; an item's latent vector
    lies near its topic's centre; quality is hidden and drives both clicks (through the user model)
    and popularity. With ``new_items_per_day > 0`` items are released and retired every day (see
    :mod:`slategym.catalog`), and candidates are drawn fresh for every request from the live items.

    ## Generation

    Topic centres :math:`\mu_t` are random unit vectors in :math:`\mathbb{R}^D`. Item ``i`` gets

    * a topic :math:`\tau_i \sim \mathrm{Categorical}(\pi)`, :math:`\pi_t \propto (t+1)^{-1/2}`
      (some topics are bigger than others);
    * a latent vector :math:`v_i = (\mu_{\tau_i} + s\,\varepsilon_i) / \lVert\cdot\rVert`,
      :math:`\varepsilon_i \sim \mathcal{N}(0, I_D)`, ``s`` = ``topic_spread``;
    * a hidden quality :math:`q_i \sim \mathcal{N}(0, 1)`;
    * a price :math:`\log p_i \sim \mathcal{N}(\log 20 + o_{\tau_i}, 0.5^2)` with a per-topic offset
      :math:`o_t \sim \mathcal{N}(0, 0.5^2)`;
    * a popularity prior :math:`\rho_i \propto \exp(0.5\,q_i + g_i)`, :math:`g_i \sim \mathcal{N}(0, 1)`
      (heavy-tailed, correlated with quality), summing to 1 over the catalog.

    The observable features of an item (``F = D + 2`` columns, clipped to ``[-5, 5]``) are its latent
    vector, its standardised log-price and its standardised log-popularity. Quality stays hidden:
    agents learn it only through clicks. Items have no duration.

    ## Parameters

    The model has no parameters of its own; it reads these config fields:

    | config field | meaning here |
    |---|---|
    | ``num_items`` | live items at any time |
    | ``num_topics`` | ``T`` topics |
    | ``latent_dim`` | ``D`` |
    | ``topic_spread`` | ``s`` |
    | ``days``, ``new_items_per_day`` | releases: ``num_items + new_items_per_day (days - 1)`` items in all |

    ## Example

    >>> import numpy as np
    >>> from slategym.config import SlateRecConfig
    >>> from slategym.items import DefaultItemModel
    >>> config = SlateRecConfig(num_items=50, num_candidates=10, num_topics=4, latent_dim=8)
    >>> catalog = DefaultItemModel().generate(config, np.random.default_rng(0))
    >>> catalog.total, catalog.num_features
    (50, 10)

    ## References

    E. Ie et al. (2019), "RecSim" (topic clusters, hidden quality). Popularity as a heavy-tailed prior
    correlated with quality: M. J. Salganik, P. S. Dodds, D. J. Watts (2006), "Experimental study of
    inequality and unpredictability in an artificial cultural market".

    ## Version History

    * v0: initial version (SlateRec-v0); an item model of its own since slategym 0.2 (same draws).
    """

    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        c = config
        return draw_default_catalog(
            c.num_items, c.num_topics, c.latent_dim, c.days, c.new_items_per_day, c.topic_spread, rng
        )


def draw_default_catalog(
    num_items: int,
    num_topics: int,
    latent_dim: int,
    days: int,
    new_items_per_day: int,
    topic_spread: float,
    rng: np.random.Generator,
) -> Catalog:
    """Draw the catalog of :class:`DefaultItemModel` (see its docstring) with an explicit generator."""
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
