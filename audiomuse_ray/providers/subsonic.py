"""Subsonic-API servers (Navidrome, gonic, Airsonic, supysonic...) as a media provider.

Auth: token (``t = md5(password + salt)``, what Navidrome prefers) or password (``p=enc:<hex>``, what
older servers such as supysonic accept). In ``auto`` mode the first call tries the token and falls back
to the password on error 10 (missing parameter) or 41 (token auth unsupported), then remembers. Request
threads share one provider: the first call negotiates under a lock while the others wait for its answer,
so the fallback is decided once.
Playlists of an existing name are rewritten in place (``createPlaylist`` with ``playlistId``): same id, and
a failed call leaves the old songs.
History is per user and only as rich as the server: ``getAlbumList2`` type=frequent plus the songs'
``playCount``/``played`` fields (Navidrome fills both).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from audiomuse_ray.errors import ProviderAuthError, ProviderError, ProviderRequestError
from audiomuse_ray.providers.base import (
    Album, Excerpt, Health, PlaylistInfo, PlayRecord, SuffixPlaylistCleanup, Track, UserCredentials, parse_iso_time,
)
from audiomuse_ray.providers.http import STREAM_KBPS, HttpClient, file_kbps, temporary_download
from audiomuse_ray.providers.registry import Capabilities, HistoryUser, register

API_VERSION = "1.12.0"  # the oldest version that has everything used here (getAlbumList2, ID3 browsing)
CLIENT_NAME = "audiomuse-ray"
PAGE = 500
FALLBACK_CODES = {10, 41}
AUTH_CODES = {40, 41, 42, 43, 44, 50}


@dataclass(frozen=True)
class SubsonicConfig:
    subsonic_url: str
    subsonic_user: str
    subsonic_password: str = field(default="", repr=False)
    subsonic_auth: str = "auto"
    http_timeout_s: float = 30.0
    http_retries: int = 3


@register("subsonic", config=SubsonicConfig, title="Subsonic/Navidrome",
          capabilities=Capabilities(history=True, artist_ids=True, streaming=True, playlists=True,
                                      playlist_in_place=True),
          history_user=HistoryUser("Navidrome/Subsonic user name", "Password", secret="password",
                                   default_from="subsonic_user"))
class SubsonicProvider(SuffixPlaylistCleanup):
    name = "subsonic"

    @classmethod
    def from_config(cls, c: SubsonicConfig) -> "SubsonicProvider":
        return cls(c.subsonic_url, c.subsonic_user, c.subsonic_password, auth=c.subsonic_auth,
                   timeout_s=c.http_timeout_s, retries=c.http_retries)

    def __init__(self, url: str, user: str, password: str, *, auth: str = "auto",
                 timeout_s: float = 30.0, retries: int = 3):
        if not url or not user:
            raise ProviderRequestError("The Subsonic provider needs AUDIOMUSE_SUBSONIC_URL and AUDIOMUSE_SUBSONIC_USER.")
        self.user, self.password, self.auth = user, password, auth
        self._auth_lock = threading.Lock()  # held while "auto" is being settled
        self.client = HttpClient("Subsonic server", url, timeout_s=timeout_s, retries=retries,
                                 setting_hint="AUDIOMUSE_SUBSONIC_URL")

    # ------------------------------------------------------------------------------------ transport
    def _auth_params(self, mode: str, user: str, password: str) -> dict[str, str]:
        base = {"u": user, "v": API_VERSION, "c": CLIENT_NAME, "f": "json"}
        if mode == "token":
            salt = secrets.token_hex(6)
            base.update(t=hashlib.md5((password + salt).encode()).hexdigest(), s=salt)
        else:
            base["p"] = "enc:" + password.encode().hex()
        return base

    def call(self, method: str, params: dict[str, Any] | None = None, *, creds: UserCredentials | None = None) -> dict:
        """Call ``/rest/<method>`` and return the ``subsonic-response`` body, raising typed errors."""
        user = creds.user if creds and creds.user else self.user
        password = creds.password if creds and creds.password else self.password
        if self.auth == "auto":
            with self._auth_lock:
                if self.auth == "auto":  # still undecided once this thread holds the lock: settle it
                    body = self._negotiate(method, params, user, password)
                    return self._checked(method, body, user)
        mode = "token" if self.auth == "token" else "password"
        return self._checked(method, self._call_once(method, params, mode, user, password), user)

    def _negotiate(self, method: str, params: dict[str, Any] | None, user: str, password: str) -> dict:
        """Token first; on a fallback code the password, and remember whichever the server took."""
        body = self._call_once(method, params, "token", user, password)
        error = body.get("error") if body.get("status") != "ok" else None
        if error and error.get("code") in FALLBACK_CODES:
            self.auth = "password"
            body = self._call_once(method, params, "password", user, password)
        elif not error:
            self.auth = "token"
        return body

    def _checked(self, method: str, body: dict, user: str) -> dict:
        error = body.get("error") if body.get("status") != "ok" else None
        if error:
            code, message = error.get("code"), error.get("message", "")
            if code in AUTH_CODES:
                raise ProviderAuthError(
                    f"Subsonic server at {self.client.base_url} refused user {user!r} (error {code}: {message}). "
                    "Check AUDIOMUSE_SUBSONIC_USER / AUDIOMUSE_SUBSONIC_PASSWORD."
                )
            raise ProviderRequestError(f"Subsonic server at {self.client.base_url}: {method} failed (error {code}: {message}).")
        return body

    def _call_once(self, method: str, params: dict[str, Any] | None, mode: str, user: str, password: str) -> dict:
        query = list(self._auth_params(mode, user, password).items())
        for k, v in (params or {}).items():
            query.extend((k, x) for x in v) if isinstance(v, (list, tuple)) else query.append((k, v))
        data = self.client.get_json(f"rest/{method}", params=query)
        body = data.get("subsonic-response") if isinstance(data, dict) else None
        if not isinstance(body, dict):
            raise ProviderRequestError(f"Subsonic server at {self.client.base_url} sent no subsonic-response for {method}.")
        return body

    # ------------------------------------------------------------------------------------ protocol
    def list_albums(self, limit: int = 0) -> list[Album]:
        albums: list[Album] = []
        offset = 0
        while True:
            size = PAGE if not limit else min(PAGE, limit - len(albums))
            body = self.call("getAlbumList2", {"type": "newest", "size": size, "offset": offset})
            page = (body.get("albumList2") or {}).get("album") or []
            albums.extend(
                Album(id=str(a["id"]), name=a.get("name") or a.get("album") or "", artist=a.get("artist") or "",
                      added_at=parse_iso_time(a.get("created")), track_count=a.get("songCount"))
                for a in page
            )
            offset += len(page)
            if len(page) < size or (limit and len(albums) >= limit):
                return albums[:limit] if limit else albums

    def list_tracks(self, album: Album) -> list[Track]:
        body = self.call("getAlbum", {"id": album.id})
        a = body.get("album") or {}
        return [_track(s, album_artist=a.get("artist") or album.artist, album_id=album.id) for s in a.get("song") or []]

    def _settled_auth_params(self) -> dict[str, str]:
        """Auth parameters for a URL fetched outside ``call`` (files, streams), "auto" settled first."""
        if self.auth == "auto":
            self.call("ping")
        return self._auth_params("token" if self.auth == "token" else "password", self.user, self.password)

    @contextmanager
    def local_file(self, track: Track) -> Iterator[Path]:
        params = dict(self._settled_auth_params(), id=track.item_id)
        suffix = track.path_or_url.rsplit(".", 1)[-1] if "." in track.path_or_url[-6:] else "audio"
        with temporary_download(self.client, "rest/download", f"{track.item_id}.{suffix}", params=params) as path:
            yield path

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """The server's ``stream`` transcoded to MP3 at 128 kbit/s, cut after ``seconds`` worth of bytes.
        Servers differ, so it falls back step by step: ``timeOffset`` is sent only for a start (the API
        defines it for video; Navidrome honours it for audio, supysonic refuses it); a server without a
        transcoder for the file (supysonic by default) sends it ``raw``, cut by the file's own bit rate
        (``getSong``: size and duration) and from its beginning."""
        base = {**self._settled_auth_params(), "id": item_id}
        mp3 = {**base, "format": "mp3", "maxBitRate": STREAM_KBPS}
        tries = [{**mp3, "timeOffset": int(start_s)}] if start_s and int(start_s) > 0 else []
        for params in [*tries, mp3]:
            try:
                return self._stream(params, seconds, STREAM_KBPS)
            except ProviderAuthError:
                raise
            except ProviderRequestError:
                continue
        song = self.call("getSong", {"id": item_id}).get("song") or {}
        kbps = file_kbps(song.get("size"), song.get("duration"), song.get("bitRate"))
        return self._stream({**base, "format": "raw"}, seconds, kbps)

    def _stream(self, params: dict[str, Any], seconds: float, kbps: float) -> Excerpt:
        """One ``stream`` call; its error arrives as a JSON (or XML) document in the audio's place."""
        clip = self.client.excerpt("rest/stream", params, seconds, kbps=kbps)
        if clip.media_type in ("application/json", "text/xml", "application/xml"):
            try:
                body = (json.loads(clip.data) or {}).get("subsonic-response") or {}
            except ValueError:
                body = {}
            self._checked("stream", body or {"status": "failed", "error": {"message": "no audio"}}, self.user)
        return self.client.require_audio(clip, "stream")

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        same = [p for p in self.list_playlists() if p.name == name]
        if same:  # rewrite the first in place (one call: a failure leaves its old songs), drop duplicates
            self.call("createPlaylist", {"playlistId": same[0].id, "songId": list(item_ids)})
            for extra in same[1:]:
                self.delete_playlist(extra.id)
            return same[0].id
        body = self.call("createPlaylist", {"name": name, "songId": list(item_ids)})
        created = body.get("playlist") or {}
        if created.get("id"):
            return str(created["id"])
        found = [p for p in self.list_playlists() if p.name == name]  # API < 1.14 returns an empty body
        return found[0].id if found else ""

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """``createPlaylist`` with ``playlistId`` swaps the songs in one call (a failure leaves the old ones),
        ``updatePlaylist`` renames; a playlist that is gone is created anew."""
        current = next((p for p in self.list_playlists() if p.id == playlist_id), None) if playlist_id else None
        if current is None:
            return self.create_playlist(name, item_ids)
        self.call("createPlaylist", {"playlistId": current.id, "songId": list(item_ids)})
        if current.name != name:
            self.call("updatePlaylist", {"playlistId": current.id, "name": name})
        return current.id

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        body = self.call("getPlaylists")
        items = (body.get("playlists") or {}).get("playlist") or []
        return [PlaylistInfo(str(p["id"]), p.get("name", ""), int(p.get("songCount") or 0))
                for p in items if suffix is None or p.get("name", "").endswith(suffix)]

    def delete_playlist(self, playlist_id: str) -> None:
        self.call("deletePlaylist", {"id": playlist_id})

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        body = self.call("getAlbumList2", {"type": "frequent", "size": 50}, creds=user)
        records: dict[str, PlayRecord] = {}
        for a in (body.get("albumList2") or {}).get("album") or []:
            album = self.call("getAlbum", {"id": a["id"]}, creds=user).get("album") or {}
            for s in album.get("song") or []:
                count = int(s.get("playCount") or 0)
                if count > 0:
                    records[str(s["id"])] = PlayRecord(str(s["id"]), count, parse_iso_time(s.get("played")))
        return sorted(records.values(), key=lambda r: (-r.play_count, r.item_id))[:limit]

    def health(self) -> Health:
        try:
            self.call("ping")
        except ProviderError as exc:
            return Health(False, self.name, str(exc))
        return Health(True, self.name, f"{self.client.base_url} answers ({self.auth} auth)")


def _track(s: dict, *, album_artist: str, album_id: str) -> Track:
    return Track(
        item_id=str(s["id"]),
        title=s.get("title") or "",
        artist=s.get("artist") or album_artist,
        album=s.get("album") or "",
        album_artist=album_artist,
        path_or_url=s.get("path") or f"subsonic:{s['id']}",
        album_id=album_id,
        duration=float(s["duration"]) if s.get("duration") else None,
        track_number=s.get("track"),
        genre=s.get("genre"),
        artist_id=str(s.get("artistId") or ""),
    )

