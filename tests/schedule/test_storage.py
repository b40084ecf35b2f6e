"""Anchors and radios in the store (SQLite and PostgreSQL): an anchor is kept as ids and survives a
re-analysis and an index rebuild; names and one-radio-per-anchor are enforced; a radio goes with its
anchor; a run's songs and playlist id are kept for the next run."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.errors import AlreadyExists, UnknownAnchor, UnknownRadio
from audiomuse_ray.schedule.anchors import resolve
from audiomuse_ray.store.radio_records import AnchorItem, Exclusion
from audiomuse_ray.schedule.radio import RadioOptions, next_playlist
from audiomuse_ray.similarity.library import load_library
from audiomuse_ray.similarity.rebuild import rebuild_index
from audiomuse_ray.store import radios as radio_store
from audiomuse_ray.store import tracks
from tests.schedule.library import vectors


def _save(store, vecs, meta, ids=None) -> None:
    rows = [tracks.TrackRow(item_id=m.item_id, title=m.title, author=m.author, album=m.album,
                            album_artist=m.album_artist, embedding=v, artist_id=m.artist_id)
            for v, m in zip(vecs, meta) if ids is None or m.item_id in ids]
    tracks.save_album(store, rows)


def test_an_anchor_survives_a_reanalysis_and_an_index_rebuild(store):
    vecs, meta = vectors(n_clusters=3, per_cluster=30)
    _save(store, vecs, meta)
    rebuild_index(store)
    seeds = (AnchorItem("song", "c1-t000"), AnchorItem("song", "c1-t001"))
    saved = radio_store.create_anchor(store, "Evening", seeds, exclusions=(Exclusion("song", id="c1-t002"),))
    before = load_library(store)
    first = next_playlist(before, resolve(radio_store.get_anchor(store, saved.id), before), RadioOptions(n=10))

    # a new model version moves every embedding; new tracks (sorted before the old ones) shift every row
    rng = np.random.default_rng(7)
    moved = vecs + rng.normal(scale=0.05, size=vecs.shape).astype(np.float32)
    _save(store, moved, meta)
    extra_vecs, extra_meta = vectors(n_clusters=1, per_cluster=20, seed=3)
    extra_meta = [m.__class__(**{**m.__dict__, "item_id": "a-" + m.item_id}) for m in extra_meta]
    _save(store, extra_vecs, extra_meta)
    rebuild_index(store)
    after = load_library(store)
    assert after.version == before.version + 1 and after.row("c1-t000") != before.row("c1-t000")

    anchor = radio_store.get_anchor(store, saved.id)
    assert anchor.items == seeds and anchor.centroid is None
    recipe = resolve(anchor, after)
    expected = moved[[i for i, m in enumerate(meta) if m.item_id in ("c1-t000", "c1-t001")]].mean(axis=0)
    assert np.allclose(recipe.add_centroid, expected, atol=1e-5)  # today's embeddings, found by id
    second = next_playlist(after, recipe, RadioOptions(n=10))
    assert not {"c1-t000", "c1-t001", "c1-t002"} & set(second.item_ids)
    assert all(i.startswith("c1-") for i in second.item_ids)
    assert len(set(first.item_ids) & set(second.item_ids)) >= 7  # the same neighbourhood, slightly moved


def test_anchor_and_radio_rows(store):
    a = radio_store.create_anchor(store, "Night", (AnchorItem("song", "x"),), centroid=(0.5, -1.25, 2.0),
                                  exclusions=(Exclusion("vector", vector=(1.0, 2.0, 3.0), distance=0.2),),
                                  subtract_distance=0.3)
    got = radio_store.get_anchor(store, a.id)
    assert got.centroid == (0.5, -1.25, 2.0) and got.subtract_distance == 0.3
    assert got.exclusions == (Exclusion("vector", vector=(1.0, 2.0, 3.0), distance=0.2),)
    assert got.created_at.tzinfo is not None
    with pytest.raises(AlreadyExists):
        radio_store.create_anchor(store, "Night", (AnchorItem("song", "y"),))
    b = radio_store.create_anchor(store, "Day", centroid=(1.0, 2.0, 3.0))
    assert [x.name for x in radio_store.list_anchors(store)] == ["Day", "Night"]  # newest first
    with pytest.raises(AlreadyExists):
        radio_store.update_anchor(store, b.id, name="Night")
    assert radio_store.update_anchor(store, b.id, name="Noon").name == "Noon"

    r = radio_store.create_radio(store, a.id, 25, 0.5)
    assert (r.name, r.n_results, r.temperature, r.enabled, r.max_repeat_share) == ("Night", 25, 0.5, True, 1.0)
    with pytest.raises(AlreadyExists):
        radio_store.create_radio(store, a.id, 10, 0.0)
    with pytest.raises(UnknownAnchor):
        radio_store.create_radio(store, 9999, 10, 0.0)
    r = radio_store.update_radio(store, r.id, enabled=False, skip_played_days=7, max_repeat_share=0.25)
    assert (r.enabled, r.skip_played_days, r.max_repeat_share, r.n_results) == (False, 7, 0.25, 25)
    radio_store.record_run(store, r.id, ["s1", "s2"], "pl-1")
    r = radio_store.get_radio(store, r.id)
    assert r.last_item_ids == ("s1", "s2") and r.provider_playlist_id == "pl-1" and r.last_run_at is not None
    assert radio_store.list_radios(store, enabled_only=True) == []

    radio_store.delete_anchor(store, a.id)  # its radio goes with it
    with pytest.raises(UnknownRadio):
        radio_store.get_radio(store, r.id)
    with pytest.raises(UnknownAnchor):
        radio_store.delete_anchor(store, a.id)
