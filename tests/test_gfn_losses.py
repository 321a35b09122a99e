"""The DB and TB residuals: zero at an analytic optimum, positive away from it, shapes checked."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from agents.gfn.losses import db_loss, forward_term, tb_loss

B_Z, B_R, B_F = 1.0, 0.5, 0.7


def toy_optimum() -> dict[str, torch.Tensor]:
    """Every ordered slate of 2 out of 3 items, with the exact-mode optimum of DB and TB.

    With ``F*(s) = sum of (R + b_r) over the slates completing s``, the optimum is
    ``P_F(a | s) = F*(s') / F*(s)``, ``log F(s_t) = log F*(s_t) - (K + 1 - t) b_z`` and
    ``log Z = log F*(s_0) - b_z``.
    """
    slates = list(itertools.permutations(range(3), 2))
    reward = {s: 0.3 * s[0] + 1.1 * s[1] ** 2 + 0.2 for s in slates}  # not symmetric
    k = 2

    def total(prefix: tuple[int, ...]) -> float:
        return sum(reward[s] + B_R for s in slates if s[: len(prefix)] == prefix)

    log_flow, log_pf = [], []
    for s in slates:
        prefixes = [s[:t] for t in range(k + 1)]
        log_flow.append([math.log(total(p)) - (k + 1 - t) * B_Z for t, p in enumerate(prefixes)])
        log_pf.append([math.log(total(prefixes[t + 1]) / total(prefixes[t])) for t in range(k)])
    rewards = torch.tensor([reward[s] for s in slates], dtype=torch.float64)
    return {
        "log_flow": torch.tensor(log_flow, dtype=torch.float64),  # (6, 3)
        "log_pf": torch.tensor(log_pf, dtype=torch.float64),  # (6, 2)
        "reward": rewards,  # (6,)
        "log_z": torch.full((6,), math.log(total(())) - B_Z, dtype=torch.float64),  # (6,)
    }


def test_toy_optimum_is_a_distribution_proportional_to_reward() -> None:
    opt = toy_optimum()
    p = opt["log_pf"].sum(dim=1).exp()
    target = (opt["reward"] + B_R) / (opt["reward"] + B_R).sum()
    assert torch.allclose(p, target, atol=1e-12)


def test_db_exact_is_zero_at_the_optimum_and_positive_away() -> None:
    opt = toy_optimum()
    out = db_loss(opt["log_flow"], opt["log_pf"], opt["reward"].log(), 0.0, B_Z, B_R, "exact")
    assert set(out) == {"loss", "flow_loss", "terminal_loss"}
    assert out["loss"].shape == ()
    assert float(out["loss"]) < 1e-20
    # Shifting log F(s_1) by d moves the residuals at t = 1 and t = 2 by -d and +d: loss d^2.
    d = 0.3
    shifted = opt["log_flow"].clone()
    shifted[:, 1] += d
    out = db_loss(shifted, opt["log_pf"], opt["reward"].log(), 0.0, B_Z, B_R, "exact")
    assert float(out["flow_loss"]) == pytest.approx(d**2, rel=1e-9)
    assert float(out["terminal_loss"]) < 1e-20
    # A wrong terminal flow shows in the terminal term only.
    shifted = opt["log_flow"].clone()
    shifted[:, 2] -= d
    out = db_loss(shifted, opt["log_pf"], opt["reward"].log(), 0.0, B_Z, B_R, "exact")
    assert float(out["terminal_loss"]) == pytest.approx(d**2, rel=1e-9)
    # Without b_z the optimum built with b_z is not one.
    out = db_loss(opt["log_flow"], opt["log_pf"], opt["reward"].log(), 0.0, 0.0, B_R, "exact")
    assert float(out["loss"]) == pytest.approx(B_Z**2 * 2, rel=1e-9)


def test_tb_exact_is_zero_at_the_optimum_and_positive_away() -> None:
    opt = toy_optimum()
    out = tb_loss(opt["log_z"], opt["log_pf"], opt["reward"], 0.0, B_Z, B_R, "exact")
    assert out["loss"].shape == ()
    assert float(out["loss"]) < 1e-20
    d = 0.25
    out = tb_loss(opt["log_z"] + d, opt["log_pf"], opt["reward"], 0.0, B_Z, B_R, "exact")
    assert float(out["loss"]) == pytest.approx(d**2, rel=1e-9)
    # A policy that is not proportional to the reward cannot be balanced by log Z alone.
    uniform = torch.full_like(opt["log_pf"], -math.log(2.0))
    uniform[:, 0] = -math.log(3.0)
    best_z = (torch.log(opt["reward"] + B_R) - B_Z - uniform.sum(dim=1)).mean()
    out = tb_loss(best_z.expand(6), uniform, opt["reward"], 0.0, B_Z, B_R, "exact")
    assert float(out["loss"]) > 0.05


def offset_optimum() -> dict[str, torch.Tensor]:
    """Flows and rewards that satisfy the offset-form DB and TB equations for a given policy."""
    log_pf = torch.log(torch.tensor([[0.5, 0.2], [0.1, 0.9], [0.3, 0.6]], dtype=torch.float64))
    step = torch.log(log_pf.exp() + B_F)  # log(P_F + b_f), the offset inside the log
    log_flow0 = torch.tensor([0.2, -0.4, 1.0], dtype=torch.float64)
    log_flow = torch.cat([log_flow0[:, None], log_flow0[:, None] + (step + B_Z).cumsum(1)], 1)
    reward = torch.exp(log_flow[:, -1] + B_Z) - B_R
    # DB adds b_z on each of the K transitions and on the terminal match, TB once: the TB optimum
    # for the same policy and reward is log Z = log F(s_0) + K b_z.
    log_z = log_flow0 + 2 * B_Z
    return {"log_pf": log_pf, "log_flow": log_flow, "reward": reward, "log_z": log_z}


def test_offset_form_puts_the_offset_inside_the_log() -> None:
    opt = offset_optimum()
    assert bool((opt["reward"] > 0).all())
    out = db_loss(opt["log_flow"], opt["log_pf"], opt["reward"].log(), B_F, B_Z, B_R, "offset")
    assert float(out["loss"]) < 1e-20
    out = tb_loss(opt["log_z"], opt["log_pf"], opt["reward"], B_F, B_Z, B_R, "offset")
    assert float(out["loss"]) < 1e-20
    # The same tensors are not an optimum of the exact loss.
    out = db_loss(opt["log_flow"], opt["log_pf"], opt["reward"].log(), 0.0, B_Z, B_R, "exact")
    assert float(out["loss"]) > 0.1


def test_forward_term_is_stable_and_exact() -> None:
    log_pf = torch.tensor([[0.0, -1.0, -1000.0]])
    offset = forward_term(log_pf, 0.5, "offset")
    assert torch.allclose(offset[0, :2], torch.log(log_pf[0, :2].exp() + 0.5))
    assert float(offset[0, 2]) == pytest.approx(math.log(0.5))
    assert torch.equal(forward_term(log_pf, 0.0, "exact"), log_pf)


def test_zero_reward_with_offset_is_finite_and_gradients_flow() -> None:
    log_flow = torch.zeros(4, 3, requires_grad=True)
    log_pf = torch.full((4, 2), -2.0, requires_grad=True)
    reward = torch.tensor([0.0, 0.5, 0.0, 1.0])
    out = db_loss(log_flow, log_pf, reward.log(), B_F, B_Z, B_R, "offset")
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert log_flow.grad is not None and log_pf.grad is not None
    assert torch.isfinite(log_flow.grad).all() and torch.isfinite(log_pf.grad).all()
    log_z = torch.zeros(4, requires_grad=True)
    out = tb_loss(log_z, log_pf, reward, 0.0, B_Z, B_R, "exact")
    out["loss"].backward()
    assert log_z.grad is not None and float(log_z.grad.abs().sum()) > 0


@pytest.mark.parametrize(
    ("log_flow", "log_pf", "log_reward"),
    [
        (torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(4)),  # flow lacks s_K
        (torch.zeros(4, 3), torch.zeros(4, 2), torch.zeros(4, 1)),  # reward not (B,)
        (torch.zeros(3, 3), torch.zeros(4, 2), torch.zeros(4)),  # batch mismatch
        (torch.zeros(4, 3), torch.zeros(4 * 2), torch.zeros(4)),  # log_pf not (B, K)
    ],
)
def test_db_rejects_bad_shapes(log_flow, log_pf, log_reward) -> None:
    with pytest.raises(ValueError, match="shape"):
        db_loss(log_flow, log_pf, log_reward, B_F, B_Z, B_R, "offset")


@pytest.mark.parametrize(
    ("log_z", "log_pf", "reward"),
    [
        (torch.zeros(4, 1), torch.zeros(4, 2), torch.zeros(4)),
        (torch.zeros(4), torch.zeros(4, 2), torch.zeros(5)),
        (torch.zeros(4), torch.zeros(2, 4, 2), torch.zeros(4)),
    ],
)
def test_tb_rejects_bad_shapes(log_z, log_pf, reward) -> None:
    with pytest.raises(ValueError, match="shape"):
        tb_loss(log_z, log_pf, reward, B_F, B_Z, B_R, "offset")


def test_offsets_are_validated() -> None:
    args = (torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="loss_form='exact'"):
        db_loss(*args, b_f=0.5, b_z=B_Z, b_r=B_R, form="exact")
    with pytest.raises(ValueError, match="loss_form='offset'"):
        db_loss(*args, b_f=0.0, b_z=B_Z, b_r=B_R, form="offset")
    with pytest.raises(ValueError, match="loss_form='faithful' is not allowed"):
        db_loss(*args, b_f=0.5, b_z=B_Z, b_r=B_R, form="faithful")
    with pytest.raises(ValueError, match="b_r"):
        tb_loss(torch.zeros(2), torch.zeros(2, 2), torch.zeros(2), 0.0, B_Z, -1.0, "exact")
