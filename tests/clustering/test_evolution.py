"""The search's pure parts: parameter draws and mutation, stratified sampling, one run, the serial loop."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.clustering.data import STRATIFIED_GENRES, build_data
from audiomuse_ray.clustering.evolution import (
    ClusterParams, SearchConfig, choose_params, draw_params, genre_target, mutate, run_once, stratified_sample,
)
from audiomuse_ray.clustering.playlists import PlaylistOptions, build_playlists, unique_names
from audiomuse_ray.clustering.population import serial_search
from audiomuse_ray.store.tracks import TrackRow

LABELS = ["rock", "ambient", "jazz", "dance"] + [f"tag{i}" for i in range(46)]


def synthetic_rows(n_per: int = 30) -> list[TrackRow]:
    """Three clear groups: loud rock, slow ambient, jazz."""
    rng = np.random.default_rng(0)
    rows = []
    for g, (tempo, moods) in enumerate([(170, {"danceable": 0.2, "aggressive": 0.8}), (70, {"relaxed": 0.9}),
                                        (110, {"happy": 0.6})]):
        for i in range(n_per):
            tags = np.abs(rng.normal(0.02, 0.01, 50)).astype(np.float32)
            tags[g] = 0.7 + 0.1 * rng.uniform()
            rows.append(TrackRow(item_id=f"g{g}-{i}", title=f"Song {g}-{i}", author=f"Artist {i % 7}", album="A",
                                 tempo=tempo + rng.normal(0, 3), energy=0.05, other_features=moods,
                                 embedding=rng.normal(g, 0.1, 200).astype(np.float32), tags=tags))
    return rows


@pytest.fixture(scope="module")
def data():
    return build_data(synthetic_rows(), LABELS)


def test_features_are_standardised_and_genres_found(data):
    assert data.features.shape == (90, 2 + 50 + 6)
    np.testing.assert_allclose(data.features.mean(axis=0), 0, atol=1e-6)  # standardised, stored as float32
    assert data.genres[0] == "rock" and data.genres[30] == "ambient" and data.genres[60] == "jazz"
    assert set(data.genres) <= set(STRATIFIED_GENRES) | {"__other__"}


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "spectral", "dbscan"])
def test_draws_stay_in_range_and_k_is_capped(algorithm):
    cfg = SearchConfig(algorithm=algorithm, ranges={"num_clusters": (40, 100), "gmm_n_components": (40, 100),
                                                  "spectral_n_clusters": (40, 100)})
    rng = np.random.default_rng(1)
    for _ in range(50):
        p = draw_params(cfg, rng, n_samples=30, n_features=58)
        assert 0 <= p.pca <= 8
        if algorithm in ("kmeans", "spectral"):
            assert 2 <= p["n_clusters"] <= 29
        if algorithm == "gmm":
            assert 2 <= p["n_components"] <= 29
        if algorithm == "dbscan":
            assert 0.1 <= p["eps"] <= 0.5 and 5 <= p["min_samples"] <= 20


def test_mutation_moves_a_little_and_stays_in_range():
    cfg = SearchConfig(ranges={"num_clusters": (5, 20)})
    rng = np.random.default_rng(2)
    p = ClusterParams("kmeans", {"n_clusters": 20}, pca=8)
    for _ in range(50):
        m = mutate(p, cfg, rng, n_samples=100, n_features=58)
        assert 17 <= m["n_clusters"] <= 20 and 5 <= m.pca <= 8 and m.seed != p.seed
    d = mutate(ClusterParams("dbscan", {"eps": 0.5, "min_samples": 5}), SearchConfig(), rng, 100, 58)
    assert 0.45 <= d["eps"] <= 0.5 and 5 <= d["min_samples"] <= 8


def test_exploitation_starts_after_the_configured_fraction():
    cfg = SearchConfig(runs=100, exploitation_start=0.2, exploitation_probability=1.0, ranges={"num_clusters": (2, 50)})
    elite = ClusterParams("kmeans", {"n_clusters": 30})
    rng = np.random.default_rng(3)
    early = [choose_params(cfg, rng, [elite], 10, 100, 58)["n_clusters"] for _ in range(30)]
    late = [choose_params(cfg, rng, [elite], 50, 100, 58)["n_clusters"] for _ in range(30)]
    assert any(abs(k - 30) > 3 for k in early) and all(abs(k - 30) <= 3 for k in late)


def test_stratified_sample_targets_and_perturbation():
    genres = ["rock"] * 300 + ["jazz"] * 50 + ["ambient"] * 10
    cfg = SearchConfig(min_songs_per_genre=20, stratified_percentile=50, sampling_change=0.2)
    assert genre_target(genres, cfg) == 50
    rng = np.random.default_rng(4)
    s = stratified_sample(genres, cfg, rng)
    picked = [genres[i] for i in s]
    assert picked.count("rock") == 50 and picked.count("jazz") == 50 and picked.count("ambient") == 10
    s2 = stratified_sample(genres, cfg, rng, s)
    overlap = len(set(s) & set(s2)) / len(s)
    assert 0.75 <= overlap < 1.0 and len(s2) == len(s)


def test_a_run_scores_the_true_grouping_well(data):
    cfg = SearchConfig(min_songs_per_genre=30)
    sample = np.arange(data.size)
    good = run_once(data, ClusterParams("kmeans", {"n_clusters": 3}, seed=1), sample, cfg)
    assert good.n_clusters == 3
    bad = run_once(data, ClusterParams("dbscan", {"eps": 0.01, "min_samples": 50}), sample, cfg)
    assert good.score > bad.score


def test_serial_search_finds_the_groups_and_playlists_follow(data):
    cfg = SearchConfig(runs=30, ranges={"num_clusters": (2, 8)}, min_songs_per_genre=30)
    best = serial_search(data, cfg, seed=0)
    playlists = build_playlists(data, best, PlaylistOptions(top_n=0, min_size=3, max_per_artist=100))
    assert sum(len(p.item_ids) for p in playlists) == 90  # the whole library is assigned
    for p in playlists:
        groups = {i.split("-")[0] for i in p.item_ids}
        assert len(groups) == 1, p.name  # no playlist mixes rock, ambient and jazz
        assert p.name.endswith("_automatic")
    names = " ".join(p.name for p in playlists)
    assert "Rock" in names and "Ambient" in names and "Fast" in names and "Slow" in names


def test_splitting_caps_and_unique_names(data):
    best = serial_search(data, SearchConfig(runs=5, ranges={"num_clusters": (3, 3)}, min_songs_per_genre=30), seed=0)
    split = build_playlists(data, best, PlaylistOptions(max_songs=10, top_n=0, max_per_artist=2))
    assert all(len(p.item_ids) <= 10 for p in split)
    assert any(p.name.endswith("(2)_automatic") for p in split)
    assert unique_names(["A", "B", "A"]) == ["A", "B", "A (2)"]
    top = build_playlists(data, best, PlaylistOptions(top_n=2, max_per_artist=100))
    assert len(top) == 2


def test_spectral_is_subsampled_above_its_limit(data):
    cfg = SearchConfig(settings={"spectral_max_samples": 40})
    r = run_once(data, ClusterParams("spectral", {"n_clusters": 3}, seed=2), np.arange(data.size), cfg)
    assert r.sample.size == 40


def test_the_coordinator_records_each_improvement_with_the_runs_done_at_that_point():
    """The UI draws "best score against runs" from this record, so a search that ends between two polls
    still shows its whole curve."""
    from audiomuse_ray.clustering.evolution import RunResult
    from audiomuse_ray.clustering.population import Coordinator

    def result(score: float) -> RunResult:
        return RunResult(ClusterParams("kmeans", {"n_clusters": 5}), score, {}, 5, np.arange(3))

    c = Coordinator(runs=6, top_elites=2)
    assert c.take("a", 3) == 3 and c.take("b", 3) == 3
    c.report("a", [result(-3.0), result(-3.5), result(-2.0)], 3)
    c.report("b", [result(-2.5), result(-1.5)], 3)  # one run of b's batch skipped by a cancel
    status = c.status()
    assert status.history == ((1, -3.0), (3, -2.0), (5, -1.5))
    assert status.runs_done == 5 and status.best_score == -1.5
