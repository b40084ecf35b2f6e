"""Jellyfin as a media provider, through its documented REST API with an API key (``X-Emby-Token``).

Albums come newest first from ``/Users/{id}/Items?IncludeItemTypes=MusicAlbum&SortBy=DateCreated``;
files from ``/Items/{id}/Download``; excerpts from ``/Audio/{id}/universal`` (MP3 at 128 kbit/s from
``StartTimeTicks``); playlists through ``/Playlists``; history from the user's ``UserData`` (PlayCount,
LastPlayedDate).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from audiomuse_ray.errors import ProviderError, ProviderRequestError, UnknownUser
from audiomuse_ray.providers.base import (
    Album, Excerpt, Health, PlaylistInfo, PlayRecord, SuffixPlaylistCleanup, Track, UserCredentials, parse_iso_time,
)
from audiomuse_ray.providers.http import STREAM_KBPS, HttpClient, temporary_download
from audiomuse_ray.providers.registry import Capabilities, HistoryUser, register

PAGE = 500
PLAYLIST_BATCH = 100  # ids per playlist edit (they travel in the query string)
TICKS_PER_SECOND = 10_000_000


@dataclass(frozen=True)
class JellyfinConfig:
    jellyfin_url: str
    jellyfin_user_id: str
    jellyfin_token: str = field(repr=False)
    http_timeout_s: float = 30.0
    http_retries: int = 3


@register("jellyfin", config=JellyfinConfig, title="Jellyfin",
          capabilities=Capabilities(history=True, artist_ids=True, streaming=True, playlists=True,
                                      playlist_in_place=True),
          history_user=HistoryUser("Jellyfin user name or id", "Jellyfin API token", secret="token",
                                   default_from="jellyfin_user_id"))
class JellyfinProvider(SuffixPlaylistCleanup):
    name = "jellyfin"
    server = "Jellyfin"
    env_prefix = "AUDIOMUSE_JELLYFIN"

    @classmethod
    def from_config(cls, c: JellyfinConfig) -> "JellyfinProvider":
        return cls(c.jellyfin_url, c.jellyfin_user_id, c.jellyfin_token, timeout_s=c.http_timeout_s,
                   retries=c.http_retries)

    def __init__(self, url: str, user_id: str, token: str, *, timeout_s: float = 30.0, retries: int = 3):
        if not url or not user_id or not token:
            p = self.env_prefix
            raise ProviderRequestError(f"The {self.server} provider needs {p}_URL, {p}_USER_ID and {p}_TOKEN.")
        self.user_id, self.token = user_id, token
        self.client = self._client(url, token, timeout_s, retries)

    def _client(self, url: str, token: str, timeout_s: float, retries: int) -> HttpClient:
        return HttpClient(self.server, url, timeout_s=timeout_s, retries=retries,
                          headers={"X-Emby-Token": token, "Accept": "application/json"},
                          setting_hint=f"{self.env_prefix}_URL")

    def _post_playlist(self, name: str, item_ids: Sequence[str]):
        return self.client.request("POST", "Playlists", json={"Name": name, "Ids": list(item_ids),
                                                              "UserId": self.user_id, "MediaType": "Audio"})

    def _items(self, user_id: str, params: dict, client: HttpClient | None = None, limit: int = 0) -> list[dict]:
        client = client or self.client
        out: list[dict] = []
        while True:
            size = PAGE if not limit else min(PAGE, limit - len(out))
            page = client.get_json(f"Users/{user_id}/Items", params={**params, "StartIndex": len(out), "Limit": size})
            items = page.get("Items") or []
            out.extend(items)
            total = page.get("TotalRecordCount", len(out))
            if len(items) < size or len(out) >= total or (limit and len(out) >= limit):
                return out

    # ------------------------------------------------------------------------------------ protocol
    def list_albums(self, limit: int = 0) -> list[Album]:
        items = self._items(self.user_id, {"IncludeItemTypes": "MusicAlbum", "Recursive": "true",
                                           "SortBy": "DateCreated", "SortOrder": "Descending",
                                           "Fields": "DateCreated,ChildCount"}, limit=limit)
        return [Album(id=i["Id"], name=i.get("Name") or "", artist=i.get("AlbumArtist") or "",
                      added_at=parse_iso_time(i.get("DateCreated")), track_count=i.get("ChildCount")) for i in items]

    def list_tracks(self, album: Album) -> list[Track]:
        items = self._items(self.user_id, {"ParentId": album.id, "IncludeItemTypes": "Audio", "Recursive": "true",
                                           "SortBy": "ParentIndexNumber,IndexNumber,SortName",
                                           "Fields": "Path,Genres,ArtistItems"})
        return [_track(i, album) for i in items]

    @contextmanager
    def local_file(self, track: Track) -> Iterator[Path]:
        suffix = Path(track.path_or_url).suffix or ".audio"
        with temporary_download(self.client, f"Items/{track.item_id}/Download", track.item_id + suffix) as path:
            yield path

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        """The server's universal audio stream, transcoded to MP3 from ``start_s``, cut after ``seconds``."""
        params = {"UserId": self.user_id, "Container": "mp3", "AudioCodec": "mp3", "TranscodingContainer": "mp3",
                  "MaxStreamingBitrate": STREAM_KBPS * 1000, "StartTimeTicks": int((start_s or 0) * TICKS_PER_SECOND)}
        clip = self.client.excerpt(f"Audio/{item_id}/universal", params, seconds)
        return self.client.require_audio(clip, "Audio/universal")

    def create_playlist(self, name: str, item_ids: Sequence[str]) -> str:
        """The new playlist first, then the old ones of that name: a failed create leaves them in place."""
        old = [p.id for p in self.list_playlists() if p.name == name]
        with self._post_playlist(name, item_ids) as resp:
            try:
                playlist_id = str((resp.json() or {}).get("Id") or "")
            except ValueError:
                playlist_id = ""
        if not playlist_id:
            raise ProviderRequestError(f"{self.server} at {self.client.base_url} did not say which playlist it created "
                                       f"for {name!r}; the old one is kept.")
        for old_id in old:
            if old_id != playlist_id:
                self.delete_playlist(old_id)
        return playlist_id

    def replace_playlist(self, playlist_id: str | None, name: str, item_ids: Sequence[str]) -> str:
        """The new songs added (``POST Playlists/{id}/Items``), then the old entries removed by their entry
        ids (``DELETE Playlists/{id}/Items?EntryIds=``): the id stays and a failed add leaves the old songs.
        A new name needs ``POST Playlists/{id}`` (Jellyfin 10.9+); where that is refused, a new playlist."""
        current = next((p for p in self.list_playlists() if p.id == playlist_id), None) if playlist_id else None
        if current is None:
            return self.create_playlist(name, item_ids)
        if current.name != name and not self._rename_playlist(current.id, name):
            created = self.create_playlist(name, item_ids)
            self.delete_playlist(current.id)
            return created
        entries = self.client.get_json(f"Playlists/{current.id}/Items", params={"UserId": self.user_id})
        old = [str(i["PlaylistItemId"]) for i in (entries or {}).get("Items") or [] if i.get("PlaylistItemId")]
        for batch in _batches(list(item_ids)):
            self.client.request("POST", f"Playlists/{current.id}/Items",
                                params={"Ids": ",".join(batch), "UserId": self.user_id}).close()
        for batch in _batches(old):
            self.client.request("DELETE", f"Playlists/{current.id}/Items", params={"EntryIds": ",".join(batch)}).close()
        return current.id

    def _rename_playlist(self, playlist_id: str, name: str) -> bool:
        try:
            self.client.request("POST", f"Playlists/{playlist_id}", json={"Name": name}).close()
        except ProviderRequestError:
            return False
        return True

    def list_playlists(self, suffix: str | None = None) -> list[PlaylistInfo]:
        items = self._items(self.user_id, {"IncludeItemTypes": "Playlist", "Recursive": "true", "Fields": "ChildCount"})
        return [PlaylistInfo(i["Id"], i.get("Name") or "", int(i.get("ChildCount") or 0))
                for i in items if suffix is None or (i.get("Name") or "").endswith(suffix)]

    def delete_playlist(self, playlist_id: str) -> None:
        self.client.request("DELETE", f"Items/{playlist_id}").close()

    def resolve_user(self, identifier: str) -> str:
        """The user id for ``identifier``, a user name (what the Jellyfin plugin's scheduled fingerprint task
        sends) or an id. Names are looked up in ``/Users`` with the configured API key, case-insensitively."""
        identifier = identifier.strip()
        if not identifier:
            return self.user_id
        if _looks_like_id(identifier):
            return identifier
        users = [u for u in self.client.get_json("Users") or [] if isinstance(u, dict) and u.get("Id")]
        for u in users:
            if str(u.get("Name") or "").casefold() == identifier.casefold() or str(u["Id"]) == identifier:
                return str(u["Id"])
        raise UnknownUser(f"{self.server} at {self.client.base_url} has no user named {identifier!r}: send a user "
                          "name or id that exists there.")

    def top_played(self, user: UserCredentials | None = None, limit: int = 20) -> list[PlayRecord]:
        user_id = self.resolve_user(user.user if user else "")
        client = self.client
        if user and user.token:
            client = self._client(self.client.base_url, user.token, self.client.timeout_s, self.client.retries)
        items = self._items(user_id, {"IncludeItemTypes": "Audio", "Recursive": "true", "SortBy": "PlayCount",
                                      "SortOrder": "Descending", "Filters": "IsPlayed", "Fields": "UserData"},
                            client=client, limit=limit)
        out = []
        for i in items:
            data = i.get("UserData") or {}
            if int(data.get("PlayCount") or 0) > 0:
                out.append(PlayRecord(i["Id"], int(data["PlayCount"]), parse_iso_time(data.get("LastPlayedDate"))))
        return out

    def health(self) -> Health:
        try:
            info = self.client.get_json("System/Info")
        except ProviderError as exc:
            return Health(False, self.name, str(exc))
        return Health(True, self.name, f"{info.get('ServerName', self.server)} {info.get('Version', '')} at {self.client.base_url}")


def _track(i: dict, album: Album) -> Track:
    artists = i.get("Artists") or []
    ticks = i.get("RunTimeTicks")
    return Track(
        item_id=i["Id"],
        title=i.get("Name") or "",
        artist=artists[0] if artists else (i.get("AlbumArtist") or album.artist),
        album=i.get("Album") or album.name,
        album_artist=i.get("AlbumArtist") or album.artist,
        path_or_url=i.get("Path") or f"jellyfin:{i['Id']}",
        album_id=album.id,
        duration=ticks / TICKS_PER_SECOND if ticks else None,
        track_number=i.get("IndexNumber"),
        genre=(i.get("Genres") or [None])[0],
        artist_id=_artist_id(i, artists[0] if artists else ""),
    )


def _batches(ids: list[str], size: int = PLAYLIST_BATCH) -> list[list[str]]:
    """Ids in groups short enough for one query string."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _looks_like_id(text: str) -> bool:
    """Jellyfin's ids are GUIDs, sent with or without dashes."""
    hex_digits = text.replace("-", "")
    return len(hex_digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in hex_digits)


def _artist_id(i: dict, name: str) -> str:
    """The id of the artist item named ``name`` (``ArtistItems``), else of the first one; "" without any."""
    items = [a for a in i.get("ArtistItems") or [] if isinstance(a, dict) and a.get("Id")]
    named = [a for a in items if a.get("Name") == name]
    return str((named or items or [{"Id": ""}])[0]["Id"])

