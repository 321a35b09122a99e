"""The ``"personal"`` preset of the default user: tastes that differ from user to user, and little else."""

from __future__ import annotations

from slategym.users.default import DefaultUserModel

PERSONAL_PARAMETERS: dict[str, float] = {
    "shared_interest": 0.0,
    "quality_weight": 0.1,
    "popularity_weight": 0.0,
    "interest_strength": 3.0,
    "interest_noise": 1.0,
}
"""The parameters that differ from :class:`~slategym.users.DefaultUserModel`'s defaults."""


def personal_user_model(**overrides: float) -> DefaultUserModel:
    """The default user model where taste heterogeneity dominates the affinity.

    In the default world about 44 % of the affinity variance is shared by every user (hidden quality,
    popularity, a population-wide taste direction), so a global ranking by popularity comes close to
    the best personalised slate. Here the shared parts are switched off or made small
    (``shared_interest=0``, ``popularity_weight=0``, ``quality_weight=0.1``) and the personal part is
    made stronger (``interest_strength=3``, ``interest_noise=1``: taste mostly not explained by the
    profile), so what a user clicks depends on who they are. Keyword arguments override any
    parameter of :class:`~slategym.users.DefaultUserModel`.

    >>> from slategym.users import personal_user_model
    >>> personal_user_model().shared_interest, personal_user_model(quality_weight=0.3).quality_weight
    (0.0, 0.3)
    """
    return DefaultUserModel(**{**PERSONAL_PARAMETERS, **overrides})  # type: ignore[arg-type]
