"""Similarity maths on small synthetic libraries whose answers are known."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from audiomuse_ray.providers.base import PlayRecord
from audiomuse_ray.similarity import projection
from audiomuse_ray.similarity.alchemy import alchemy, softmax_sample
from audiomuse_ray.similarity.fingerprint import fingerprint, recency_weight
from audiomuse_ray.similarity.library import ANGULAR, EUCLIDEAN, Library, TrackMeta, distance, normalise
from audiomuse_ray.similarity.path import PathOptions, find_path, interpolate
from audiomuse_ray.similarity.search import SearchIndex
from audiomuse_ray.similarity.similar import SimilarOptions, mood_distance, similar_tracks


def arc_library(n: int = 10, step_deg: float = 10.0, dim: int = 8) -> Library:
    """Points along a circle in one plane, ``step_deg`` apart: row order is similarity order."""
    angles = np.radians(step_deg) * np.arange(n)
    vecs = np.zeros((n, dim), np.float32)
    vecs[:, 0], vecs[:, 1] = np.cos(angles), np.sin(angles)
    meta = [TrackMeta(f"id{i}", f"Song {i}", f"Artist {i}", "Album", "Artist") for i in range(n)]
    return Library.from_arrays(vecs, meta)


def random_library(n: int = 300, dim: int = 16, artists: int = 100) -> Library:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    meta = [TrackMeta(f"id{i}", f"Song {i}", f"Artist {i % artists}", "Album", "Artist",
                      moods={"happy": float(rng.uniform()), "sad": float(rng.uniform())}) for i in range(n)]
    return Library.from_arrays(vecs, meta)


def brute_force(lib: Library, row: int) -> list[int]:
    v = lib.vectors
    cos = v @ v[row] / (np.linalg.norm(v, axis=1) * np.linalg.norm(v[row]))
    return [int(i) for i in np.argsort(-cos) if i != row]


def test_distances():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert distance(a, b, ANGULAR) == pytest.approx(0.5)
    assert distance(a, -a, ANGULAR) == pytest.approx(1.0)
    assert distance(a, b, EUCLIDEAN) == pytest.approx(np.sqrt(2))


def test_interpolate_slerp_stays_on_the_arc_and_lerp_is_straight():
    a, b = np.array([2.0, 0.0]), np.array([0.0, 4.0])
    pts = interpolate(a, b, 5, ANGULAR)
    assert np.allclose(pts[0], a) and np.allclose(pts[-1], b)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), [2, 2.5, 3, 3.5, 4])
    angles = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    np.testing.assert_allclose(angles, [0, 22.5, 45, 67.5, 90], atol=1e-9)
    np.testing.assert_allclose(interpolate(a, b, 3, EUCLIDEAN)[1], [1.0, 2.0])


def test_path_walks_in_order_from_start_to_end_without_repeats():
    lib = arc_library(n=10)
    result = find_path(lib, 0, 9, PathOptions(max_steps=10))
    assert result.rows == list(range(10))  # every step of the arc, in order
    assert result.total_distance == pytest.approx(0.5, abs=1e-4)  # 90 degrees = 0.5 in angular units


def test_path_length_is_bounded_by_max_steps_and_by_the_jump_size():
    lib = arc_library(n=10)
    capped = find_path(lib, 0, 9, PathOptions(max_steps=4))
    assert len(capped.rows) == 4 and capped.rows[0] == 0 and capped.rows[-1] == 9
    assert capped.rows == sorted(capped.rows)
    near = find_path(lib, 3, 5, PathOptions(max_steps=25))
    assert near.rows[0] == 3 and near.rows[-1] == 5 and len(near.rows) <= 3  # close songs: a short path


def test_path_skips_points_when_uniqueness_cannot_be_met():
    lib = arc_library(n=6)
    lib.meta = [TrackMeta(m.item_id, "Same title", "Same artist", "", "") if 0 < i < 5 else m for i, m in enumerate(lib.meta)]
    result = find_path(lib, 0, 5, PathOptions(max_steps=6, jump_sample=5))
    assert result.rows[0] == 0 and result.rows[-1] == 5 and len(result.rows) == 3  # only one of the clones


def test_similar_tracks_are_the_true_nearest_and_never_the_seed():
    lib = random_library()
    plain = similar_tracks(lib, 7, SimilarOptions(n=10, radius_similarity=False, eliminate_duplicates=False))
    assert [r for r, _ in plain] == brute_force(lib, 7)[:10]
    assert [d for _, d in plain] == sorted(d for _, d in plain)


def test_eliminate_duplicates_caps_artists_and_drops_same_songs():
    lib = random_library(artists=2)
    capped = similar_tracks(lib, 7, SimilarOptions(n=10, radius_similarity=False, eliminate_duplicates=True))
    assert len(capped) == 6  # 2 artists x 3
    lib = random_library()
    twin = brute_force(lib, 7)[0]
    meta = list(lib.meta)  # a snapshot's columns are read-only: a changed library is a new one
    meta[twin] = TrackMeta("twin", lib.meta[7].title.upper(), lib.meta[7].author, "", "")
    lib.meta = meta
    out = similar_tracks(lib, 7, SimilarOptions(n=10, radius_similarity=False, eliminate_duplicates=False))
    assert twin not in [r for r, _ in out]


def test_radius_walk_returns_n_unique_near_neighbours():
    lib = random_library()
    walk = similar_tracks(lib, 7, SimilarOptions(n=8, radius_similarity=True, eliminate_duplicates=True))
    rows = [r for r, _ in walk]
    assert len(rows) == 8 and len(set(rows)) == 8 and 7 not in rows
    assert rows[0] == brute_force(lib, 7)[0]  # the walk starts at the nearest song
    assert set(rows) <= set(brute_force(lib, 7)[:50])  # and stays in the first bucket


def test_mood_similarity_keeps_only_songs_with_close_moods():
    lib = random_library()
    out = similar_tracks(lib, 7, SimilarOptions(n=40, mood_similarity=True, radius_similarity=False,
                                                eliminate_duplicates=False))
    seed = lib.meta[7].moods
    assert out and all(mood_distance(seed, lib.meta[r].moods) <= 0.15 for r, _ in out)
    far = [r for r in brute_force(lib, 7)[:40] if mood_distance(seed, lib.meta[r].moods) > 0.15]
    assert far and not set(far) & {r for r, _ in out}


def test_search_is_case_and_accent_insensitive_and_ranks_titles_first():
    meta = [TrackMeta("1", "Café del Mar", "Energy 52", "Trance", ""),
            TrackMeta("2", "Morning", "Cafe Quartet", "Jazz", ""),
            TrackMeta("3", "Other", "Someone", "Else", "")]
    idx = SearchIndex(meta)
    assert [m.item_id for m in idx.search("CAFÉ")] == ["1", "2"]
    assert [m.item_id for m in idx.search("cafe mar")] == ["1"]
    assert idx.search("ca") == [] and idx.search("cafe", start=1, end=1) == []
    assert [m.item_id for m in idx.search("cafe", start=1)] == ["2"]
    assert normalise("  Ünïcödé  Straße ") == "unicode strasse"


def test_alchemy_deterministic_at_zero_temperature_and_subtract_filters():
    lib = arc_library(n=30, step_deg=5)
    res = alchemy(lib, [10, 12], n=4, temperature=0)
    assert [r for r, _ in res.results] == [11, 9, 13, 8] or [r for r, _ in res.results] == [11, 13, 9, 14]
    assert 10 not in [r for r, _ in res.results] and 12 not in [r for r, _ in res.results]
    sub = alchemy(lib, [10], [14], n=4, temperature=0, subtract_distance=0.05)
    assert sub.filtered_out and all(distance(lib.vectors[14], lib.vectors[r]) < 0.05 for r, _ in sub.filtered_out)
    assert all(distance(lib.vectors[14], lib.vectors[r]) >= 0.05 for r, _ in sub.results)
    assert {r for r, _ in sub.results} == {8, 9, 11, 12} and {13, 15} <= {r for r, _ in sub.filtered_out}


def test_alchemy_sampling_is_seeded_and_prefers_near_songs():
    lib = random_library()
    a = alchemy(lib, [30], n=5, temperature=0.01, rng=np.random.default_rng(7))
    b = alchemy(lib, [30], n=5, temperature=0.01, rng=np.random.default_rng(7))
    assert a.results == b.results
    draws = softmax_sample(np.array([0.0, 1.0, 5.0]), 1, 0.1, np.random.default_rng(0))
    assert draws == [0]
    with pytest.raises(ValueError):
        alchemy(lib, [], n=5)


def test_recency_weight_has_a_thirty_day_half_life():
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    assert recency_weight(now, now) == pytest.approx(1.0)
    assert recency_weight(now - timedelta(days=30), now) == pytest.approx(0.5)
    assert recency_weight(now - timedelta(days=60), now) == pytest.approx(0.25)
    assert recency_weight(None, now) == 0.25
    assert recency_weight(now + timedelta(days=3), now) == 1.0  # clock skew does not boost


def test_fingerprint_is_the_recency_weighted_mean():
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    vecs = np.array([[1.0, 0.0], [0.0, 1.0]])
    recs = [PlayRecord("a", 10, now), PlayRecord("b", 3, now - timedelta(days=30))]
    np.testing.assert_allclose(fingerprint(vecs, recs, now), [2 / 3, 1 / 3])


def test_projection_pca_and_sampling():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 10))
    x[:, 0] *= 10
    coords = projection.project_pca(x)
    assert coords.shape == (40, 2) and np.abs(coords).max() == pytest.approx(1.0)
    assert abs(np.corrcoef(coords[:, 0], x[:, 0])[0, 1]) > 0.99
    assert list(projection.sample_indices(10, 25)) == [0, 9]
    assert len(projection.sample_indices(10, 100)) == 10 and len(projection.sample_indices(3, 25)) == 1
    assert projection.sample_indices(0, 50).size == 0
