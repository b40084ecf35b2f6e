"""Media providers: one module per kind of music source, all behind ``MediaProvider``, each registering
itself with what it supports (``registry.py``)."""

from __future__ import annotations

from audiomuse_ray.providers.base import (
    AUTOMATIC_SUFFIX, INSTANT_SUFFIX, Album, Excerpt, Health, MediaProvider, PlaylistInfo, PlayRecord, Track,
    UserCredentials,
)
from audiomuse_ray.providers.registry import (
    Capabilities, HistoryUser, ProviderSpec, check_provider_settings, describe_provider, make_provider,
    provider_config,
)

__all__ = [
    "AUTOMATIC_SUFFIX", "INSTANT_SUFFIX", "Album", "Excerpt", "Health", "MediaProvider", "PlaylistInfo",
    "PlayRecord", "Track", "UserCredentials", "Capabilities", "HistoryUser", "ProviderSpec",
    "check_provider_settings", "describe_provider", "make_provider", "provider_config",
]
