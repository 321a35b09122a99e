"""Compiling the kernels in a background thread, so that a cold start does not wait for numba.

With ``backend="auto"`` a simulator whose world the kernels cover starts on the general (numpy)
path and calls :func:`start`; one thread per process then runs the numpy-exactness self-check and
compiles (or loads from the disk cache) every kernel the compiled path calls, by driving them on a
tiny private world of the same argument types. Each simulator checks :func:`ready` at the start of
its next ``reset``/``step``/``observe`` call and switches to the compiled path from that call on;
a call never changes path halfway. Both paths give the same trajectories bit for bit (the parity
that ``tests/test_kernels.py`` checks), so *when* the switch happens does not change any result.

* ``SLATEGYM_KERNELS_BACKGROUND=0`` (or ``off``/``no``/``false``) turns this off: the first simulator
  then compiles before its first step, as ``backend="compiled"`` always does.
* :func:`wait` blocks until the thread is done (benchmarks call it before timing).
* fork: a process forked while the thread runs would inherit numba's compiler lock in an unknown
  state and no thread to release it. So the parent waits (at most :data:`FORK_WAIT_SECONDS`) for
  the thread before ``os.fork`` (``multiprocessing``'s fork start method included; a ``subprocess``
  without ``preexec_fn`` does not fork Python and is not held up): the child then inherits the
  compiled kernels. A child forked after that wait ran out stays on the numpy path (``"auto"``)
  and refuses ``backend="compiled"`` with an error saying why.
"""

from __future__ import annotations

import importlib.util
import os
import threading

import numpy as np

ENV_VAR = "SLATEGYM_KERNELS_BACKGROUND"
FORK_WAIT_SECONDS = 300.0
"""How long ``os.fork`` waits for a running background compilation."""

GROUPS = ("default", "recsim")
"""The kernels' groups, in the order the thread compiles them: the default world's (``step``,
``world``, ``choice``) and RecSim's worlds' (``recsim``: one compiled signature for its three
users). A simulator switches to the compiled path once its own group is ready, so the default
world never waits for the others."""

_LOCK = threading.Lock()
_READY = {group: threading.Event() for group in GROUPS}
_DONE = threading.Event()
_THREAD: list[threading.Thread] = []  # the thread of this process, once started
_ERRORS: list[BaseException] = []
_BROKEN: list[bool] = []  # non-empty in a child forked while the thread ran
_NUMBA: list[bool] = []  # whether numba is installed (looked up once, not imported)


def enabled() -> bool:
    """Whether ``backend="auto"`` compiles in the background (:data:`ENV_VAR` not off)."""
    return os.environ.get(ENV_VAR, "").strip().lower() not in ("0", "off", "no", "false")


def deferred(group: str = "default") -> bool:
    """Whether ``backend="auto"`` should start on the numpy path now: compiling in the background
    is on, numba is installed and the kernels of ``group`` are not ready yet."""
    if not _NUMBA:
        _NUMBA.append(importlib.util.find_spec("numba") is not None)
    return _NUMBA[0] and enabled() and not ready(group) and not _BROKEN


def start() -> None:
    """Start the compiling thread of this process (once; not in a child forked mid-compile)."""
    with _LOCK:
        if _THREAD or _BROKEN:
            return
        thread = threading.Thread(target=_job, name="slategym-compile", daemon=True)
        _THREAD.append(thread)
        thread.start()


def ready(group: str = "default") -> bool:
    """Whether the kernels of ``group`` (:data:`GROUPS`) are compiled, or the thread has finished
    (every kernel compiled, or the compiled path ruled out)."""
    return _READY[group].is_set() or _DONE.is_set()


def broken() -> bool:
    """Whether this process was forked while the thread was compiling (numba unusable here)."""
    return bool(_BROKEN)


def error() -> BaseException | None:
    """The exception that stopped the thread, if any."""
    return _ERRORS[0] if _ERRORS else None


def wait(timeout: float | None = None) -> bool:
    """Compile the kernels in the background (if that is on and not done yet) and block until
    that is done, at most ``timeout`` seconds. True when done (or nothing to do: compiling in the
    background off, numba absent), False on timeout or in a child forked mid-compile."""
    if _BROKEN:
        return False
    if deferred():
        start()
    if not _THREAD:
        return True
    return _DONE.wait(timeout)


def _job() -> None:
    try:
        from slategym import kernels

        if kernels.unavailable_reason() is None and kernels.exact():
            for group in GROUPS:
                warm_up(group)
                _READY[group].set()
    except BaseException as err:  # reported by the simulators that wanted the kernels
        _ERRORS.append(err)
    finally:
        _DONE.set()


def warm_up(group: str | None = None) -> None:
    """Compile (or load from the cache) every kernel of ``group`` (all of them if None): reset,
    observe and step one row of a tiny world (the default one, or the interest-evolution one: the
    RecSim kernels' types are the same for its three users), and one call of the choice models'
    row function. The argument types (dtypes, dimensions, C order) are those of every covered
    world, so a simulator that switches later finds its kernels compiled."""
    from slategym.config import SlateRecConfig
    from slategym.kernels import choice
    from slategym.kernels.fused import CompiledWorld
    from slategym.simulator import Simulator
    from slategym.worlds import world_config

    tiny = {"num_items": 40, "num_candidates": 4, "slate_size": 2, "num_users": 2, "days": 1}
    one = np.zeros(1, np.uint64)
    configs = {
        "default": SlateRecConfig.from_kwargs(**tiny, backend="numpy"),
        "recsim": world_config("SlateRec-InterestEvolution-v0", **tiny, backend="numpy"),
    }
    for name, config in configs.items():
        if group is not None and name != group:
            continue
        sim = Simulator(config)
        world = CompiledWorld(sim)
        state = world.reset(one, one, None)
        world.observe(state)
        counter = np.zeros(1, np.int64)  # the chunked observation of num_threads > 1
        world._world.observe_chunks(
            counter, 1, 1, *world.observe_arguments(state, world.observation_buffers(1))
        )
        world.step(state, np.arange(2).reshape(1, 2))
    spec = choice.choice_spec(sim.choice_model, 2)
    assert spec is not None
    kind, params, gamma = spec
    choice.probabilities_rows(kind, params, gamma, np.zeros((1, 2)), np.empty((1, 3)), False)


def _before_fork() -> None:
    if _THREAD and _THREAD[0].is_alive() and threading.current_thread() is not _THREAD[0]:
        _DONE.wait(FORK_WAIT_SECONDS)


def _after_fork_in_child() -> None:
    if _THREAD and not _DONE.is_set():
        _BROKEN.append(True)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
