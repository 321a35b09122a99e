r"""Counter-based random numbers: one independent stream per simulated user row, drawn in batch.

Why not one ``np.random.Generator`` per row? The native vector env must produce *exactly* what a
``SyncVectorEnv`` of single envs produces with the same per-row seeds, and it must do so for thousands
of rows per step without a Python loop over rows. A counter-based generator gives both: the uniforms
of a row are a pure function of the row's 64-bit ``key`` and its block ``counter``,

.. math::

    u_{r,j} = \mathrm{mix}\big(\mathrm{key}_r + (c_r \cdot B + j) \cdot \phi\big) / 2^{64},

where :math:`\phi` = ``0x9E3779B97F4A7C15`` (the golden-ratio Weyl increment), :math:`B = 2^{16}`
uniforms per block and ``mix`` is the SplitMix64 finaliser (Steele, Lea & Flood, 2014). This is
SplitMix64 evaluated at an arbitrary position of its sequence, so a row's draws do not depend on which
other rows are in the batch. Rows with independent random keys overlap in their sequences with
negligible probability (about :math:`2^{-64}` times the product of the draws).

Each call consumes one block of a row (its counter moves by one), so the number of uniforms read in a
call never shifts later draws.
"""

from __future__ import annotations

import numpy as np

_PHI = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
BLOCK = 1 << 16
_INV53 = 1.0 / (1 << 53)


def seed_to_key(seed: int) -> np.uint64:
    """The 64-bit key of a row seeded with ``seed`` (via ``np.random.SeedSequence``)."""
    return np.uint64(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])


def uniforms(keys: np.ndarray, counters: np.ndarray, n: int) -> np.ndarray:
    """Uniforms in ``[0, 1)`` of shape ``(len(keys), n)`` from block ``counters`` of each row's stream.

    Args:
        keys: ``(N,)`` uint64 row keys.
        counters: ``(N,)`` uint64 block counters; the caller advances them by one per call.
        n: uniforms per row, at most ``BLOCK``.
    """
    if n > BLOCK:
        raise ValueError(f"n={n} uniforms per block is not allowed: expected at most {BLOCK}")
    with np.errstate(over="ignore"):
        base = keys + counters * np.uint64(BLOCK) * _PHI  # (N,) wraps modulo 2**64
        z = base[:, None] + np.arange(n, dtype=np.uint64) * _PHI  # (N, n)
        z ^= z >> _S30
        z *= _M1
        z ^= z >> _S27
        z *= _M2
        z ^= z >> _S31
    return (z >> _S11).astype(np.float64) * _INV53
