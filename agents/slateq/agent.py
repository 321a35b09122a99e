r"""SlateQ (Ie et al., IJCAI 2019) as an agent that learns from feedback.

SlateQ decomposes the value of a slate into item values: under a single-choice model, with reward
and transition depending only on the chosen item, :math:`Q(s, A) = \sum_{i \in A \cup \{\bot\}}
P(i \mid s, A)\, \bar Q(s, i)`. It learns :math:`\bar Q` by TD (:mod:`agents.slateq.targets`), the
conditional choice model :math:`P` by maximum likelihood unless it is given
(:mod:`agents.slateq.choice`), and acts with the slate that maximises the decomposed value
(:mod:`agents.slateq.optimize`), epsilon-greedy while exploring.

One :meth:`SlateQ.update` call pushes the feedback's transitions into the replay buffer
(:mod:`agents.slateq.buffer`) and, once it holds ``batch_size`` transitions, takes
``updates_per_call`` gradient steps on uniform replay batches; the target network is refreshed every
``target_every`` gradient steps.

Example:
    >>> from agents.loop import make_vector_env, run
    >>> from agents.registry import make_agent
    >>> envs = make_vector_env(16, num_users=20, days=1)
    >>> agent = make_agent("slateq", envs, seed=0, batch_size=16, encoder={"history_length": 10})
    >>> logs = run(agent, envs, seed=0, steps=2, explore=True, learn=True)
    >>> sorted(logs[-1])[:4]
    ['buffer_size', 'choice_nll', 'click_rate', 'epsilon']
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.base import Feedback
from agents.slateq.buffer import TransitionBuffer
from agents.slateq.choice import choice_nll
from agents.slateq.config import SlateQConfig
from agents.slateq.networks import SlateQNetworks
from agents.slateq.optimize import best_slates
from agents.slateq.targets import q_learning_target, sarsa_target
from agents.spec import AgentSpec
from agents.tensors import OBS_KEYS, check_batch, to_tensors
from slategym.validation import check_int

__all__ = ["SlateQ", "choices_of"]

_FORMAT = 1


def choices_of(clicks: np.ndarray, multi_click: str) -> np.ndarray:
    """The chosen position of each slate ``(n,)``: the clicked one, ``K`` for no click.

    A slate with several clicks is outside SlateQ's single-choice assumption: ``"first"`` takes the
    top-most click, ``"error"`` raises ``ValueError``.
    """
    clicks = np.asarray(clicks, bool)
    count = clicks.sum(axis=1)
    if multi_click == "error" and (count > 1).any():
        raise ValueError(
            f"a slate has {int(count.max())} clicks: SlateQ assumes one choice per slate "
            "(multi_click='error'); use multi_click='first' to take the top-most click"
        )
    return np.where(count > 0, clicks.argmax(axis=1), clicks.shape[1]).astype(np.int64)


class SlateQ:
    """See the module docstring; ``docs/agents/slateq.md`` for the maths and the options."""

    name = "slateq"

    def __init__(self, spec: AgentSpec, config: SlateQConfig | None = None, seed: int = 0) -> None:
        if not isinstance(spec, AgentSpec):
            raise ValueError(f"spec must be an AgentSpec, got {type(spec).__name__}")
        if config is None:
            config = SlateQConfig()
        if not isinstance(config, SlateQConfig):
            raise ValueError(f"config must be a SlateQConfig, got {type(config).__name__}")
        self.spec = spec
        self.seed = int(seed)
        self._build(config)
        self._rng = np.random.default_rng(self.seed)

    @classmethod
    def from_spec(cls, spec: AgentSpec, seed: int = 0, **fields: Any) -> SlateQ:
        """An agent for ``spec`` with :class:`SlateQConfig` ``fields``."""
        return cls(spec, SlateQConfig(**fields), seed=seed)

    def _build(self, config: SlateQConfig) -> None:
        self.config = config
        self.reward = config.reward_spec
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(self.seed)
            self.nets = SlateQNetworks(self.spec, config.encoder)
        self.target = copy.deepcopy(self.nets).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.nets.parameters(), lr=config.lr)
        self.buffer = TransitionBuffer(config.buffer_capacity, link=config.target == "sarsa")
        self.iteration = 0  # update() calls
        self.gradient_steps = 0

    # -- schedule --------------------------------------------------------------------------------
    def plan(self, updates: int) -> None:
        """The exploration schedule spans ``updates`` calls of :meth:`update`."""
        self.config = self.config.replace(total_updates=check_int("updates", updates, 1))

    @property
    def epsilon(self) -> float:
        c = self.config
        horizon = c.epsilon_fraction * c.total_updates
        frac = 1.0 if horizon <= 0 else min(1.0, self.iteration / horizon)
        return float(c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start))

    # -- values and choice model -----------------------------------------------------------------
    def _choice_logits(
        self, observations: dict[str, np.ndarray], estimated: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Item and null logits: the known model's, or the estimated scores with a null logit 0."""
        known = self.config.choice_model
        if known is None:
            return estimated, torch.zeros(estimated.shape[0], dtype=estimated.dtype)
        logits, null = known(observations)
        logits = torch.as_tensor(np.asarray(logits, np.float64))
        null = torch.as_tensor(np.asarray(null, np.float64)).reshape(-1)
        if tuple(logits.shape) != tuple(estimated.shape) or null.shape[0] != estimated.shape[0]:
            raise ValueError(
                f"choice_model returned logits {tuple(logits.shape)} and null {tuple(null.shape)}, "
                f"expected {tuple(estimated.shape)} and ({estimated.shape[0]},)"
            )
        return logits, null

    def values(self, observations: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """The online network's ``q (n, C)``, ``null_q (n,)``, and the choice ``logits (n, C)``,
        ``null_logit (n,)`` on a batch (no gradients)."""
        check_batch(observations, self.spec)
        self.nets.eval()
        with torch.no_grad():
            q, null_q, scores = self.nets(to_tensors(observations, self.config.encoder.history_length))
        if self.config.null_value == "zero":
            null_q = torch.zeros_like(null_q)
        logits, null_logit = self._choice_logits(observations, scores)
        return {"q": q, "null_q": null_q, "logits": logits, "null_logit": null_logit}

    # -- acting ----------------------------------------------------------------------------------
    def act(self, observations: dict[str, np.ndarray], explore: bool = False) -> np.ndarray:
        """The optimiser's slates ``(n, K)``; with ``explore``, a uniform random slate instead with
        probability epsilon per row."""
        v = self.values(observations)
        k = self.spec.slate_size
        slates = best_slates(self.config.optimizer, v["logits"], v["null_logit"], v["q"],
                             v["null_q"], k).numpy().astype(np.int64)  # fmt: skip
        if explore:
            n, c = v["q"].shape
            uniform = np.argsort(self._rng.random((n, c)), axis=1)[:, :k]
            coin = self._rng.random(n) < self.epsilon
            slates = np.where(coin[:, None], uniform, slates)
        return slates

    # -- learning --------------------------------------------------------------------------------
    def update(self, feedback: Feedback) -> dict[str, float]:
        """Push the transitions of ``feedback`` and take ``updates_per_call`` gradient steps."""
        if feedback.size == 0:
            return {}
        if feedback.next_observations is None or feedback.dones is None:
            raise ValueError("SlateQ learns from transitions: the feedback needs next_observations "
                             "and dones")  # fmt: skip
        check_batch(feedback.observations, self.spec)
        check_batch(feedback.next_observations, self.spec)
        choice = choices_of(feedback.clicks, self.config.multi_click)
        reward = self.reward(feedback)
        self.buffer.push(feedback.observations, feedback.slates, choice, reward,
                         feedback.next_observations, feedback.dones)  # fmt: skip
        totals: dict[str, float] = {}
        if len(self.buffer) >= self.config.batch_size:
            for _ in range(self.config.updates_per_call):
                step = self.train_on(self.buffer.sample(self.config.batch_size, self._rng))
                for key, value in step.items():
                    totals[key] = totals.get(key, 0.0) + value / self.config.updates_per_call
        self.iteration += 1
        totals.update(
            reward=float(reward.mean()),
            click_rate=float(np.asarray(feedback.clicks).sum(axis=1).mean()),
            epsilon=self.epsilon,
            buffer_size=float(len(self.buffer)),
            iteration=float(self.iteration),
        )
        return totals

    def train_on(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        """One gradient step on a batch of transitions (the fields of :class:`TransitionBuffer`)."""
        c, k = self.config, self.spec.slate_size
        obs_np = {key: batch[f"obs_{key}"] for key in OBS_KEYS}
        next_np = {key: batch[f"next_{key}"] for key in OBS_KEYS}
        slates = torch.as_tensor(batch["slates"])
        choice = torch.as_tensor(batch["choice"])
        reward = torch.as_tensor(batch["reward"], dtype=torch.float32)
        done = torch.as_tensor(batch["done"])
        # Targets: the target network's item values at s', the choice model at s' (no gradients).
        with torch.no_grad():
            next_t = to_tensors(next_np, c.encoder.history_length)
            next_q, next_null_q, next_scores = self.target(next_t)
            if c.choice_model is None:  # the estimated choice model is the online network's
                self.nets.eval()
                next_scores = self.nets(next_t)[2]
            if c.null_value == "zero":
                next_null_q = torch.zeros_like(next_null_q)
            logits, null_logit = self._choice_logits(next_np, next_scores)
            if c.target == "sarsa":
                y = sarsa_target(reward, done, c.gamma, logits, null_logit, next_q, next_null_q,
                                 torch.as_tensor(batch["next_slates"]))  # fmt: skip
            else:
                y = q_learning_target(reward, done, c.gamma, logits, null_logit, next_q,
                                      next_null_q, k, c.optimizer)  # fmt: skip
        self.nets.train()
        q, null_q, scores = self.nets(to_tensors(obs_np, c.encoder.history_length))
        clicked = choice < k
        item_q = q.gather(1, slates).gather(1, choice.clamp(max=k - 1)[:, None]).squeeze(1)
        pred = torch.where(clicked, item_q, null_q)
        rows = clicked if c.null_value == "zero" else torch.ones_like(clicked)
        td = (pred - y)[rows].pow(2).mean() if bool(rows.any()) else pred.sum() * 0.0
        loss = td
        metrics = {"td_loss": float(td.detach()), "q_mean": float(q.detach().mean()),
                   "null_q_mean": float(null_q.detach().mean())}  # fmt: skip
        if c.choice_model is None:
            nll = choice_nll(scores, torch.zeros_like(null_q), slates, choice)
            loss = loss + c.choice_weight * nll
            metrics["choice_nll"] = float(nll.detach())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.nets.parameters(), c.max_grad_norm)
        self.optimizer.step()
        self.gradient_steps += 1
        if self.gradient_steps % c.target_every == 0:
            self.target.load_state_dict(self.nets.state_dict())
        metrics["loss"] = float(loss.detach())
        return metrics

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Networks, target, optimiser, config (without a known choice model, which is code), spec,
        counters and RNG state (not the replay buffer)."""
        config = dataclasses.asdict(self.config.replace(choice_model=None))
        torch.save(
            {
                "format": _FORMAT,
                "name": self.name,
                "spec": dataclasses.asdict(self.spec),
                "seed": self.seed,
                "config": config,
                "iteration": self.iteration,
                "gradient_steps": self.gradient_steps,
                "nets": self.nets.state_dict(),
                "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "numpy_rng": self._rng.bit_generator.state,
            },
            Path(path),
        )

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint of :meth:`save`; a known choice model of this agent is kept."""
        state = torch.load(Path(path), weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _FORMAT or state.get("name") != self.name:
            raise ValueError(f"{path} is not a SlateQ checkpoint (format {_FORMAT})")
        self.spec = AgentSpec(**state["spec"])
        self.seed = int(state["seed"])
        self._build(SlateQConfig(**{**state["config"], "choice_model": self.config.choice_model}))
        self.nets.load_state_dict(state["nets"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])
        self.gradient_steps = int(state["gradient_steps"])
        self._rng.bit_generator.state = state["numpy_rng"]
