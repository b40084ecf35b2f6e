"""Media providers: one module per kind of music source, all behind ``MediaProvider``."""

from __future__ import annotations

from audiomuse_ray.providers.base import (
    AUTOMATIC_SUFFIX, INSTANT_SUFFIX, Album, Health, MediaProvider, PlaylistInfo, PlayRecord, Track, UserCredentials,
)
from audiomuse_ray.settings import Settings


def make_provider(settings: Settings) -> MediaProvider:
    """The provider named by ``settings.provider``, configured from the same settings."""
    kind = settings.provider
    if kind == "local":
        from audiomuse_ray.providers.local import LocalFolderProvider

        return LocalFolderProvider(settings.music_dir, settings.playlist_dir)
    common = {"timeout_s": settings.http_timeout_s, "retries": settings.http_retries}
    if kind == "subsonic":
        from audiomuse_ray.providers.subsonic import SubsonicProvider

        return SubsonicProvider(settings.subsonic_url, settings.subsonic_user, settings.subsonic_password,
                                auth=settings.subsonic_auth, **common)
    if kind == "jellyfin":
        from audiomuse_ray.providers.jellyfin import JellyfinProvider

        return JellyfinProvider(settings.jellyfin_url, settings.jellyfin_user_id, settings.jellyfin_token, **common)
    if kind == "lyrion":
        from audiomuse_ray.providers.lyrion import LyrionProvider

        return LyrionProvider(settings.lyrion_url, **common)
    raise ValueError(f"unknown provider {kind!r}")  # Settings.validate already refused it


__all__ = [
    "AUTOMATIC_SUFFIX", "INSTANT_SUFFIX", "Album", "Health", "MediaProvider", "PlaylistInfo", "PlayRecord",
    "Track", "UserCredentials", "make_provider",
]
