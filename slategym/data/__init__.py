"""Logged data: slate policies with exact propensities, Parquet impression logs, loaders, Minari.

Everything here imports with numpy alone; writing and reading Parquet needs the ``[data]`` extra
(``pip install 'slategym[data]'``: pyarrow, pandas, minari), imported only when used.
See ``docs/data.md``.
"""

from slategym.data.loaders import (
    SlateLog,
    load_slates,
    read_impressions,
    read_metadata,
    read_table,
)
from slategym.data.policies import (
    POLICIES,
    EpsilonGreedy,
    PlackettLuce,
    SlatePolicy,
    UniformRandom,
    all_slates,
    make_policy,
)
from slategym.data.recorder import ImpressionWriter
from slategym.data.schema import COLUMNS, SCHEMA_VERSION
from slategym.data.scorers import SCORERS, make_scorer
from slategym.data.wrappers import RecordImpressions, RecordVectorImpressions

__all__ = [
    "COLUMNS",
    "POLICIES",
    "SCHEMA_VERSION",
    "SCORERS",
    "EpsilonGreedy",
    "ImpressionWriter",
    "PlackettLuce",
    "RecordImpressions",
    "RecordVectorImpressions",
    "SlateLog",
    "SlatePolicy",
    "UniformRandom",
    "all_slates",
    "load_slates",
    "make_policy",
    "make_scorer",
    "read_impressions",
    "read_metadata",
    "read_table",
]
