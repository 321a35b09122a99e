r"""Session metrics over a run, read from the step stream.

Each served step reports, per row, ``session_index`` (sessions of the episode before the current
one), ``session_step`` (slates already served in the current session), ``session_ended`` (the user
left after this slate) and ``churned`` (the user left the platform for good; implies
``session_ended``). The functions take these arrays for every served (step, row) pair, in any shape
as long as all have the same one (``(T, N)`` stacked steps, or flattened), plus an optional ``served``
mask of that shape (e.g. a vector env's ``info["_session_ended"]``).

Definitions (counts over the served steps):

* a **session start** is a step with ``session_step == 0``; an **episode start** (a user's first
  session; with the platform view, one per user) is one with ``session_index == 0`` as well;
* the **length** of an ended session is ``session_step + 1`` at its ending step, in slates. Sessions
  still open when the stream stops (or cut by the horizon) have no length and are not counted;
* the **return rate** is the share of sessions that ended without churn and were followed by another
  session of the same episode within the horizon:

  .. math:: \frac{|\{\text{session starts with } \texttt{session\_index} \ge 1\}|}
                 {|\{\text{steps with } \texttt{session\_ended} \wedge \neg\texttt{churned}\}|}

  A start with ``session_index >= 1`` is exactly such a return, since churn ends the episode. A
  session whose next one would begin past the horizon truncates the episode and never returns. On a
  stream observed from the episode starts the rate is in ``[0, 1]``; sessions that ended shortly
  before the stream stopped count as not (yet) returned;
* the **churn rate per session** is churned sessions over ended sessions; the **churn rate per
  episode** is churn events over episode starts (the share of users who left the platform, with the
  platform view).

Undefined ratios (no ended session, no episode start) are ``nan``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slategym.metrics._checks import bool_array, int_array, optional_mask, ratio, same_shape, subset

HOURS_PER_DAY = 24


def session_counts(
    session_ended: Any,
    churned: Any,
    session_index: Any,
    session_step: Any,
    served: Any = None,
) -> dict[str, int]:
    """Counts behind every session metric (keys as in :class:`MetricsAccumulator`'s result).

    Example:
        >>> session_counts([True, False, True], [False, False, True], [0, 1, 1], [2, 0, 1])
        {'sessions_started': 1, 'episodes_started': 0, 'sessions_ended': 2, 'sessions_churned': 1, 'sessions_returned': 1, 'slates_in_ended_sessions': 5}
    """  # noqa: E501
    ended = bool_array("session_ended", session_ended)
    churn = bool_array("churned", churned)
    same_shape("churned", churn, "session_ended", ended)
    subset("churned", churn, "session_ended", ended)
    index = int_array("session_index", session_index, 0)
    same_shape("session_index", index, "session_ended", ended)
    step = int_array("session_step", session_step, 0)
    same_shape("session_step", step, "session_ended", ended)
    mask = optional_mask("served", served, "session_ended", ended)
    start = mask & (step == 0)
    ended = ended & mask
    return {
        "sessions_started": int(np.count_nonzero(start)),
        "episodes_started": int(np.count_nonzero(start & (index == 0))),
        "sessions_ended": int(np.count_nonzero(ended)),
        "sessions_churned": int(np.count_nonzero(churn & mask)),
        "sessions_returned": int(np.count_nonzero(start & (index >= 1))),
        "slates_in_ended_sessions": int((step[ended] + 1).sum()),
    }


def session_lengths(session_ended: Any, session_step: Any, served: Any = None) -> np.ndarray:
    """Lengths in slates of the sessions that ended, ``session_step + 1`` at their ending step.

    Returns:
        ``(S,)`` int64, in the (C-order) order of the ending steps.

    Example:
        >>> session_lengths([[False, False], [True, False], [False, True]],
        ...                 [[0, 0], [1, 1], [0, 2]])
        array([2, 3])
    """
    ended = bool_array("session_ended", session_ended)
    step = int_array("session_step", session_step, 0)
    same_shape("session_step", step, "session_ended", ended)
    mask = optional_mask("served", served, "session_ended", ended)
    return step[ended & mask] + 1


def mean_session_length(session_ended: Any, session_step: Any, served: Any = None) -> float:
    r"""Mean length in slates of the sessions that ended.

    .. math:: \bar L = \frac{1}{|E|} \sum_{e \in E} (\texttt{session\_step}_e + 1)

    over the ending steps :math:`E` (open sessions are not counted).

    Returns:
        The mean, ``>= 1``; ``nan`` when no session ended.

    Example:
        >>> mean_session_length([True, True], [0, 3])
        2.5
    """
    lengths = session_lengths(session_ended, session_step, served)
    return ratio(float(lengths.sum()), lengths.size)


def return_rate(
    session_ended: Any, churned: Any, session_index: Any, session_step: Any, served: Any = None
) -> float:
    r"""Share of sessions ended without churn that were followed by another session.

    .. math::

        \frac{|\{s : \texttt{session\_step}_s = 0,\ \texttt{session\_index}_s \ge 1\}|}
             {|\{s : \texttt{session\_ended}_s \wedge \neg \texttt{churned}_s\}|}

    (see the module docstring for why this is the share that returned within the horizon).

    Returns:
        The rate; ``nan`` when no session ended without churn.

    Example:
        >>> # one user: session 0 (2 slates, ends), session 1 (1 slate, ends, next past horizon)
        >>> return_rate([False, True, True], [False, False, False], [0, 0, 1], [0, 1, 0])
        0.5
    """
    c = session_counts(session_ended, churned, session_index, session_step, served)
    return ratio(c["sessions_returned"], c["sessions_ended"] - c["sessions_churned"])


def churn_rate_per_session(session_ended: Any, churned: Any, served: Any = None) -> float:
    r"""Share of ended sessions after which the user churned.

    .. math:: \frac{|\{s : \texttt{churned}_s\}|}{|\{s : \texttt{session\_ended}_s\}|}

    Returns:
        The rate in ``[0, 1]``; ``nan`` when no session ended.

    Example:
        >>> churn_rate_per_session([True, False, True, True], [False, False, True, False])
        0.3333333333333333
    """
    ended = bool_array("session_ended", session_ended)
    churn = bool_array("churned", churned)
    same_shape("churned", churn, "session_ended", ended)
    subset("churned", churn, "session_ended", ended)
    mask = optional_mask("served", served, "session_ended", ended)
    return ratio(np.count_nonzero(churn & mask), np.count_nonzero(ended & mask))


def churn_rate_per_episode(
    churned: Any, session_index: Any, session_step: Any, served: Any = None
) -> float:
    r"""Share of episodes (users, with the platform view) that churned.

    .. math::

        \frac{|\{s : \texttt{churned}_s\}|}
             {|\{s : \texttt{session\_index}_s = 0,\ \texttt{session\_step}_s = 0\}|}

    Episodes still running when the stream stops count as not churned.

    Returns:
        The rate in ``[0, 1]`` on a stream observed from the episode starts; ``nan`` without an
        episode start.

    Example:
        >>> # two episodes start; the second churns after its first slate
        >>> churn_rate_per_episode([False, False, True], [0, 0, 0], [0, 1, 0])
        0.5
    """
    churn = bool_array("churned", churned)
    index = int_array("session_index", session_index, 0)
    same_shape("session_index", index, "churned", churn)
    step = int_array("session_step", session_step, 0)
    same_shape("session_step", step, "churned", churn)
    mask = optional_mask("served", served, "churned", churn)
    starts = mask & (index == 0) & (step == 0)
    return ratio(np.count_nonzero(churn & mask), np.count_nonzero(starts))


def sessions_started_per_hour(hour: Any, session_step: Any, served: Any = None) -> np.ndarray:
    """Session starts (``session_step == 0``) per hour of day of their first slate, ``(24,)`` int64.

    Example:
        >>> sessions_started_per_hour([7, 7, 8, 23], [0, 1, 0, 0])[[7, 8, 23]]
        array([1, 1, 1])
    """
    h = int_array("hour", hour, 0, HOURS_PER_DAY)
    step = int_array("session_step", session_step, 0)
    same_shape("session_step", step, "hour", h)
    mask = optional_mask("served", served, "hour", h)
    return np.bincount(h[mask & (step == 0)], minlength=HOURS_PER_DAY).astype(np.int64)
