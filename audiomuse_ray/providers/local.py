"""A music folder as a media provider: albums from tags (folders when tags are missing), .m3u8 playlists.

Item ids are a hash of the path relative to the music folder, so they survive moving the whole folder
and re-scans. The folder is scanned on first use; an id it does not know (a track added since, e.g. just
analysed) makes it scan again before failing, at most once per ``rescan_interval_s`` so a flood of bad ids
cannot cause a rescan storm (``rescan()`` forces one). One provider serves many request threads: a scan
builds a new immutable index and swaps it in whole, one scan at a time under a lock.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

import mutagen

from audiomuse_ray.errors import ConfigurationError, ProviderRequestError, UnknownTrack, UnreadableAudio
from audiomuse_ray.providers.base import (
    Album, Excerpt, Health, PlaylistInfo, PlayRecord, SuffixPlaylistCleanup, Track, UserCredentials,
)
from audiomuse_ray.providers.excerpt import ogg_excerpt
from audiomuse_ray.providers.registry import Capabilities, history_unsupported, register

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aif", ".aiff", ".wma", ".wv", ".ape", ".mpc"}
)
PLAYLIST_EXTENSION = ".m3u8"
RESCAN_INTERVAL_S = 30.0  # unknown ids trigger at most one rescan per this many seconds


def stable_id(*parts: str) -> str:
    """A short, stable id from text (sha1, 20 hex digits)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def artist_id(name: str) -> str:
    """A folder has no artist ids: one from the name, case- and space-insensitive, so "ABBA " is "abba"."""
    return stable_id("artist", " ".join(name.casefold().split()))


@dataclass(frozen=True)
class FileTags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track_number: int | None = None
    genre: str | None = None
    duration: float | None = None


def read_tags(path: Path) -> FileTags:
    """Tags and duration via mutagen; an unreadable or untagged file gives empty tags, not an error."""
    try:
        audio = mutagen.File(path, easy=True)
    except Exception as exc:  # mutagen raises many private types for damaged files
        log.debug("no tags in %s: %s", path, exc)
        return FileTags()
    if audio is None:
        return FileTags()
    tags = audio.tags or {}

    def first(*keys: str) -> str | None:
        for k in keys:
            try:
                v = tags.get(k)
            except (ValueError, KeyError):
                v = None
            if v:
                text = str(v[0] if isinstance(v, list) else v).strip()
                if text:
                    return text
        return None

    number = first("tracknumber")
    m = re.match(r"\s*(\d+)", number or "")
    length = getattr(getattr(audio, "info", None), "length", None)
    return FileTags(
        title=first("title"),
        artist=first("artist"),
        album=first("album"),
        album_artist=first("albumartist", "album_artist", "album artist"),
        track_number=int(m.group(1)) if m else None,
        genre=first("genre"),
        duration=float(length) if length else None,
    )


@dataclass(frozen=True)
class _Index:
    """One scan's result, never changed after it is built: readers need no lock."""

    albums: list[Album]
    tracks: dict[str, list[Track]]  # album id -> tracks in track order
    by_id: dict[str, Track]


@dataclass(frozen=True)
class LocalConfig:
    """The local provider's settings: the folders, nothing of any media server."""

    music_dir: str = ""  # not required here: the provider's own message names --music-dir too
    playlist_dir: str = ""


@register("local", config=LocalConfig, title="A local music folder",
          capabilities=Capabilities(history=False, artist_ids=False, streaming=True, playlists=True,
                                      playlist_in_place=True))
class LocalFolderProvider(SuffixPlaylistCleanup):
    name = "local"

    @classmethod
    def from_config(cls, config: LocalConfig) -> "LocalFolderProvider":
        return cls(config.music_dir, config.playlist_dir)

    def __init__(self, music_dir: str | Path, playlist_dir: str | Path, *, rescan_interval_s: float = RESCAN_INTERVAL_S):
        if not music_dir:
            raise ConfigurationError("The local provider needs a music folder: pass --music-dir or set AUDIOMUSE_MUSIC_DIR.")
        self.music_dir = Path(music_dir).expanduser().resolve()
        self.playlist_dir = Path(playlist_dir).expanduser()
        self.rescan_interval_s = rescan_interval_s
        self.scans = 0  # how many times the folder was read (tests check the throttle with it)
        self._index: _Index | None = None
        self._scan_lock = threading.Lock()
        self._last_lookup_scan: float | None = None  # monotonic time of the last rescan an unknown id caused

    # ------------------------------------------------------------------------------------ scanning
    def rescan(self) -> None:
        with self._scan_lock:
            self._scan_locked()

    def _scan_locked(self) -> None:
        if not self.music_dir.is_dir():
            raise ConfigurationError(f"The music folder {self.music_dir} does not exist or is not a folder.")
        # A folder is an album: tracks of one folder sharing an album artist form one album, named by the
        # album tag most of them carry. Real folders often mix stray album tags (a rip of a compilation,
        # tags inherited from the source); grouping by tag alone would split them into one-track albums.
        scanned: dict[tuple[Path, str], list[tuple[Path, FileTags, float]]] = {}
        for path in self._audio_files():
            tags = read_tags(path)
            folder = path.parent
            artist = tags.album_artist or tags.artist or (
                folder.parent.name if folder != self.music_dir and folder.parent != self.music_dir else "Unknown Artist"
            )
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0
            scanned.setdefault((folder, artist), []).append((path, tags, mtime))
        albums = []
        by_album: dict[str, list[Track]] = {}
        by_id: dict[str, Track] = {}
        for (folder, album_artist), items in scanned.items():
            album_tags = Counter(t.album for _, t, _ in items if t.album)
            album_name = album_tags.most_common(1)[0][0] if album_tags else (
                folder.name if folder != self.music_dir else "Unknown Album")
            album_id = stable_id(folder.relative_to(self.music_dir).as_posix(), album_artist.casefold())
            tracks = [
                Track(
                    item_id=stable_id(path.relative_to(self.music_dir).as_posix()),
                    title=tags.title or path.stem,
                    artist=tags.artist or album_artist,
                    album=album_name,
                    album_artist=album_artist,
                    path_or_url=str(path),
                    album_id=album_id,
                    duration=tags.duration,
                    track_number=tags.track_number,
                    genre=tags.genre,
                    artist_id=artist_id(tags.artist or album_artist),
                )
                for path, tags, _ in items
            ]
            tracks.sort(key=lambda t: (t.track_number or 10**6, t.path_or_url))
            by_album[album_id] = tracks
            by_id.update({t.item_id: t for t in tracks})
            added = datetime.fromtimestamp(max(m for _, _, m in items), tz=timezone.utc)
            albums.append(Album(id=album_id, name=album_name, artist=album_artist, added_at=added, track_count=len(tracks)))
        albums.sort(key=lambda a: (a.added_at, a.artist, a.name), reverse=True)
        self._index = _Index(albums, by_album, by_id)  # one reference swapped: readers see old or new, whole
        self.scans += 1

    def _audio_files(self) -> Iterator[Path]:
        seen: set[str] = set()  # real paths already walked: symlinked folders are followed, loops are not
        for root, dirs, files in os.walk(self.music_dir, followlinks=True):
            real = os.path.realpath(root)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            root_path = Path(root)
            if self._inside_playlist_dir(root_path):
                continue
            for f in sorted(files):
                if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_EXTENSIONS:
                    yield root_path / f

    def _inside_playlist_dir(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.playlist_dir.resolve())
            return True
        except ValueError:
            return False

    def _snapshot(self) -> _Index:
        index = self._index
        if index is None:
            with self._scan_lock:
                if self._index is None:  # another thread may have scanned while this one waited
                    self._scan_locked()
            index = self._index
        assert index is not None
        return index

    def _lookup(self, item_ids: Sequence[str]) -> list[Track]:
        """The tracks of ``item_ids``; unknown ids make the folder be scanned again (throttled) first."""
        seen = self._snapshot()
        if all(i in seen.by_id for i in item_ids):
            return [seen.by_id[i] for i in item_ids]
        with self._scan_lock:
            now = time.monotonic()
            if self._index is seen and (self._last_lookup_scan is None
                                        or now - self._last_lookup_scan >= self.rescan_interval_s):
                self._last_lookup_scan = now
                log.info("unknown track id(s): scanning %s again", self.music_dir)
                self._scan_locked()
            index = self._index  # rescanned here, by the thread this one waited for, or throttled
        assert index is not None
        missing = [i for i in item_ids if i not in index.by_id]
        if missing:
            raise ProviderRequestError(f"{len(missing)} track id(s) are not in {self.music_dir}, e.g. {missing[0]}.")
        return [index.by_id[i] for i in item_ids]

    # ------------------------------------------------------------------------------------ protocol
    def list_albums(self, limit: int = 0) -> list[Album]:
        albums = self._snapshot().albums
        return list(albums[:limit] if limit else albums)

    def list_tracks(self, album: Album) -> list[Track]:
        return list(self._snapshot().tracks.get(album.id, []))

    def track(self, item_id: str) -> Track | None:
        return self._snapshot().by_id.get(item_id)

    @contextmanager
    def local_file(self, track: Track) -> Iterator[Path]:
        path = Path(track.path_or_url)
        if not path.is_file():
            raise UnreadableAudio(f"{path} is gone: the music folder changed since it was scanned.")
        yield path

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """The file decoded and cut to ``seconds`` of Ogg Vorbis (a third in without ``start_s``)."""
        try:
            (track,) = self._lookup([item_id])
        except ProviderRequestError:
            raise UnknownTrack(f"Track {item_id!r} is not in the music folder {self.music_dir}.") from None
        with self.local_file(track) as path:
            return ogg_excerpt(str(path), seconds, start_s)

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        return self._write_playlist(_file_name(name), name, item_ids)

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """The file of ``playlist_id`` rewritten (its name, hence the id, stays even when ``name`` changes)."""
        if playlist_id and any(p.id == playlist_id for p in self.list_playlists()):
            return self._write_playlist(playlist_id, name, item_ids)
        return self.create_playlist(name, item_ids)

    def _write_playlist(self, stem: str, name: str, item_ids: Sequence[str]) -> str:
        tracks = self._lookup(item_ids)
        self.playlist_dir.mkdir(parents=True, exist_ok=True)
        target = self.playlist_dir / (stem + PLAYLIST_EXTENSION)
        lines = ["#EXTM3U", f"#PLAYLIST:{name}"]
        for t in tracks:
            lines.append(f"#EXTINF:{int(t.duration or -1)},{t.artist} - {t.title}")
            lines.append(t.path_or_url)
        # a temp file of its own (two threads may write the same playlist), then an atomic rename: a player
        # never reads half a playlist, and the old file stays whole until the new one replaces it
        fd, tmp = tempfile.mkstemp(dir=self.playlist_dir, prefix=".playlist-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.stem

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        if not self.playlist_dir.is_dir():
            return []
        out = []
        for f in sorted(self.playlist_dir.glob("*" + PLAYLIST_EXTENSION)):
            name, count = _read_m3u_header(f)
            if suffix is None or name.endswith(suffix):
                out.append(PlaylistInfo(id=f.stem, name=name, track_count=count))
        return out

    def delete_playlist(self, playlist_id: str) -> None:
        if not playlist_id or playlist_id != Path(playlist_id).name or playlist_id in (".", ".."):
            raise ProviderRequestError(f"{playlist_id!r} is not a playlist id of {self.playlist_dir}.")
        (self.playlist_dir / (playlist_id + PLAYLIST_EXTENSION)).unlink(missing_ok=True)

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        raise history_unsupported("A local music folder keeps no listening history")

    def health(self) -> Health:
        if not self.music_dir.is_dir():
            return Health(False, self.name, f"music folder {self.music_dir} does not exist")
        count = sum(1 for _ in self._audio_files())
        return Health(count > 0, self.name, f"{count} audio file(s) in {self.music_dir}")


def _file_name(name: str) -> str:
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .")
    return cleaned[:150] or "playlist"


def _read_m3u_header(path: Path) -> tuple[str, int]:
    name, count = path.stem, 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#PLAYLIST:"):
            name = line[len("#PLAYLIST:"):].strip() or name
        elif line and not line.startswith("#"):
            count += 1
    return name, count
