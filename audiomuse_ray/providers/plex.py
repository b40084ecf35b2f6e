"""Plex Media Server as a media provider, through its HTTP API with a token (``X-Plex-Token``), in JSON
(``Accept: application/json``; every answer is a ``MediaContainer``).

Music libraries are the sections of type ``artist``; albums come from ``/library/sections/{key}/all?type=9``
newest first, tracks from ``/library/metadata/{album}/children`` and files from their part's ``key``
(``?download=1``); an excerpt is the start of that part (found from ``/library/metadata/{track}``), cut
by the part's own bit rate. Playlists are created from a ``server://{machineIdentifier}/...`` URI of the
tracks (``POST /playlists``), listed with ``/playlists?playlistType=audio`` and deleted by ``ratingKey``. The play
history is the token owner's: tracks sorted by ``viewCount`` with their ``lastViewedAt``; another user's
fingerprint needs that user's token (``UserCredentials.token``).
"""

from __future__ import annotations

import mimetypes
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from audiomuse_ray.errors import ProviderError, ProviderRequestError
from audiomuse_ray.providers.base import (
    Album, Excerpt, Health, PlaylistInfo, PlayRecord, SuffixPlaylistCleanup, Track, UserCredentials,
)
from audiomuse_ray.providers.http import HttpClient, file_kbps, temporary_download
from audiomuse_ray.providers.registry import Capabilities, HistoryUser, register

PAGE = 500
PLAYLIST_BATCH = 100  # tracks per playlist edit (their ids travel in the query string)
ALBUM_TYPE, TRACK_TYPE = 9, 10


@dataclass(frozen=True)
class PlexConfig:
    plex_url: str
    plex_token: str = field(repr=False)
    http_timeout_s: float = 30.0
    http_retries: int = 3


@register("plex", config=PlexConfig, title="Plex",
          capabilities=Capabilities(history=True, artist_ids=True, streaming=True, playlists=True,
                                      playlist_in_place=True),
          # the history is the token owner's: another user is named by their own token, not a name
          history_user=HistoryUser("", "Plex token of the listening user", secret="token"))
class PlexProvider(SuffixPlaylistCleanup):
    name = "plex"

    @classmethod
    def from_config(cls, c: PlexConfig) -> "PlexProvider":
        return cls(c.plex_url, c.plex_token, timeout_s=c.http_timeout_s, retries=c.http_retries)

    def __init__(self, url: str, token: str, *, timeout_s: float = 30.0, retries: int = 3):
        if not url or not token:
            raise ProviderRequestError("The Plex provider needs AUDIOMUSE_PLEX_URL and AUDIOMUSE_PLEX_TOKEN.")
        self.client = self._client(url, token, timeout_s, retries)
        self._machine: str | None = None

    @staticmethod
    def _client(url: str, token: str, timeout_s: float, retries: int) -> HttpClient:
        return HttpClient("Plex", url, timeout_s=timeout_s, retries=retries,
                          headers={"X-Plex-Token": token, "Accept": "application/json"},
                          setting_hint="AUDIOMUSE_PLEX_URL")

    def _container(self, path: str, params: Any = None, client: HttpClient | None = None) -> dict:
        body = (client or self.client).get_json(path, params=params)
        container = body.get("MediaContainer") if isinstance(body, dict) else None
        if not isinstance(container, dict):
            raise ProviderRequestError(f"Plex at {self.client.base_url} sent no MediaContainer for {path}.")
        return container

    def _paged(self, path: str, params: dict, limit: int = 0, client: HttpClient | None = None) -> list[dict]:
        out: list[dict] = []
        while True:
            size = PAGE if not limit else min(PAGE, limit - len(out))
            page = self._container(path, {**params, "X-Plex-Container-Start": len(out), "X-Plex-Container-Size": size},
                                   client)
            items = page.get("Metadata") or []
            out.extend(items)
            total = int(page.get("totalSize", len(out)))
            if len(items) < size or len(out) >= total or (limit and len(out) >= limit):
                return out

    def _music_sections(self) -> list[str]:
        return [str(d["key"]) for d in self._container("library/sections").get("Directory") or []
                if d.get("type") == "artist"]

    def _machine_identifier(self) -> str:
        if self._machine is None:
            self._machine = str(self._container("identity").get("machineIdentifier") or "")
        return self._machine

    # ------------------------------------------------------------------------------------ protocol
    def list_albums(self, limit: int = 0) -> list[Album]:
        albums = [a for key in self._music_sections()
                  for a in self._paged(f"library/sections/{key}/all", {"type": ALBUM_TYPE, "sort": "addedAt:desc"}, limit)]
        albums.sort(key=lambda a: -int(a.get("addedAt") or 0))  # several music sections: newest first overall
        out = [Album(id=str(a["ratingKey"]), name=a.get("title") or "", artist=a.get("parentTitle") or "",
                     added_at=_epoch(a.get("addedAt")), track_count=a.get("leafCount")) for a in albums]
        return out[:limit] if limit else out

    def list_tracks(self, album: Album) -> list[Track]:
        items = self._container(f"library/metadata/{album.id}/children").get("Metadata") or []
        return [_track(t, album) for t in items]

    @contextmanager
    def local_file(self, track: Track) -> Iterator[Path]:
        part = track.path_or_url if track.path_or_url.startswith("/library/") else f"/library/metadata/{track.item_id}"
        suffix = Path(part).suffix or ".audio"
        with temporary_download(self.client, part, track.item_id + suffix, params={"download": 1}) as path:
            yield path

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """The start of the track's media part, cut after ``seconds`` worth of its own bytes (the part's size
        and duration); ``start_s`` cannot be honoured by a byte cut (a compressed file does not play from
        the middle)."""
        items = self._container(f"library/metadata/{item_id}").get("Metadata") or []
        media, part = next(((m, p) for t in items[:1] for m in t.get("Media") or [] for p in m.get("Part") or []
                            if p.get("key")), ({}, {}))
        if not part:
            raise ProviderRequestError(f"Plex at {self.client.base_url} lists no media part for track {item_id}.")
        duration_ms = part.get("duration")
        kbps = file_kbps(part.get("size"), duration_ms / 1000 if isinstance(duration_ms, (int, float)) else None,
                         media.get("bitrate"))
        guessed = mimetypes.guess_type(part["key"])[0] or "audio/mpeg"
        clip = self.client.excerpt(part["key"], {"download": 1}, seconds, kbps=kbps, fallback_type=guessed)
        return self.client.require_audio(clip, "a media part")

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        """The new playlist first, then the old ones of that name: a failed create leaves them in place."""
        old = [p.id for p in self.list_playlists() if p.name == name]
        uri = (f"server://{self._machine_identifier()}/com.plexapp.plugins.library/library/metadata/"
               + ",".join(item_ids))
        resp = self.client.request("POST", "playlists", params={"type": "audio", "title": name, "smart": 0, "uri": uri})
        with resp:
            try:
                created = ((resp.json() or {}).get("MediaContainer") or {}).get("Metadata") or [{}]
            except ValueError:
                created = [{}]
        playlist_id = str(created[0].get("ratingKey") or "")
        if not playlist_id:
            raise ProviderRequestError(f"Plex at {self.client.base_url} did not say which playlist it created "
                                       f"for {name!r}; the old one is kept.")
        for old_id in old:
            if old_id != playlist_id:
                self.delete_playlist(old_id)
        return playlist_id

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """The new tracks appended (``PUT /playlists/{id}/items?uri=``), then the old entries removed by
        their ``playlistItemID`` and the title set (``PUT /playlists/{id}?title=``): the ratingKey stays."""
        current = next((p for p in self.list_playlists() if p.id == playlist_id), None) if playlist_id else None
        if current is None:
            return self.create_playlist(name, item_ids)
        entries = self._container(f"playlists/{current.id}/items").get("Metadata") or []
        old = [str(e["playlistItemID"]) for e in entries if e.get("playlistItemID")]
        prefix = f"server://{self._machine_identifier()}/com.plexapp.plugins.library/library/metadata/"
        ids = list(item_ids)
        for i in range(0, len(ids), PLAYLIST_BATCH):
            self.client.request("PUT", f"playlists/{current.id}/items",
                                params={"uri": prefix + ",".join(ids[i:i + PLAYLIST_BATCH])}).close()
        for entry in old:
            self.client.request("DELETE", f"playlists/{current.id}/items/{entry}").close()
        if current.name != name:
            self.client.request("PUT", f"playlists/{current.id}", params={"title": name}).close()
        return current.id

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        items = self._container("playlists", {"playlistType": "audio"}).get("Metadata") or []
        return [PlaylistInfo(str(p["ratingKey"]), p.get("title") or "", int(p.get("leafCount") or 0))
                for p in items if suffix is None or (p.get("title") or "").endswith(suffix)]

    def delete_playlist(self, playlist_id: str) -> None:
        self.client.request("DELETE", f"playlists/{playlist_id}").close()

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        client = self.client
        if user and user.token:
            client = self._client(self.client.base_url, user.token, self.client.timeout_s, self.client.retries)
        out: list[PlayRecord] = []
        for key in self._music_sections():
            for t in self._paged(f"library/sections/{key}/all", {"type": TRACK_TYPE, "sort": "viewCount:desc"},
                                 limit, client):
                if int(t.get("viewCount") or 0) > 0:
                    out.append(PlayRecord(str(t["ratingKey"]), int(t["viewCount"]), _epoch(t.get("lastViewedAt"))))
        return sorted(out, key=lambda r: (-r.play_count, r.item_id))[:limit]

    def health(self) -> Health:
        try:
            info = self._container("identity")
        except ProviderError as exc:
            return Health(False, self.name, str(exc))
        return Health(True, self.name, f"Plex {info.get('version', '')} at {self.client.base_url}")


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


def _track(t: dict, album: Album) -> Track:
    album_artist = t.get("grandparentTitle") or album.artist
    artist = t.get("originalTitle") or album_artist
    part = next((p for m in t.get("Media") or [] for p in m.get("Part") or [] if p.get("key")), {})
    genres = [g.get("tag") for g in t.get("Genre") or [] if g.get("tag")]
    return Track(
        item_id=str(t["ratingKey"]),
        title=t.get("title") or "",
        artist=artist,
        album=t.get("parentTitle") or album.name,
        album_artist=album_artist,
        path_or_url=part.get("key") or f"plex:{t['ratingKey']}",
        album_id=album.id,
        duration=float(t["duration"]) / 1000 if t.get("duration") else None,
        track_number=t.get("index"),
        genre=genres[0] if genres else None,
        # Plex ids the album artist; a track artist of its own (originalTitle) has no id here
        artist_id=str(t.get("grandparentRatingKey") or "") if artist == album_artist else "",
    )
