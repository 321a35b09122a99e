"""The hyperparameters of a SlateGFN (:class:`GFNConfig`) and GFN4Rec's named presets.

Sources (checked against the authors' code, github.com/CharlieMat/GFN4Rec at commit ``fdd0da3``):
``argparse`` defaults of ``model/policy/SlateGFN_{DB,TB}.py`` and ``model/agent/BaseOnlineAgent.py``
("code default"), and the values of the released training scripts ``scripts/train_gfn_*.sh``.

=================  ======  ======  ======  ======  =============================================
preset             b_f     b_r     b_z     lr      source
=================  ======  ======  ======  ======  =============================================
``kuairand1k`` DB  0.5     0.4     1.0     1e-4    ``scripts/train_gfn_db_kuairand.sh``
``kuairand1k`` TB  1.0     0.1     1.0     1e-4    ``scripts/train_gfn_tb_kuairand.sh`` (b_z swept
                                                   over 1.0, 0.5, 1.5, 0.1; 1.0 first)
``ml1m`` DB        0.3     0.4     0.0     3e-4    ``scripts/train_gfn_db_movielens.sh`` (b_r swept
                                                   over 0.2 ... 1.0)
``ml1m`` TB        0.8     1.0     1.5     3e-4    ``scripts/train_gfn_tb_movielens.sh`` (b_r swept
                                                   over 1.0, 0.2 ... 0.8)
``code`` (both)    1.0     1.0     0.0     1e-4    argparse defaults (``gfn_forward_offset``,
                                                   ``gfn_reward_smooth``, ``gfn_Z``, ``actor_lr``)
=================  ======  ======  ======  ======  =============================================

A preset sets these four constants only; the rest of the authors' procedure is separate options
(``warmup_iterations=100``, ``epsilon_coin="batch"``, ``encoder={"layer_norm": True, "dropout":
0.1}``), see ``docs/agents/slategfn.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from agents.config_checks import bad, check_fields
from agents.encoder import EncoderConfig
from agents.gfn.buffer import BEHAVIOURS as BUFFER_BEHAVIOURS
from agents.gfn.losses import LOSS_FORMS
from agents.reward import RewardSpec

__all__ = ["GFNConfig", "PRESETS"]

PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "kuairand1k": {
        "db": {"b_f": 0.5, "b_r": 0.4, "b_z": 1.0, "lr": 1e-4},
        "tb": {"b_f": 1.0, "b_r": 0.1, "b_z": 1.0, "lr": 1e-4},
    },
    "ml1m": {
        "db": {"b_f": 0.3, "b_r": 0.4, "b_z": 0.0, "lr": 3e-4},
        "tb": {"b_f": 0.8, "b_r": 1.0, "b_z": 1.5, "lr": 3e-4},
    },
    "code": {
        "db": {"b_f": 1.0, "b_r": 1.0, "b_z": 0.0, "lr": 1e-4},
        "tb": {"b_f": 1.0, "b_r": 1.0, "b_z": 0.0, "lr": 1e-4},
    },
}
"""GFN4Rec's per-variant constants (module docstring): ``PRESETS[name][kind]``."""

@dataclass(frozen=True)
class GFNConfig:
    """Hyperparameters of a SlateGFN. Defaults are the authors' code defaults where they exist.

    Loss:
        loss_form: ``"offset"`` (the loss formula of the authors' code, :math:`\\log(P_F + b_f)`)
            or ``"exact"`` (textbook GFlowNet, samples proportional to ``R + b_r``); "offset".
        b_f: forward offset inside the log, ``"offset"`` form only (1.0, code default).
        b_r: reward offset, the target is :math:`\\propto R + b_r` (1.0, code default).
        b_z: bias added to every flow transition (0.0, code default; 1.0 in the KuaiRand scripts).
        reward, reward_scale: the reward ``R`` (:class:`agents.reward.RewardSpec`): ``"env"``, the
            env's reward (default), or weights over click / purchase / dwell; times ``reward_scale``
            (1.0). GFN4Rec averages over positions: ``reward_scale = 1 / K``.

    Optimisation:
        lr: Adam learning rate of every network (1e-4, code default ``actor_lr``).
        batch_size: rows per gradient step (128, the scripts' ``batch_size``).
        updates_per_call: gradient steps per :meth:`update` (1, the scripts' ``train_every_n_step``).
        max_grad_norm: gradient-norm clip, ``None`` = off (off, as in the authors' code).
        buffer: ``"latest"`` (what the scripts do) or ``"mixed"`` (:mod:`agents.gfn.buffer`).
        buffer_capacity: rows of the ``"mixed"`` ring buffer (10 000).
        warmup_iterations: first :meth:`update` calls that only fill the buffer, with uniform random
            exploration (0; the scripts' ``start_train_at_step`` is 100).

    Exploration:
        epsilon_start, epsilon_end: epsilon-greedy from 0.05 to 0.01 (the scripts' values) ...
        epsilon_fraction: ... linearly over this fraction of the iterations (0.1, ``elbow_greedy``) ...
        total_iterations: ... of this planned number of ``update`` calls (10 000; :meth:`plan`).
        epsilon_coin: ``"position"`` (an independent coin per row and position, uniform among the
            items still available) or ``"batch"`` (the authors': one coin per ``act`` call, the
            whole batch then uniform); "position".
        inference: ``"greedy"`` (argmax per position, default) or ``"sample"`` for
            ``act(explore=False)``.

    Networks:
        encoder: the shared encoder's sizes (:class:`agents.encoder.EncoderConfig`, or a dict).
    """

    loss_form: str = "offset"
    b_f: float = 1.0
    b_r: float = 1.0
    b_z: float = 0.0
    reward: Any = "env"
    reward_scale: float = 1.0
    lr: float = 1e-4
    batch_size: int = 128
    updates_per_call: int = 1
    max_grad_norm: float | None = None
    buffer: str = "latest"
    buffer_capacity: int = 10_000
    warmup_iterations: int = 0
    epsilon_start: float = 0.05
    epsilon_end: float = 0.01
    epsilon_fraction: float = 0.1
    total_iterations: int = 10_000
    epsilon_coin: str = "position"
    inference: str = "greedy"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoder", EncoderConfig.coerce(self.encoder))
        check_fields(
            self,
            choices={
                "loss_form": LOSS_FORMS,
                "buffer": BUFFER_BEHAVIOURS,
                "inference": ("greedy", "sample"),
                "epsilon_coin": ("position", "batch"),
            },
            non_negative=("b_r", "epsilon_fraction"),
            unit_interval=("epsilon_start", "epsilon_end"),
            positive_ints=("batch_size", "updates_per_call", "buffer_capacity", "total_iterations"),
        )
        if self.loss_form == "offset" and not (self.b_f > 0 and math.isfinite(self.b_f)):
            raise bad(self, "b_f", "a finite value > 0 with loss_form='offset'")
        if not math.isfinite(self.b_z):
            raise bad(self, "b_z", "a finite value")
        w = self.warmup_iterations
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise bad(self, "warmup_iterations", "an integer >= 0")
        self.reward_spec  # validates reward and reward_scale  # noqa: B018

    @property
    def reward_spec(self) -> RewardSpec:
        """The reward as a :class:`RewardSpec`."""
        return RewardSpec(self.reward, self.reward_scale)

    @classmethod
    def preset(cls, name: str, kind: str, **changes: Any) -> GFNConfig:
        """The config of preset ``name`` for ``kind`` (``"db"`` / ``"tb"``), then ``changes``."""
        if name not in PRESETS:
            raise ValueError(f"preset={name!r} is not allowed: expected one of {sorted(PRESETS)}")
        if kind not in PRESETS[name]:
            raise ValueError(f"kind={kind!r} is not allowed: expected 'db' or 'tb'")
        return cls(**{**PRESETS[name][kind], **changes})

    def replace(self, **changes: Any) -> GFNConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)
