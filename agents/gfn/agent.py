r"""SlateGFN_DB and SlateGFN_TB: GFN4Rec (Liu et al., KDD 2023) as agents of the slategym protocol.

A SlateGFN generates a slate item by item with a masked autoregressive policy
(:mod:`agents.gfn.sampler`) and learns it so that slates are drawn with probability proportional to
their reward plus an offset, with the detailed-balance (``SlateGFN_DB``) or trajectory-balance
(``SlateGFN_TB``) loss of :mod:`agents.gfn.losses`. The reward of a served slate is the mean over
positions of weighted responses,

.. math::

    R = \frac{1}{K} \sum_{k} \big(w_{\mathrm{click}} C_k + w_{\mathrm{purchase}} P_k\big).

One call of :meth:`SlateGFN.update` is one training iteration: the feedback goes into the replay
buffer (:mod:`agents.gfn.buffer`), then ``updates_per_call`` gradient steps each learn from a
replayed batch, scored again by the current networks (teacher forcing). Exploration is
epsilon-greedy over the available items, with epsilon decaying linearly over the first
``epsilon_fraction`` of ``total_iterations``.

Example:
    >>> from agents.gfn import SlateGFN_DB
    >>> from agents.training import make_vector_env, run
    >>> envs = make_vector_env(8, num_users=20, days=1)
    >>> agent = SlateGFN_DB.from_env(envs, seed=0)
    >>> logs = run(agent, envs, steps=2, seed=0, explore=True, learn=True)
    >>> sorted(logs[0])[:3]
    ['buffer_size', 'click_rate', 'entropy']
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.base import Feedback
from agents.gfn.buffer import BEHAVIOURS, Batch, ReplayBuffer
from agents.gfn.losses import db_loss, tb_loss
from agents.gfn.networks import OBS_KEYS, GFNNetworks, check_batch, to_tensors
from agents.gfn.sampler import SlateScores, sample_slates, score_slates

__all__ = ["GFNConfig", "SlateGFN", "SlateGFN_DB", "SlateGFN_TB"]

_FORMAT = 1
_POSITIVE_INTS = (
    "batch_size updates_per_call buffer_capacity total_iterations item_dim state_dim hidden "
    "history_length heads feedforward layers"
).split()
_DIMS = ("slate_size", "num_items", "num_features", "profile_dim")


@dataclass(frozen=True)
class GFNConfig:
    """Hyperparameters of a SlateGFN; the source of every default is given.

    Loss:
        mode: "faithful" (the loss as coded by the GFN4Rec authors, offset inside the log) or
            "exact" (textbook GFlowNet, samples proportional to ``R + b_r``); default "faithful".
        b_f: forward-probability offset, faithful mode only (1.0 = the authors' code default; the
            paper uses 0.5 on KuaiRand-1K). Ignored in exact mode, where it is 0.
        b_r: reward offset (0.5; the paper's range is 0.4-1.0).
        b_z: bias added to every flow transition (1.0, the authors' code default).
        click_weight, purchase_weight: response weights of the reward (1.0, 0.0: click reward, as
            the paper's default response weighting on click-only data).

    Optimisation:
        lr: Adam learning rate of every network (1e-4, paper).
        batch_size: rows per gradient step (128, paper).
        updates_per_call: gradient steps per :meth:`SlateGFN.update` (1, as in the authors' loop).
        max_grad_norm: gradient-norm clip, ``None`` = off (off, as in the paper).
        buffer: "latest" (what the released scripts effectively do) or "mixed" (see
            :mod:`agents.gfn.buffer`); default "latest".
        buffer_capacity: rows of the "mixed" ring buffer (10 000).

    Exploration:
        epsilon_start, epsilon_end: epsilon-greedy from 0.05 to 0.01 (paper's schedule) ...
        epsilon_fraction: ... linearly over this fraction of the iterations (0.1) ...
        total_iterations: ... of this declared number of ``update`` calls (10 000).
        inference: "greedy" (argmax per position, default) or "sample" for ``act(explore=False)``.

    Networks (paper: 32-d state, 2-layer transformer, 4 heads, feed-forward 64, last 50 items):
        item_dim (32), state_dim (32), hidden (64): widths; history_length (50): most recent
        history slots read; heads (4), feedforward (64), layers (2): the history transformer.
    """

    mode: str = "faithful"
    b_f: float = 1.0
    b_r: float = 0.5
    b_z: float = 1.0
    click_weight: float = 1.0
    purchase_weight: float = 0.0
    lr: float = 1e-4
    batch_size: int = 128
    updates_per_call: int = 1
    max_grad_norm: float | None = None
    buffer: str = "latest"
    buffer_capacity: int = 10_000
    epsilon_start: float = 0.05
    epsilon_end: float = 0.01
    epsilon_fraction: float = 0.1
    total_iterations: int = 10_000
    inference: str = "greedy"
    item_dim: int = 32
    state_dim: int = 32
    hidden: int = 64
    history_length: int = 50
    heads: int = 4
    feedforward: int = 64
    layers: int = 2

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected {expected}")

        choices = {
            "mode": ("faithful", "exact"),
            "buffer": BEHAVIOURS,
            "inference": ("greedy", "sample"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise bad(name, f"one of {allowed}")
        if self.mode == "faithful" and not self.b_f > 0:
            raise bad("b_f", "a value > 0 in faithful mode")
        for name in ("b_r", "click_weight", "purchase_weight", "epsilon_fraction"):
            if not getattr(self, name) >= 0:
                raise bad(name, "a value >= 0")
        for name in ("epsilon_start", "epsilon_end"):
            if not 0 <= getattr(self, name) <= 1:
                raise bad(name, "a value in [0, 1]")
        if not self.lr > 0:
            raise bad("lr", "a value > 0")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise bad("max_grad_norm", "None or a value > 0")
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(name, "an integer >= 1")
        if self.state_dim % self.heads:
            raise bad("heads", f"a divisor of state_dim={self.state_dim}")

    @property
    def faithful(self) -> bool:
        return self.mode == "faithful"

    def replace(self, **changes: Any) -> GFNConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


class SlateGFN(ABC):
    """The agent wiring of both GFlowNets; subclasses choose the loss (``kind``)."""

    name = "slategfn"
    kind = ""
    learns = True

    def __init__(
        self,
        slate_size: int,
        num_items: int,
        num_features: int,
        profile_dim: int,
        config: GFNConfig | None = None,
        seed: int = 0,
    ) -> None:
        dims = dict(zip(_DIMS, (slate_size, num_items, num_features, profile_dim)))
        for label, value in dims.items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{label}={value!r} is not allowed: expected an integer >= 1")
        if config is None:
            config = GFNConfig()
        if not isinstance(config, GFNConfig):
            raise ValueError(f"config must be a GFNConfig, got {type(config).__name__}")
        self.dims = {k: int(v) for k, v in dims.items()}
        self.seed = int(seed)
        self._build(config)
        self._generator = torch.Generator().manual_seed(self.seed)
        self._rng = np.random.default_rng(self.seed)

    def _build(self, config: GFNConfig) -> None:
        self.config = config
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(self.seed)
            self.nets = GFNNetworks(
                self.dims["slate_size"],
                self.dims["num_items"],
                self.dims["num_features"],
                self.dims["profile_dim"],
                item_dim=config.item_dim,
                state_dim=config.state_dim,
                hidden=config.hidden,
                history_length=config.history_length,
                heads=config.heads,
                feedforward=config.feedforward,
                layers=config.layers,
            )
        self.optimizer = torch.optim.Adam(self.nets.parameters(), lr=config.lr)
        self.buffer = ReplayBuffer(config.buffer, config.buffer_capacity)
        self.iteration = 0

    @classmethod
    def from_env(cls, envs: Any, config: GFNConfig | None = None, seed: int = 0) -> SlateGFN:
        """An agent sized for ``envs`` (a SlateRec vector env, or a single env)."""
        space = getattr(envs, "single_observation_space", None) or envs.observation_space
        sim = envs.unwrapped.sim
        return cls(
            slate_size=int(sim.config.slate_size),
            num_items=int(sim.catalog.total),
            num_features=int(space["candidates"].shape[-1]),
            profile_dim=int(space["user"].shape[-1]),
            config=config,
            seed=seed,
        )

    # -- schedule and reward -------------------------------------------------------------------------
    @property
    def slate_size(self) -> int:
        return self.dims["slate_size"]

    @property
    def epsilon(self) -> float:
        """Exploration rate at the current iteration (linear decay, then constant)."""
        c = self.config
        horizon = c.epsilon_fraction * c.total_iterations
        frac = 1.0 if horizon <= 0 else min(1.0, self.iteration / horizon)
        return float(c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start))

    def reward_of(self, clicks: np.ndarray, purchases: np.ndarray) -> np.ndarray:
        """``R`` ``(n,)``: mean over positions of ``w_click * click + w_purchase * purchase``."""
        c = self.config
        per_position = c.click_weight * np.asarray(clicks, np.float64) + c.purchase_weight * (
            np.asarray(purchases, np.float64)
        )  # (n, K)
        return per_position.mean(axis=1)

    # -- acting --------------------------------------------------------------------------------------
    def _check(self, obs: Any) -> int:
        return check_batch(obs, **self.dims)

    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """Slates ``(n, K)`` int64 of distinct candidate indices.

        ``explore=True`` samples from the policy with epsilon-greedy exploration; ``explore=False``
        takes the greedy argmax per position (or samples, with ``inference="sample"``).
        """
        self._check(observations)
        if explore:
            mode, eps = "sample", self.epsilon
        else:
            mode, eps = self.config.inference, 0.0
        self.nets.eval()
        with torch.no_grad():
            obs = to_tensors(observations, self.config.history_length)
            out = sample_slates(self.nets, obs, mode, eps, self._generator, with_flow=False)
        return out.slates.numpy().astype(np.int64)

    # -- learning ------------------------------------------------------------------------------------
    def update(self, feedback: Feedback) -> dict[str, float]:
        """Push ``feedback`` into the replay buffer and take ``updates_per_call`` gradient steps."""
        if feedback.size == 0:
            return {}
        self._check(feedback.observations)
        self.buffer.push(
            Batch(
                observations={k: feedback.observations[k] for k in OBS_KEYS},
                slates=feedback.slates,
                clicks=feedback.clicks,
                purchases=feedback.purchases,
                rewards=feedback.rewards,
            )
        )
        totals: dict[str, float] = {}
        for _ in range(self.config.updates_per_call):
            batch = self.buffer.sample(self.config.batch_size, self._rng)
            step = self.train_on(
                batch.observations, batch.slates, self.reward_of(batch.clicks, batch.purchases)
            )
            for key, value in step.items():
                totals[key] = totals.get(key, 0.0) + value / self.config.updates_per_call
        self.iteration += 1
        totals.update(
            reward=float(self.reward_of(feedback.clicks, feedback.purchases).mean()),
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
        n = self._check(observations)
        r = torch.as_tensor(np.asarray(reward, np.float64), dtype=torch.float32)
        if tuple(r.shape) != (n,):
            raise ValueError(f"reward has shape {tuple(r.shape)}, expected {(n,)}")
        if not bool(torch.all(r + c.b_r > 0)):
            raise ValueError(f"R + b_r must be > 0 for every slate (b_r={c.b_r})")
        self.nets.train()
        obs = to_tensors(observations, c.history_length)
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
        """The forward offset passed to the loss: ``config.b_f`` (faithful) or 0 (exact)."""
        return self.config.b_f if self.config.faithful else 0.0

    @abstractmethod
    def _loss(self, scores: SlateScores, reward: torch.Tensor) -> dict[str, torch.Tensor]:
        """The loss terms of a scored batch (``"loss"`` is what is minimised): DB or TB."""

    # -- checkpoints ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Networks, optimiser, config, dims, iteration and RNG states (not the replay buffer)."""
        torch.save(
            {
                "format": _FORMAT,
                "name": self.name,
                "dims": dict(self.dims),
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
        self.dims = {k: int(v) for k, v in state["dims"].items()}
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
            scores.log_flow, scores.log_pf, log_reward, self.b_f, c.b_z, c.b_r, c.faithful
        )


class SlateGFN_TB(SlateGFN):  # noqa: N801
    """GFN4Rec with the trajectory-balance loss (:func:`agents.gfn.losses.tb_loss`)."""

    name = "slategfn_tb"
    kind = "tb"

    def _loss(self, scores: SlateScores, reward: torch.Tensor) -> dict[str, torch.Tensor]:
        if scores.log_z is None:
            raise ValueError("the TB loss needs log Z(u)")
        c = self.config
        return tb_loss(scores.log_z, scores.log_pf, reward, self.b_f, c.b_z, c.b_r, c.faithful)
