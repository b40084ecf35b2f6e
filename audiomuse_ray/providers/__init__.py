"""Media providers: one module per kind of music source, all behind ``MediaProvider``."""

from __future__ import annotations

from audiomuse_ray.providers.base import (
    AUTOMATIC_SUFFIX, INSTANT_SUFFIX, Album, Health, MediaProvider, PlaylistInfo, PlayRecord, Track, UserCredentials,
)
from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.settings import Settings

# The settings a remote provider cannot start without. Checked before any HTTP call: a missing URL is the
# operator's to fix (HTTP 503 naming the variables), not the media server failing (502).
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "subsonic": ("subsonic_url", "subsonic_user"),
    "jellyfin": ("jellyfin_url", "jellyfin_user_id", "jellyfin_token"),
    "lyrion": ("lyrion_url",),
    "emby": ("emby_url", "emby_user_id", "emby_token"),
    "plex": ("plex_url", "plex_token"),
}


def check_provider_settings(settings: Settings) -> None:
    """Raise ``ConfigurationError`` naming every ``AUDIOMUSE_*`` variable the chosen provider still needs."""
    fields = Settings.__dataclass_fields__
    missing = [fields[name].metadata["env"] for name in REQUIRED_SETTINGS.get(settings.provider, ())
               if not str(getattr(settings, name) or "").strip()]
    if missing:
        names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise ConfigurationError(
            f"AUDIOMUSE_PROVIDER={settings.provider} needs {names}: set {'it' if len(missing) == 1 else 'them'} "
            "in the service's environment and restart it."
        )


def make_provider(settings: Settings) -> MediaProvider:
    """The provider named by ``settings.provider``, configured from the same settings."""
    kind = settings.provider
    check_provider_settings(settings)
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
    if kind == "emby":
        from audiomuse_ray.providers.emby import EmbyProvider

        return EmbyProvider(settings.emby_url, settings.emby_user_id, settings.emby_token, **common)
    if kind == "plex":
        from audiomuse_ray.providers.plex import PlexProvider

        return PlexProvider(settings.plex_url, settings.plex_token, **common)
    raise ValueError(f"unknown provider {kind!r}")  # Settings.validate already refused it


__all__ = [
    "AUTOMATIC_SUFFIX", "INSTANT_SUFFIX", "Album", "Health", "MediaProvider", "PlaylistInfo", "PlayRecord",
    "Track", "UserCredentials", "REQUIRED_SETTINGS", "check_provider_settings", "make_provider",
]
