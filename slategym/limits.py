r"""Size limits: estimate the memory a configuration needs, and refuse it before allocating.

A typo such as ``num_items=10**9`` should fail in a millisecond with a message that names the
parameter, not after a minute of swapping and a ``MemoryError``. :class:`~slategym.simulator.Simulator`
calls :func:`check_limits` after building its models and *before* drawing the catalog, with the
number of rows it will step together (1 for ``SlateRecEnv``, ``num_envs`` for the native vector env,
``num_users`` for the platform).

## The estimate

The bytes of the arrays a run holds at its peak, counted array by array (``D`` = ``latent_dim``,
``F = D + 2`` item features, ``T`` = ``num_topics``, ``C`` = ``num_candidates``, ``K`` =
``slate_size``, ``L`` = ``history_length``, ``N`` rows, ``B`` uniforms per row and step):

.. math::

    \text{catalog} &= (96 + 24 D) \cdot (\text{num\_items} + \text{new\_items\_per\_day}
        \cdot (\text{days} - 1)) + (32 + 8 D)\, T + 16\, C \\
    \text{population} &= (552 + 24 D) \cdot \text{num\_users} \\
    \text{rows} &= N \cdot \big(3\, o + 3\, s + 8 B + 16 (D + 3) K\big)

* catalog, per item: topic, latent vector, quality, price, its two standardised columns and the prior
  (``56 + 8 D``), the float32 feature table (``4 F``), the float64 item table that user models
  gather from (``8 (D + 3)``) and the history feature table (``4 (F + 2)``); per topic, the topic
  centres and shares; per candidate, the cached strata of the candidate draw.
* population, per user (default user model): what it keeps (profile, hour-of-day profile, interests
  and five scalars, ``272 + 8 D``) plus the temporaries of drawing it (the ``(U, 24)`` gamma draw
  and the interest projection), which are its peak.
* rows: an observation of ``o = 52 + C (4 F + 16) + L (4 (F + 2) + 8)`` bytes is held three times
  (the one returned, and the low and high bounds of the batched observation space); the state of
  ``s = 121 + 8 D + 8 T + 8 C + 16 L`` bytes three times (the old and the new state of a step and the
  history shift); the step's block of ``B = C + 3 + b_c + b_u`` uniforms (``b_c``, ``b_u`` those of
  the choice and user models); two ``(K, D + 3)`` gathers of the slate's items.

Measured against ``tracemalloc`` peaks (construction, reset and three steps, as
``experiments/throughput.py`` measures memory) the estimate is within 15 % on configurations where
the catalog, the population, the history, the candidates, the topics or the rows dominate
(``python -m experiments.memory_estimate`` prints them, ``docs/safety.md`` has the table,
``tests/test_limits.py`` checks a factor of 1.25). A custom user
model's own arrays (``Population.extra``, a larger state) are not counted.

## The limit

A configuration whose estimate exceeds ``memory_limit_gib`` (a :class:`~slategym.config.SlateRecConfig`
field, default :data:`DEFAULT_MEMORY_LIMIT_GIB` = 2 GiB) raises ``ValueError`` naming the parameters of
the largest parts and the estimate. Raise the limit explicitly for a bigger world::

    gym.make("SlateRec-v0", num_items=10**7, memory_limit_gib=8)

Integer sizes must also fit the simulator's int64 arrays (``max_session_steps=2**70`` or
``new_items_per_day=2**63`` are refused naming the field). Independently of memory, a row draws at
most :data:`slategym.rng.BLOCK` uniforms per step, so ``num_candidates + 3`` plus the uniforms of
the choice and user models (which grow with ``slate_size``) must not exceed 65,536; the error names
``num_candidates`` and ``slate_size``.

Example:
    >>> import gymnasium as gym
    >>> import slategym
    >>> from slategym.limits import estimate_memory
    >>> estimate = estimate_memory(slategym.SlateRecConfig(), num_rows=1024)
    >>> round(estimate.total / 2**20, 1)  # MiB for 1024 rows of the default configuration
    15.0
    >>> gym.make("SlateRec-v0", num_items=10**9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: num_items=1000000000 is not allowed: the configuration needs an estimated 268.2 GiB...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym.rng import BLOCK

if TYPE_CHECKING:
    from slategym.choice.base import ChoiceModel
    from slategym.config import SlateRecConfig
    from slategym.users.base import UserModel

DEFAULT_MEMORY_LIMIT_GIB = 2.0
"""Default of ``SlateRecConfig.memory_limit_gib``: configurations estimated above it are refused."""

GIB = 1 << 30
PROFILE_BYTES = 52
"""Per-row observation bytes that do not grow with a size: the profile (10 float32) and time (3)."""
STATE_BYTES = 121
"""Per-row state bytes that do not grow with a size: key, counter, clock, counters, flags."""
INT64_MAX = 2**63 - 1
INT64_FIELDS = (
    "num_items", "num_candidates", "slate_size", "num_users", "num_topics", "latent_dim",
    "history_length", "days", "max_session_steps", "new_items_per_day",
)  # fmt: skip
"""Integer fields that meet int64 arrays: each must be at most :data:`INT64_MAX`."""
ROWS = "rows"
"""Stands for the number of rows stepped together among a part's parameters."""


@dataclass(frozen=True)
class Part:
    """One part of the estimate: what it is, its bytes, and the parameters it grows with."""

    what: str
    bytes: int
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class MemoryEstimate:
    """The estimated peak bytes of a configuration stepped ``num_rows`` rows at a time."""

    parts: tuple[Part, ...]
    num_rows: int

    @property
    def total(self) -> int:
        """Estimated peak bytes."""
        return sum(p.bytes for p in self.parts)


def _num_uniforms(model: Any, slate_size: int, kind: str) -> int:
    """``model.num_uniforms(slate_size)``, checked to be a non-negative integer."""
    n = model.num_uniforms(slate_size)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(
            f"{kind} {type(model).__name__}.num_uniforms({slate_size}) returned {n!r}: expected "
            "a non-negative integer"
        )
    return int(n)


def uniforms_per_step(
    config: SlateRecConfig, choice_model: ChoiceModel, user_model: UserModel
) -> int:
    """Uniforms a row draws per step: candidates (``C + 1``), the models, the next session (1)."""
    k = int(config.slate_size)
    n_choice = _num_uniforms(choice_model, k, "choice model")
    n_user = _num_uniforms(user_model, k, "user model")
    return int(config.num_candidates) + 1 + n_choice + n_user + 1


def estimate_memory(
    config: SlateRecConfig, num_rows: int = 1, step_uniforms: int | None = None
) -> MemoryEstimate:
    """Estimated peak bytes of ``config`` stepped ``num_rows`` at a time (see the module docstring).

    Pure integer arithmetic: nothing is allocated. ``step_uniforms`` defaults to what the default
    user model and a one-uniform choice model draw (``C + 2 K + 5``).
    """
    c = config
    d, t = int(c.latent_dim), int(c.num_topics)
    cand, k, hist = int(c.num_candidates), int(c.slate_size), int(c.history_length)
    f = d + 2
    n = int(num_rows)
    items = int(c.num_items) + int(c.new_items_per_day) * max(int(c.days) - 1, 0)
    b = cand + 2 * k + 5 if step_uniforms is None else int(step_uniforms)
    obs = PROFILE_BYTES + cand * (4 * f + 16) + hist * (4 * (f + 2) + 8)
    state = STATE_BYTES + 8 * d + 8 * t + 8 * cand + 16 * hist
    ageing = ("new_items_per_day", "days") if c.new_items_per_day else ()
    parts = (
        Part(f"catalog of {items:,} items", (96 + 24 * d) * items,
             ("num_items", "latent_dim", *ageing)),
        Part(f"{t:,} topics", (32 + 8 * d) * t, ("num_topics", "latent_dim")),
        Part("candidate strata", 16 * cand, ("num_candidates",)),
        Part(f"population of {int(c.num_users):,} users", (552 + 24 * d) * int(c.num_users),
             ("num_users", "latent_dim")),
        Part(f"observations of {n:,} row{'s' * (n > 1)}", 3 * obs * n,
             (ROWS, "num_candidates", "history_length", "latent_dim")),
        Part(f"state and step of {n:,} row{'s' * (n > 1)}", (3 * state + 8 * b + 16 * (d + 3) * k) * n,
             (ROWS, "num_candidates", "history_length", "num_topics", "slate_size", "latent_dim")),
    )  # fmt: skip
    return MemoryEstimate(parts=parts, num_rows=n)


def _size(nbytes: float) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{int(nbytes)} B"


def _culprits(config: SlateRecConfig, estimate: MemoryEstimate, part: Part) -> list[str]:
    """The parameters of ``part``, those furthest above their default first."""
    defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(config)}

    def excess(name: str) -> float:
        if name == ROWS:
            return float(estimate.num_rows)
        return float(getattr(config, name)) / max(float(defaults[name]), 1.0)

    return sorted(part.parameters, key=lambda name: -excess(name))


def _values(config: SlateRecConfig, estimate: MemoryEstimate, names: list[str]) -> str:
    return ", ".join(
        f"{estimate.num_rows:,} rows stepped together" if name == ROWS
        else f"{name}={getattr(config, name)!r}"
        for name in names
        if name != ROWS or estimate.num_rows > 1
    )  # fmt: skip


def check_limits(
    config: SlateRecConfig,
    choice_model: ChoiceModel,
    user_model: UserModel,
    num_rows: int = 1,
) -> MemoryEstimate:
    """Raise ``ValueError`` if ``config`` exceeds the random-block or memory limit; else the estimate.

    Called by the simulator before it allocates anything. ``num_rows`` is the number of rows
    stepped together (``num_envs`` of a vector env, ``num_users`` of the platform). The message
    names the parameters, the estimate, the limit and how to raise it.
    """
    for name in INT64_FIELDS:
        if int(getattr(config, name)) > INT64_MAX:
            raise ValueError(
                f"{name}={getattr(config, name)!r} is not allowed: expected at most "
                f"{INT64_MAX} (2**63 - 1): the simulator counts it in int64 arrays"
            )
    b = uniforms_per_step(config, choice_model, user_model)
    if b > BLOCK:
        models = b - int(config.num_candidates) - 2
        raise ValueError(
            f"num_candidates={config.num_candidates!r} with slate_size={config.slate_size!r} is not "
            f"allowed: a step draws num_candidates + 2 + {models} (for the choice model "
            f"{type(choice_model).__name__} and the user model {type(user_model).__name__}) = "
            f"{b:,} random numbers per row, and at most {BLOCK:,} are available "
            f"(slategym.rng.BLOCK): expected num_candidates <= {BLOCK - 2 - models:,}"
        )
    estimate = estimate_memory(config, num_rows, b)
    limit = float(config.memory_limit_gib)
    if estimate.total <= limit * GIB:
        return estimate
    parts = sorted(estimate.parts, key=lambda p: -p.bytes)
    lead = _culprits(config, estimate, parts[0])[0]
    detail = "; ".join(
        f"{p.what} ({_values(config, estimate, _culprits(config, estimate, p))}): {_size(p.bytes)}"
        for p in parts
        if p.bytes >= 0.05 * estimate.total
    )
    first = (
        f"{estimate.num_rows:,} rows stepped together (num_envs, or num_users of a platform)"
        if lead == ROWS
        else f"{lead}={getattr(config, lead)!r}"
    )
    raise ValueError(
        f"{first} is not allowed: the configuration needs an estimated "
        f"{_size(estimate.total)}, above memory_limit_gib={limit:g} ({detail}). Reduce "
        f"{'the rows' if lead == ROWS else lead}, or raise the limit explicitly with "
        "memory_limit_gib=... if the machine has the memory (see slategym.limits)"
    )
