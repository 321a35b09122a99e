"""Catalog generation and candidate sampling."""

from __future__ import annotations

import numpy as np
from scipy import stats

from slategym.catalog import FEATURE_BOUND, generate_catalog
from slategym.rng import uniforms


def test_catalog_arrays_are_consistent() -> None:
    cat = generate_catalog(300, 6, 5, 3, 10, 0.5, np.random.default_rng(0))
    assert cat.total == 320
    assert cat.features.shape == (321, 7) and not cat.features[-1].any()
    assert np.allclose(np.linalg.norm(cat.latent, axis=1), 1.0)
    assert np.all(np.abs(cat.features) <= FEATURE_BOUND)
    assert np.isclose(cat.popularity.sum(), 1.0) and np.all(cat.popularity > 0)
    assert set(np.unique(cat.topic)) <= set(range(6))
    same = generate_catalog(300, 6, 5, 3, 10, 0.5, np.random.default_rng(0))
    assert np.array_equal(cat.features, same.features)


def test_candidates_are_distinct_and_uniform() -> None:
    cat = generate_catalog(97, 4, 3, 1, 0, 0.5, np.random.default_rng(0))
    n, c = 40_000, 10
    keys = np.arange(n, dtype=np.uint64) * np.uint64(7919)
    u = uniforms(keys, np.zeros(n, np.uint64), c + 1)
    ids = cat.sample_candidates(np.zeros(n, np.int64), u, c)
    assert ids.min() >= 0 and ids.max() < 97
    assert all(len(set(row)) == c for row in ids[:2000])
    counts = np.bincount(ids.ravel(), minlength=97)
    # every item is a candidate with probability C / n
    assert stats.chisquare(counts).pvalue > 1e-3
    # ... and a biased sampler would fail the same test
    biased = np.bincount(np.minimum(ids.ravel(), 95), minlength=97)
    assert stats.chisquare(biased).pvalue < 1e-3


def test_uniform_streams_are_per_row_and_uniform() -> None:
    keys = np.array([1, 2, 3], np.uint64)
    block = uniforms(keys, np.array([0, 5, 9], np.uint64), 4)
    alone = uniforms(keys[1:2], np.array([5], np.uint64), 4)
    assert np.array_equal(block[1], alone[0])  # a row's draws do not depend on its batch
    assert not np.array_equal(block[0], block[1])
    many = uniforms(np.arange(1000, dtype=np.uint64), np.zeros(1000, np.uint64), 100).ravel()
    assert many.min() >= 0 and many.max() < 1
    assert stats.kstest(many, "uniform").pvalue > 1e-3
