"""The impression-log schema: one row per (slate request, position), versioned.

The columns are listed once here; ``docs/data.md`` shows this table, the writer builds its Arrow
schema from it and the loaders check files against it. A file records its schema version in the
Parquet key-value metadata under :data:`VERSION_KEY`; readers refuse versions they do not know.

Version History:

* 1: initial version.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1
"""Version of the columns below; bump it (and add a Version History line) on any change."""
VERSION_KEY = "slategym.log.schema_version"
META_PREFIX = "slategym."
"""Prefix of every key slategym writes into the Parquet file metadata."""

# name, Arrow type ("list" columns are fixed-size lists), meaning
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("request_id", "int64", "slate request (one per served slate), 0, 1, ... in serving order"),
    ("user_id", "int64", "the simulated user (index into the population)"),
    ("env_row", "int64", "row of the vector env or platform that served the request (0 for a single env)"),
    ("day", "int32", "day of the request (0-based)"),
    ("hour", "int32", "hour of day of the request, 0..23"),
    ("session", "int64", "the user's session index (sessions started before this one)"),
    ("session_step", "int32", "requests already served in this session"),
    ("candidate_ids", "list<int64>[C]", "catalog ids of the C candidates offered"),
    ("slate", "list<int64>[K]", "the slate: candidate indices (into candidate_ids), position 0 first"),
    ("position", "int32", "0-based position of this row's item in the slate"),
    ("item_id", "int64", "catalog id of the item at this position"),
    ("propensity_slate", "float64", "logging policy's probability of the whole slate (null if unknown)"),
    ("propensity_position", "float64", "logging policy's marginal probability of this item at this position (null if unknown)"),
    ("propensity_cascade", "float64", "logging policy's probability of the slate's positions 0..position (null if unknown)"),
    ("click", "bool", "the item was clicked"),
    ("purchase", "bool", "the click led to a purchase"),
    ("dwell", "float64", "dwell minutes (0 without a click)"),
    ("reward", "float64", "the env's reward for the whole slate (the same on the K rows of a request)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c[0] for c in COLUMNS)
PROPENSITY_COLUMNS = ("propensity_slate", "propensity_position", "propensity_cascade")


def arrow_schema(num_candidates: int, slate_size: int, metadata: dict[str, str] | None = None) -> Any:
    """The ``pyarrow.Schema`` of a log with ``C`` candidates and slates of ``K`` (pyarrow needed)."""
    from slategym._optional import require

    pa = require("pyarrow", "writing impression logs")
    types = {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<int64>[C]": pa.list_(pa.int64(), num_candidates),
        "list<int64>[K]": pa.list_(pa.int64(), slate_size),
    }
    fields = [
        pa.field(name, types[kind], nullable=name in PROPENSITY_COLUMNS)
        for name, kind, _ in COLUMNS
    ]
    meta = {VERSION_KEY: str(SCHEMA_VERSION), **(metadata or {})}
    return pa.schema(fields, metadata={k.encode(): v.encode() for k, v in meta.items()})


def markdown_table() -> str:
    """The columns as a Markdown table (``docs/data.md`` embeds it)."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {kind} | {text} |" for name, kind, text in COLUMNS]
    return "\n".join(lines)
