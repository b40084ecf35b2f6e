"""Jellyfin and Lyrion providers against loopback servers that answer as those servers do."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from audiomuse_ray.errors import ProviderAuthError
from audiomuse_ray.providers.base import UserCredentials
from audiomuse_ray.providers.jellyfin import JellyfinProvider
from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.providers.lyrion import LyrionProvider
from tests.fakes.music_servers import FakeJellyfin, FakeLibrary, FakeLyrion

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory) -> FakeLibrary:
    return FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("pl")))


@pytest.fixture
def jellyfin(library):
    with FakeJellyfin(library) as server:
        yield server


@pytest.fixture
def lyrion(library):
    with FakeLyrion(library) as server:
        yield server


def test_jellyfin_lists_albums_newest_first_with_paging(jellyfin, library, monkeypatch):
    monkeypatch.setattr("audiomuse_ray.providers.jellyfin.PAGE", 3)  # force several pages
    p = JellyfinProvider(jellyfin.url, "u1", "key", retries=0)
    albums = p.list_albums()
    assert [a.id for a in albums] == [a.id for a in library.albums]
    assert albums[0].added_at > albums[-1].added_at
    assert len(p.list_albums(2)) == 2
    tracks = p.list_tracks(albums[0])
    assert [t.item_id for t in tracks] == [t.item_id for t in library.tracks[albums[0].id]]
    assert tracks[0].duration == pytest.approx(library.tracks[albums[0].id][0].duration, abs=0.01)
    assert all(r.headers["x-emby-token"] == "key" for r in jellyfin.requests)


def test_jellyfin_download_is_streamed_to_a_temp_file_and_deleted(jellyfin, library):
    p = JellyfinProvider(jellyfin.url, "u1", "key", retries=0)
    track = p.list_tracks(p.list_albums()[0])[0]
    with p.local_file(track) as path:
        assert path.read_bytes() == Path(library.track(track.item_id).path_or_url).read_bytes()
    assert not path.exists() and not path.parent.exists()


def test_jellyfin_playlists_replace_list_and_delete(jellyfin, library):
    p = JellyfinProvider(jellyfin.url, "u1", "key", retries=0)
    ids = [t.item_id for t in library.tracks[library.albums[0].id]]
    p.create_playlist("Calm_automatic", ids[:3])
    p.create_playlist("Calm_automatic", ids[:2])
    p.create_playlist("Other_instant", ids[:1])
    assert [(x.name, x.track_count) for x in p.list_playlists("_automatic")] == [("Calm_automatic", 2)]
    assert p.delete_playlists("_automatic") == 1
    assert [x.name for x in p.list_playlists()] == ["Other_instant"]


def test_jellyfin_history_uses_the_given_user(jellyfin, library):
    ids = [t.item_id for ts in library.tracks.values() for t in ts][:3]
    when = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    library.plays.update({ids[0]: (5, when), ids[1]: (9, when)})
    try:
        p = JellyfinProvider(jellyfin.url, "u1", "key", retries=0)
        top = p.top_played(UserCredentials(user="u1", token="key"), limit=10)
        assert [(r.item_id, r.play_count) for r in top] == [(ids[1], 9), (ids[0], 5)]
        assert top[0].last_played.replace(microsecond=0) == when
        with pytest.raises(ProviderAuthError, match="refused the credentials"):
            p.top_played(UserCredentials(user="u1", token="wrong"))
    finally:
        library.plays.clear()


def test_jellyfin_wrong_key_is_an_auth_error_and_health_says_so(jellyfin):
    p = JellyfinProvider(jellyfin.url, "u1", "nope", retries=0)
    with pytest.raises(ProviderAuthError, match="Jellyfin .* refused the credentials"):
        p.list_albums()
    assert not p.health().ok
    assert JellyfinProvider(jellyfin.url, "u1", "key").health().ok


def test_lyrion_albums_tracks_download_and_playlists(lyrion, library):
    p = LyrionProvider(lyrion.url, retries=0)
    albums = p.list_albums()
    assert [a.name for a in albums] == [a.name for a in library.albums]
    tracks = p.list_tracks(albums[1])
    assert [t.title for t in tracks] == [t.title for t in library.tracks[albums[1].id]]
    with p.local_file(tracks[0]) as path:
        assert path.stat().st_size > 10_000
    pid = p.create_playlist("Loud_automatic", [t.item_id for t in tracks[:4]])
    p.create_playlist("Loud_automatic", [t.item_id for t in tracks[:2]])
    assert [name for name, _ in lyrion.playlists.values()] == ["Loud_automatic"]
    assert list(lyrion.playlists.values())[0][1] == [t.item_id for t in tracks[:2]]
    assert pid not in lyrion.playlists  # the first one was replaced
    assert p.delete_playlists("_automatic") == 1 and lyrion.playlists == {}
    assert p.health().ok
    assert p.top_played() == []  # nothing played yet


def test_lyrion_history_is_the_servers_play_counts(lyrion, library):
    ids = [t.item_id for ts in library.tracks.values() for t in ts][:3]
    library.plays.update({ids[0]: (5, datetime(2026, 1, 1, tzinfo=timezone.utc)), ids[2]: (12, None)})
    try:
        top = LyrionProvider(lyrion.url, retries=0).top_played(UserCredentials(user="anyone"), limit=10)
        assert [(r.item_id, r.play_count, r.last_played) for r in top] == [(ids[2], 12, None), (ids[0], 5, None)]
        asked = [r.json()["params"][1] for r in lyrion.requests if r.path == "/jsonrpc.js"][-1]
        assert asked[:2] == ["titles", 0] and "sort:sql=tracks_persistent.playcount DESC" in asked and "tags:O" in asked
    finally:
        library.plays.clear()
