"""Emby as a media provider. Jellyfin began as a fork of Emby and both still speak the same item API
(``/Users/{id}/Items``, ``UserData``, ``ArtistItems``, ``X-Emby-Token``), so this is the Jellyfin provider
with Emby's differences: every path under ``/emby``, playlists created from query parameters
(``POST /emby/Playlists?Name=&Ids=&UserId=&MediaType=Audio``) and deleted with ``POST /emby/Items/Delete?Ids=``;
songs are swapped in place through ``/emby/Playlists/{id}/Items`` as on Jellyfin.
Previews use the same ``Audio/{id}/universal`` stream as Jellyfin's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from audiomuse_ray.providers.http import HttpClient
from audiomuse_ray.providers.jellyfin import JellyfinProvider
from audiomuse_ray.providers.registry import Capabilities, HistoryUser, register


@dataclass(frozen=True)
class EmbyConfig:
    emby_url: str
    emby_user_id: str
    emby_token: str = field(repr=False)
    http_timeout_s: float = 30.0
    http_retries: int = 3


@register("emby", config=EmbyConfig, title="Emby",
          capabilities=Capabilities(history=True, artist_ids=True, streaming=True, playlists=True,
                                      playlist_in_place=True),
          history_user=HistoryUser("Emby user name or id", "Emby API token", secret="token",
                                   default_from="emby_user_id"))
class EmbyProvider(JellyfinProvider):
    name = "emby"
    server = "Emby"
    env_prefix = "AUDIOMUSE_EMBY"

    @classmethod
    def from_config(cls, c: EmbyConfig) -> "EmbyProvider":
        return cls(c.emby_url, c.emby_user_id, c.emby_token, timeout_s=c.http_timeout_s, retries=c.http_retries)

    def _client(self, url: str, token: str, timeout_s: float, retries: int) -> HttpClient:
        base = url.rstrip("/")
        return super()._client(base if base.endswith("/emby") else base + "/emby", token, timeout_s, retries)

    def _post_playlist(self, name: str, item_ids: Sequence[str]):
        return self.client.request("POST", "Playlists", params={"Name": name, "Ids": ",".join(item_ids),
                                                                "UserId": self.user_id, "MediaType": "Audio"})

    def _rename_playlist(self, playlist_id: str, name: str) -> bool:
        return False  # Emby renames only through a whole item update: a renamed radio gets a new playlist

    def delete_playlist(self, playlist_id: str) -> None:
        self.client.request("POST", "Items/Delete", params={"Ids": playlist_id}).close()
