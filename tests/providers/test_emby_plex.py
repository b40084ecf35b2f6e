"""Emby and Plex providers against loopback servers that answer in those servers' documented formats,
serving the real corpus: scan, download, playlists, listening history, artist ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from audiomuse_ray.errors import ConfigurationError, ProviderAuthError, UnknownUser
from audiomuse_ray.providers import make_provider
from audiomuse_ray.providers.base import UserCredentials
from audiomuse_ray.providers.emby import EmbyProvider
from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.providers.plex import PlexProvider
from tests.fakes.music_servers import FakeEmby, FakeLibrary, FakePlex

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory) -> FakeLibrary:
    return FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("pl")))


@pytest.fixture
def emby(library):
    library.plays.clear()
    with FakeEmby(library, user_id="u-admin", users={"admin": "u-admin", "Bob": "u-bob"}) as server:
        yield server


@pytest.fixture
def plex(library):
    library.plays.clear()
    with FakePlex(library) as server:
        yield server


def test_emby_scans_downloads_and_keeps_artist_ids(emby, library):
    p = EmbyProvider(emby.url, "u-admin", "key", retries=0)
    albums = p.list_albums()
    assert [a.id for a in albums] == [a.id for a in library.albums]
    tracks = p.list_tracks(albums[0])
    expected = library.tracks[albums[0].id]
    assert [t.item_id for t in tracks] == [t.item_id for t in expected]
    assert [t.artist_id for t in tracks] == [t.artist_id for t in expected] and tracks[0].artist_id
    with p.local_file(tracks[0]) as path:
        assert path.read_bytes() == open(expected[0].path_or_url, "rb").read()
    assert all(r.path.startswith("/emby/") for r in emby.requests)
    assert p.health().ok


def test_emby_playlists_replace_by_name(emby, library):
    p = EmbyProvider(emby.url + "/emby/", "u-admin", "key", retries=0)  # the /emby suffix is not doubled
    ids = [t.item_id for t in library.tracks[library.albums[0].id][:3]]
    first = p.create_playlist("Mix_automatic", ids)
    second = p.create_playlist("Mix_automatic", ids[:2])
    assert first != second and list(emby.playlists) == [second] and emby.playlists[second] == ("Mix_automatic", ids[:2])
    created = [r for r in emby.requests if r.method == "POST" and r.path == "/emby/Playlists"]
    assert created[-1].query["Ids"] == [",".join(ids[:2])] and created[-1].query["UserId"] == ["u-admin"]
    assert [x.name for x in p.list_playlists("_automatic")] == ["Mix_automatic"]
    assert p.delete_playlists("_automatic") == 1 and emby.playlists == {}


def test_emby_history_by_user_name(emby, library):
    now = datetime.now(timezone.utc)
    ids = [t.item_id for t in library.tracks[library.albums[1].id][:2]]
    library.plays.update({ids[0]: (5, now), ids[1]: (2, now - timedelta(days=3))})
    p = EmbyProvider(emby.url, "u-admin", "key", retries=0)
    records = p.top_played(UserCredentials(user="bob"))
    assert [(r.item_id, r.play_count) for r in records] == [(ids[0], 5), (ids[1], 2)]
    assert any(r.path == "/emby/Users/u-bob/Items" for r in emby.requests)
    with pytest.raises(UnknownUser):
        p.top_played(UserCredentials(user="carol"))
    with pytest.raises(ProviderAuthError):
        EmbyProvider(emby.url, "u-admin", "wrong", retries=0).list_albums()


def test_plex_scans_music_sections_and_downloads_parts(plex, library):
    p = PlexProvider(plex.url, "plex-token", retries=0)
    albums = p.list_albums()
    assert [a.id for a in albums] == [a.id for a in library.albums]  # newest first (addedAt)
    assert albums[0].added_at > albums[-1].added_at and albums[0].track_count == len(library.tracks[albums[0].id])
    assert [a.id for a in p.list_albums(limit=2)] == [a.id for a in library.albums[:2]]
    tracks = p.list_tracks(albums[0])
    expected = library.tracks[albums[0].id]
    assert [(t.item_id, t.title, t.artist) for t in tracks] == [(t.item_id, t.title, t.artist) for t in expected]
    assert tracks[0].duration == pytest.approx(expected[0].duration, abs=0.001)
    same_artist = [t for t, e in zip(tracks, expected) if e.artist == albums[0].artist]
    assert same_artist and all(t.artist_id == e.artist_id for t, e in zip(tracks, expected) if t in same_artist)
    with p.local_file(tracks[0]) as path:
        assert path.read_bytes() == open(expected[0].path_or_url, "rb").read()
    assert p.health().ok


def test_plex_playlists_and_history(plex, library):
    p = PlexProvider(plex.url, "plex-token", retries=0)
    ids = [t.item_id for t in library.tracks[library.albums[2].id][:3]]
    first = p.create_playlist("Calm_automatic", ids)
    second = p.create_playlist("Calm_automatic", ids[1:])
    assert list(plex.playlists) == [second] != [first] and plex.playlists[second] == ("Calm_automatic", ids[1:])
    assert [(x.name, x.track_count) for x in p.list_playlists()] == [("Calm_automatic", 2)]
    p.delete_playlist(second)
    assert plex.playlists == {}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    library.plays.update({ids[2]: (7, now), ids[0]: (1, now - timedelta(days=40))})
    records = p.top_played(limit=5)
    assert [(r.item_id, r.play_count, r.last_played) for r in records] == [
        (ids[2], 7, now), (ids[0], 1, now - timedelta(days=40))]
    with pytest.raises(ProviderAuthError):  # another user's history needs that user's token
        p.top_played(UserCredentials(token="someone-else"))


def test_make_provider_names_the_missing_settings(settings):
    with pytest.raises(ConfigurationError, match="AUDIOMUSE_EMBY_URL, AUDIOMUSE_EMBY_USER_ID and AUDIOMUSE_EMBY_TOKEN"):
        make_provider(settings.replace(provider="emby"))
    with pytest.raises(ConfigurationError, match="AUDIOMUSE_PLEX_TOKEN"):
        make_provider(settings.replace(provider="plex", plex_url="http://plex:32400"))
    assert isinstance(make_provider(settings.replace(provider="plex", plex_url="http://plex:32400", plex_token="t")),
                      PlexProvider)
