r"""Slate optimisation for SlateQ: the slate of ``K`` candidates with the largest decomposed value.

With MNL weights :math:`v_i = e^{u(s, i)}`, :math:`v_\bot = e^{u_\bot(s)}` and item values
:math:`q_i = \bar Q(s, i)`, :math:`q_\bot = \bar Q(s, \bot)`, the value of a slate :math:`A` is the
linear-fractional function

.. math::

    f(A) = \frac{v_\bot q_\bot + \sum_{i \in A} v_i q_i}{v_\bot + \sum_{i \in A} v_i}
         = q_\bot + \frac{\sum_{i \in A} v_i (q_i - q_\bot)}{v_\bot + \sum_{i \in A} v_i},
    \qquad |A| = K.

Ie et al. (2019) write the choice of :math:`A` as a fractional mixed-integer program and solve it
exactly through its LP relaxation after the Charnes-Cooper transformation (the relaxation has integral
optima), and compare two heuristics. The methods here:

================  =============================================================================
method            what it computes
================  =============================================================================
``"exact"``       the optimum, by Dinkelbach's parametric method: for :math:`\lambda` the value of
                  the current slate, the slate maximising :math:`\sum_{i \in A} v_i (q_i -
                  \lambda)` is the top ``K`` of :math:`v_i (q_i - \lambda)`; repeat until
                  :math:`\lambda` stops increasing (finitely many steps, each one top-K). Same
                  optimum as the LP, vectorised over the batch (the default).
``"lp"``          the optimum, by the paper's Charnes-Cooper LP (``scipy.optimize.linprog``,
                  HiGHS), one LP per row: slow, the reference.
``"enumerate"``   the optimum, by scoring every one of the :math:`\binom{C}{K}` slates (the
                  paper's "OS"); only for small ``C`` and ``K``.
``"greedy"``      the paper's greedy ("GS"): add, ``K`` times, the item that maximises the value
                  of the slate so far.
``"topk"``        the paper's top-K ("TS"): the ``K`` largest :math:`v_i (q_i - q_\bot)` (with
                  :math:`q_\bot = 0`, as in RecSim, the paper's :math:`v_i q_i`).
================  =============================================================================

Every method returns the slate best first: by :math:`v_i (q_i - q_\bot)`, each item's contribution
above the null item (the MNL ignores the order; position-biased worlds do not). Computations run in
float64; ties go to the lower candidate index.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

__all__ = ["OPTIMIZERS", "best_slates", "slate_values"]

OPTIMIZERS = ("exact", "lp", "enumerate", "greedy", "topk")
ENUMERATION_LIMIT = 2_000_000
"""Largest ``rows x C-choose-K`` that ``"enumerate"`` scores at once."""


def _weights(item_logits: torch.Tensor, null_logit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``v (B, C)``, ``v_null (B,)`` in float64, shifted by the row maximum (no overflow)."""
    u, u0 = item_logits.double(), null_logit.double()
    m = torch.maximum(u.max(dim=1).values, u0)  # (B,)
    return (u - m[:, None]).exp(), (u0 - m).exp()


def slate_values(
    item_logits: torch.Tensor, null_logit: torch.Tensor, q: torch.Tensor, null_q: torch.Tensor,
    slates: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """``(B,)`` float64 :math:`f(A)` of ``slates (B, K)`` (module docstring)."""
    v, v0 = _weights(item_logits, null_logit)
    q, q0 = q.double(), null_q.double()
    vs = v.gather(1, slates)  # (B, K)
    return (v0 * q0 + (vs * q.gather(1, slates)).sum(dim=1)) / (v0 + vs.sum(dim=1))


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    # stable descending sort: ties to the lower index
    return torch.sort(-scores, dim=1, stable=True).indices[:, :k]


def _exact(v: torch.Tensor, v0: torch.Tensor, q: torch.Tensor, q0: torch.Tensor, k: int) -> torch.Tensor:
    def value(a: torch.Tensor) -> torch.Tensor:
        vs = v.gather(1, a)
        return (v0 * q0 + (vs * q.gather(1, a)).sum(dim=1)) / (v0 + vs.sum(dim=1))

    slates = _top(v * (q - q0[:, None]), k)
    lam = value(slates)
    for _ in range(v.shape[1] + 1):  # Dinkelbach: strictly increasing, finitely many slates
        candidate = _top(v * (q - lam[:, None]), k)
        new = value(candidate)
        better = new > lam + 1e-12 * (1.0 + lam.abs())
        if not bool(better.any()):
            break
        slates = torch.where(better[:, None], candidate, slates)
        lam = torch.where(better, new, lam)
    return slates


def _lp(v: torch.Tensor, v0: torch.Tensor, q: torch.Tensor, q0: torch.Tensor, k: int) -> torch.Tensor:
    from scipy.optimize import linprog

    b, c = v.shape
    out = np.zeros((b, k), np.int64)
    vn, v0n, qn, q0n = v.numpy(), v0.numpy(), q.numpy(), q0.numpy()
    # Variables [t, y_1..y_C] with y_i = x_i t and t = 1 / (v_null + sum_i x_i v_i).
    a_ub = np.hstack([-np.ones((c, 1)), np.eye(c)])  # y_i - t <= 0
    for row in range(b):
        cost = -np.concatenate([[v0n[row] * q0n[row]], vn[row] * qn[row]])
        a_eq = np.vstack([np.concatenate([[v0n[row]], vn[row]]),  # v_null t + sum v_i y_i = 1
                          np.concatenate([[-float(k)], np.ones(c)])])  # sum y_i = K t
        res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(c), A_eq=a_eq, b_eq=[1.0, 0.0],
                      bounds=[(0, None)] * (c + 1), method="highs")  # fmt: skip
        if res.status != 0:
            raise RuntimeError(f"the slate LP failed on row {row}: {res.message}")
        x = res.x[1:] / res.x[0]  # (C,) in [0, 1], integral at a vertex
        out[row] = np.argsort(-np.round(x, 9), kind="stable")[:k]
    return torch.as_tensor(out)


def _enumerate(v: torch.Tensor, v0: torch.Tensor, q: torch.Tensor, q0: torch.Tensor, k: int) -> torch.Tensor:
    b, c = v.shape
    count = math.comb(c, k)
    if b * count > ENUMERATION_LIMIT:
        raise ValueError(
            f"optimizer='enumerate' is not allowed here: {b} rows x C({c}, {k}) = {b * count} slates "
            f"exceed {ENUMERATION_LIMIT}; use 'exact' (same optimum)"
        )
    combos = torch.tensor(list(itertools.combinations(range(c), k)), dtype=torch.int64)  # (M, K)
    vs, qs = v[:, combos], q[:, combos]  # (B, M, K)
    values = (v0[:, None] * q0[:, None] + (vs * qs).sum(-1)) / (v0[:, None] + vs.sum(-1))  # (B, M)
    return combos[values.argmax(dim=1)]


def _greedy(v: torch.Tensor, v0: torch.Tensor, q: torch.Tensor, q0: torch.Tensor, k: int) -> torch.Tensor:
    b, c = v.shape
    num, den = v0 * q0, v0.clone()  # (B,)
    taken = torch.zeros(b, c, dtype=torch.bool)
    slates = torch.zeros(b, k, dtype=torch.int64)
    rows = torch.arange(b)
    for t in range(k):
        gain = ((num[:, None] + v * q) / (den[:, None] + v)).masked_fill(taken, -math.inf)
        pick = gain.argmax(dim=1)
        slates[:, t] = pick
        taken[rows, pick] = True
        num, den = num + v[rows, pick] * q[rows, pick], den + v[rows, pick]
    return slates


def _topk(v: torch.Tensor, v0: torch.Tensor, q: torch.Tensor, q0: torch.Tensor, k: int) -> torch.Tensor:
    return _top(v * (q - q0[:, None]), k)


_METHODS = {"exact": _exact, "lp": _lp, "enumerate": _enumerate, "greedy": _greedy, "topk": _topk}


def best_slates(
    method: str, item_logits: torch.Tensor, null_logit: torch.Tensor, q: torch.Tensor,
    null_q: torch.Tensor, k: int,
) -> torch.Tensor:  # fmt: skip
    """``(B, K)`` int64 slates of ``method`` (module docstring), best first.

    Args:
        method: one of :data:`OPTIMIZERS`.
        item_logits: ``(B, C)`` :math:`u(s, i)`; ``null_logit``: ``(B,)`` :math:`u_\\bot(s)`.
        q: ``(B, C)`` :math:`\\bar Q(s, i)`; ``null_q``: ``(B,)`` :math:`\\bar Q(s, \\bot)`.
        k: slate size ``K <= C``.
    """
    if method not in _METHODS:
        raise ValueError(f"optimizer={method!r} is not allowed: expected one of {OPTIMIZERS}")
    b, c = item_logits.shape
    if not 1 <= k <= c:
        raise ValueError(f"slate_size={k} is not allowed: expected 1 <= K <= {c} candidates")
    with torch.no_grad():
        v, v0 = _weights(item_logits, null_logit)
        q64, q064 = q.double(), null_q.double()
        slates = _METHODS[method](v, v0, q64, q064, k)
        contribution = (v * (q64 - q064[:, None])).gather(1, slates)  # (B, K)
        order = torch.sort(-contribution, dim=1, stable=True).indices
        return slates.gather(1, order)
