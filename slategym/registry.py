"""Name registries for item, user and choice models, so ``gym.make`` can take a model by name.

``register_choice_model("mine", factory)`` makes ``gym.make("SlateRec-v0", choice_model="mine",
choice_model_kwargs={...})`` call ``factory(**choice_model_kwargs)``; a factory is anything that
returns an instance (usually the class itself).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from slategym.choice import (
    ChoiceModel,
    ExponentialCascade,
    FirstItem,
    MultiClick,
    MultinomialLogit,
    MultinomialProportional,
    PositionBased,
    ProportionalCascade,
)
from slategym.items import (
    DefaultItemModel,
    InterestEvolutionItems,
    InterestExplorationItems,
    ItemModel,
    LongTermSatisfactionItems,
    TableItemModel,
)
from slategym.users import (
    DefaultUserModel,
    DynamicUserModel,
    InterestEvolutionUser,
    InterestExplorationUser,
    LongTermSatisfactionUser,
    UserModel,
    deterministic_user_model,
    personal_user_model,
)

_CHOICE: dict[str, Callable[..., ChoiceModel]] = {
    "mnl": MultinomialLogit,
    "proportional": MultinomialProportional,
    "exponential_cascade": ExponentialCascade,
    "proportional_cascade": ProportionalCascade,
    "position_based": PositionBased,
    "multi_click": MultiClick,
    "first_item": FirstItem,
}
_USER: dict[str, Callable[..., UserModel]] = {
    "default": DefaultUserModel,
    "deterministic": deterministic_user_model,
    "personal": personal_user_model,
    "dynamic": DynamicUserModel,
    "recsim_interest_evolution": InterestEvolutionUser,
    "recsim_interest_exploration": InterestExplorationUser,
    "recsim_long_term_satisfaction": LongTermSatisfactionUser,
}
_ITEM: dict[str, Callable[..., ItemModel]] = {
    "default": DefaultItemModel,
    "table": TableItemModel,
    "recsim_interest_evolution": InterestEvolutionItems,
    "recsim_interest_exploration": InterestExplorationItems,
    "recsim_long_term_satisfaction": LongTermSatisfactionItems,
}
BUILTIN_CHOICE_MODELS: tuple[str, ...] = tuple(_CHOICE)
"""Names of the choice models shipped with slategym, in documentation order."""
BUILTIN_USER_MODELS: tuple[str, ...] = tuple(_USER)
"""Names of the user models shipped with slategym."""
BUILTIN_ITEM_MODELS: tuple[str, ...] = tuple(_ITEM)
"""Names of the item models shipped with slategym."""


def _register(table: dict[str, Any], kind: str, name: str, factory: Any, overwrite: bool) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} name={name!r} is not allowed: expected a non-empty string")
    if not callable(factory):
        raise ValueError(
            f"{kind} factory={factory!r} is not allowed: expected a callable returning a model"
        )
    if name in table and not overwrite:
        raise ValueError(
            f"{kind} {name!r} is already registered: pick another name or pass overwrite=True"
        )
    table[name] = factory


def register_choice_model(
    name: str, factory: Callable[..., ChoiceModel], overwrite: bool = False
) -> None:
    """Make ``factory(**kwargs)`` available as ``choice_model=name`` in ``gym.make``."""
    _register(_CHOICE, "choice model", name, factory, overwrite)


def register_user_model(
    name: str, factory: Callable[..., UserModel], overwrite: bool = False
) -> None:
    """Make ``factory(**kwargs)`` available as ``user_model=name`` in ``gym.make``."""
    _register(_USER, "user model", name, factory, overwrite)


def register_item_model(
    name: str, factory: Callable[..., ItemModel], overwrite: bool = False
) -> None:
    """Make ``factory(**kwargs)`` available as ``item_model=name`` in ``gym.make``."""
    _register(_ITEM, "item model", name, factory, overwrite)


def registered_item_models() -> list[str]:
    """Names accepted by ``item_model=``."""
    return sorted(_ITEM)


def registered_choice_models() -> list[str]:
    """Names accepted by ``choice_model=``."""
    return sorted(_CHOICE)


def registered_user_models() -> list[str]:
    """Names accepted by ``user_model=``."""
    return sorted(_USER)


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _build(
    table: Mapping[str, Callable[..., Any]],
    kind: str,
    base: type,
    spec: Any,
    kwargs: Mapping[str, Any] | None,
) -> Any:
    if isinstance(spec, base):
        if kwargs:
            raise ValueError(
                f"{kind}_kwargs={dict(kwargs)!r} is not allowed with a {kind} instance: "
                "set the parameters on the instance instead"
            )
        return spec
    if not isinstance(spec, str) or spec not in table:
        raise ValueError(
            f"{kind}={spec!r} is not allowed: expected {_article(base.__name__)} {base.__name__} "
            "instance or one of the "
            f"registered names {sorted(table)}"
        )
    factory, params = table[spec], dict(kwargs or {})
    if _check_factory_keywords(factory, kind, spec, params):
        model = factory(**params)  # the keywords fit: a TypeError now is a bug in the factory
    else:
        try:
            model = factory(**params)
        except TypeError as err:  # a factory taking **kwargs passed on an unknown keyword
            raise ValueError(f"{kind}_kwargs={params!r} rejected by {spec!r}: {err}") from err
    if not isinstance(model, base):
        raise ValueError(
            f"the factory registered as {kind}={spec!r} returned {type(model).__name__}, "
            f"expected {_article(base.__name__)} {base.__name__}"
        )
    return model


def _check_factory_keywords(
    factory: Callable[..., Any], kind: str, spec: str, params: dict[str, Any]
) -> bool:
    """``ValueError`` if ``factory``'s signature does not take the keywords ``params`` (listing
    those it takes); True if the signature vouches for them (it binds, without ``**kwargs``).

    A ``ValueError``, not a ``TypeError``: ``{kind}_kwargs`` is a known ``gym.make`` keyword whose
    *value* holds a key the model does not take, and a library that probes ``gym.make`` keywords
    by retrying on ``TypeError`` must not drop it. Checking the signature first, instead of
    turning every ``TypeError`` of the call into a ``ValueError``, lets a ``TypeError`` raised
    *inside* a factory with an explicit signature (a bug) surface as itself.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature (some builtins): the call decides
        return False
    try:
        signature.bind(**params)
    except TypeError as err:
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        accepted = [p.name for p in signature.parameters.values() if p.kind in kinds]
        raise ValueError(
            f"{kind}_kwargs={params!r} rejected by {spec!r}: {err}; it takes the keywords "
            f"{accepted}"
        ) from err
    var_keyword = inspect.Parameter.VAR_KEYWORD
    return all(p.kind != var_keyword for p in signature.parameters.values())


def make_choice_model(spec: Any, kwargs: Mapping[str, Any] | None = None) -> ChoiceModel:
    """A choice model from a registered name (with ``kwargs``) or an instance."""
    return _build(_CHOICE, "choice_model", ChoiceModel, spec, kwargs)


def make_user_model(spec: Any, kwargs: Mapping[str, Any] | None = None) -> UserModel:
    """A user model from a registered name (with ``kwargs``) or an instance."""
    return _build(_USER, "user_model", UserModel, spec, kwargs)


def make_item_model(spec: Any, kwargs: Mapping[str, Any] | None = None) -> ItemModel:
    """An item model from a registered name (with ``kwargs``) or an instance."""
    return _build(_ITEM, "item_model", ItemModel, spec, kwargs)
