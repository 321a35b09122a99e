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
_BLOCK_PHI = np.uint64((BLOCK * 0x9E3779B97F4A7C15) % (1 << 64))
"""``BLOCK * phi`` modulo ``2**64``: the distance between two blocks of a stream."""
_CHUNK = 1 << 15
"""Elements (256 KiB of uint64) per pass in :func:`uniforms`."""


def row_key(seed: int, row: int = 0) -> np.uint64:
    """The 64-bit key of row ``row`` of a run seeded with ``seed``.

    It is the first word of ``np.random.SeedSequence(seed, spawn_key=(row,))``, i.e. of the
    ``row``-th child of ``SeedSequence(seed).spawn(...)``: streams are keyed by the pair
    ``(seed, row)``, so seed 1 is *not* seed 0 shifted by one row, and no two pairs share a stream.
    A single env reset with ``seed`` runs row 0.
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(row),))
    return np.uint64(ss.generate_state(1, np.uint64)[0])


def row_keys(seed: int, rows: np.ndarray) -> np.ndarray:
    """``(len(rows),)`` uint64 keys :func:`row_key` ``(seed, r)`` of every row ``r``."""
    return np.array([row_key(seed, int(r)) for r in rows], np.uint64)


_STEPS: dict[int, np.ndarray] = {}


def _steps(n: int) -> np.ndarray:
    """``arange(n) * phi`` as uint64 (cached per ``n``)."""
    if n not in _STEPS:
        with np.errstate(over="ignore"):
            _STEPS[n] = np.arange(n, dtype=np.uint64) * _PHI
        _STEPS[n].flags.writeable = False
    return _STEPS[n]


def uniforms(keys: np.ndarray, counters: np.ndarray, n: int) -> np.ndarray:
    """Uniforms in ``[0, 1)`` of shape ``(len(keys), n)`` from block ``counters`` of each row's stream.

    Args:
        keys: ``(N,)`` uint64 row keys.
        counters: ``(N,)`` uint64 block counters; the caller advances them by one per call.
        n: uniforms per row, at most ``BLOCK``.
    """
    if n > BLOCK:  # configurations are checked in these terms first (slategym.limits)
        raise ValueError(
            f"n={n} uniforms per block is not allowed: expected at most {BLOCK} (a SlateRec step "
            "draws num_candidates + 3 plus what the choice and user models read; see "
            "slategym.limits)"
        )
    rows = keys.shape[0]
    out = np.empty((rows, n), np.float64)
    steps = _steps(n)
    chunk = max(1, _CHUNK // max(n, 1))  # rows per pass, so that the passes stay in cache
    # Array arithmetic on uint64 wraps modulo 2**64 silently (only numpy scalars warn), so no
    # np.errstate is needed here: entering one costs more than the whole call for a single row.
    base = np.asarray(keys, np.uint64) + np.asarray(counters, np.uint64) * _BLOCK_PHI  # (N,)
    z = np.empty((min(chunk, rows), n), np.uint64)
    tmp = np.empty_like(z)
    for lo in range(0, rows, chunk):
        hi = min(lo + chunk, rows)
        zc, tc = z[: hi - lo], tmp[: hi - lo]
        np.add(base[lo:hi, None], steps, out=zc)  # (rows, n)
        np.right_shift(zc, _S30, out=tc)
        zc ^= tc
        zc *= _M1
        np.right_shift(zc, _S27, out=tc)
        zc ^= tc
        zc *= _M2
        np.right_shift(zc, _S31, out=tc)
        zc ^= tc
        zc >>= _S11
        o = out[lo:hi]
        o[...] = zc  # exact: < 2**53
        o *= _INV53
    return out
