"""The local folder provider on the real-music corpus."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from audiomuse_ray.errors import ConfigurationError, HistoryUnsupported, ProviderRequestError
from audiomuse_ray.providers.local import LocalFolderProvider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def provider(corpus, tmp_path_factory):
    return LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("playlists"))


def ffprobe_tags(path: str) -> dict[str, str]:
    """Tags as ffmpeg reads them: an independent reader to check mutagen-based parsing against."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    tags = {k.lower(): v for s in data.get("streams", []) for k, v in (s.get("tags") or {}).items()}
    tags.update({k.lower(): v for k, v in (data.get("format", {}).get("tags") or {}).items()})
    return tags


def test_every_album_folder_is_one_album_with_all_its_tracks(provider, corpus_manifest):
    albums = provider.list_albums()
    folders = Counter(str(Path(row["path"]).parent) for row in corpus_manifest)
    assert len(albums) == len(folders) == 7
    seen = Counter()
    for album in albums:
        tracks = provider.list_tracks(album)
        assert len({Path(t.path_or_url).parent for t in tracks}) == 1  # one folder per album
        folder = Path(tracks[0].path_or_url).parent
        seen[folder.name] = len(tracks)
        assert album.track_count == len(tracks)
    assert sum(seen.values()) == len(corpus_manifest) == 72
    assert sorted(seen.values()) == sorted(folders.values())


def test_titles_and_artists_are_the_files_own_tags(provider):
    for album in provider.list_albums():
        for track in provider.list_tracks(album):
            tags = ffprobe_tags(track.path_or_url)
            assert track.title == tags["title"].strip()  # surrounding blanks are dropped
            assert track.artist == tags["artist"].strip()
            assert track.album_artist == tags["album_artist"]
            assert track.duration == pytest.approx(30, abs=1.5)


def test_album_name_is_the_majority_tag_and_tracks_are_in_track_order(provider):
    by_name = {a.name: a for a in provider.list_albums()}
    assert {"Blupi Tunes", "Aftermath", "Legacy Soundtrack", "Arena Tracks", "Arena Tracks II"} <= set(by_name)
    numbers = [t.track_number for t in provider.list_tracks(by_name["Aftermath"])]
    assert numbers == sorted(numbers) and numbers[0] == 1


def test_ids_are_stable_across_scans_and_unique(provider, corpus, tmp_path):
    again = LocalFolderProvider(corpus / "library", tmp_path)
    first = [t.item_id for a in provider.list_albums() for t in provider.list_tracks(a)]
    second = [t.item_id for a in again.list_albums() for t in again.list_tracks(a)]
    assert sorted(first) == sorted(second) and len(set(first)) == 72


def test_recent_limit_returns_the_newest_albums(provider):
    albums = provider.list_albums()
    assert provider.list_albums(2) == albums[:2]
    assert [a.added_at for a in albums] == sorted((a.added_at for a in albums), reverse=True)


def test_playlists_are_m3u8_files_replaced_by_name(provider):
    album = provider.list_albums()[0]
    ids = [t.item_id for t in provider.list_tracks(album)]
    pid = provider.create_playlist("Mix: A/B_automatic", ids[:3])
    provider.create_playlist("Mix: A/B_automatic", ids[:2])
    provider.create_playlist("Chill_instant", ids[:1])
    text = (provider.playlist_dir / f"{pid}.m3u8").read_text(encoding="utf-8")
    assert text.startswith("#EXTM3U") and "#PLAYLIST:Mix: A/B_automatic" in text
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        t.path_or_url for t in provider.list_tracks(album)[:2]]
    assert [(p.name, p.track_count) for p in provider.list_playlists("_automatic")] == [("Mix: A/B_automatic", 2)]
    assert provider.delete_playlists("_automatic") == 1
    assert [p.name for p in provider.list_playlists()] == ["Chill_instant"]
    with pytest.raises(ProviderRequestError, match="not in"):
        provider.create_playlist("x", ["nope"])


def test_history_is_unsupported_with_a_clear_message(provider):
    with pytest.raises(HistoryUnsupported, match="no listening history"):
        provider.top_played()


def test_local_file_yields_the_file_itself(provider):
    track = provider.list_tracks(provider.list_albums()[0])[0]
    with provider.local_file(track) as path:
        assert path == Path(track.path_or_url) and path.stat().st_size > 10_000
    assert Path(track.path_or_url).exists()  # never deletes the user's music


def test_missing_folder_is_a_configuration_error(tmp_path):
    p = LocalFolderProvider(tmp_path / "nope", tmp_path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        p.list_albums()
    assert p.health().ok is False
    with pytest.raises(ConfigurationError, match="--music-dir"):
        LocalFolderProvider("", tmp_path)


def test_broken_files_are_listed_without_crashing(corpus, tmp_path):
    p = LocalFolderProvider(corpus / "broken", tmp_path)
    tracks = [t for a in p.list_albums() for t in p.list_tracks(a)]
    assert len(tracks) == 12
    odd = next(t for t in tracks if "odd tags" in t.path_or_url)
    assert "日本語" in odd.artist
