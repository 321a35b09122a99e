r"""SlateGFN_DB and SlateGFN_TB: GFN4Rec (Liu et al., KDD 2023) as agents that learn from feedback.

A SlateGFN generates a slate item by item with a masked autoregressive policy
(:mod:`agents.gfn.sampler`) and learns it so that slates are drawn with probability proportional to
their reward plus an offset, with the detailed-balance (``SlateGFN_DB``) or trajectory-balance
(``SlateGFN_TB``) loss of :mod:`agents.gfn.losses`. The reward ``R`` of a served slate is the env's
reward (``Feedback.rewards``) or a weighted sum of behaviours, times ``reward_scale``
(:mod:`agents.reward`).

One call of :meth:`SlateGFN.update` is one training iteration: ``R`` of the feedback is computed and
the rows go into the replay buffer (:mod:`agents.gfn.buffer`), then ``updates_per_call`` gradient
steps each learn from a replayed batch, scored again by the current networks (teacher forcing). The
first ``warmup_iterations`` calls only fill the buffer, and ``act(explore=True)`` is uniform random
during them. Exploration is epsilon-greedy, with epsilon decaying linearly over the first
``epsilon_fraction`` of the planned iterations (:meth:`SlateGFN.plan`).

Example:
    >>> from agents.loop import make_vector_env, run
    >>> from agents.registry import make_agent
    >>> envs = make_vector_env(8, num_users=20, days=1)
    >>> agent = make_agent("slategfn_db", envs, seed=0, encoder={"history_length": 10})
    >>> logs = run(agent, envs, seed=0, steps=2, explore=True, learn=True)
    >>> sorted(logs[0])[:3]
    ['buffer_size', 'click_rate', 'entropy']
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.base import Feedback
from agents.gfn.buffer import Batch, ReplayBuffer
from agents.gfn.config import GFNConfig
from agents.gfn.losses import db_loss, tb_loss
from agents.gfn.networks import GFNNetworks
from agents.gfn.sampler import SlateScores, sample_slates, score_slates
from agents.spec import AgentSpec
from agents.tensors import OBS_KEYS, check_batch, to_tensors
from slategym.validation import check_int

__all__ = ["SlateGFN", "SlateGFN_DB", "SlateGFN_TB"]

_FORMAT = 2


class SlateGFN(ABC):
    """The agent wiring of both GFlowNets; subclasses choose the loss (``kind``)."""

    name = "slategfn"
    kind = ""

    def __init__(self, spec: AgentSpec, config: GFNConfig | None = None, seed: int = 0) -> None:
        if not isinstance(spec, AgentSpec):
            raise ValueError(f"spec must be an AgentSpec, got {type(spec).__name__}")
        if config is None:
            config = GFNConfig()
        if not isinstance(config, GFNConfig):
            raise ValueError(f"config must be a GFNConfig, got {type(config).__name__}")
        self.spec = spec
        self.seed = int(seed)
        self._build(config)
        self._generator = torch.Generator().manual_seed(self.seed)
        self._rng = np.random.default_rng(self.seed)

    @classmethod
    def from_spec(
        cls, spec: AgentSpec, seed: int = 0, preset: str | None = "kuairand1k", **fields: Any
    ) -> SlateGFN:
        """An agent for ``spec``: GFN4Rec's ``preset`` constants for this variant (``None``: the
        code defaults of :class:`GFNConfig`), then ``fields`` (any :class:`GFNConfig` field)."""
        config = GFNConfig.preset(preset, cls.kind, **fields) if preset else GFNConfig(**fields)
        return cls(spec, config, seed=seed)

    def _build(self, config: GFNConfig) -> None:
        self.config = config
        self.reward = config.reward_spec
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(self.seed)
            self.nets = GFNNetworks(self.spec, config.encoder)
        self.optimizer = torch.optim.Adam(self.nets.parameters(), lr=config.lr)
        self.buffer = ReplayBuffer(config.buffer, config.buffer_capacity)
        self.iteration = 0

    # -- schedule ------------------------------------------------------------------------------------
    @property
    def slate_size(self) -> int:
        return self.spec.slate_size

    def plan(self, updates: int) -> None:
        """The exploration schedule spans ``updates`` calls of :meth:`update` (after the warm-up)."""
        check_int("updates", updates, 1)
        total = max(1, updates - self.config.warmup_iterations)
        self.config = self.config.replace(total_iterations=total)

    @property
    def warming_up(self) -> bool:
        """True during the first ``warmup_iterations`` calls of :meth:`update`."""
        return self.iteration < self.config.warmup_iterations

    @property
    def epsilon(self) -> float:
        """Exploration rate now: 1 during the warm-up, then linear decay, then constant."""
        c = self.config
        if self.warming_up:
            return 1.0
        horizon = c.epsilon_fraction * c.total_iterations
        done = self.iteration - c.warmup_iterations
        frac = 1.0 if horizon <= 0 else min(1.0, done / horizon)
        return float(c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start))

    # -- acting --------------------------------------------------------------------------------------
    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Slates ``(n, K)`` int64 of distinct candidate indices.

        ``explore=True`` samples from the policy with epsilon-greedy exploration; ``explore=False``
        takes the greedy argmax per position (or samples, with ``inference="sample"``).
        """
        check_batch(observations, self.spec)
        c = self.config
        mode, eps = ("sample", self.epsilon) if explore else (c.inference, 0.0)
        coin = "batch" if explore and self.warming_up else c.epsilon_coin
        self.nets.eval()
        with torch.no_grad():
            obs = to_tensors(observations, c.encoder.history_length)
            out = sample_slates(self.nets, obs, mode, eps, self._generator, with_flow=False,
                                coin=coin)  # fmt: skip
        return out.slates.numpy().astype(np.int64)

    # -- learning ------------------------------------------------------------------------------------
    def update(self, feedback: Feedback) -> dict[str, float]:
        """Push ``feedback`` with its reward ``R`` into the buffer; then (after the warm-up) take
        ``updates_per_call`` gradient steps."""
        if feedback.size == 0:
            return {}
        check_batch(feedback.observations, self.spec)
        reward = self.reward(feedback)
        self.buffer.push(Batch({k: feedback.observations[k] for k in OBS_KEYS}, feedback.slates,
                               reward))  # fmt: skip
        totals: dict[str, float] = {}
        if not self.warming_up:
            for _ in range(self.config.updates_per_call):
                batch = self.buffer.sample(self.config.batch_size, self._rng)
                step = self.train_on(batch.observations, batch.slates, batch.rewards)
                for key, value in step.items():
                    totals[key] = totals.get(key, 0.0) + value / self.config.updates_per_call
        self.iteration += 1
        totals.update(
            reward=float(reward.mean()),
            env_reward=float(np.mean(feedback.rewards)),
            click_rate=float(np.asarray(feedback.clicks).sum(axis=1).mean()),
            epsilon=self.epsilon,
            buffer_size=float(len(self.buffer)),
            iteration=float(self.iteration),
        )
        return totals

    def train_on(
        self, observations: dict[str, np.ndarray], slates: np.ndarray, reward: np.ndarray
    ) -> dict[str, float]:
        """One gradient step on given ``slates (B, K)`` with rewards ``R (B,)`` (teacher forcing).

        Used by :meth:`update` on replayed batches, and directly by tests with a known reward.
        """
        c = self.config
        n = check_batch(observations, self.spec)
        r = torch.as_tensor(np.asarray(reward, np.float64), dtype=torch.float32)
        if tuple(r.shape) != (n,):
            raise ValueError(f"reward has shape {tuple(r.shape)}, expected {(n,)}")
        if not bool(torch.all(r + c.b_r > 0)):
            raise ValueError(f"R + b_r must be > 0 for every slate (b_r={c.b_r})")
        self.nets.train()
        obs = to_tensors(observations, c.encoder.history_length)
        chosen = torch.as_tensor(np.asarray(slates, np.int64))
        scores = score_slates(self.nets, obs, chosen, self.kind == "db", self.kind == "tb")
        losses = self._loss(scores, r)
        self.optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        if c.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.nets.parameters(), c.max_grad_norm)
        self.optimizer.step()
        metrics = {k: float(v.detach()) for k, v in losses.items()}
        metrics["log_pf"] = float(scores.log_pf.detach().sum(dim=1).mean())
        metrics["entropy"] = float(scores.entropy.mean())
        return metrics

    @property
    def b_f(self) -> float:
        """The forward offset passed to the loss: ``config.b_f`` (offset form) or 0 (exact)."""
        return self.config.b_f if self.config.loss_form == "offset" else 0.0

    @abstractmethod
    def _loss(self, scores: SlateScores, reward: torch.Tensor) -> dict[str, torch.Tensor]:
        """The loss terms of a scored batch (``"loss"`` is what is minimised): DB or TB."""

    # -- checkpoints ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Networks, optimiser, config, spec, iteration and RNG states (not the replay buffer)."""
        torch.save(
            {
                "format": _FORMAT,
                "name": self.name,
                "spec": dataclasses.asdict(self.spec),
                "seed": self.seed,
                "config": dataclasses.asdict(self.config),
                "iteration": self.iteration,
                "nets": self.nets.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "torch_rng": self._generator.get_state(),
                "numpy_rng": self._rng.bit_generator.state,
            },
            Path(path),
        )

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint of :meth:`save` (same class); the replay buffer starts empty."""
        state = torch.load(Path(path), weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a SlateGFN checkpoint (format {_FORMAT})")
        if state["name"] != self.name:
            raise ValueError(f"{path} holds a {state['name']} checkpoint, not {self.name}")
        self.spec = AgentSpec(**state["spec"])
        self.seed = int(state["seed"])
        self._build(GFNConfig(**state["config"]))
        self.nets.load_state_dict(state["nets"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])
        self._generator.set_state(state["torch_rng"])
        self._rng.bit_generator.state = state["numpy_rng"]


class SlateGFN_DB(SlateGFN):  # noqa: N801  (the name used by the paper and the design)
    """GFN4Rec with the detailed-balance loss (:func:`agents.gfn.losses.db_loss`)."""

    name = "slategfn_db"
    kind = "db"

    def _loss(self, scores: SlateScores, reward: torch.Tensor) -> dict[str, torch.Tensor]:
        if scores.log_flow is None:
            raise ValueError("the DB loss needs log F of every prefix")
        c = self.config
        log_reward = torch.log(reward)  # -inf where R = 0: log(R + b_r) is still exact for b_r > 0
        return db_loss(
            scores.log_flow, scores.log_pf, log_reward, self.b_f, c.b_z, c.b_r, c.loss_form
        )


class SlateGFN_TB(SlateGFN):  # noqa: N801
    """GFN4Rec with the trajectory-balance loss (:func:`agents.gfn.losses.tb_loss`)."""

    name = "slategfn_tb"
    kind = "tb"

    def _loss(self, scores: SlateScores, reward: torch.Tensor) -> dict[str, torch.Tensor]:
        if scores.log_z is None:
            raise ValueError("the TB loss needs log Z(u)")
        c = self.config
        return tb_loss(scores.log_z, scores.log_pf, reward, self.b_f, c.b_z, c.b_r, c.loss_form)
