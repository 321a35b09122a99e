"""CleanRL-style PPO in one file, on the native vector env, with distinct slates from scores.

The policy scores every candidate with one shared MLP (a pointwise ranker: candidate features,
topic, user, a summary of the click history, time); ``TopKSlateVector`` turns the scores into a
slate of distinct candidates by Plackett–Luce sampling (training) or top-K (greedy evaluation)
and reports the sampled slate's log-probability, which is PPO's "old log-prob". PPO recomputes
the log-probability of the stored slates under the updated network with the same formula in
torch (``slate_log_prob``). Training runs on the native vector env with ``SAME_STEP`` autoreset
(CleanRL's convention: the observation after a ``done`` is the next episode's first);
evaluation runs held-out users (another ``population_seed``) for one episode each under
``NEXT_STEP`` autoreset, where the rows that have finished keep being stepped with a placeholder
action that the env ignores.

    python docs/examples/cleanrl_ppo.py                 # the documented run (a few minutes, 1 core)
    python docs/examples/cleanrl_ppo.py --steps 2048    # CI's smoke run

Needs torch (``pip install torch==2.13.0 "slategym[agents]"``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import slategym  # noqa: F401  (registers SlateRec-v0)
from slategym.wrappers import TopKSlateVector

EVAL_POPULATION_SEED = 10_000
"""Held-out users: a population the policy never trained on (same catalog)."""


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300_000, help="environment steps (all rows)")
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=64, help="rollout length per env")
    p.add_argument("--update-epochs", type=int, default=4)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--gamma", type=float, default=0.95)
    p.add_argument("--gae-lambda", type=float, default=0.9)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.003)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--eval-users", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the result as JSON here")
    return p.parse_args(argv)


def make_envs(num_envs: int, mode: str, autoreset: AutoresetMode, population_seed: int):
    envs = gym.make_vec(
        "SlateRec-v0",
        num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=autoreset,
        population_seed=population_seed,
    )
    return TopKSlateVector(envs, mode=mode)  # type: ignore[arg-type]


# -- features: one row per candidate, the same network for all of them --------------------------
def features(obs: dict[str, np.ndarray], time_scale: np.ndarray, num_topics: int):
    """``(N, C, Fc)`` per-candidate inputs and ``(N, Fx)`` context, as float32 tensors.

    Ids are not used as numbers: topics are one-hot, history ids only mark empty slots."""
    cand = torch.as_tensor(obs["candidates"])  # (N, C, F)
    topics = nn.functional.one_hot(torch.as_tensor(obs["candidate_topics"]), num_topics).float()
    filled = torch.as_tensor(obs["history_ids"] >= 0).float().unsqueeze(-1)  # (N, L, 1)
    history = (torch.as_tensor(obs["history"]) * filled).sum(1) / filled.sum(1).clamp(min=1)
    context = torch.cat(
        [torch.as_tensor(obs["user"]), history, torch.as_tensor(obs["time"] / time_scale)], -1
    )  # (N, P + F + 2 + 3)
    f = cand.shape[-1]
    per_candidate = torch.cat(
        [cand, topics, cand * history[:, None, :f], context[:, None].expand(-1, cand.shape[1], -1)],
        -1,
    )
    return per_candidate, context


def layer(n_in: int, n_out: int, std: float = np.sqrt(2)) -> nn.Linear:
    lin = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


class Agent(nn.Module):
    def __init__(self, n_candidate: int, n_context: int, hidden: int = 64) -> None:
        super().__init__()
        self.scorer = nn.Sequential(
            layer(n_candidate, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(),
            layer(hidden, 1, std=0.01),
        )  # fmt: skip
        self.critic = nn.Sequential(
            layer(n_context + n_candidate, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(),
            layer(hidden, 1, std=1.0),
        )  # fmt: skip

    def scores(self, per_candidate: torch.Tensor) -> torch.Tensor:
        return self.scorer(per_candidate).squeeze(-1)  # (N, C): the Plackett-Luce logits

    def value(self, per_candidate: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.critic(torch.cat([context, per_candidate.mean(1)], -1)).squeeze(-1)


def slate_log_prob(logits: torch.Tensor, slates: torch.Tensor) -> torch.Tensor:
    """Plackett-Luce log P(slate | logits), as slategym.wrappers.plackett_luce_log_prob."""
    taken = torch.zeros_like(logits, dtype=torch.bool)
    out = torch.zeros(logits.shape[0])
    for j in range(slates.shape[1]):
        masked = logits.masked_fill(taken, -torch.inf)
        pick = slates[:, j : j + 1]
        out = out + masked.gather(1, pick).squeeze(1) - torch.logsumexp(masked, 1)
        taken = taken.scatter(1, pick, True)
    return out


def evaluate(
    policy: Agent | str, args: argparse.Namespace, scale: np.ndarray, topics: int
) -> float:
    """Mean return of one full episode per held-out user, for the agent's greedy top-K, or a
    baseline: ``"random"`` (uniformly random distinct slates: Plackett-Luce with equal logits),
    ``"popularity"`` (top-K by the candidates' log-popularity feature, their last column) or
    ``"oracle"`` (top-K by the hidden true affinities: an upper bound, not a policy)."""
    mode = "plackett_luce" if policy == "random" else "top_k"
    envs = make_envs(args.eval_users, mode, AutoresetMode.NEXT_STEP, EVAL_POPULATION_SEED)
    obs, _ = envs.reset(seed=args.seed + 1)
    n, c = args.eval_users, envs.num_candidates
    total, running = np.zeros(n), np.ones(n, bool)
    while running.any():
        if policy == "random":
            scores = np.zeros((n, c), np.float32)
        elif policy == "popularity":
            scores = obs["candidates"][:, :, -1]
        elif policy == "oracle":
            scores = envs.unwrapped.oracle_affinities()  # type: ignore[attr-defined]
        else:
            assert isinstance(policy, Agent)
            with torch.no_grad():
                scores = policy.scores(features(obs, scale, topics)[0]).numpy()
        # rows that have finished are reset by this step (NEXT_STEP): their scores are ignored
        obs, rewards, terminated, truncated, _ = envs.step(scores)
        total += np.where(running, rewards, 0.0)
        running &= ~(terminated | truncated)
    envs.close()
    return float(total.mean())


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    batch = args.num_envs * args.num_steps
    minibatch = batch // args.num_minibatches
    iterations = max(1, args.steps // batch)

    envs = make_envs(args.num_envs, "plackett_luce", AutoresetMode.SAME_STEP, population_seed=0)
    config = envs.unwrapped.config  # type: ignore[attr-defined]
    scale = np.array([max(config.days - 1, 1), 23, config.max_session_steps - 1], np.float32)
    topics, k = config.num_topics, config.slate_size
    obs, _ = envs.reset(seed=args.seed)
    per_candidate, context = features(obs, scale, topics)
    agent = Agent(per_candidate.shape[-1], context.shape[-1])
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    n, c = args.num_envs, envs.num_candidates
    buf_cand = torch.zeros((args.num_steps, n, c, per_candidate.shape[-1]))
    buf_ctx = torch.zeros((args.num_steps, n, context.shape[-1]))
    slates = torch.zeros((args.num_steps, n, k), dtype=torch.long)
    logprobs, rewards, dones, values = (torch.zeros((args.num_steps, n)) for _ in range(4))
    next_done = torch.zeros(n)
    start, episode_returns = time.time(), []
    running_return = np.zeros(n)

    for iteration in range(iterations):
        for group in optimizer.param_groups:  # linear learning-rate annealing
            group["lr"] = args.learning_rate * (1.0 - iteration / iterations)
        for step in range(args.num_steps):
            buf_cand[step], buf_ctx[step], dones[step] = per_candidate, context, next_done
            with torch.no_grad():
                scores = agent.scores(per_candidate)
                values[step] = agent.value(per_candidate, context)
            # the wrapper samples a distinct slate from the scores and reports its log-prob
            obs, reward, terminated, truncated, info = envs.step(scores.numpy())
            slates[step] = torch.as_tensor(info["slate"])
            logprobs[step] = torch.as_tensor(info["slate_log_prob"], dtype=torch.float32)
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            done = terminated | truncated
            next_done = torch.as_tensor(done, dtype=torch.float32)
            per_candidate, context = features(obs, scale, topics)
            running_return += reward
            episode_returns.extend(running_return[done].tolist())
            running_return[done] = 0.0

        with torch.no_grad():  # generalised advantage estimation
            next_value = agent.value(per_candidate, context)
            advantages = torch.zeros_like(rewards)
            last = torch.zeros(n)
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nonterminal, next_values = 1.0 - next_done, next_value
                else:
                    nonterminal, next_values = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + args.gamma * next_values * nonterminal - values[t]
                last = delta + args.gamma * args.gae_lambda * nonterminal * last
                advantages[t] = last
            returns = advantages + values

        b_cand, b_ctx = buf_cand.reshape(batch, c, -1), buf_ctx.reshape(batch, -1)
        b_slates, b_logprobs = slates.reshape(batch, k), logprobs.reshape(batch)
        b_adv, b_returns = advantages.reshape(batch), returns.reshape(batch)
        for _ in range(args.update_epochs):
            order = torch.randperm(batch)
            for lo in range(0, batch, minibatch):
                mb = order[lo : lo + minibatch]
                logits = agent.scores(b_cand[mb])
                ratio = (slate_log_prob(logits, b_slates[mb]) - b_logprobs[mb]).exp()
                adv = b_adv[mb]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                v_loss = 0.5 * ((agent.value(b_cand[mb], b_ctx[mb]) - b_returns[mb]) ** 2).mean()
                # entropy of the first position's softmax: keeps the slate distribution open
                entropy = torch.distributions.Categorical(logits=logits).entropy().mean()
                loss = pg_loss - args.ent_coef * entropy + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        recent = np.mean(episode_returns[-100:]) if episode_returns else float("nan")
        print(
            f"iteration {iteration + 1}/{iterations}  steps {(iteration + 1) * batch}  "
            f"train episode return {recent:.2f}  {time.time() - start:.0f} s",
            flush=True,
        )
    envs.close()

    result = {
        "steps": iterations * batch,
        "train_seconds": round(time.time() - start, 1),
        "greedy_return": evaluate(agent, args, scale, topics),
        "random_return": evaluate("random", args, scale, topics),
        "popularity_return": evaluate("popularity", args, scale, topics),
        "oracle_return": evaluate("oracle", args, scale, topics),
        "eval_users": args.eval_users,
    }
    print(json.dumps(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
