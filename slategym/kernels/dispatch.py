"""Which path runs a simulator's calls: its compiled world, or the general numpy path.

A :class:`~slategym.simulator.Simulator` holds one :class:`KernelDispatch` and asks it, at the
start of every ``reset``/``step``/``observe``, for the compiled world to call (None: the numpy
path). The choice follows the ``backend`` setting (the table of :mod:`slategym.kernels`;
:func:`slategym.kernels.setting`), what the kernels cover (:func:`reason_not_compiled`) and whether
they reproduce numpy's rounding here (``"auto"`` only: a seed gives one trajectory whether numba is
installed or not). While the kernels compile in the background (:mod:`slategym.kernels._background`)
the simulator runs on the numpy path and switches at its first call after they are ready; a call
never switches halfway.

The compiled world and its worker threads do not pickle: :meth:`KernelDispatch.pickled` leaves
them out of a simulator's state (keeping the thread count) and the unpickled simulator builds its
dispatch anew (:meth:`KernelDispatch.unpickled_threads`).

This module imports no numba (slategym works without it): numba is imported when a world is
first built (:func:`slategym.kernels.unavailable_reason`) or by the background thread.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from slategym import kernels
from slategym.kernels import _background

if TYPE_CHECKING:
    from slategym.kernels.fused import CompiledWorld
    from slategym.simulator import Simulator


def compiled_users() -> dict[type, tuple[str, type, bool]]:
    """User model class -> (its kernels' group in ``_background.GROUPS``, the item model class its
    parity tests check it with: ``tests/test_kernels.py``, ``tests/test_kernels_recsim.py``, and
    whether its affinity is a dot product of the latent features, which the kernels sum in
    numpy's order for ``latent_dim >= 2`` only)."""
    from slategym.items.default import DefaultItemModel
    from slategym.items.recsim_interest_evolution import InterestEvolutionItems
    from slategym.items.recsim_interest_exploration import InterestExplorationItems
    from slategym.items.recsim_long_term_satisfaction import LongTermSatisfactionItems
    from slategym.users.default import DefaultUserModel
    from slategym.users.dynamic import DynamicUserModel
    from slategym.users.recsim_interest_evolution import InterestEvolutionUser
    from slategym.users.recsim_interest_exploration import InterestExplorationUser
    from slategym.users.recsim_long_term_satisfaction import LongTermSatisfactionUser

    return {
        DefaultUserModel: ("default", DefaultItemModel, True),
        DynamicUserModel: ("default", DefaultItemModel, True),
        InterestEvolutionUser: ("recsim", InterestEvolutionItems, True),
        InterestExplorationUser: ("recsim", InterestExplorationItems, False),
        LongTermSatisfactionUser: ("recsim", LongTermSatisfactionItems, False),
    }


def reason_not_compiled(sim: Simulator) -> str | None:
    """Why ``sim`` must run on the general path (None: the compiled path covers its world)."""
    from slategym.catalog import Catalog
    from slategym.rewards import WeightedReward

    reason = kernels.unavailable_reason()
    if reason is not None:
        return reason
    c = sim.config
    covered = compiled_users().get(type(sim.user_model))
    if covered is None:
        return f"the user model {type(sim.user_model).__name__} has no compiled kernel"
    if type(sim.item_model) is not covered[1]:
        return (
            f"the item model {type(sim.item_model).__name__} has no compiled kernel with the user "
            f"model {type(sim.user_model).__name__}"
        )
    if not sim.item_model.resample_documents:
        return "resample_documents=False (one candidate set per episode) has no compiled kernel"
    if type(sim.catalog) is not Catalog:
        return "the catalog is not a slategym Catalog"
    if type(sim.reward_fn) is not WeightedReward:
        return "the reward is a callable (only named or weighted rewards are compiled)"
    from slategym.kernels.choice import choice_spec  # (numba: imported once it is known there)

    if choice_spec(sim.choice_model, c.slate_size) is None:
        return f"the choice model {type(sim.choice_model).__name__} has no compiled kernel"
    if not (np.all(sim.population.hour_profile >= 0) and np.all(sim.population.activity > 0)):
        return "an hour profile has a negative entry or an activity is not positive"
    if c.latent_dim < 2 and covered[2]:  # numpy's einsum sums a (K, 1) contraction otherwise
        return "latent_dim=1 is summed in another order by numpy's einsum"
    return None


def kernel_group(sim: Simulator) -> str:
    """The group of kernels (``_background.GROUPS``) that runs ``sim``'s world if any does (the
    default world's for a user no kernel covers: it then waits for nothing it uses)."""
    return compiled_users().get(type(sim.user_model), ("default", None, True))[0]


class KernelDispatch:
    """The compiled world of one simulator, or None for the numpy path, and its thread count.

    ``world`` is the world chosen so far (None while the kernels compile in the background, with
    ``pending`` set); :meth:`current` switches to the compiled world once they are ready.
    """

    def __init__(self, sim: Simulator, num_threads: int = 1) -> None:
        self.sim = sim
        self.group = kernel_group(sim)  # the kernels it waits for (_background.GROUPS)
        self.num_threads = num_threads  # of the compiled world (SlateRecVectorEnv(num_threads=...))
        self.pending = False  # the kernels compile in the background; numpy path until ready
        self.world: CompiledWorld | None = self._build()

    def current(self) -> CompiledWorld | None:
        """The compiled world that runs the simulator's next call, or None for the numpy path
        (the first call after the background compilation is ready switches to the compiled world)."""
        if self.pending and _background.ready(self.group):
            self.pending = False
            self.world = self._build()
        return self.world

    def set_threads(self, num_threads: int) -> None:
        """Rows of every compiled call split between ``num_threads`` threads, now and for a
        compiled world that becomes ready later (no effect on the numpy path)."""
        self.num_threads = num_threads
        if self.world is not None:
            self.world.set_threads(num_threads)

    def _build(self) -> CompiledWorld | None:
        """The compiled world of the simulator, or None for the numpy path (for now, with
        ``pending`` set, if the kernels compile in the background)."""
        sim = self.sim
        backend = kernels.setting(sim.config.backend)
        if backend == "numpy":
            return None
        if _background.broken():
            if backend == "compiled":
                raise ValueError(
                    "backend='compiled' is not allowed in this process: it was forked while "
                    "slategym compiled its kernels in a thread (numba may be locked here)"
                )
            return None
        if backend == "auto" and _background.deferred(self.group):
            _background.start()  # which worlds the kernels cover is decided once they are ready
            self.pending = True
            return None
        reason = reason_not_compiled(sim)
        if reason is None and backend == "auto":
            if _background.error() is not None:
                warnings.warn(
                    f"compiling slategym's kernels failed ({_background.error()!r}): the numpy "
                    "path runs instead",
                    RuntimeWarning,
                    stacklevel=3,  # the Simulator call that builds or switches its world
                )
                return None
            if not kernels.exact():
                # a seed must give one trajectory whether numba is installed or not
                reason = "the kernels do not reproduce numpy's rounding (slategym.kernels.exact())"
        if reason is None:
            from slategym.kernels.fused import CompiledWorld

            return CompiledWorld(sim, self.num_threads)
        if backend == "compiled":
            raise ValueError(f"backend='compiled' is not allowed for this world: {reason}")
        return None

    # -- pickling -----------------------------------------------------------------------------------
    @staticmethod
    def pickled(state: dict[str, Any], attribute: str) -> dict[str, Any]:
        """A simulator's ``__dict__`` to pickle: its dispatch (at ``attribute``) replaced by the
        thread count (compiled entry points and worker threads do not pickle). The keys are those
        of the simulators that held the dispatch themselves, so pickles load in either version."""
        state = state.copy()
        dispatch: KernelDispatch = state.pop(attribute)
        state["kernel_threads"] = dispatch.num_threads
        state["_pending"] = False
        return state

    @staticmethod
    def unpickled_threads(state: dict[str, Any]) -> int:
        """The thread count of a pickled simulator's state, removed from ``state`` with the other
        keys of the dispatch; the simulator then updates its ``__dict__`` and builds its dispatch."""
        threads = state.pop("_kernel_threads", 1)  # pickles of older versions
        threads = state.pop("kernel_threads", threads)
        state.pop("_pending", None)
        return int(threads)
