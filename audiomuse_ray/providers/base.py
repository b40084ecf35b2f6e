"""The ``MediaProvider`` protocol every music source implements, and the records it returns.

A provider lists albums and tracks, hands out a local file for a track (downloading it for a remote
server), streams a short excerpt of a track (previews), writes playlists and, where the server keeps one,
reads a user's listening history. What each provider supports is declared where it registers
(``providers/registry.py``), not found out by comparing names.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

AUTOMATIC_SUFFIX = "_automatic"
INSTANT_SUFFIX = "_instant"


@dataclass(frozen=True, slots=True)  # slots: a 100k-album plan holds a million of these in the driver
class Album:
    id: str
    name: str
    artist: str
    added_at: datetime | None = None
    track_count: int | None = None


@dataclass(frozen=True, slots=True)
class Track:
    item_id: str
    title: str
    artist: str
    album: str
    album_artist: str
    path_or_url: str  # a file path for the local provider, the server's path or stream URL otherwise
    album_id: str = ""
    duration: float | None = None
    track_number: int | None = None
    genre: str | None = None
    artist_id: str = ""  # the server's id of ``artist`` (empty when the server gives none)


@dataclass(frozen=True)
class PlaylistInfo:
    id: str
    name: str
    track_count: int


@dataclass(frozen=True)
class PlayRecord:
    """How often and how recently a user played a track (the input of a sonic fingerprint)."""

    item_id: str
    play_count: int
    last_played: datetime | None


@dataclass(frozen=True)
class UserCredentials:
    """Who is listening, for per-user history; fields a provider does not use stay empty."""

    user: str = ""
    token: str = ""
    password: str = ""


@dataclass(frozen=True)
class Excerpt:
    """A short piece of a track's audio as the provider serves it: ``data`` in the format ``media_type``
    names (e.g. ``audio/ogg``, ``audio/mpeg``), about the seconds asked for or a little more."""

    media_type: str
    data: bytes


@dataclass(frozen=True)
class Health:
    ok: bool
    provider: str
    detail: str


@runtime_checkable
class MediaProvider(Protocol):
    name: str

    def list_albums(self, limit: int = 0) -> list[Album]:
        """Albums, most recently added first; ``limit`` 0 means all."""

    def list_tracks(self, album: Album) -> list[Track]:
        """The tracks of one album in track order."""

    def local_file(self, track: Track) -> AbstractContextManager[Path]:
        """``with provider.local_file(t) as path:`` a readable file, deleted afterwards if downloaded."""

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """About ``seconds`` of track ``item_id`` from ``start_s`` (None: where the provider starts previews),
        never much more: no more than a preview leaves the media server."""

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        """Create playlist ``name`` (replacing one of the same name) and return its provider id. The old one
        of that name is only dropped once the new one exists, so a failed call leaves it in place."""

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """Make playlist ``playlist_id`` hold ``item_ids`` (and be named ``name``) and return its id: the same
        id where the server can edit a playlist in place (providers whose registration says
        ``playlist_in_place``), so a client that pinned it keeps it. A playlist that is gone, or no id, is
        created as ``create_playlist`` does. The new songs go in before the old ones come out, where the
        server allows that order, so a failed call leaves the old songs."""

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        """Playlists on the server, optionally only those whose name ends with ``suffix``."""

    def delete_playlist(self, playlist_id: str) -> None:
        """Delete one playlist by the id ``create_playlist``/``list_playlists`` gave (gone already is fine)."""

    def delete_playlists(self, suffix: str) -> int:
        """Delete the playlists whose name ends with ``suffix``; returns how many."""

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        """The user's most played tracks with last-played times; raises HistoryUnsupported if none kept."""

    def health(self) -> Health:
        """Whether the server answers with the configured credentials."""


def parse_iso_time(value: str | None) -> datetime | None:
    """ISO-8601 from a server (``Z`` suffix, up to 7 fractional digits as Jellyfin sends) or None."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        n = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[:min(n, 6)]}{tail[n:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)  # servers send UTC


class SuffixPlaylistCleanup:
    """``delete_playlists(suffix)`` for every provider, from its own ``list_playlists`` and
    ``delete_playlist``: only those two differ from server to server."""

    def delete_playlists(self, suffix: str) -> int:
        doomed = self.list_playlists(suffix)
        for p in doomed:
            self.delete_playlist(p.id)
        return len(doomed)
