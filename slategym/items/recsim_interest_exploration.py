r"""RecSim's interest-exploration items: topics of unequal size, a topic-dependent log-normal quality."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from slategym.catalog import Catalog
from slategym.items.base import ItemModel, stratified_uniforms, unpriced_catalog
from slategym.validation import check_array

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig


@dataclass(frozen=True)
class InterestExplorationItems(ItemModel):
    r"""The items of RecSim's ``interest_exploration`` (``IETopicDocumentSampler``).

    ## Description

    Each item has a topic (RecSim: 2 topics, 20 % / 80 % of the items) and a production quality drawn
    from a log-normal distribution that depends on the topic: the small topic has the higher quality.
    RecSim observes both (``{"quality", "cluster_id"}``); here the observable features are
    ``[quality, one-hot(topic)]`` and the topic is also ``candidate_topics``.

    As for every RecSim preset, the catalog's topics are a stratified sample of the topic
    distribution (exact shares up to rounding), standing in for RecSim's fresh items per request.

    ## Generation

    .. math::

        \tau_i = F^{-1}(u_i),\ u \text{ stratified on } [0, 1), \qquad
        q_i \sim \mathrm{LogNormal}(\mu_{\tau_i}, \sigma_{\tau_i}^2)

    with :math:`F` the cumulative topic distribution. Price and popularity are not modelled.

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``topic_distribution`` | (0.2, 0.8) | share of each topic |
    | ``topic_quality_mean`` | (0.8, 0.2) | :math:`\mu_t` (mean of log-quality) |
    | ``topic_quality_stddev`` | (0.1, 0.1) | :math:`\sigma_t` |
    | ``resample_documents`` | True | a fresh candidate set every request; False keeps one per episode |

    Config fields read: ``num_items``, ``num_topics`` (must equal the number of topics above),
    ``days`` and ``new_items_per_day``.

    ## Example

    >>> import numpy as np
    >>> from slategym.config import SlateRecConfig
    >>> from slategym.items import InterestExplorationItems
    >>> config = SlateRecConfig(num_items=100, num_candidates=10, num_topics=2)
    >>> catalog = InterestExplorationItems().generate(config, np.random.default_rng(0))
    >>> np.bincount(catalog.topic).tolist(), catalog.features.shape
    ([20, 80], (101, 3))

    ## References

    E. Ie et al. (2019), "RecSim"; ``recsim/environments/interest_exploration.py``
    (``IETopicDocumentSampler``, ``IEDocument``), recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-InterestExploration-v0).
    """

    topic_distribution: tuple[float, ...] = (0.2, 0.8)
    topic_quality_mean: tuple[float, ...] = (0.8, 0.2)
    topic_quality_stddev: tuple[float, ...] = (0.1, 0.1)
    resample_documents: bool = True

    def __post_init__(self) -> None:
        shares = check_array("topic_distribution", self.topic_distribution, low=0.0)
        if shares.ndim != 1 or shares.size == 0 or not np.isclose(shares.sum(), 1.0):
            raise ValueError(
                f"topic_distribution={self.topic_distribution!r} is not allowed: expected "
                "non-negative shares summing to 1"
            )
        t = shares.size
        check_array("topic_quality_mean", self.topic_quality_mean, (t,))
        check_array("topic_quality_stddev", self.topic_quality_stddev, (t,), low=0.0)
        if not isinstance(self.resample_documents, bool):
            raise ValueError(
                f"resample_documents={self.resample_documents!r} is not allowed: expected a bool"
            )

    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        t = len(self.topic_distribution)
        if config.num_topics != t:
            raise ValueError(
                f"num_topics={config.num_topics} is not allowed with the interest-exploration "
                f"items: expected {t}, the length of topic_distribution"
            )
        total = config.num_items + config.new_items_per_day * (config.days - 1)
        cdf = np.cumsum(self.topic_distribution)
        topic = np.minimum(
            np.searchsorted(cdf, stratified_uniforms(total, rng), side="right"), t - 1
        ).astype(np.int64)
        mean = np.asarray(self.topic_quality_mean, np.float64)[topic]
        quality = rng.lognormal(mean, np.asarray(self.topic_quality_stddev, np.float64)[topic])
        features = np.zeros((total + 1, 1 + t), np.float32)
        features[:total, 0] = quality
        features[np.arange(total), 1 + topic] = 1.0
        high = max(1.0, float(features[:total, 0].max()))
        return unpriced_catalog(config, topic, t, np.eye(t)[topic], quality, features, high)
