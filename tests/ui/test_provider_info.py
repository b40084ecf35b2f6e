"""The UI learns what the media provider supports from the API (``GET /api/provider``, or an older server's
``/api/config``) and fills the fingerprint's fields from it, never from the provider's name."""

from __future__ import annotations

import pytest

from audiomuse_ray.providers import describe_provider
from audiomuse_ray.settings import Settings
from audiomuse_ray.ui.client import ApiClient, ApiError
from audiomuse_ray.ui.fingerprint import field_labels, history_credentials
from tests.fakes.loopback import LoopbackServer, Response

SERVERS = {
    "jellyfin": dict(jellyfin_url="http://jf", jellyfin_user_id="jf-admin", jellyfin_token="k"),
    "emby": dict(emby_url="http://emby", emby_user_id="emby-admin", emby_token="k"),
    "subsonic": dict(subsonic_url="http://nd", subsonic_user="nd-admin", subsonic_password="p"),
    "plex": dict(plex_url="http://plex", plex_token="t"),
    "lyrion": dict(lyrion_url="http://lms"),
    "local": dict(music_dir="/music"),
}


def described(name: str) -> dict:
    return describe_provider(Settings.load({}, provider=name, **SERVERS[name]))


def test_provider_info_reads_the_route_and_falls_back_on_an_older_server():
    with LoopbackServer() as new, LoopbackServer() as old, LoopbackServer() as broken:
        new.route("GET", "/api/provider", lambda r: Response(200, described("subsonic")))
        old.route("GET", "/api/config", lambda r: Response(200, {"provider": "jellyfin", "jellyfin_user_id": "u9"}))
        broken.route("GET", "/api/provider", lambda r: Response(500, {"error": "the registry is on fire"}))
        assert ApiClient(new.url).provider_info() == described("subsonic")
        fallback = ApiClient(old.url).provider_info()
        assert [r.path for r in old.requests] == ["/api/provider", "/api/config"]
        assert fallback["name"] == "jellyfin" and fallback["capabilities"] == {}
        assert fallback["history_user"]["secret"] == "" and fallback["history_user"]["default_user"] == "u9"
        with pytest.raises(ApiError, match="on fire"):  # only a missing route falls back
            ApiClient(broken.url).provider_info()


@pytest.mark.parametrize("name, token, password", [
    ("jellyfin", "key", ""), ("emby", "key", ""), ("plex", "key", ""), ("subsonic", "", "key"),
    ("local", "", ""), ("lyrion", "", ""),
])
def test_the_secret_goes_where_the_provider_reads_it(name, token, password):
    assert history_credentials(described(name), " bob ", "key") == {"user": "bob", "token": token,
                                                                     "password": password}


def test_an_older_server_gets_the_secret_both_ways():
    older = {"name": "jellyfin", "capabilities": {}, "history_user": {"user_label": "User", "secret": ""}}
    assert history_credentials(older, "bob", "key") == {"user": "bob", "token": "key", "password": "key"}


def test_the_fields_follow_the_provider():
    user, secret = field_labels(described("jellyfin"))
    assert user["label"] == "Jellyfin user name or id" and user["value"] == "jf-admin" and user["visible"]
    assert secret == {"label": "Jellyfin API token", "visible": True}
    user, secret = field_labels(described("subsonic"))
    assert user["value"] == "nd-admin" and secret["label"] == "Password"
    user, secret = field_labels(described("plex"))  # Plex names the listener by token alone
    assert not user["visible"] and secret["visible"] and "token" in secret["label"]
    user, secret = field_labels(described("local"))
    assert not user["interactive"] and "keeps no listening history" in user["info"] and not secret["visible"]
