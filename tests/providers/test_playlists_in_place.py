"""``replace_playlist`` keeps a playlist's id while its songs change (what a radio's refresh needs, so a
client that pinned the playlist keeps it): on a real Subsonic server (supysonic) and on each loopback fake
through the edit calls its server documents; a playlist that is gone is created anew; a rename keeps the
id where the server can rename (Emby cannot: a new playlist, the old one removed)."""

from __future__ import annotations

import pytest

from audiomuse_ray.errors import ProviderRequestError
from audiomuse_ray.providers import registry
from audiomuse_ray.providers.emby import EmbyProvider
from audiomuse_ray.providers.jellyfin import JellyfinProvider
from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.providers.lyrion import LyrionProvider
from audiomuse_ray.providers.plex import PlexProvider
from audiomuse_ray.providers.subsonic import SubsonicProvider
from tests.fakes.music_servers import FakeEmby, FakeJellyfin, FakeLibrary, FakeLyrion, FakePlex, FakeSubsonic
from tests.providers.test_subsonic import supysonic  # noqa: F401  (the real server, as a fixture here too)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory) -> FakeLibrary:
    return FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("scan")))


def _ids(library: FakeLibrary) -> list[str]:
    return [t.item_id for ts in library.tracks.values() for t in ts]


def _served(kind: str, fake, library: FakeLibrary):
    """(provider, songs_of(playlist_id) as the fake holds them)."""
    if kind == "jellyfin":
        return JellyfinProvider(fake.url, "u1", "key", retries=0), lambda pid: fake.playlists[pid][1]
    if kind == "emby":
        return EmbyProvider(fake.url, "u1", "key", retries=0), lambda pid: fake.playlists[pid][1]
    if kind == "plex":
        return PlexProvider(fake.url, "plex-token", retries=0), lambda pid: fake.playlists[pid][1]
    if kind == "lyrion":
        return LyrionProvider(fake.url, retries=0), lambda pid: fake.playlists[pid][1]
    return SubsonicProvider(fake.url, "admin", "secret", retries=0), lambda pid: fake.playlists[pid][1]


FAKES = {"jellyfin": FakeJellyfin, "emby": FakeEmby, "plex": FakePlex, "lyrion": FakeLyrion, "subsonic": FakeSubsonic}


def _check_in_place(provider, songs_of, ids: list[str], renames_in_place: bool = True) -> None:
    first, second = ids[:4], [ids[3], ids[5], ids[4], ids[6], ids[7]]  # one song kept, order changed
    pid = provider.create_playlist("Morning radio", first)
    assert songs_of(pid) == first
    assert provider.replace_playlist(pid, "Morning radio", second) == pid
    assert songs_of(pid) == second
    assert [p.name for p in provider.list_playlists() if p.id == pid] == ["Morning radio"]
    assert sum(p.name == "Morning radio" for p in provider.list_playlists()) == 1

    renamed = provider.replace_playlist(pid, "Evening radio", ids[8:10])
    names = {p.id: p.name for p in provider.list_playlists()}
    assert (renamed == pid) is renames_in_place and names[renamed] == "Evening radio"
    assert songs_of(renamed) == ids[8:10] and "Morning radio" not in names.values()

    provider.delete_playlist(renamed)
    again = provider.replace_playlist(renamed, "Evening radio", ids[:2])  # gone on the server: made anew
    assert again != renamed and songs_of(again) == ids[:2]
    latest = provider.replace_playlist(None, "Evening radio", ids[2:4])  # no id: by name, as create does
    assert songs_of(latest) == ids[2:4] and [p.name for p in provider.list_playlists()] == ["Evening radio"]


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_each_fake_server_keeps_the_playlist_id(kind, library):
    with FAKES[kind](library) as fake:
        provider, songs_of = _served(kind, fake, library)
        _check_in_place(provider, songs_of, _ids(library), renames_in_place=kind != "emby")
        assert registry.spec(kind).capabilities.playlist_in_place


def test_a_failed_add_leaves_the_old_songs_on_jellyfin(library):
    ids = _ids(library)
    with FakeJellyfin(library) as fake:
        provider = JellyfinProvider(fake.url, "u1", "key", retries=0)
        pid = provider.create_playlist("Kept", ids[:3])
        with pytest.raises(ProviderRequestError):
            provider.replace_playlist(pid, "Kept", ["no-such-song"])
        assert fake.playlists[pid] == ("Kept", ids[:3])


def test_the_music_folder_rewrites_the_same_file(library, corpus, tmp_path):
    provider = LocalFolderProvider(corpus / "library", tmp_path / "playlists")

    def songs_of(pid):
        paths = [line for line in (tmp_path / "playlists" / f"{pid}.m3u8").read_text("utf-8").splitlines()
                 if line and not line.startswith("#")]
        by_path = {provider.track(i).path_or_url: i for i in _ids(library)}
        return [by_path[p] for p in paths]

    _check_in_place(provider, songs_of, _ids(library))
    assert sorted(p.name for p in (tmp_path / "playlists").iterdir()) == ["Evening radio.m3u8"]


def test_supysonic_replaces_the_songs_of_the_same_playlist(supysonic):  # noqa: F811
    provider = SubsonicProvider(supysonic, "admin", "secret", retries=0)
    ids = [t.item_id for a in provider.list_albums() for t in provider.list_tracks(a)]

    def songs_of(pid):
        return [str(e["id"]) for e in provider.call("getPlaylist", {"id": pid})["playlist"].get("entry") or []]

    _check_in_place(provider, songs_of, ids)
