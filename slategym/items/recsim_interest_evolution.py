r"""RecSim's interest-evolution items: one-hot clusters, a cluster-dependent quality, a fixed length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from slategym.catalog import Catalog
from slategym.items.base import (
    ItemModel,
    check_sizes,
    one_hot_features,
    stratified_uniforms,
    unpriced_catalog,
)
from slategym.validation import check_float, check_positive

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig


@dataclass(frozen=True)
class InterestEvolutionItems(ItemModel):
    r"""The items of RecSim's ``interest_evolution`` (``UtilityModelVideoSampler``).

    ## Description

    Each item belongs to one of ``T = num_topics`` clusters (RecSim: 20) and its observable features
    are the one-hot vector of its cluster. Its hidden quality depends on the cluster: the first 70 %
    of the clusters are "trashy" (quality from ``min_utility`` up to 0), the rest "nutritious" (from 0
    up to ``max_utility``). Every item lasts ``video_length`` minutes. The user model
    (:class:`~slategym.users.InterestEvolutionUser`) scores an item by the dot product of the user's
    interests with these features, watches it for ``min(time budget, length)`` and converts its
    quality into time budget.

    RecSim draws ``num_candidates`` fresh items for every request (``resample_documents=True``); here
    they are drawn from a catalog of ``num_items`` items whose clusters are a *stratified* sample of
    RecSim's uniform cluster distribution (every cluster holds ``num_items / T`` items up to
    rounding), so that the finite catalog carries no sampling bias of its own.

    ## Generation

    With :math:`m_c` the ``c``-th entry of
    ``concat(linspace(min_utility, 0, int(0.7 T)), linspace(0, max_utility, int(0.3 T)))``
    (RecSim's ``cluster_means``; 0 appears twice for ``T = 20``):

    .. math::

        c_i = \lfloor T u_i \rfloor,\ u \text{ stratified on } [0, 1), \qquad
        q_i \sim \mathcal{N}(m_{c_i}, \sigma_q^2), \qquad
        x_i = e_{c_i} \in \{0, 1\}^T, \qquad \ell_i = \min(\ell, 100)

    Price and popularity are not modelled (price 0, uniform popularity prior).

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``min_utility`` | -3.0 | quality mean of cluster 0 |
    | ``max_utility`` | 3.0 | quality mean of the last cluster |
    | ``quality_std`` | 0.1 | :math:`\sigma_q` (RecSim names it ``quality_variance`` but uses it as a scale) |
    | ``video_length`` | 4.0 | :math:`\ell`, minutes |
    | ``resample_documents`` | True | a fresh candidate set every request; False keeps one per episode |

    Config fields read: ``num_items`` (catalog size), ``num_topics`` (``T``), ``latent_dim`` (must
    equal ``T``: the features are one-hot), ``days`` and ``new_items_per_day``.

    ## Example

    >>> import numpy as np
    >>> from slategym.config import SlateRecConfig
    >>> from slategym.items import InterestEvolutionItems
    >>> config = SlateRecConfig(num_items=40, num_candidates=10, num_topics=20, latent_dim=20)
    >>> catalog = InterestEvolutionItems().generate(config, np.random.default_rng(0))
    >>> np.bincount(catalog.topic, minlength=20).tolist() == [2] * 20  # stratified clusters
    True

    ## References

    E. Ie et al. (2019), "RecSim: A Configurable Simulation Platform for Recommender Systems";
    ``recsim/environments/interest_evolution.py`` (``UtilityModelVideoSampler``, ``IEvVideo``),
    recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-InterestEvolution-v0).
    """

    min_utility: float = -3.0
    max_utility: float = 3.0
    quality_std: float = 0.1
    video_length: float = 4.0
    resample_documents: bool = True

    MAX_VIDEO_LENGTH = 100.0
    """RecSim's ``IEvVideo.MAX_VIDEO_LENGTH`` (minutes)."""

    def __post_init__(self) -> None:
        check_float("min_utility", self.min_utility, high=0.0)
        check_float("max_utility", self.max_utility, low=0.0)
        check_float("quality_std", self.quality_std, 0.0)
        check_positive("video_length", self.video_length)
        if not isinstance(self.resample_documents, bool):
            raise ValueError(
                f"resample_documents={self.resample_documents!r} is not allowed: expected a bool"
            )

    def cluster_means(self, num_clusters: int) -> np.ndarray:
        """RecSim's quality mean per cluster, ``(T,)``."""
        trashy = np.linspace(self.min_utility, 0.0, int(num_clusters * 0.7))
        nutritious = np.linspace(0.0, self.max_utility, int(num_clusters * 0.3))
        means = np.concatenate((trashy, nutritious))
        if means.size != num_clusters:
            raise ValueError(
                f"num_topics={num_clusters} is not allowed with the interest-evolution items: "
                f"int(0.7 T) + int(0.3 T) = {means.size} cluster means, expected T (e.g. T = 20)"
            )
        return means

    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        t = config.num_topics
        check_sizes("interest-evolution (one-hot features)", config, latent_dim=t)
        means = self.cluster_means(t)
        total = config.num_items + config.new_items_per_day * (config.days - 1)
        cluster = np.minimum((stratified_uniforms(total, rng) * t).astype(np.int64), t - 1)
        quality = rng.normal(means[cluster], self.quality_std)
        features = one_hot_features(cluster, t, total)
        return unpriced_catalog(
            config, cluster, t, features[:total].astype(np.float64), quality, features, 1.0,
            duration=np.full(total, min(self.video_length, self.MAX_VIDEO_LENGTH)),
        )
