"""Artist profiles and similar artists on synthetic libraries whose answer is known; max distance; the
artist anchors of alchemy; cancel_all's type matching; the not-found/unsupported replies."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.api import unsupported
from audiomuse_ray.api.jobs_api import matches_type
from audiomuse_ray.errors import UnknownArtist
from audiomuse_ray.similarity.alchemy import alchemy, weighted_centroid
from audiomuse_ray.similarity.artists import (
    ArtistIndex, component_count, soft_chamfer, spherical_kmeans, unit_rows,
)
from audiomuse_ray.similarity.library import Library, TrackMeta
from audiomuse_ray.similarity.similar import farthest

DIM = 12


def direction(*axes: int) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[list(axes)] = 1.0
    return v / np.linalg.norm(v)


def artist_library() -> Library:
    """Five artists, each a cloud of tracks around known directions (axis numbers):
    Alpha around 0 and 1 (two styles), Beta around 0, Gamma around 1, Delta around 6, Omega around 9."""
    rng = np.random.default_rng(3)
    plan = [("Alpha", "ar-a", [0] * 6 + [1] * 6), ("Beta", "ar-b", [0] * 5), ("Gamma", "ar-g", [1] * 5),
            ("Delta", "ar-d", [6] * 4), ("Ωmega Café", "", [9] * 3)]
    vecs, meta = [], []
    for name, artist_id, axes in plan:
        for k, axis in enumerate(axes):
            v = direction(axis) * (3.0 + k % 3) + 0.05 * rng.standard_normal(DIM).astype(np.float32)
            vecs.append(v)
            meta.append(TrackMeta(f"{name[:2]}{k}", f"Song {k:02d} of {name}", name, "Album", name, artist_id=artist_id))
    return Library.from_arrays(np.array(vecs, np.float32), meta)


@pytest.fixture(scope="module")
def index() -> ArtistIndex:
    return ArtistIndex.build(artist_library())


def test_component_count_grows_with_tracks_up_to_three():
    assert [component_count(n) for n in (1, 4, 5, 8, 9, 200)] == [1, 1, 2, 2, 3, 3]


def test_spherical_kmeans_separates_two_styles_and_drops_nothing_real():
    units = unit_rows(np.stack([direction(0)] * 4 + [direction(5)] * 4))
    dirs, labels = spherical_kmeans(units, 2)
    assert dirs.shape == (2, DIM) and len(set(labels[:4].tolist())) == 1 and labels[0] != labels[4]
    assert sorted(int(np.argmax(d)) for d in dirs) == [0, 5]
    one, _ = spherical_kmeans(units[:1], 3)  # never more components than tracks
    assert one.shape == (1, DIM)


def test_profiles_keep_two_styles_with_weights_and_server_ids(index):
    alpha = index.find("Alpha")
    assert alpha.directions.shape[0] == 3 and alpha.weights.sum() == pytest.approx(1.0)
    axes = {int(np.argmax(d)) for d in alpha.directions}
    assert axes == {0, 1} and alpha.artist_id == "ar-a" and len(alpha.rows) == 12
    assert index.find("ar-b").name == "Beta"  # by the server's id
    assert index.find("ωMEGA  cafe").name == "Ωmega Café"  # by name, case- and accent-insensitive
    with pytest.raises(UnknownArtist):
        index.find("Nobody")


def test_similar_artists_rank_by_shared_sound(index):
    alpha = index.find("Alpha")
    found = index.similar(alpha, n=4)
    names = [s.profile.name for s in found]
    assert set(names[:2]) == {"Beta", "Gamma"} and set(names[2:]) == {"Delta", "Ωmega Café"}
    assert [s.distance for s in found] == sorted(s.distance for s in found)
    assert found[0].distance == pytest.approx(soft_chamfer(alpha, found[0].profile))
    beta = index.similar(index.find("Beta"), n=1)[0]
    assert beta.profile.name == "Alpha"  # Alpha half sounds like Beta; Gamma not at all
    assert "Beta" not in [s.profile.name for s in index.similar(index.find("Beta"), n=10)]
    assert len(index.similar(alpha, n=2, ef_search=500)) == 2


def test_component_matches_name_representative_songs_of_both(index):
    beta = index.find("Beta")
    alpha_match = index.similar(beta, n=1, with_matches=True)[0]
    best = alpha_match.matches[0]
    assert best.distance < 0.01 and len(alpha_match.matches) == 3
    assert [s.item_id[:2] for s in best.artist1_songs] == ["Be"] * 3
    assert [s.item_id[:2] for s in best.artist2_songs] == ["Al"] * 3
    lib = index.library
    for song in best.artist2_songs:  # Alpha's songs nearest to the shared style are its axis-0 ones
        assert int(np.argmax(lib.vectors[lib.row(song.item_id)])) == 0


def test_stored_artist_index_loads_back_the_same(index):
    data, names = index.to_bytes()
    again = ArtistIndex.from_bytes(index.library, data, names)
    alpha = again.find("Alpha")
    assert np.allclose(alpha.directions, index.find("Alpha").directions)
    assert [s.profile.name for s in again.similar(alpha, 4)] == [s.profile.name for s in index.similar(index.find("Alpha"), 4)]
    stale = ArtistIndex.from_bytes(index.library, data, names[:-3])  # written for other tracks: rebuilt
    assert stale.find("Ωmega Café").directions.shape[0] == 1


def test_artist_tracks_are_ordered_by_title(index):
    rows = index.tracks(index.find("Gamma"))
    assert [index.library.meta[r].title for r in rows] == [f"Song {k:02d} of Gamma" for k in range(5)]


def test_farthest_is_exact():
    lib = artist_library()
    seed = lib.row("Be0")
    far, dist = farthest(lib, seed)
    v = lib.vectors
    cos = v @ v[seed] / (np.linalg.norm(v, axis=1) * np.linalg.norm(v[seed]))
    cos[seed] = np.inf
    assert far == int(np.argmin(cos)) and dist == pytest.approx(1.0 - cos.min(), abs=1e-5)


def test_alchemy_with_an_artist_anchor_lands_in_its_sound(index):
    lib = index.library
    delta = index.find("Delta")
    anchors = [(delta.centroids[c], float(delta.weights[c])) for c in range(len(delta.weights))]
    res = alchemy(lib, [], n=4, temperature=0, add_anchors=anchors)
    assert {lib.meta[r].author for r, _ in res.results} == {"Delta"}
    mixed = weighted_centroid(lib, [lib.row("Be0")], anchors)
    assert np.allclose(mixed, (lib.vectors[lib.row("Be0")] + sum(v * w for v, w in anchors)) / 2, atol=1e-5)
    with pytest.raises(ValueError):
        alchemy(lib, [], n=4)


def test_cancel_all_prefix_matches_both_spellings():
    assert matches_type("analysis", "main_analysis") and matches_type("analysis", "analysis")
    assert matches_type("clustering", "main_clust") and not matches_type("analysis", "main_clustering")
    assert not matches_type("analysis", "")


def test_unknown_paths_answer_in_audiomuse_error_shape():
    status, message = unsupported.reply("/api/clap/search", "POST", 404)
    assert status == 501 and "CLAP" in message
    assert unsupported.reply("/api/hyperbolic/similar", "POST", 404)[0] == 501
    assert unsupported.reply("/api/sem_grove/search", "POST", 404)[0] == 501
    assert unsupported.reply("/api/lyrics/search/text", "POST", 404)[0] == 501
    assert unsupported.reply("/api/nope", "GET", 404)[0] == 404
    assert unsupported.reply("/api/similar_tracks", "DELETE", 405)[0] == 405
