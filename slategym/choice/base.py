"""The choice-model contract shared by every model in :mod:`slategym.choice`.

A choice model turns the affinities of the ``K`` items of a slate (in slate order, position 0 first)
into clicks. It is pure: its probabilities are a function of the affinities and its parameters only,
and sampling reads explicit uniforms (inside the simulator) or an explicit ``np.random.Generator``
(research code), never a global random state.

Two functions describe a model:

* ``probabilities(affinities) -> (..., K + 1)``: for a single-click model the probability that the
  click lands on position ``k`` and, last, the probability of no click; for a multi-click model the
  distribution of the *first* (top-most) click position, no click last. Either way the rows sum to 1.
* ``click_probabilities(affinities) -> (..., K)``: the marginal probability that position ``k`` is
  clicked (for a single-click model, the first ``K`` entries of ``probabilities``).

The base owns the invariants so that a new model implements only its probability function: it
samples single-click models by inverting the cumulative distribution with one uniform per slate,
and it removes clicks on positions flagged invalid (duplicates of an item shown higher in the slate):
a duplicate occupies its slot but is never clicked, so the probability it would have received goes
to "no click" (for a single-click model this is exactly sampling from the renormalised distribution
with the duplicate's mass moved to no-click).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from slategym.checks import check_clicks, check_probabilities
from slategym.kernels import xp


class ChoiceModel(ABC):
    """Base class of all choice models (subclass it and implement :meth:`probabilities`).

    Class attributes:
        multi_click: ``True`` if a slate may receive several clicks.
    """

    multi_click: ClassVar[bool] = False

    @abstractmethod
    def probabilities(self, affinities: np.ndarray) -> np.ndarray:
        """Map affinities ``(..., K)`` to choice probabilities ``(..., K + 1)``, no click last."""

    def click_probabilities(self, affinities: np.ndarray) -> np.ndarray:
        """Marginal probability that each position is clicked, shape ``(..., K)``."""
        return self.probabilities(affinities)[..., :-1]

    def num_uniforms(self, slate_size: int) -> int:
        """How many uniforms :meth:`sample_from_uniforms` reads per slate."""
        return 1

    def sample_from_uniforms(self, affinities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Clicks ``(..., K)`` bool from affinities ``(..., K)`` and uniforms ``(..., n)`` in [0, 1).

        The default inverts the cumulative distribution of :meth:`probabilities` with the first
        uniform: position ``k`` is clicked when ``F(k - 1) <= u < F(k)``; no click when ``u`` falls
        in the last (no-click) interval. Multi-click models override this.
        """
        probs = self.probabilities(affinities)
        check_probabilities(self, probs, np.shape(affinities))
        k = probs.shape[-1] - 1
        cdf = np.cumsum(probs[..., :k], axis=-1)  # (..., K)
        chosen = np.add.reduce(cdf <= uniforms[..., :1], axis=-1)  # (...,) K means no click
        return np.arange(k) == chosen[..., None]

    def clicks(
        self, affinities: np.ndarray, uniforms: np.ndarray, valid: np.ndarray | None = None
    ) -> np.ndarray:
        """Sample clicks and drop those on invalid (duplicate) positions. Used by the simulator."""
        clicked = self.sample_from_uniforms(affinities, uniforms)
        clicked = check_clicks(self, clicked, np.shape(affinities))
        if valid is not None:
            clicked &= valid
        return clicked

    def sample(
        self,
        affinities: np.ndarray,
        rng: np.random.Generator,
        valid: np.ndarray | None = None,
    ) -> np.ndarray:
        """Sample clicks ``(..., K)`` bool with an explicit generator (for research code and tests).

        Args:
            affinities: ``(..., K)`` finite affinities in slate order.
            rng: the generator to draw from; no global random state is used.
            valid: optional ``(..., K)`` bool mask; clicks on ``False`` positions are removed.
        """
        aff = np.asarray(affinities, dtype=np.float64)
        if aff.ndim < 1 or aff.shape[-1] < 1:
            raise ValueError(f"affinities must have shape (..., K) with K >= 1, got {aff.shape}")
        if not np.all(np.isfinite(aff)):
            raise ValueError("affinities must be finite (got NaN or inf)")
        u = rng.random((*aff.shape[:-1], self.num_uniforms(aff.shape[-1])))
        return self.clicks(aff, u, valid)


def softmax_with_no_click(logits: np.ndarray, no_click_logit: float) -> np.ndarray:
    """Softmax over ``(..., K)`` logits with one extra no-click logit appended last."""
    k = logits.shape[-1]
    full = np.empty((*logits.shape[:-1], k + 1), dtype=logits.dtype)
    full[..., :k] = logits
    full[..., k] = no_click_logit
    full -= np.maximum.reduce(full, axis=-1, keepdims=True)
    np.exp(full, out=full)
    full /= np.add.reduce(full, axis=-1, keepdims=True)
    return full


def sequential_to_first_click(stop_or_click: np.ndarray) -> np.ndarray:
    """First-click distribution ``(..., K + 1)`` from per-position conditional click probabilities.

    ``stop_or_click[..., k]`` is the probability that the user clicks position ``k`` given that no
    earlier position was clicked and the user reached ``k``. Returns
    ``P(first click = k) = c_k * prod_{j<k} (1 - c_j)`` and, last, ``prod_j (1 - c_j)``.
    """
    c = stop_or_click
    survive = np.cumprod(1.0 - c, axis=-1)  # P(no click in 0..k)
    before = np.concatenate([np.ones_like(c[..., :1]), survive[..., :-1]], axis=-1)
    return np.concatenate([before * c, survive[..., -1:]], axis=-1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` (no overflow)."""
    return xp.sigmoid(np.asarray(x, dtype=np.float64))
