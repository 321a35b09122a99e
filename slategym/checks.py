"""Checks of what models return, so that a misbehaving custom model fails loudly instead of biasing
results silently.

A choice model whose ``probabilities`` return NaN makes the inverse-CDF sampler click position 0 on
every slate; a user model with ``np.log(affinity)`` does so most of the time; a ``(..., K)`` output
instead of ``(..., K + 1)`` gives a cryptic broadcast error three calls later. The simulator and the
choice base call these functions on every step, for built-in and custom models alike (a built-in
model fed extreme affinities by a custom user model can overflow too), and each raises
``ValueError`` naming the model (its class, and its registered name if it has one) and what was wrong.

| what | checked | where |
|---|---|---|
| affinities of a user model | shape ``(N, K)``, real numbers, finite | ``Simulator.step``, ``oracle_affinities`` |
| choice probabilities | shape ``(..., K + 1)``, finite, ``>= 0``, rows sum to 1 | ``ChoiceModel.sample_from_uniforms`` |
| sampled clicks | shape ``(..., K)`` | ``ChoiceModel.clicks`` |
| a user model's response | shapes; dwell finite and ``>= 0``; return multiplier finite and ``> 0`` | ``Simulator.step`` |
| rewards | shape ``(N,)``, finite | ``Simulator.step`` |

Rows with no pending request (``SimState.done``: a vector env's rows due for an autoreset) are
stepped as placeholders whose outputs are discarded; their values are not checked (``live``), and
the simulator hands the choice model zero affinities for them.

Rows of probabilities must sum to 1 within :data:`SUM_TOLERANCE` (float64; ``1e-4`` for lower
precision). The checks are vectorised: one or two reductions per array on the fast path, with the
detailed (slower) diagnosis only once something is wrong. Their cost is measured in
``docs/safety.md`` (4.4 % of a step of the default configuration for one row, 1.5 % or less from 64
rows on), so they are always on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SUM_TOLERANCE = 1e-6
"""Allowed ``|sum - 1|`` of a row of float64 choice probabilities."""
_MAX = float(np.finfo(np.float64).max)
_TINY = float(np.finfo(np.float64).smallest_subnormal)


def model_name(model: Any) -> str:
    """The class (or function) name of ``model``, and its registered name if its class is registered."""
    from slategym import registry  # late: registry imports the choice models, which import us

    cls = type(model)
    label = getattr(model, "__qualname__", None) or cls.__qualname__  # a function, or a class's
    names = [name for table in (registry._CHOICE, registry._USER) for name, factory in table.items()
             if factory is cls]  # fmt: skip
    return f"{label} (registered as {names[0]!r})" if names else label


def _fail(kind: str, model: Any, what: str) -> ValueError:
    return ValueError(f"{kind} {model_name(model)} {what}")


def _real(kind: str, model: Any, name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as an array of real numbers of ``shape`` (or the error naming the model)."""
    arr = np.asarray(value)
    if arr.shape != shape:
        raise _fail(kind, model, f"returned {name} of shape {arr.shape}, expected {shape}")
    if arr.dtype.kind not in "biuf":
        raise _fail(kind, model, f"returned {name} of dtype {arr.dtype}, expected real numbers")
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    """One reduction on the fast path: a non-finite entry makes the sum non-finite (a finite sum
    that overflows falls back to the exact test)."""
    if arr.dtype.kind != "f" or arr.size == 0:
        return True
    return math.isfinite(np.add.reduce(arr, axis=None)) or bool(np.isfinite(arr).all())


def _within(arr: np.ndarray, low: float, high: float) -> bool:
    """All entries in ``[low, high]`` (two reductions; NaN fails both comparisons)."""
    return arr.size == 0 or (
        np.minimum.reduce(arr, axis=None) >= low and np.maximum.reduce(arr, axis=None) <= high
    )


def _first_bad(arr: np.ndarray, bad: np.ndarray, live: np.ndarray | None = None) -> str:
    """``value v at index (i, j)`` of the first True of ``bad`` (on a ``live`` row)."""
    if live is not None:
        bad = bad & live.reshape(-1, *([1] * (bad.ndim - 1)))
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{arr[index].item()!r} at index {index}"


def _live(arr: np.ndarray, live: np.ndarray | None) -> np.ndarray:
    """The rows of ``arr`` whose values matter: all, or the ``live`` ones (``(N,)`` bool)."""
    return arr if live is None else arr[live]


def check_affinities(
    model: Any, affinities: Any, shape: tuple[int, ...], live: np.ndarray | None = None
) -> np.ndarray:
    """Affinities of a user model: real, finite (on the ``live`` rows), of ``shape`` ``(N, K)``."""
    aff = np.asarray(affinities)
    if aff.dtype.kind == "f" and aff.shape == shape:  # the usual case, with one reduction
        if math.isfinite(np.add.reduce(_live(aff, live), axis=None)):
            return aff
    aff = _real("user model", model, "affinities", affinities, shape)
    if not _all_finite(_live(aff, live)):
        raise _fail(
            "user model", model,
            f"returned a non-finite affinity ({_first_bad(aff, ~np.isfinite(aff), live)}): "
            "expected "
            "finite numbers (a log or a division of the affinity is a usual cause)",
        )  # fmt: skip
    return aff


def check_probabilities(model: Any, probabilities: Any, affinity_shape: tuple[int, ...]) -> None:
    """Choice probabilities ``(..., K + 1)``: finite, non-negative, each row summing to 1."""
    expected = (*affinity_shape[:-1], affinity_shape[-1] + 1)
    p = np.asarray(probabilities)
    if p.shape != expected or p.dtype.kind not in "biuf":
        try:
            _real("choice model", model, "probabilities", p, expected)
        except ValueError as err:
            raise ValueError(f"{err} = (..., slate_size + 1), no click last") from None
    low = p.dtype.kind == "f" and p.dtype.itemsize < 8
    tol = 1e-4 if low else SUM_TOLERANCE
    sums = np.add.reduce(p, axis=-1)  # non-finite entries make their row's sum non-finite
    if p.size == 0 or (np.minimum.reduce(p, axis=None) >= 0 and _within(sums, 1 - tol, 1 + tol)):
        return
    if not np.isfinite(p).all():
        problem = f"a non-finite probability ({_first_bad(p, ~np.isfinite(p))})"
    elif (p < 0).any():
        problem = f"a negative probability ({_first_bad(p, p < 0)})"
    else:
        row = tuple(int(i) for i in np.argwhere(np.abs(sums - 1.0) > tol)[0])
        problem = f"probabilities whose row {row} sums to {float(sums[row])!r}, not 1"
    raise _fail("choice model", model, f"returned {problem}: expected (..., slate_size + 1) "
                "probabilities >= 0 (no click last), each row summing to 1")  # fmt: skip


def check_clicks(model: Any, clicks: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Sampled clicks: ``shape`` ``(..., K)``, returned as a bool array."""
    arr = _real("choice model", model, "clicks", clicks, shape)
    return arr if arr.dtype == bool else arr.astype(bool)


def check_response(
    model: Any, response: Any, n: int, k: int, live: np.ndarray | None = None
) -> None:
    """A user model's :class:`~slategym.users.base.Response` for ``n`` rows of ``k`` items (values
    checked on the ``live`` rows)."""
    kind = "user model"
    dwell, mult = np.asarray(response.dwell), np.asarray(response.return_multiplier)
    for name, arr, shape in (
        ("purchases", np.asarray(response.purchases), (n, k)), ("dwell", dwell, (n, k)),
        ("session_end", np.asarray(response.session_end), (n,)),
        ("churn", np.asarray(response.churn), (n,)), ("return_multiplier", mult, (n,)),
    ):  # fmt: skip
        if arr.shape != shape or arr.dtype.kind not in "biuf":
            _real(kind, model, f"response.{name}", arr, shape)
    if not _within(_live(dwell, live), 0.0, _MAX):
        bad = ~np.isfinite(dwell) | (dwell < 0)
        raise _fail(kind, model, f"returned a dwell time {_first_bad(dwell, bad, live)}: "
                    "expected finite minutes >= 0")  # fmt: skip
    if not _within(_live(mult, live), _TINY, _MAX):
        bad = ~np.isfinite(mult) | (mult <= 0)
        raise _fail(kind, model, f"returned a return_multiplier {_first_bad(mult, bad, live)}: "
                    "expected finite numbers > 0")  # fmt: skip


def check_rewards(
    reward_fn: Any, rewards: Any, n: int, live: np.ndarray | None = None
) -> np.ndarray:
    """Rewards of ``n`` rows: shape ``(n,)``, finite (on the ``live`` rows); returned as float64."""
    arr = np.asarray(rewards)
    if (
        arr.dtype == np.float64
        and arr.shape == (n,)
        and math.isfinite(np.add.reduce(_live(arr, live)))
    ):
        return arr  # the usual case, with one reduction
    arr = _real("reward function", reward_fn, "rewards", rewards, (n,))
    if not _all_finite(_live(arr, live)):
        raise _fail("reward function", reward_fn, f"returned a non-finite reward "
                    f"({_first_bad(arr, ~np.isfinite(arr), live)}): expected finite numbers")  # fmt: skip
    return arr.astype(np.float64, copy=False)
