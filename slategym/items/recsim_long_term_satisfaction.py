r"""RecSim's long-term-satisfaction items: a clickbait score in [0, 1] ("chocolate" vs "kale")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from slategym.catalog import Catalog
from slategym.items.base import ItemModel, stratified_uniforms, unpriced_catalog

if TYPE_CHECKING:
    from slategym.config import SlateRecConfig


@dataclass(frozen=True)
class LongTermSatisfactionItems(ItemModel):
    r"""The items of RecSim's ``long_term_satisfaction`` (``LTSDocumentSampler``).

    ## Description

    An item is one number, its clickbait score: clickbaity items ("chocolate", score near 1) bring
    more engagement now but erode the user's satisfaction; the others ("kale") do the opposite (see
    :class:`~slategym.users.LongTermSatisfactionUser`). The score is observable: it is the item's only
    feature (and its latent vector). There are no topics (``num_topics`` is 1).

    As for every RecSim preset, the catalog's scores are a stratified sample of the uniform
    distribution, standing in for RecSim's fresh items per request.

    ## Generation

    .. math::

        b_i = u_i, \quad u \text{ stratified on } [0, 1), \qquad x_i = (b_i)

    Price, quality and popularity are not modelled.

    ## Parameters

    | name | default | meaning |
    |---|---|---|
    | ``resample_documents`` | True | a fresh candidate set every request; False keeps one per episode |

    Config fields read: ``num_items``, ``num_topics`` (must be 1), ``days``, ``new_items_per_day``.

    ## Example

    >>> import numpy as np
    >>> from slategym.config import SlateRecConfig
    >>> from slategym.items import LongTermSatisfactionItems
    >>> config = SlateRecConfig(num_items=4, num_candidates=2, slate_size=1, num_topics=1)
    >>> catalog = LongTermSatisfactionItems().generate(config, np.random.default_rng(0))
    >>> np.sort(np.floor(catalog.features[:4, 0] * 4)).tolist()  # one score in each quarter
    [0.0, 1.0, 2.0, 3.0]

    ## References

    E. Ie et al. (2019), "RecSim"; ``recsim/environments/long_term_satisfaction.py``
    (``LTSDocumentSampler``, ``LTSDocument``), recsim 0.2.4.

    ## Version History

    * v0: initial version (SlateRec-LongTermSatisfaction-v0).
    """

    resample_documents: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.resample_documents, bool):
            raise ValueError(
                f"resample_documents={self.resample_documents!r} is not allowed: expected a bool"
            )

    def generate(self, config: SlateRecConfig, rng: np.random.Generator) -> Catalog:
        if config.num_topics != 1:
            raise ValueError(
                f"num_topics={config.num_topics} is not allowed with the long-term-satisfaction "
                "items: expected 1 (RecSim's items have no topics)"
            )
        total = config.num_items + config.new_items_per_day * (config.days - 1)
        clickbait = stratified_uniforms(total, rng)
        features = np.zeros((total + 1, 1), np.float32)
        features[:total, 0] = clickbait
        topic = np.zeros(total, np.int64)
        return unpriced_catalog(
            config, topic, 1, clickbait[:, None].copy(), np.zeros(total), features, 1.0
        )
