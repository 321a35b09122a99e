"""Read an event log (user id, timestamp with timezone, event type) for calibration.

The generic format is a CSV or Parquet file with three columns (names configurable):
``user_id`` (any hashable id), ``timestamp`` (ISO 8601 *with* a UTC offset, e.g.
``2019-11-24 09:00:34+00:00``, or a timezone-aware Parquet timestamp) and ``event_type`` (a string
such as ``click`` or ``purchase``). Timestamps are converted to the users' local ``timezone`` (an
IANA name) before hours and days are read off them.

:func:`load_source` converts the three real logs of ``shared/data`` (OBD, UCI Online Retail, OTTO)
into this format, declaring the timezone each one is recorded in.

Bad input raises ``ValueError`` naming the problem: a missing file or column, an empty log,
unparseable timestamps, timestamps without a timezone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slategym._optional import require

SOURCES = ("events", "obd", "uci", "otto")
"""Formats :func:`load_source` reads; ``events`` is the generic three-column format."""


@dataclass(frozen=True)
class EventLog:
    """Events sorted by user then time; times in minutes since local midnight of the first day."""

    user: np.ndarray  # (E,) int64 user index 0..U-1
    minute: np.ndarray  # (E,) float64 local minutes since midnight of the first local day
    event_type: np.ndarray  # (E,) str
    user_names: np.ndarray  # (U,) original ids
    start_date: str  # local date of day 0 (ISO)
    timezone: str

    @property
    def num_events(self) -> int:
        return int(self.user.shape[0])

    @property
    def num_users(self) -> int:
        return int(self.user_names.shape[0])

    @property
    def hour(self) -> np.ndarray:
        """``(E,)`` local hour of day."""
        return (np.floor(self.minute / 60.0) % 24).astype(np.int64)

    def subset(self, mask: np.ndarray) -> EventLog:
        """The events where ``mask`` is True (users keep their indices)."""
        return EventLog(
            self.user[mask], self.minute[mask], self.event_type[mask], self.user_names,
            self.start_date, self.timezone,
        )  # fmt: skip


def _read_table(path: Path) -> Any:
    pd = require("pandas", "reading event logs")
    if not path.is_file():
        raise ValueError(f"events={str(path)!r} is not allowed: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".parquet":
        require("pyarrow", "reading Parquet event logs")
        return pd.read_parquet(path)
    raise ValueError(f"events={str(path)!r} is not allowed: expected a .csv or .parquet file")


def events_from_frame(
    frame: Any,
    timezone: str,
    user_col: str = "user_id",
    time_col: str = "timestamp",
    type_col: str = "event_type",
    source: str = "events",
) -> EventLog:
    """Validate a pandas frame of events and convert it to an :class:`EventLog` in ``timezone``."""
    pd = require("pandas", "reading event logs")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(
            f"timezone={timezone!r} is not allowed: expected an IANA name such as 'Asia/Tokyo'"
        ) from err
    missing = [c for c in (user_col, time_col, type_col) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {missing}; found {list(frame.columns)} (name them with "
            "--user-col, --time-col, --type-col)"
        )
    frame = frame[[user_col, time_col, type_col]].dropna()
    if len(frame) == 0:
        raise ValueError(f"{source}: the event log is empty (no rows with user, time and type)")
    ts = frame[time_col]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_any_dtype(ts):
            raise ValueError(
                f"{source}: column {time_col!r} has no timezone: give timestamps with a UTC "
                "offset (e.g. 2019-11-24T09:00:00+00:00)"
            )
        raw = ts.astype(str)
        try:
            parsed = pd.to_datetime(raw, format="ISO8601")
        except (ValueError, TypeError) as err:
            bad = next((s for s in raw if pd.isna(pd.to_datetime(s, errors="coerce"))), raw.iloc[0])
            raise ValueError(
                f"{source}: column {time_col!r} has an unparseable timestamp {bad!r}: expected "
                "ISO 8601 with a UTC offset (e.g. 2019-11-24T09:00:00+00:00)"
            ) from err
        if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
            raise ValueError(
                f"{source}: column {time_col!r} has timestamps without a timezone (e.g. "
                f"{raw.iloc[0]!r}): give them a UTC offset (e.g. +00:00)"
            )
        ts = parsed
    local = ts.dt.tz_convert(timezone)
    day0 = local.min().normalize()
    minute = (local - day0).dt.total_seconds().to_numpy() / 60.0
    names, user = np.unique(frame[user_col].astype(str).to_numpy(), return_inverse=True)
    order = np.lexsort((minute, user))
    return EventLog(
        user=user[order].astype(np.int64),
        minute=minute[order].astype(np.float64),
        event_type=frame[type_col].astype(str).to_numpy()[order],
        user_names=names,
        start_date=str(day0.date()),
        timezone=timezone,
    )


def load_source(
    path: str | Path,
    source: str = "events",
    timezone: str = "UTC",
    user_col: str = "user_id",
    time_col: str = "timestamp",
    type_col: str = "event_type",
) -> EventLog:
    """Read ``path`` in format ``source`` (see :data:`SOURCES`) as an :class:`EventLog`.

    * ``obd``: Open Bandit Dataset ``all.csv`` (UTC). It has **no user id**: the user is the tuple of
      its four hashed user features, a segment rather than a person. Events ``impression`` and
      ``click``.
    * ``uci``: UCI Online Retail CSV (``InvoiceDate`` in UK local time, no offset: localised to
      Europe/London). Users are ``CustomerID`` (rows without one are dropped); one ``purchase`` event
      per invoice line.
    * ``otto``: OTTO ``.jsonl`` sessions (``ts`` in ms, UTC); the OTTO session id is the user; events
      ``clicks``, ``carts``, ``orders``.
    """
    pd = require("pandas", "reading event logs")
    path = Path(path)
    if source == "events":
        return events_from_frame(_read_table(path), timezone, user_col, time_col, type_col)
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is not allowed: expected one of {list(SOURCES)}")
    if not path.is_file():
        raise ValueError(f"events={str(path)!r} is not allowed: no such file")
    if source == "obd":
        raw = pd.read_csv(path)
        user = raw[[f"user_feature_{i}" for i in range(4)]].astype(str).agg("|".join, axis=1)
        ts = pd.to_datetime(raw["timestamp"], format="ISO8601")
        frame = pd.DataFrame({"user_id": user, "timestamp": ts, "event_type": "impression"})
        clicks = frame[raw["click"].to_numpy() == 1].assign(event_type="click")
        frame = pd.concat([frame, clicks], ignore_index=True)
    elif source == "uci":
        raw = pd.read_csv(path).dropna(subset=["CustomerID"])
        ts = pd.to_datetime(raw["InvoiceDate"]).dt.tz_localize(
            "Europe/London", ambiguous="NaT", nonexistent="NaT"
        )
        frame = pd.DataFrame(
            {"user_id": raw["CustomerID"].astype(int).astype(str), "timestamp": ts, "event_type": "purchase"}
        )
    else:  # otto
        rows = []
        with open(path) as fh:
            for line in fh:
                record = json.loads(line)
                for e in record["events"]:
                    rows.append((str(record["session"]), e["ts"], e["type"]))
        if not rows:
            raise ValueError(f"{source}: the event log is empty")
        frame = pd.DataFrame(rows, columns=["user_id", "ms", "event_type"])
        frame["timestamp"] = pd.to_datetime(frame.pop("ms"), unit="ms", utc=True)
    return events_from_frame(frame, timezone, source=source)
