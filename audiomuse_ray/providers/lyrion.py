"""Lyrion Music Server (formerly Logitech Media Server) as a media provider, through ``/jsonrpc.js``.

Every call is ``slim.request`` with a command list, e.g. ``["albums", 0, 100, "sort:new"]``; results
come back in ``*_loop`` lists. Files are fetched from ``/music/{track_id}/download``, and excerpts are
the start of that download (Lyrion has no transcoding stream of its own outside a player, so a preview
starts at the beginning of the file). Lyrion keeps play counts per server, not per user: the sonic
fingerprint reads the most played tracks of the whole server.

``playlists new`` does not make a second playlist of an existing name, so a playlist is replaced by
building the new one under a temporary name that keeps the suffix (``~<hex>~<name>``), deleting the old
one, and renaming: a failure before the delete leaves the old playlist whole. ``replace_playlist`` edits
an existing playlist instead (``playlists edit``), keeping its id.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from audiomuse_ray.errors import ProviderError, ProviderRequestError
from audiomuse_ray.providers.base import (
    Album, Excerpt, Health, PlaylistInfo, PlayRecord, SuffixPlaylistCleanup, Track, UserCredentials,
)
from audiomuse_ray.providers.http import HttpClient, file_kbps, temporary_download
from audiomuse_ray.providers.registry import Capabilities, HistoryUser, register

PAGE = 500
PLAYCOUNT = "tracks_persistent.playcount"  # the column ``titles`` reads for tag O; sortable through ``sort:sql=``


@dataclass(frozen=True)
class LyrionConfig:
    lyrion_url: str
    http_timeout_s: float = 30.0
    http_retries: int = 3


@register("lyrion", config=LyrionConfig, title="Lyrion",
          capabilities=Capabilities(history=True, artist_ids=True, streaming=True, playlists=True,
                                      playlist_in_place=True),
          history_user=HistoryUser(user_label=""))  # the server's counts: no user to name, no secret
class LyrionProvider(SuffixPlaylistCleanup):
    name = "lyrion"

    @classmethod
    def from_config(cls, c: LyrionConfig) -> "LyrionProvider":
        return cls(c.lyrion_url, timeout_s=c.http_timeout_s, retries=c.http_retries)

    def __init__(self, url: str, *, timeout_s: float = 30.0, retries: int = 3):
        if not url:
            raise ProviderRequestError("The Lyrion provider needs AUDIOMUSE_LYRION_URL (e.g. http://lms:9000).")
        self.client = HttpClient("Lyrion", url, timeout_s=timeout_s, retries=retries, setting_hint="AUDIOMUSE_LYRION_URL")

    def request(self, *command: Any) -> dict:
        resp = self.client.request("POST", "jsonrpc.js", json={"id": 1, "method": "slim.request", "params": ["", list(command)]})
        with resp:
            try:
                body = resp.json()
            except ValueError as exc:
                raise ProviderRequestError(f"Lyrion at {self.client.base_url} answered {command[0]} with something that is not JSON.") from exc
        if not isinstance(body, dict) or "result" not in body:
            raise ProviderRequestError(f"Lyrion at {self.client.base_url} sent no result for {command[0]}: {str(body)[:200]}")
        return body["result"] or {}

    def _paged(self, command: str, loop: str, *args: str, limit: int = 0) -> list[dict]:
        out: list[dict] = []
        while True:
            size = PAGE if not limit else min(PAGE, limit - len(out))
            result = self.request(command, len(out), size, *args)
            items = result.get(loop) or []
            out.extend(items)
            total = int(result.get("count", len(out)))
            if len(items) < size or len(out) >= total or (limit and len(out) >= limit):
                return out

    # ------------------------------------------------------------------------------------ protocol
    def list_albums(self, limit: int = 0) -> list[Album]:
        items = self._paged("albums", "albums_loop", "sort:new", "tags:laSs", limit=limit)
        return [Album(id=str(a["id"]), name=a.get("album") or "", artist=a.get("artist") or "",
                      added_at=None, track_count=None) for a in items]

    def list_tracks(self, album: Album) -> list[Track]:
        items = self._paged("titles", "titles_loop", f"album_id:{album.id}", "sort:tracknum", "tags:aldtugs")
        return [
            Track(item_id=str(t["id"]), title=t.get("title") or "", artist=t.get("artist") or album.artist,
                  album=t.get("album") or album.name, album_artist=album.artist,
                  path_or_url=t.get("url") or f"lyrion:{t['id']}", album_id=album.id,
                  duration=float(t["duration"]) if t.get("duration") else None,
                  track_number=int(t["tracknum"]) if str(t.get("tracknum", "")).isdigit() else None,
                  genre=t.get("genre"), artist_id=str(t.get("artist_id") or ""))
            for t in items
        ]

    @contextmanager
    def local_file(self, track: Track) -> Iterator[Path]:
        suffix = Path(track.path_or_url).suffix or ".audio"
        with temporary_download(self.client, f"music/{track.item_id}/download", track.item_id + suffix) as path:
            yield path

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """The file's download cut after ``seconds`` worth of its own bytes (its size and duration from
        ``titles track_id:``); ``start_s`` cannot be honoured (a byte offset into a compressed file does not
        play), so it starts at the beginning."""
        rows = self.request("titles", 0, 1, f"track_id:{item_id}", "tags:dfr").get("titles_loop") or [{}]
        kbps = file_kbps(rows[0].get("filesize"), rows[0].get("duration"), rows[0].get("bitrate"))
        clip = self.client.excerpt(f"music/{item_id}/download", None, seconds, kbps=kbps)
        return self.client.require_audio(clip, "download")

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        old = [p.id for p in self.list_playlists() if p.name == name]
        building = f"~{secrets.token_hex(4)}~{name}" if old else name
        result = self.request("playlists", "new", f"name:{building}")
        playlist_id = str(result.get("playlist_id") or "")
        if not playlist_id:
            raise ProviderRequestError(f"Lyrion at {self.client.base_url} did not create playlist {building!r}.")
        for item_id in item_ids:
            self.request("playlists", "edit", "cmd:add", f"playlist_id:{playlist_id}", f"track_id:{item_id}")
        if old:
            for old_id in old:
                self.delete_playlist(old_id)
            self.request("playlists", "rename", f"playlist_id:{playlist_id}", f"newname:{name}")
        return playlist_id

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """Edited in place, so the id stays: the old entries deleted by index (last first), the new ones
        added, the playlist renamed when the name changed. Lyrion's ``add`` skips a song the playlist
        already holds, so the old songs must go first: a failure midway leaves a partial playlist, which
        the next run replaces."""
        current = next((p for p in self.list_playlists() if p.id == playlist_id), None) if playlist_id else None
        if current is None:
            return self.create_playlist(name, item_ids)
        held = int(self.request("playlists", "tracks", 0, 0, f"playlist_id:{current.id}").get("count") or 0)
        for index in range(held - 1, -1, -1):
            self.request("playlists", "edit", "cmd:delete", f"playlist_id:{current.id}", f"index:{index}")
        for item_id in item_ids:
            self.request("playlists", "edit", "cmd:add", f"playlist_id:{current.id}", f"track_id:{item_id}")
        if current.name != name:
            self.request("playlists", "rename", f"playlist_id:{current.id}", f"newname:{name}")
        return current.id

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        items = self._paged("playlists", "playlists_loop", "tags:s")
        return [PlaylistInfo(str(p["id"]), p.get("playlist") or "", int(p.get("count") or 0))
                for p in items if suffix is None or (p.get("playlist") or "").endswith(suffix)]

    def delete_playlist(self, playlist_id: str) -> None:
        self.request("playlists", "delete", f"playlist_id:{playlist_id}")

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        """The server's most played tracks (``titles`` ordered by ``tracks_persistent.playcount``, tag ``O``):
        Lyrion counts plays per server, not per user, and keeps no last-played time in this query, so
        ``user`` is ignored and every record weighs by its count alone (AudioMuse-AI reads the same list)."""
        rows = self.request("titles", 0, max(1, limit), f"sort:sql={PLAYCOUNT} DESC", "tags:O").get("titles_loop") or []
        plays = [(str(t["id"]), int(t.get("playcount") or 0)) for t in rows if t.get("id") is not None]
        return [PlayRecord(item_id, count, None) for item_id, count in plays if count > 0][:limit]

    def health(self) -> Health:
        try:
            result = self.request("serverstatus", 0, 0)
        except ProviderError as exc:
            return Health(False, self.name, str(exc))
        return Health(True, self.name, f"Lyrion {result.get('version', '')} at {self.client.base_url}")
