"""Providers shared by request threads (a Serve replica keeps one) and living while the library changes."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audiomuse_ray.errors import ProviderRequestError
from audiomuse_ray.providers.local import LocalFolderProvider, stable_id
from audiomuse_ray.providers.subsonic import SubsonicProvider
from tests.fakes.music_servers import FakeLibrary, FakeSubsonic

pytestmark = pytest.mark.integration


@pytest.fixture
def music(corpus, tmp_path) -> Path:
    """A small music folder of its own (two albums of the corpus), free to change."""
    root = tmp_path / "music"
    for album in ("Planet Blupi/Blupi Tunes", "Singularity Ensemble/Endgame Singularity II"):
        shutil.copytree(corpus / "library" / album, root / album)
    return root


def test_a_track_added_after_the_scan_can_go_into_a_playlist(music, corpus, tmp_path):
    provider = LocalFolderProvider(music, tmp_path / "playlists")
    known = [t.item_id for a in provider.list_albums() for t in provider.list_tracks(a)]
    source = next((corpus / "library" / "Nexuiz" / "Arena Tracks").iterdir())
    added = music / "Nexuiz" / "Arena Tracks" / source.name
    added.parent.mkdir(parents=True)
    shutil.copy(source, added)  # e.g. a new album, analysed since the provider was made
    new_id = stable_id(added.relative_to(music).as_posix())
    assert new_id not in known

    pid = provider.create_playlist("New_instant", [known[0], new_id])
    lines = (tmp_path / "playlists" / f"{pid}.m3u8").read_text(encoding="utf-8").splitlines()
    assert str(added) in lines and provider.track(new_id).title
    assert provider.scans == 2


def test_unknown_ids_rescan_at_most_once_per_interval(music, tmp_path):
    provider = LocalFolderProvider(music, tmp_path / "playlists", rescan_interval_s=60)
    provider.list_albums()
    with ThreadPoolExecutor(8) as pool:  # a flood of bad ids from many request threads
        outcomes = list(pool.map(lambda k: _try_create(provider, f"bogus-{k}"), range(40)))
    assert all(isinstance(o, ProviderRequestError) for o in outcomes)
    assert provider.scans == 2  # the first scan and one rescan, not 40
    provider.rescan_interval_s = 0
    _try_create(provider, "bogus")
    assert provider.scans == 3  # the interval, nothing else, held the others back


def _try_create(provider, item_id):
    try:
        return provider.create_playlist("x_instant", [item_id])
    except ProviderRequestError as exc:
        return exc


def test_threads_share_one_scan_and_never_see_half_a_rescan(music, tmp_path):
    provider = LocalFolderProvider(music, tmp_path / "playlists")
    start = threading.Barrier(8)

    def first_look(_):
        start.wait()
        return [a.id for a in provider.list_albums()]

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(first_look, range(8)))
    assert provider.scans == 1 and all(s == seen[0] for s in seen)

    tracks = {a.id: [t.item_id for t in provider.list_tracks(a)] for a in provider.list_albums()}
    stop, problems = threading.Event(), []

    def reader(k: int) -> None:
        while not stop.is_set():
            try:
                for album in provider.list_albums():
                    got = [t.item_id for t in provider.list_tracks(album)]
                    if got != tracks[album.id]:
                        problems.append((album.name, len(got)))
                provider.create_playlist("Same_instant", tracks[next(iter(tracks))][: 1 + k % 3])
            except Exception as exc:  # e.g. two threads renaming one temp file
                problems.append(repr(exc))

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    try:
        for _ in range(5):
            provider.rescan()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == [] and provider.scans == 6
    assert [p.name for p in provider.list_playlists()] == ["Same_instant"]
    assert not list((tmp_path / "playlists").glob("*.tmp"))


def test_subsonic_auth_fallback_is_decided_once_under_many_threads(corpus, tmp_path):
    library = FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path / "scan"))
    with FakeSubsonic(library, delay_s=0.05) as server:  # slow answers: the threads' first calls overlap
        provider = SubsonicProvider(server.url, "admin", "secret", retries=0)
        start = threading.Barrier(8)
        album = library.albums[0]

        def hammer(k: int) -> int:
            start.wait()
            calls = [provider.health, provider.list_albums, lambda: provider.list_tracks(album),
                     provider.list_playlists]
            for call in calls[k % 4:] + calls[:k % 4]:
                result = call()
                assert result is not None and getattr(result, "ok", True)
            return k

        with ThreadPoolExecutor(8) as pool:
            assert sorted(pool.map(hammer, range(8))) == list(range(8))  # every call succeeded
        assert provider.auth == "password"
        assert server.token_requests == 1  # one thread tried the token; the others waited for its answer
