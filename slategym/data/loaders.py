"""Read impression logs back: as a pandas frame, as pyarrow, or as per-slate numpy arrays.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from slategym.data import ImpressionWriter, load_slates, read_metadata
    >>> path = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> with ImpressionWriter(path, num_candidates=3, slate_size=2, metadata={"seed": 7}) as w:
    ...     w.add(candidate_ids=[[10, 11, 12]], slates=[[2, 0]], user_id=[5], day=[0], hour=[9],
    ...           session=[0], session_step=[0], clicks=[[True, False]], purchases=[[False, False]],
    ...           dwell=[[1.5, 0.0]], reward=[1.0], propensity_slate=[1 / 6])
    >>> log = load_slates(path)
    >>> log.item_ids.tolist(), log.clicks.tolist(), read_metadata(path)["seed"]
    ([[12, 10]], [[True, False]], 7)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slategym._optional import require
from slategym.data.schema import COLUMN_NAMES, META_PREFIX, SCHEMA_VERSION, VERSION_KEY


def _open(path: str | Path) -> Any:
    pq = require("pyarrow.parquet", "reading impression logs")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} is not allowed: no such file")
    pf = pq.ParquetFile(str(path))
    meta = {k.decode(): v.decode() for k, v in (pf.schema_arrow.metadata or {}).items()}
    version = meta.get(VERSION_KEY)
    if version is None:
        raise ValueError(f"{path} is not a slategym impression log (no {VERSION_KEY!r} metadata)")
    if int(version) > SCHEMA_VERSION:
        raise ValueError(
            f"{path} has log schema version {version}; this slategym reads versions up to "
            f"{SCHEMA_VERSION}: upgrade slategym"
        )
    missing = sorted(set(COLUMN_NAMES) - set(pf.schema_arrow.names))
    if missing:
        raise ValueError(f"{path} lacks the log column(s) {missing}")
    return pf


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The slategym metadata of a log (``schema_version`` plus what the writer was given)."""
    pf = _open(path)
    out: dict[str, Any] = {}
    for k, v in (pf.schema_arrow.metadata or {}).items():
        key = k.decode()
        if key == VERSION_KEY:
            out["schema_version"] = int(v.decode())
        elif key.startswith(META_PREFIX):
            out[key[len(META_PREFIX) :]] = json.loads(v.decode())
    return out


def read_table(path: str | Path, columns: list[str] | None = None) -> Any:
    """The log as a ``pyarrow.Table`` (all columns, or ``columns``)."""
    return _open(path).read(columns=columns)


def read_impressions(path: str | Path, columns: list[str] | None = None) -> Any:
    """The log as a ``pandas.DataFrame``, one row per impression (pandas needed)."""
    require("pandas", "reading impression logs into pandas")
    return read_table(path, columns).to_pandas()


@dataclass(frozen=True)
class SlateLog:
    """A log as per-request numpy arrays (``n`` served slates of ``K`` positions)."""

    request_id: np.ndarray  # (n,) int64
    user_id: np.ndarray  # (n,) int64
    day: np.ndarray  # (n,) int32
    hour: np.ndarray  # (n,) int32
    session: np.ndarray  # (n,) int64
    session_step: np.ndarray  # (n,) int32
    candidate_ids: np.ndarray  # (n, C) int64
    slates: np.ndarray  # (n, K) int64 candidate indices
    item_ids: np.ndarray  # (n, K) int64
    propensity_slate: np.ndarray  # (n,) float64, nan = unknown
    propensity_position: np.ndarray  # (n, K) float64, nan = unknown
    propensity_cascade: np.ndarray  # (n, K) float64, nan = unknown
    clicks: np.ndarray  # (n, K) bool
    purchases: np.ndarray  # (n, K) bool
    dwell: np.ndarray  # (n, K) float64
    reward: np.ndarray  # (n,) float64

    @property
    def num_slates(self) -> int:
        """``n``."""
        return int(self.slates.shape[0])


def load_slates(path: str | Path) -> SlateLog:
    """Read a log into :class:`SlateLog` (rows are grouped ``K`` at a time by request)."""
    table = read_table(path)
    k = table.schema.field("slate").type.list_size
    c = table.schema.field("candidate_ids").type.list_size
    rows = table.num_rows
    if rows % k:
        raise ValueError(f"{path} has {rows} rows, not a multiple of slate_size={k}")
    n = rows // k

    def col(name: str, dtype: Any) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    def flat_list(name: str, width: int) -> np.ndarray:
        arr = table.column(name).combine_chunks()
        return np.asarray(arr.flatten().to_numpy(), np.int64).reshape(rows, width)

    position = col("position", np.int64).reshape(n, k)
    request = col("request_id", np.int64).reshape(n, k)
    if not (np.all(position == np.arange(k)) and np.all(request == request[:, :1])):
        raise ValueError(f"{path}: rows are not grouped by request with positions 0..{k - 1}")
    first = slice(None, None, k)
    return SlateLog(
        request_id=request[:, 0],
        user_id=col("user_id", np.int64)[first],
        day=col("day", np.int32)[first],
        hour=col("hour", np.int32)[first],
        session=col("session", np.int64)[first],
        session_step=col("session_step", np.int32)[first],
        candidate_ids=flat_list("candidate_ids", c)[first],
        slates=flat_list("slate", k)[first],
        item_ids=col("item_id", np.int64).reshape(n, k),
        propensity_slate=col("propensity_slate", np.float64)[first],
        propensity_position=col("propensity_position", np.float64).reshape(n, k),
        propensity_cascade=col("propensity_cascade", np.float64).reshape(n, k),
        clicks=col("click", bool).reshape(n, k),
        purchases=col("purchase", bool).reshape(n, k),
        dwell=col("dwell", np.float64).reshape(n, k),
        reward=col("reward", np.float64)[first],
    )
