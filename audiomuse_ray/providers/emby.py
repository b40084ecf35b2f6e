"""Emby as a media provider. Jellyfin began as a fork of Emby and both still speak the same item API
(``/Users/{id}/Items``, ``UserData``, ``ArtistItems``, ``X-Emby-Token``), so this is the Jellyfin provider
with Emby's differences: every path under ``/emby``, playlists created from query parameters
(``POST /emby/Playlists?Name=&Ids=&UserId=&MediaType=Audio``) and deleted with ``POST /emby/Items/Delete?Ids=``.
"""

from __future__ import annotations

from typing import Sequence

from audiomuse_ray.providers.http import HttpClient
from audiomuse_ray.providers.jellyfin import JellyfinProvider


class EmbyProvider(JellyfinProvider):
    name = "emby"
    server = "Emby"
    env_prefix = "AUDIOMUSE_EMBY"

    def _client(self, url: str, token: str, timeout_s: float, retries: int) -> HttpClient:
        base = url.rstrip("/")
        return super()._client(base if base.endswith("/emby") else base + "/emby", token, timeout_s, retries)

    def _post_playlist(self, name: str, item_ids: Sequence[str]):
        return self.client.request("POST", "Playlists", params={"Name": name, "Ids": ",".join(item_ids),
                                                                "UserId": self.user_id, "MediaType": "Audio"})

    def delete_playlist(self, playlist_id: str) -> None:
        self.client.request("POST", "Items/Delete", params={"Ids": playlist_id}).close()
