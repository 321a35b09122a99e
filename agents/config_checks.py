"""The field checks shared by the agents' frozen config dataclasses (GFNConfig, SlateQConfig).

Each raises ``ValueError`` naming the field, its value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["bad", "check_fields"]


def bad(config: Any, name: str, expected: str) -> ValueError:
    """The error for field ``name`` of ``config``."""
    return ValueError(f"{name}={getattr(config, name)!r} is not allowed: expected {expected}")


def check_fields(
    config: Any,
    choices: Mapping[str, tuple[Any, ...]] = {},  # noqa: B006  (read only)
    non_negative: Iterable[str] = (),
    unit_interval: Iterable[str] = (),
    positive_ints: Iterable[str] = (),
) -> None:
    """Check the usual fields of an agent config; also ``lr > 0`` and ``max_grad_norm`` (``None``
    or > 0) when the config has them."""
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise bad(config, name, f"one of {allowed}")
    for name in non_negative:
        value = getattr(config, name)
        if not (value >= 0 and math.isfinite(value)):
            raise bad(config, name, "a finite value >= 0")
    for name in unit_interval:
        if not 0 <= getattr(config, name) <= 1:
            raise bad(config, name, "a value in [0, 1]")
    for name in positive_ints:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(config, name, "an integer >= 1")
    if hasattr(config, "lr") and not config.lr > 0:
        raise bad(config, "lr", "a value > 0")
    norm = getattr(config, "max_grad_norm", None)
    if norm is not None and not norm > 0:
        raise bad(config, "max_grad_norm", "None or a value > 0")
