"""The one configuration object of a SlateRec environment (every field is a ``gym.make`` keyword)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from slategym.kernels import BACKENDS
from slategym.limits import DEFAULT_MEMORY_LIMIT_GIB
from slategym.types import STEP_INFO_FIELDS
from slategym.validation import check_choice, check_float, check_int

EPISODES = ("timeline", "session")
"""Values of ``episode``: what one episode covers (see :class:`SlateRecConfig`)."""
OBSERVATIONS = ("full", "ids")
"""Values of ``observation``: what an observation carries of the items (see :class:`SlateRecConfig`)."""


def check_info_keys(value: Any) -> tuple[str, ...]:
    """``info_keys``: a sequence of distinct keys of :data:`~slategym.types.STEP_INFO_FIELDS`."""
    allowed = list(STEP_INFO_FIELDS)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(
            f"info_keys={value!r} is not allowed: expected None (every key) or a tuple of keys "
            f"from {allowed} (() for none)"
        )
    keys = tuple(value)
    unknown = [k for k in keys if k not in STEP_INFO_FIELDS]
    if unknown or len(set(keys)) != len(keys):
        what = f"unknown keys {unknown}" if unknown else "repeated keys"
        raise ValueError(
            f"info_keys={value!r} is not allowed ({what}): expected distinct keys from {allowed}"
        )
    return keys


@dataclass(frozen=True)
class SlateRecConfig:
    """Configuration of ``SlateRec-v0``. Every field can be passed to ``gym.make`` by name.

    Sizes:
        num_items: live items in the catalog at any time (default 1000).
        num_candidates: items offered per slate request, drawn from the live items (default 50).
        slate_size: ``K``, items in a slate, ``1 <= K <= num_candidates`` (default 6).
        num_users: size of the user population an episode draws its user from (default 1000).
        num_topics: item topics (default 10).
        latent_dim: ``D``, dimension of item latent vectors and user interests (default 8).
        history_length: ``L``, clicked items kept in the observation (default 10).

    Timeline:
        days: length of the timeline in days of 24 hourly slots (default 7).
        step_minutes: simulated minutes one slate request takes, dwell time excluded (default 1.0).
        max_session_steps: slate requests after which a session ends anyway (default 30).
        min_return_gap_minutes: minimum time between the end of a session and the next (default 30).
        new_items_per_day: items released (and retired) per day; 0 keeps the catalog fixed.
        episode: "timeline" (default): an episode follows its user over every session until churn
            (terminated) or the horizon (truncated); "session": an episode is one session, ended
            by the user leaving (terminated if they churn, truncated otherwise) or by
            ``max_session_steps`` (truncated), never by the horizon (RecSim's episodes).

    Models:
        item_model: registered name or :class:`~slategym.items.ItemModel` instance ("default"):
            the catalog, the candidates of each request and the corpus dynamics.
        item_model_kwargs: keyword arguments for a named item model.
        user_model: registered name or :class:`~slategym.users.UserModel` instance ("default").
        user_model_kwargs: keyword arguments for a named user model.
        choice_model: registered name or :class:`~slategym.choice.ChoiceModel` instance ("mnl").
        choice_model_kwargs: keyword arguments for a named choice model.
        reward: "click" (default), "purchase", "engagement", a mapping of those to weights, or a
            callable ``outcome -> (N,) array``.

    Slates and seeds:
        strict_slates: raise ``ValueError`` on duplicate items in a slate instead of treating the
            later copies as never-clicked (default False).
        topic_spread: spread of item latent vectors around their topic centre (default 0.5).
        catalog_seed: seed of the catalog draw (default 0); same seed, same catalog.
        population_seed: seed of the user population draw (default 0); use another seed for a
            held-out cohort.

    Speed:
        backend: "auto" (default): the compiled kernels (:mod:`slategym.kernels`, with the
            ``fast`` extra: numba) when they cover the world, else numpy; "numpy": always the
            general numpy path; "compiled": the kernels, or ``ValueError`` saying why they cannot
            run. Trajectories are the same either way (bit for bit on x86-64).
        info_keys: the keys of a step's ``info`` (default None: every key of
            :data:`slategym.types.STEP_INFO_FIELDS`); a tuple keeps only those, ``()`` none (the
            cheapest step). The whole dict of the last step stays available on request from
            ``last_step_info()`` of the env (``env.unwrapped``) or vector env.
        observation: "full" (default): the observation carries copies of the item features,
            ``candidates`` ``(C, F)`` and ``history`` ``(L, F + 2)``; "ids": those two keys are left
            out and ``history_response`` ``(L, 2)`` (purchased, dwell / 30 min) is added, so that
            an observation holds item ids and no item features; an agent gathers the features
            from the env's shared table, ``env.unwrapped.item_features[obs["candidate_ids"]]``
            equals the full observation's ``candidates`` (see ``docs/performance.md``).
            Trajectories are the same in both modes.

    Limits:
        memory_limit_gib: a configuration whose estimated memory exceeds this many GiB is refused
            before anything is allocated (default 2.0); raise it for a bigger world
            (see :mod:`slategym.limits`).
    """

    num_items: int = 1000
    num_candidates: int = 50
    slate_size: int = 6
    num_users: int = 1000
    num_topics: int = 10
    latent_dim: int = 8
    history_length: int = 10
    days: int = 7
    step_minutes: float = 1.0
    max_session_steps: int = 30
    min_return_gap_minutes: float = 30.0
    new_items_per_day: int = 0
    episode: str = "timeline"
    item_model: Any = "default"
    item_model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    user_model: Any = "default"
    user_model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    choice_model: Any = "mnl"
    choice_model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    reward: Any = "click"
    strict_slates: bool = False
    topic_spread: float = 0.5
    catalog_seed: int = 0
    population_seed: int = 0
    memory_limit_gib: float = DEFAULT_MEMORY_LIMIT_GIB
    backend: str = "auto"
    info_keys: tuple[str, ...] | None = None
    observation: str = "full"

    def __post_init__(self) -> None:
        # Values are stored as the checked Python scalars: a numpy integer (``np.int8(50)``,
        # ``np.uint64(1000)``) would otherwise overflow or refuse to mix with int64 arrays later.
        set_field = object.__setattr__  # the dataclass is frozen
        for name, minimum in _INT_FIELDS.items():
            set_field(self, name, check_int(name, getattr(self, name), minimum))
        if self.num_candidates > self.num_items:
            raise ValueError(
                f"num_candidates={self.num_candidates} is not allowed: expected at most "
                f"num_items={self.num_items} (candidates are distinct live items)"
            )
        if self.slate_size > self.num_candidates:
            raise ValueError(
                f"slate_size={self.slate_size} is not allowed: expected at most "
                f"num_candidates={self.num_candidates} (a slate picks distinct candidates)"
            )
        step = check_float("step_minutes", self.step_minutes, 0.0, 1440.0, low_open=True)
        set_field(self, "step_minutes", step)
        for name in ("min_return_gap_minutes", "topic_spread"):
            set_field(self, name, check_float(name, getattr(self, name), 0.0))
        limit = check_float("memory_limit_gib", self.memory_limit_gib, 0.0, low_open=True)
        set_field(self, "memory_limit_gib", limit)
        if not isinstance(self.strict_slates, (bool, np.bool_)):
            raise ValueError(
                f"strict_slates={self.strict_slates!r} is not allowed: expected a bool"
            )
        set_field(self, "strict_slates", bool(self.strict_slates))
        check_choice("episode", self.episode, EPISODES)
        check_choice("backend", self.backend, BACKENDS)
        if self.info_keys is not None:
            set_field(self, "info_keys", check_info_keys(self.info_keys))
        check_choice("observation", self.observation, OBSERVATIONS)
        for name in ("item_model_kwargs", "user_model_kwargs", "choice_model_kwargs"):
            if not isinstance(getattr(self, name), Mapping):
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected a dict")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> SlateRecConfig:
        """Build a config; an unknown keyword raises ``TypeError`` listing the known ones."""
        check_keywords("SlateRecConfig", kwargs, CONFIG_KEYWORDS)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> SlateRecConfig:
        """A copy with ``changes`` applied (and validated); unknown keywords raise ``TypeError``."""
        check_keywords("SlateRecConfig.replace", changes, CONFIG_KEYWORDS)
        return dataclasses.replace(self, **changes)


_INT_FIELDS: dict[str, int] = {
    "num_items": 1, "num_candidates": 1, "slate_size": 1, "num_users": 1, "num_topics": 1,
    "latent_dim": 1, "history_length": 1, "days": 1, "max_session_steps": 1,
    "new_items_per_day": 0, "catalog_seed": 0, "population_seed": 0,
}  # fmt: skip
"""Integer fields and their minimum (each is stored as a Python ``int``)."""

CONFIG_KEYWORDS: tuple[str, ...] = tuple(f.name for f in fields(SlateRecConfig))
"""Every field of :class:`SlateRecConfig`, in declaration order."""


def check_keywords(owner: str, kwargs: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Raise ``TypeError`` for keywords of ``kwargs`` outside ``accepted``, as Python does.

    The message keeps Python's wording (``got an unexpected keyword argument 'x'``, which probing
    libraries such as TorchRL match on before retrying without it) and lists the accepted
    keywords. Bad *values* of known keywords are ``ValueError``s, raised by the checks.
    """
    allowed = set(accepted)
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        which = ", ".join(f"an unexpected keyword argument {k!r}" for k in unknown)
        raise TypeError(f"{owner}() got {which}: expected keywords among {sorted(allowed)}")
