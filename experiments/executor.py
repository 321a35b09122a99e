"""Where the grid's tasks run: one after the other, or on Ray; results go to disk as they finish.

An executor takes :class:`experiments.grid.Task` objects (more may be submitted while it runs, as
the benchmark does when a learner's validation is complete) and yields ``(task, record)`` pairs in
the order they finish. :func:`run_task` is a pure function of the task, so the records do not
depend on the executor, the number of workers or the order (``tests/test_bench_ray.py`` checks a
2-worker Ray run against a serial one).

Tasks wait in a priority queue: a task submitted with a smaller ``priority`` starts first, ties
first submitted first run. The benchmark gives each world's tasks its world's rank, test tasks
before validation ones, so that a grid cut short holds whole worlds rather than a little of each.

* :class:`SerialExecutor`: in this process (``--workers 1``, or Ray not installed).
* :class:`RayExecutor`: ``ray.init()`` on this machine with ``workers`` CPUs, or joins the cluster
  at ``address`` (``--address``; every node needs slategym installed); one Ray task of one CPU per
  grid task, at most ``workers`` in flight.

:class:`Store` keeps one JSON file per task (``<out>/runs/<task key>.json``, written atomically),
reused by a later run only if it was produced by the same task (same agent, world, seed, cohort,
options, budget and slategym version): a rerun resumes where an interrupted one stopped.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from experiments.grid import Task, run_task


class Executor(Protocol):
    """Runs submitted tasks; :meth:`results` yields each ``(task, record)`` as it finishes."""

    workers: int

    def submit(self, task: Task, priority: tuple[int, ...] = ()) -> None: ...

    def results(self) -> Iterator[tuple[Task, dict[str, Any]]]: ...

    def close(self) -> None: ...


class _Queue:
    """Tasks by ``(priority, order of submission)``."""

    def __init__(self) -> None:
        self._heap: list[tuple[tuple[int, ...], int, Task]] = []
        self._count = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def clear(self) -> None:
        self._heap.clear()

    def submit(self, task: Task, priority: tuple[int, ...] = ()) -> None:
        heapq.heappush(self._heap, (priority, next(self._count), task))

    def pop(self) -> Task:
        return heapq.heappop(self._heap)[2]


class SerialExecutor:
    """Runs the tasks in this process, by priority, then in the order they were submitted."""

    workers = 1

    def __init__(self) -> None:
        self._queue = _Queue()

    def submit(self, task: Task, priority: tuple[int, ...] = ()) -> None:
        self._queue.submit(task, priority)

    def results(self) -> Iterator[tuple[Task, dict[str, Any]]]:
        while self._queue:
            task = self._queue.pop()
            yield task, run_task(task)

    def close(self) -> None:
        self._queue.clear()


class RayExecutor:
    """Runs the tasks as Ray tasks of one CPU each, at most ``workers`` at a time."""

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        import ray

        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}  # fmt: skip
            if address:
                ray.init(address=address, **kwargs)
            else:
                cpus = workers or os.cpu_count() or 1
                # A small object store: records are a few kB each, the machine is shared.
                ray.init(num_cpus=cpus, object_store_memory=100 * 2**20, **kwargs)
        total = int(ray.cluster_resources().get("CPU", 1))
        self.workers = min(workers or total, total)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        self._queue = _Queue()
        self._running: dict[Any, Task] = {}

    def submit(self, task: Task, priority: tuple[int, ...] = ()) -> None:
        self._queue.submit(task, priority)

    def _fill(self) -> None:
        while self._queue and len(self._running) < self.workers:
            task = self._queue.pop()
            self._running[self._remote.remote(task)] = task

    def results(self) -> Iterator[tuple[Task, dict[str, Any]]]:
        self._fill()
        while self._running:
            (done,), _ = self._ray.wait(list(self._running), num_returns=1)
            task = self._running.pop(done)
            record = self._ray.get(done)
            self._fill()  # before the caller's work on the record: keep the workers busy
            yield task, record
            self._fill()

    def close(self) -> None:
        for ref in self._running:
            self._ray.cancel(ref, force=True)
        self._running.clear()
        if self._started:
            self._ray.shutdown()


def ray_available() -> bool:
    """Whether Ray can be imported (the ``[ray]`` extra)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def make_executor(workers: int | None, address: str | None) -> Executor:
    """Ray with ``workers`` (default: the machine's cores, or the cluster's) when Ray is installed
    and more than one worker is wanted or a cluster is given; else the serial executor."""
    if address and not ray_available():
        raise ValueError(f"address={address!r} needs Ray: pip install 'slategym[ray]'")
    if workers == 1 and not address:
        return SerialExecutor()
    if not ray_available():
        if workers is not None and workers > 1:
            raise ValueError(f"workers={workers} needs Ray: pip install 'slategym[ray]' (or "
                             "--workers 1 to run serially)")  # fmt: skip
        return SerialExecutor()
    return RayExecutor(workers, address)


def check_output(out: Path) -> Path:
    """Create ``out/runs`` and check it is writable, before any long work starts."""
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        probe = out / "runs" / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"out={str(out)!r} is not a writable folder: {err}") from err
    return out


class Store:
    """One JSON record per task under ``<out>/runs``, reused only for the very same task."""

    def __init__(self, out: Path) -> None:
        self.root = check_output(out) / "runs"

    def path(self, task: Task) -> Path:
        return self.root / f"{task.key}.json"

    def get(self, task: Task) -> dict[str, Any] | None:
        """The stored record of ``task``, if there is one for the same fingerprint."""
        path = self.path(task)
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return record if record.get("task") == task.fingerprint() else None

    def put(self, task: Task, record: dict[str, Any]) -> None:
        path = self.path(task)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, allow_nan=True))
        tmp.replace(path)  # atomic: an interrupted write never leaves half a file
