"""The store on both dialects: the same tests run on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import inspect

from audiomuse_ray.errors import StoreError
from audiomuse_ray.store import open_store, schema_version
from audiomuse_ray.store import indexes, playlists, tracks
from audiomuse_ray.store import task_rows as tasks
from audiomuse_ray.store.migrate import head_revision
from audiomuse_ray.store.tracks import ErrorRow, TrackRow


def _track(i: int, version: str = "v1", **kw) -> TrackRow:
    rng = np.random.default_rng(i)
    return TrackRow(
        item_id=f"id{i}", title=f"Song {i}", author="Artist", album="Album", album_artist="Artist",
        tempo=120.0 + i, key="C#", scale="minor", mood_vector={"rock": 0.61, "Hip-Hop": 0.2},
        energy=0.05, other_features={"danceable": 0.4, "sad": 0.1}, duration=30.0, path_or_url=f"/m/{i}.mp3",
        model_version=version, embedding=rng.standard_normal(200).astype(np.float32),
        tags=rng.uniform(size=50).astype(np.float32), **kw,
    )


def test_schema_is_created_on_an_empty_database(store):
    names = set(inspect(store.engine).get_table_names())
    assert {"score", "embedding", "index_store", "map_projection", "playlist", "task_status", "analysis_error"} <= names
    assert schema_version(store) == head_revision()
    columns = {c["name"] for c in inspect(store.engine).get_columns("score")}
    assert {"item_id", "title", "author", "album", "tempo", "key", "scale", "mood_vector", "energy",
            "other_features", "duration", "path_or_url", "analysed_at", "model_version"} <= columns


def test_reopening_keeps_data_and_version(db_url):
    s = open_store(db_url)
    tracks.save_album(s, [_track(1)])
    s.dispose()
    s = open_store(db_url)
    assert tracks.count_tracks(s) == 1 and schema_version(s) == head_revision()
    s.dispose()


def test_save_album_is_idempotent_and_round_trips(store):
    album = [_track(i) for i in range(3)]
    tracks.save_album(store, album)
    tracks.save_album(store, album)
    assert tracks.count_tracks(store) == 3
    got = tracks.get_tracks(store, ["id2", "missing", "id0"], with_embeddings=True)
    assert [t.item_id for t in got] == ["id2", "id0"]
    assert got[0].mood_vector == {"rock": 0.61, "Hip-Hop": 0.2}
    assert got[0].key == "C#" and got[0].scale == "minor"
    np.testing.assert_array_equal(got[0].embedding, album[2].embedding)
    np.testing.assert_array_equal(got[0].tags, album[2].tags)
    ids, mat = tracks.load_embeddings(store)
    assert ids == ["id0", "id1", "id2"] and mat.shape == (3, 200) and mat.dtype == np.float32


def test_analysed_ids_filter_by_model_version(store):
    tracks.save_album(store, [_track(1, "v1"), _track(2, "v2")])
    assert tracks.analysed_ids(store, "v2") == {"id2"}
    assert tracks.analysed_ids(store) == {"id1", "id2"}


def test_error_rows_are_replaced_by_a_later_success(store):
    tracks.save_album(store, [], [ErrorRow("id5", "/m/5.mp3", "UnreadableAudio", "empty file", "v1")])
    assert tracks.failed_ids(store) == {"id5"}
    tracks.save_album(store, [_track(5)])
    assert tracks.failed_ids(store) == set()


def test_a_failed_transaction_writes_nothing(store):
    bad = TrackRow(item_id=None, title="x", author=None, album=None)  # item_id NOT NULL
    with pytest.raises(StoreError):
        tracks.save_album(store, [_track(1), bad])
    assert tracks.count_tracks(store) == 0


def test_task_lifecycle_and_cancellation(store):
    tasks.create_task(store, "p1", "analysis")
    tasks.create_task(store, "c1", "analysis_album", parent_id="p1")
    tasks.update_task(store, "p1", status=tasks.PROGRESS, progress=150, details={"analysed": 3}, log="album A done")
    tasks.update_task(store, "p1", details={"failed": 1}, log="album B done")
    rec = tasks.get_task(store, "p1")
    assert rec.status == "PROGRESS" and rec.progress == 100
    assert rec.details["analysed"] == 3 and rec.details["failed"] == 1 and len(rec.details["log"]) == 2
    assert tasks.request_cancel(store, "p1") is True
    assert tasks.is_cancel_requested(store, "p1") and tasks.is_cancel_requested(store, "c1")
    tasks.update_task(store, "p1", status=tasks.REVOKED)
    assert tasks.request_cancel(store, "p1") is False  # already finished
    assert tasks.request_cancel(store, "nope") is False
    assert [t.task_id for t in tasks.recent_tasks(store)] == ["p1"]
    assert [t.task_id for t in tasks.children(store, "p1")] == ["c1"]


def test_index_versions_and_projections(store):
    assert indexes.latest_index_version(store, "music") is None
    v1 = indexes.save_index(store, "music", b"one", ["a", "b"], 200)
    v2 = indexes.save_index(store, "music", b"two", ["a", "b", "c"], 200)
    v3 = indexes.save_index(store, "music", b"three", ["a"], 200)
    assert (v1, v2, v3) == (1, 2, 3)
    latest = indexes.load_index(store, "music")
    assert latest.version == 3 and latest.data == b"three" and latest.item_ids == ["a"]
    assert indexes.load_index(store, "music", 1) is None  # pruned, only the last versions are kept
    indexes.save_projection(store, "music", 3, "pca", b"\x1f\x8b...")
    indexes.save_projection(store, "music", 3, "umap", b"\x1f\x8b!!!")
    assert indexes.load_projection(store, "music", 3) == ("umap", b"\x1f\x8b!!!")


def test_playlists_replace_by_name_and_filter_by_suffix(store):
    playlists.save_playlist(store, "Rock_Fast_automatic", ["a", "b"], "local", "p1")
    playlists.save_playlist(store, "Rock_Fast_automatic", ["c"], "local", "p2")
    playlists.save_playlist(store, "Late night_instant", ["d"], "local", "p3")
    auto = playlists.list_playlists(store, "_automatic")
    assert [(p.name, p.item_ids) for p in auto] == [("Rock_Fast_automatic", ["c"])]
    assert playlists.delete_playlists(store, "_automatic") == 1
    assert [p.name for p in playlists.list_playlists(store)] == ["Late night_instant"]


def test_unsupported_url_is_a_clear_error():
    with pytest.raises(StoreError, match="Unsupported database URL"):
        open_store("mysql://root@localhost/x")


def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(StoreError, match="Cannot open the database postgresql://u:\\*\\*\\*@127.0.0.1:1/x"):
        open_store("postgresql://u:secret@127.0.0.1:1/x")
