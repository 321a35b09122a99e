"""Write served slates to a Parquet impression log, streamed in row groups.

:class:`ImpressionWriter` takes batches of served slate requests from any view of the world:

* a :class:`~slategym.types.StepOutcome` (the platform's ``serve`` returns one):
  :meth:`ImpressionWriter.add_outcome`;
* the ``info`` of a (vector) env step: :meth:`ImpressionWriter.add_info`, which skips rows whose
  step keys are masked off (a vector env's autoreset rows served nothing);
* the wrappers of :mod:`slategym.data.wrappers` call these for you.

Rows are buffered and written ``row_group_size`` rows at a time, so memory stays bounded for logs of
any length. The writer counts what it wrote (``num_requests``, ``num_rows``, ``num_clicks``).

Example:
    >>> import tempfile, os
    >>> import numpy as np
    >>> from slategym.platform import Platform
    >>> from slategym.data.recorder import ImpressionWriter
    >>> platform = Platform(num_users=20, days=1)
    >>> platform.reset(seed=0)
    >>> while (batch := platform.requests()) is None:
    ...     platform.next_slot()
    >>> path = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> with ImpressionWriter(path, num_candidates=50, slate_size=6) as writer:
    ...     slates = np.tile(np.arange(6), (batch.size, 1))
    ...     outcome = platform.serve(slates)
    ...     writer.add_outcome(outcome, batch.observations["candidate_ids"], slates, env_row=batch.rows)
    >>> writer.num_rows == 6 * batch.size
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from slategym._optional import require
from slategym.data.schema import COLUMN_NAMES, META_PREFIX, arrow_schema
from slategym.types import StepOutcome
from slategym.validation import check_int


class ImpressionWriter:
    """Streams impression rows (see :mod:`slategym.data.schema`) into one Parquet file.

    Args:
        path: the ``.parquet`` file to write (parent directories are created).
        num_candidates: ``C``; every batch must offer this many candidates.
        slate_size: ``K``.
        metadata: extra key-value metadata (world, policy, seed, ...); values are JSON-encoded.
        row_group_size: rows per Parquet row group (and per flush).
    """

    def __init__(
        self,
        path: str | Path,
        num_candidates: int,
        slate_size: int,
        metadata: Mapping[str, Any] | None = None,
        row_group_size: int = 65_536,
    ) -> None:
        pq = require("pyarrow.parquet", "writing impression logs")
        self.num_candidates = check_int("num_candidates", num_candidates, 1)
        self.slate_size = check_int("slate_size", slate_size, 1)
        self.row_group_size = check_int("row_group_size", row_group_size, 1)
        meta = {META_PREFIX + k: json.dumps(v) for k, v in (metadata or {}).items()}
        self.schema = arrow_schema(self.num_candidates, self.slate_size, meta)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(str(self.path), self.schema)
        self._buffer: dict[str, list[np.ndarray]] = {name: [] for name in COLUMN_NAMES}
        self._buffered = 0
        self.num_requests = 0
        self.num_rows = 0
        self.num_clicks = 0
        self.closed = False

    # -- adding rows ------------------------------------------------------------------------------
    def add(
        self,
        *,
        candidate_ids: np.ndarray,
        slates: np.ndarray,
        user_id: np.ndarray,
        day: np.ndarray,
        hour: np.ndarray,
        session: np.ndarray,
        session_step: np.ndarray,
        clicks: np.ndarray,
        purchases: np.ndarray,
        dwell: np.ndarray,
        reward: np.ndarray,
        env_row: np.ndarray | None = None,
        propensity_slate: np.ndarray | None = None,
        propensity_position: np.ndarray | None = None,
        propensity_cascade: np.ndarray | None = None,
    ) -> None:
        """Add ``N`` served requests: per-request arrays ``(N,)``, per-position ``(N, K)``.

        Propensities that the logging policy cannot give are ``None`` (or ``nan``) and are written
        as nulls.
        """
        if self.closed:
            raise RuntimeError("the writer is closed")
        slates = np.asarray(slates, np.int64)
        n, k = slates.shape if slates.ndim == 2 else (-1, -1)
        cand = np.asarray(candidate_ids, np.int64)
        if k != self.slate_size or cand.shape != (n, self.num_candidates):
            raise ValueError(
                f"slates of shape {slates.shape} and candidate_ids of shape {cand.shape} are not "
                f"allowed: expected (N, {self.slate_size}) and (N, {self.num_candidates})"
            )
        if n == 0:
            return
        pos = np.tile(np.arange(k, dtype=np.int32), n)

        def per_request(x: Any, dtype: Any) -> np.ndarray:
            return np.repeat(np.asarray(x, dtype).reshape(n), k)

        def per_position(x: Any, dtype: Any) -> np.ndarray:
            return np.asarray(x, dtype).reshape(n * k)

        nan_req = np.full(n, np.nan)
        nan_pos = np.full((n, k), np.nan)
        columns = {
            "request_id": np.repeat(np.arange(self.num_requests, self.num_requests + n), k),
            "user_id": per_request(user_id, np.int64),
            "env_row": per_request(np.zeros(n) if env_row is None else env_row, np.int64),
            "day": per_request(day, np.int32),
            "hour": per_request(hour, np.int32),
            "session": per_request(session, np.int64),
            "session_step": per_request(session_step, np.int32),
            "candidate_ids": np.repeat(cand, k, axis=0),
            "slate": np.repeat(slates, k, axis=0),
            "position": pos,
            "item_id": np.take_along_axis(cand, slates, axis=1).reshape(n * k),
            "propensity_slate": per_request(
                nan_req if propensity_slate is None else propensity_slate, np.float64
            ),
            "propensity_position": per_position(
                nan_pos if propensity_position is None else propensity_position, np.float64
            ),
            "propensity_cascade": per_position(
                nan_pos if propensity_cascade is None else propensity_cascade, np.float64
            ),
            "click": per_position(clicks, bool),
            "purchase": per_position(purchases, bool),
            "dwell": per_position(dwell, np.float64),
            "reward": per_request(reward, np.float64),
        }
        for name, value in columns.items():
            self._buffer[name].append(value)
        self._buffered += n * k
        self.num_requests += n
        self.num_rows += n * k
        self.num_clicks += int(np.count_nonzero(columns["click"]))
        if self._buffered >= self.row_group_size:
            self._flush()

    def add_outcome(
        self,
        outcome: StepOutcome,
        candidate_ids: np.ndarray,
        slates: np.ndarray,
        env_row: np.ndarray | None = None,
        **propensities: np.ndarray | None,
    ) -> None:
        """Add the requests of one batched step (``outcome`` from ``Simulator.step`` or
        ``Platform.serve``); ``candidate_ids (N, C)`` are those the slates index into."""
        self.add(
            candidate_ids=candidate_ids,
            slates=slates,
            user_id=outcome.user_id,
            day=outcome.day,
            hour=outcome.hour,
            session=outcome.session_index,
            session_step=outcome.session_step,
            clicks=outcome.clicks,
            purchases=outcome.purchases,
            dwell=outcome.dwell,
            reward=outcome.reward,
            env_row=env_row,
            **propensities,
        )

    def add_info(
        self,
        info: Mapping[str, Any],
        rewards: Any,
        candidate_ids: np.ndarray,
        slates: np.ndarray,
        **propensities: np.ndarray | None,
    ) -> None:
        """Add a vector env step from its ``info`` and ``rewards`` (rows with ``info["_clicks"]``
        False, i.e. autoreset rows, served nothing and are skipped). A single env's ``info`` works
        too once its values are given a leading axis of 1."""
        clicks = np.asarray(info["clicks"])
        n = clicks.shape[0]
        served = np.asarray(info.get("_clicks", np.ones(n, bool)), bool)
        rows = np.flatnonzero(served)

        def pick(x: Any) -> np.ndarray | None:
            return None if x is None else np.asarray(x)[rows]

        self.add(
            candidate_ids=np.asarray(candidate_ids)[rows],
            slates=np.asarray(slates)[rows],
            user_id=np.asarray(info["user_id"])[rows],
            day=np.asarray(info["day"])[rows],
            hour=np.asarray(info["hour"])[rows],
            session=np.asarray(info["session_index"])[rows],
            session_step=np.asarray(info["session_step"])[rows],
            clicks=clicks[rows],
            purchases=np.asarray(info["purchases"])[rows],
            dwell=np.asarray(info["dwell"])[rows],
            reward=np.asarray(rewards, np.float64).reshape(n)[rows],
            env_row=rows,
            **{key: pick(value) for key, value in propensities.items()},
        )

    # -- writing ----------------------------------------------------------------------------------
    def _flush(self, final: bool = False) -> None:
        """Write whole row groups (and, when ``final``, the remainder); keep the rest buffered."""
        size = self._buffered if final else self._buffered - self._buffered % self.row_group_size
        if size == 0:
            return
        pa = require("pyarrow", "writing impression logs")
        arrays, rest = [], {}
        for field in self.schema:
            value = np.concatenate(self._buffer[field.name])
            rest[field.name] = [value[size:]]
            value = value[:size]
            if pa.types.is_fixed_size_list(field.type):
                flat = pa.array(value.reshape(-1), type=field.type.value_type)
                arrays.append(pa.FixedSizeListArray.from_arrays(flat, field.type.list_size))
            else:
                arrays.append(pa.array(value, type=field.type, from_pandas=True))  # nan -> null
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self._writer.write_table(table, row_group_size=self.row_group_size)
        self._buffer = rest
        self._buffered -= size

    def close(self) -> None:
        """Write what is buffered and close the file (idempotent)."""
        if self.closed:
            return
        self._flush(final=True)
        self._writer.close()
        self.closed = True

    def __enter__(self) -> ImpressionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
