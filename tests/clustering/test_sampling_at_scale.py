"""Clustering a big library (issue #20): each run clusters a stratified sample of at most ``sample_size``
songs, a share of it swapped each run; the winner's clusters then take the whole library in blocks."""

from __future__ import annotations

import numpy as np

from audiomuse_ray.clustering.data import STRATA, assemble
from audiomuse_ray.clustering.evolution import SearchConfig, Strata, genre_target, stratified_sample
from audiomuse_ray.clustering.options import SAMPLE_SIZE, build_options, fit_to_library
from audiomuse_ray.clustering.playlists import nearest_centroids

SIZES = {"rock": 5000, "jazz": 300, "ambient": 40, "__other__": 2000}


def strata() -> Strata:
    codes = np.concatenate([np.full(n, STRATA.index(g)) for g, n in SIZES.items()])
    return Strata(np.random.default_rng(0).permutation(codes))


def per_stratum(s: Strata, rows: np.ndarray) -> dict[str, int]:
    counts = np.bincount(s.codes[rows], minlength=len(STRATA))
    return {g: int(counts[STRATA.index(g)]) for g in SIZES}


def test_a_capped_sample_takes_each_genre_up_to_its_share_of_the_cap():
    s = strata()
    cfg = SearchConfig(min_songs_per_genre=10, sample_size=1000, sampling_change=0.2)
    target = genre_target(s, cfg)
    assert target == 1000 // len(SIZES) == 250  # the percentile target (300) capped by 1000 over 4 strata
    first = stratified_sample(s, cfg, np.random.default_rng(1))
    assert per_stratum(s, first) == {"rock": 250, "jazz": 250, "ambient": 40, "__other__": 250}
    assert len(np.unique(first)) == len(first) <= cfg.sample_size and np.all(np.diff(first) > 0)
    second = stratified_sample(s, cfg, np.random.default_rng(2), first)
    assert per_stratum(s, second) == per_stratum(s, first)  # refilled stratum by stratum
    kept = len(np.intersect1d(first, second)) / len(first)
    assert 0.8 <= kept < 1.0  # 1 - sampling_change kept, the rest drawn again (some draws land back)


def test_names_codes_and_strata_sample_alike():
    s = strata()
    names = [STRATA[c] for c in s.codes.tolist()]
    cfg = SearchConfig(min_songs_per_genre=10, sample_size=400)
    by_name = stratified_sample(names, cfg, np.random.default_rng(5))
    assert np.array_equal(by_name, stratified_sample(s, cfg, np.random.default_rng(5)))
    assert np.array_equal(by_name, stratified_sample(s.codes, cfg, np.random.default_rng(5)))


def test_the_sample_size_is_fitted_only_to_libraries_bigger_than_it():
    small, _ = fit_to_library(build_options(), SAMPLE_SIZE)
    big, _ = fit_to_library(build_options(), 1_000_000)
    chosen, _ = fit_to_library(build_options(sample_size=5000), 1_000_000)
    assert (small.search.sample_size, big.search.sample_size, chosen.search.sample_size) == (0, SAMPLE_SIZE, 5000)


def test_every_track_goes_to_its_nearest_centroid_block_by_block():
    rng = np.random.default_rng(3)
    x, c = rng.standard_normal((1000, 7)).astype(np.float32), rng.standard_normal((9, 7))
    nearest, d2 = nearest_centroids(x, c, block=64)
    brute = ((x[:, None, :].astype(np.float64) - c[None]) ** 2).sum(axis=2)
    assert np.array_equal(nearest, brute.argmin(axis=1))
    np.testing.assert_allclose(d2, brute.min(axis=1), atol=1e-9)


def test_explorers_get_the_arrays_without_the_names():
    rng = np.random.default_rng(4)
    labels = ["rock", "jazz"] + [f"t{i}" for i in range(48)]
    data = assemble([f"i{k}" for k in range(50)], ["t"] * 50, ["a"] * 50, rng.uniform(0, 1, (50, 50)),
                    rng.uniform(0, 1, (50, 6)), [120.0] * 50, [0.05] * 50, labels)
    slim = data.for_search()
    assert slim.item_ids == slim.titles == slim.authors == [] and slim.features is data.features
    assert data.features.dtype == np.float32 and set(data.genres) <= {"rock", "jazz"}
