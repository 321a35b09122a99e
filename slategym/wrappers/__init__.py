"""Wrappers that make SlateRec envs fit any RL library (numpy only).

* :class:`TopKSlate` / :class:`TopKSlateVector`: the action becomes one score per candidate
  (a ``Box``); the env serves the top-K *distinct* candidates, or a Plackett–Luce sample whose
  log-probability is reported in ``info["slate_log_prob"]``. The cure for the independent
  per-position heads trap (see :mod:`slategym.repeats`).
* :class:`FlattenSlateObservation` / :class:`FlattenSlateObservationVector`: a flat ``Box``
  observation for default MLP policies, with the id keys dropped or given a fixed random
  embedding (ids are not features to normalise).

The maths (top-K with ties, Plackett–Luce sampling and log-probabilities) is in
:mod:`slategym.wrappers.ranking`. Recipes per library: ``docs/integrations.md``.
"""

from slategym.wrappers.flatten import (
    FlattenSlateObservation,
    FlattenSlateObservationVector,
    SlateObservationFlattener,
)
from slategym.wrappers.ranking import plackett_luce_log_prob, plackett_luce_sample, top_k
from slategym.wrappers.topk import TopKSlate, TopKSlateVector

__all__ = [
    "FlattenSlateObservation",
    "FlattenSlateObservationVector",
    "SlateObservationFlattener",
    "TopKSlate",
    "TopKSlateVector",
    "plackett_luce_log_prob",
    "plackett_luce_sample",
    "top_k",
]
