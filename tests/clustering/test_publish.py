"""Publishing playlists: the new ones are created before the old ones go, so a failure half-way leaves the
user the old playlists, on the local provider and on loopback Jellyfin, Subsonic and Lyrion servers."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.clustering.playlists import Cluster, Playlist
from audiomuse_ray.clustering.run import publish
from audiomuse_ray.errors import ProviderError, ProviderUnavailable
from audiomuse_ray.providers.jellyfin import JellyfinProvider
from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.providers.lyrion import LyrionProvider
from audiomuse_ray.providers.subsonic import SubsonicProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from audiomuse_ray.store import playlists as playlist_store
from tests.fakes.music_servers import FakeJellyfin, FakeLibrary, FakeLyrion, FakeSubsonic

pytestmark = pytest.mark.integration
OLD = ["Calm_automatic", "Loud_automatic", "Odd_automatic"]
NEW = ["Loud_automatic", "Fresh_automatic", "Late_automatic"]  # "Loud" replaces its namesake


class FailsOnCreate:
    """The real provider, except that its ``n``-th ``create_playlist`` fails as an unreachable server would."""

    def __init__(self, inner, n: int):
        self.inner, self.n, self.calls = inner, n, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def create_playlist(self, name, item_ids):
        self.calls += 1
        if self.calls == self.n:
            raise ProviderUnavailable(f"the server went away while creating {name}")
        return self.inner.create_playlist(name, item_ids)


def playlists(names: list[str], ids: list[str], start: int) -> list[Playlist]:
    cluster = Cluster([0], np.zeros(3), np.zeros(50), np.zeros(6), 0.5)
    return [Playlist(name, ids[start + 4 * k:start + 4 * k + 4], name, cluster) for k, name in enumerate(names)]


@pytest.fixture
def ids(corpus, tmp_path) -> list[str]:
    local = LocalFolderProvider(corpus / "library", tmp_path / "scan")
    return [t.item_id for a in local.list_albums() for t in local.list_tracks(a)]


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'audiomuse.db'}")
    yield s
    s.dispose()


def check_failure_keeps_the_old(provider, break_second_create, repair, store, ids: list[str]) -> None:
    """Publish OLD, then NEW with its 2nd create failing, then NEW again; the playlists after each."""
    settings = Settings.load({}, data_dir="/nonexistent")  # unused: the provider is given
    publish(settings, store, playlists(OLD, ids, 0), provider=provider)
    provider.create_playlist("Mine_instant", ids[:2])  # not ours: never touched
    new = playlists(NEW, ids, 20)
    with pytest.raises(ProviderError):
        publish(settings, store, new, provider=break_second_create())
    names = sorted(p.name for p in provider.list_playlists())
    assert names == sorted(OLD + ["Mine_instant"])  # "Loud" is the new one already; nothing is lost
    assert sorted(p.name for p in playlist_store.list_playlists(store, "_automatic")) == sorted(OLD)

    repair()
    publish(settings, store, new, provider=provider)
    assert sorted(p.name for p in provider.list_playlists()) == sorted(NEW + ["Mine_instant"])  # each name once
    if provider.name != "lyrion":  # Lyrion's playlists query reports no track count (its fake is checked apart)
        counts = {p.name: p.track_count for p in provider.list_playlists()}
        assert counts == {"Mine_instant": 2, **{n: 4 for n in NEW}}
    stored = {p.name: p for p in playlist_store.list_playlists(store, "_automatic")}
    assert sorted(stored) == sorted(NEW) and stored["Loud_automatic"].item_ids == new[0].item_ids
    on_server = {p.name: p.id for p in provider.list_playlists()}
    assert all(stored[n].provider_playlist_id == on_server[n] for n in NEW)


def test_local_publish_failing_half_way_keeps_the_old_playlists(corpus, tmp_path, store, ids):
    provider = LocalFolderProvider(corpus / "library", tmp_path / "playlists")
    check_failure_keeps_the_old(provider, lambda: FailsOnCreate(provider, 2), lambda: None, store, ids)
    loud = (tmp_path / "playlists" / "Loud_automatic.m3u8").read_text(encoding="utf-8")
    assert [line for line in loud.splitlines() if line and not line.startswith("#")] == [
        provider.track(i).path_or_url for i in ids[20:24]]
    assert not list((tmp_path / "playlists").glob("*.tmp"))


@pytest.mark.parametrize("kind", ["jellyfin", "subsonic", "lyrion"])
def test_remote_publish_failing_half_way_keeps_the_old_playlists(kind, corpus, tmp_path, store, ids):
    """Here the server itself answers HTTP 500 from the second creation on."""
    library = FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path / "scan"))
    server = {"jellyfin": FakeJellyfin, "subsonic": FakeSubsonic, "lyrion": FakeLyrion}[kind](library)
    with server:
        provider = {"jellyfin": lambda: JellyfinProvider(server.url, "u1", "key", retries=0),
                    "subsonic": lambda: SubsonicProvider(server.url, "admin", "secret", retries=0),
                    "lyrion": lambda: LyrionProvider(server.url, retries=0)}[kind]()

        def break_second_create():
            server.fail_creates_from = server.creates + 2
            return provider

        def repair():
            assert server.creates >= server.fail_creates_from  # the failure did come from the server
            server.fail_creates_from = None

        check_failure_keeps_the_old(provider, break_second_create, repair, store, ids)
        assert {name: len(songs) for name, songs in server.playlists.values()} == {"Mine_instant": 2, **{n: 4 for n in NEW}}
