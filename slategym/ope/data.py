"""Build :class:`~slategym.ope.base.SlateOPEData` from logged slates and two scored policies.

Example:
    >>> import numpy as np
    >>> from slategym.data.policies import EpsilonGreedy, UniformRandom
    >>> from slategym.ope.data import ope_data_from_scores
    >>> from slategym.ope.ips import SlateIPS
    >>> scores = np.array([[0.0, 1.0, 2.0]] * 2)
    >>> data = ope_data_from_scores(np.array([[2, 1], [0, 1]]), np.array([[1.0, 0.0], [0.0, 0.0]]),
    ...                             UniformRandom(), scores, EpsilonGreedy(0.0), scores)
    >>> SlateIPS().estimate(data).value  # greedy shows (2, 1): weight 6 on the first slate
    3.0
"""

from __future__ import annotations

import numpy as np

from slategym.data.policies import SlatePolicy
from slategym.ope.base import SlateOPEData
from slategym.ope.reward_model import position_item_means


def ope_data_from_scores(
    slates: np.ndarray,
    rewards: np.ndarray,
    logging: SlatePolicy,
    logging_scores: np.ndarray,
    target: SlatePolicy,
    target_scores: np.ndarray,
    candidate_ids: np.ndarray | None = None,
    with_gamma: bool = True,
    q_hat_prior: float = 10.0,
) -> SlateOPEData:
    """Every probability the estimators read, computed exactly from the two policies' scores.

    ``candidate_ids (n, C)`` (catalog ids) enable the cross-fitted reward model ``q_hat``; without
    them ``q_hat`` is left out (the doubly robust estimator then refuses). ``with_gamma=False``
    skips the logging second moments (the pseudo-inverse estimator then refuses).
    """
    slates = np.asarray(slates, np.int64)
    n, k = slates.shape
    log_prefix = logging.prefix_propensities(logging_scores, slates)
    tgt_prefix = target.prefix_propensities(target_scores, slates)
    tgt_marg = target.marginals(target_scores, k)
    log_marg = logging.marginals(logging_scores, k)
    take = slates[:, :, None]
    nxt = np.stack(
        [target.next_probabilities(target_scores, slates[:, :j]) for j in range(k)], axis=1
    )
    q_hat = None
    if candidate_ids is not None:
        item_ids = np.take_along_axis(np.asarray(candidate_ids), slates, axis=1)
        q_hat = position_item_means(item_ids, rewards, candidate_ids, prior=q_hat_prior)
    return SlateOPEData(
        slates=slates,
        rewards=np.asarray(rewards, np.float64),
        logging_slate=log_prefix[:, -1],
        logging_prefix=log_prefix,
        logging_position=np.take_along_axis(log_marg, take, axis=2)[:, :, 0],
        logging_gamma=logging.gamma(logging_scores, k) if with_gamma else None,
        target_slate=tgt_prefix[:, -1],
        target_prefix=tgt_prefix,
        target_position=np.take_along_axis(tgt_marg, take, axis=2)[:, :, 0],
        target_marginals=tgt_marg,
        target_next=nxt,
        q_hat=q_hat,
    )
