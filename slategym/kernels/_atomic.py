"""An atomic counter for compiled code: threads that share a pool of row chunks claim them with
``fetch_add`` (``slategym.kernels.world.observe_chunks``), without the GIL and without a lock."""

from __future__ import annotations

from typing import Any

from numba import types
from numba.extending import intrinsic


@intrinsic
def _fetch_add(typingctx: Any, counter: Any, value: Any) -> Any:
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array = context.make_array(signature.args[0])(context, builder, args[0])
        amount = context.cast(builder, args[1], signature.args[1], types.int64)
        return builder.atomic_rmw("add", array.data, amount, "seq_cst")

    return types.int64(counter, value), codegen


fetch_add: Any = _fetch_add
"""``fetch_add(counter, value)``, in compiled code: ``old = counter[0]; counter[0] += value;
return old`` as one atomic operation (sequentially consistent) on a C-contiguous int64 array."""
