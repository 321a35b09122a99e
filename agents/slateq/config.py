"""The hyperparameters of SlateQ (:class:`SlateQConfig`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from agents.config_checks import bad, check_fields
from agents.encoder import EncoderConfig
from agents.reward import RewardSpec
from agents.slateq.optimize import OPTIMIZERS

__all__ = ["SlateQConfig"]


@dataclass(frozen=True)
class SlateQConfig:
    """Hyperparameters of :class:`agents.slateq.SlateQ` (``docs/agents/slateq.md`` gives sources).

    Learning:
        target: ``"q_learning"`` (max over slates, default) or ``"sarsa"`` (the next served slate).
        optimizer: slate optimiser used to act and for the Q-learning max: ``"exact"`` (default),
            ``"lp"``, ``"enumerate"``, ``"greedy"`` or ``"topk"`` (:mod:`agents.slateq.optimize`).
        gamma: discount (0.9).
        null_value: ``"learned"`` (:math:`\\bar Q(s, \\bot)` is learnt from no-click transitions,
            default) or ``"zero"`` (:math:`\\bar Q(s, \\bot) = 0` and only clicked transitions
            train, as RecSim's implementation).
        reward, reward_scale: the reward (:class:`agents.reward.RewardSpec`; ``"env"`` = the env's).
        multi_click: what to do with a slate clicked more than once (a world outside the
            single-choice assumption): ``"first"`` (the top-most click is the choice, default) or
            ``"error"`` (raise ``ValueError``).

    Choice model:
        choice_model: ``None`` (estimate an MNL from the clicks, default) or a function
            ``observations -> (item_logits (n, C), null_logit (n,))`` giving a known MNL.
        choice_weight: weight of the choice model's log-likelihood in the loss (1.0).

    Optimisation:
        lr (1e-3), batch_size (128), updates_per_call (1): Adam step size, rows per gradient step,
            gradient steps per :meth:`update` (none until the buffer holds ``batch_size`` rows).
        buffer_capacity: transitions held (10 000).
        target_every: gradient steps between copies of the online network to the target (100).
        max_grad_norm: gradient-norm clip (10.0; ``None`` = off).

    Exploration (epsilon-greedy: a uniform random slate with probability epsilon, per row):
        epsilon_start (1.0), epsilon_end (0.05), epsilon_fraction (0.25) of the planned updates
        ``total_updates`` (10 000; :meth:`plan`).

    Networks:
        encoder: the shared encoder's sizes (:class:`agents.encoder.EncoderConfig`, or a dict).
    """

    target: str = "q_learning"
    optimizer: str = "exact"
    gamma: float = 0.9
    null_value: str = "learned"
    reward: Any = "env"
    reward_scale: float = 1.0
    multi_click: str = "first"
    choice_model: Any = None
    choice_weight: float = 1.0
    lr: float = 1e-3
    batch_size: int = 128
    updates_per_call: int = 1
    buffer_capacity: int = 10_000
    target_every: int = 100
    max_grad_norm: float | None = 10.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_fraction: float = 0.25
    total_updates: int = 10_000
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoder", EncoderConfig.coerce(self.encoder))
        check_fields(
            self,
            choices={
                "target": ("q_learning", "sarsa"),
                "optimizer": OPTIMIZERS,
                "null_value": ("learned", "zero"),
                "multi_click": ("first", "error"),
            },
            non_negative=("choice_weight", "epsilon_fraction"),
            unit_interval=("epsilon_start", "epsilon_end"),
            positive_ints=("batch_size", "updates_per_call", "buffer_capacity", "target_every",
                           "total_updates"),  # fmt: skip
        )
        if not 0 <= self.gamma < 1:
            raise bad(self, "gamma", "a value in [0, 1)")
        if self.choice_model is not None and not callable(self.choice_model):
            raise bad(self, "choice_model", "None or a function observations -> (logits, null_logit)")
        self.reward_spec  # validates reward and reward_scale  # noqa: B018

    @property
    def reward_spec(self) -> RewardSpec:
        """The reward as a :class:`RewardSpec`."""
        return RewardSpec(self.reward, self.reward_scale)

    def replace(self, **changes: Any) -> SlateQConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)
