"""Which media providers exist, what each one supports, and the part of the settings each one receives.

Every provider module registers its class with ``@register(name, config=..., capabilities=...)``; the
package's modules are imported once, on first look-up (``pkgutil``), so adding a provider touches only its
own module, its loopback fake and its tests. Code that needs to know whether history or previews exist asks
``spec(name).capabilities`` (the UI asks ``GET /api/provider``), never compares provider names.

A provider is built from its own config: a small frozen dataclass whose fields are named after the
``Settings`` fields it reads (``jellyfin_url``, ``http_timeout_s``...). ``provider_config(settings)`` copies
only those, so a worker that builds a Jellyfin provider never receives the Plex token, and the config
pickles to Ray workers on its own. A config field without a default is required: an empty value is the
operator's to fix (``ConfigurationError`` naming the ``AUDIOMUSE_*`` variables, HTTP 503).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from audiomuse_ray.errors import ConfigurationError, HistoryUnsupported
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.settings import Settings

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do beyond listing albums and tracks and handing out files."""

    history: bool = False  # a user's plays and last-played times (sonic fingerprint)
    artist_ids: bool = False  # the server's own artist ids, which its plugin sends (not ids derived from names)
    streaming: bool = True  # open_stream: previews, and later the analysis of remote files without a download
    playlists: bool = True
    playlist_in_place: bool = False  # replace_playlist keeps the playlist's id (radios refresh a pinned playlist)


@dataclass(frozen=True)
class HistoryUser:
    """How a person names the user whose history is read, for the UI's two fields: ``secret`` says which
    ``UserCredentials`` field the secret fills (``token`` or ``password``; empty when none is asked), and
    ``default_from`` the Settings field of the account used when the user is left empty (not a secret)."""

    user_label: str
    secret_label: str = ""
    secret: str = ""
    default_from: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # the value of AUDIOMUSE_PROVIDER
    title: str  # for sentences: "Jellyfin", "a local music folder"
    build: Callable[[Any], MediaProvider]  # config -> provider
    config: type  # frozen dataclass of Settings field names
    capabilities: Capabilities
    history_user: HistoryUser | None = None

    def required(self) -> tuple[str, ...]:
        """The Settings fields this provider cannot start without: its config fields without a default."""
        return tuple(f.name for f in dataclasses.fields(self.config)
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


_specs: dict[str, ProviderSpec] = {}
_by_config: dict[type, ProviderSpec] = {}
_lock = threading.Lock()
_discovered = False


def register(name: str, *, config: type, title: str = "", capabilities: Capabilities = Capabilities(),
             history_user: HistoryUser | None = None, build: Callable[[Any], MediaProvider] | None = None
             ) -> Callable[[T], T]:
    """Class decorator: register the provider class under ``name``, built by ``build`` (default: the class's
    ``from_config``) from an instance of ``config``. Registering a name again replaces it."""
    known = Settings.__dataclass_fields__
    unknown = [f.name for f in dataclasses.fields(config) if f.name not in known]
    if unknown:
        raise TypeError(f"{config.__name__} names {', '.join(unknown)}, which are not Settings fields")
    shown = history_user.default_from if history_user else ""
    if shown and (shown not in known or known[shown].metadata["secret"]):
        raise TypeError(f"{shown} is not a Settings field that may be shown as the default history user")
    if not config.__dataclass_params__.frozen:
        raise TypeError(f"{config.__name__} must be a frozen dataclass")

    def decorate(cls: T) -> T:
        cls.name = name
        entry = ProviderSpec(name, title or name.title(), build or cls.from_config, config, capabilities, history_user)
        with _lock:
            old = _specs.get(name)
            if old is not None:
                _by_config.pop(old.config, None)
            _specs[name] = entry
            _by_config[config] = entry
        return cls

    return decorate


def unregister(name: str) -> None:
    """Forget ``name`` (tests that register a provider of their own clean up with it)."""
    with _lock:
        old = _specs.pop(name, None)
        if old is not None:
            _by_config.pop(old.config, None)


def _discover() -> None:
    """Import every module of this package once: each provider module registers itself on import."""
    global _discovered
    if _discovered:
        return
    import audiomuse_ray.providers as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    _discovered = True


def names() -> tuple[str, ...]:
    _discover()
    return tuple(sorted(_specs))


def spec(name: str) -> ProviderSpec:
    """The registration of provider ``name``; an unknown name is a ``ConfigurationError`` listing the known."""
    _discover()
    found = _specs.get(name)
    if found is None:
        raise ConfigurationError(f"AUDIOMUSE_PROVIDER={name!r} is not one of {', '.join(names())}.")
    return found


def spec_of_config(config: Any) -> ProviderSpec:
    _discover()
    found = _by_config.get(type(config))
    if found is None:
        raise TypeError(f"{type(config).__name__} is not the config of a registered media provider")
    return found


def with_capability(capability: str) -> list[ProviderSpec]:
    """The registered providers that have ``capability`` (a ``Capabilities`` field), by name."""
    _discover()
    return [s for _, s in sorted(_specs.items()) if getattr(s.capabilities, capability)]


# ------------------------------------------------------------------------------------------ settings
def check_provider_settings(settings: Settings) -> None:
    """Raise ``ConfigurationError`` naming every ``AUDIOMUSE_*`` variable the chosen provider still needs."""
    fields = Settings.__dataclass_fields__
    missing = [fields[name].metadata["env"] for name in spec(settings.provider).required()
               if not str(getattr(settings, name) or "").strip()]
    if missing:
        names_ = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise ConfigurationError(
            f"AUDIOMUSE_PROVIDER={settings.provider} needs {names_}: set {'it' if len(missing) == 1 else 'them'} "
            "in the service's environment and restart it."
        )


def provider_config(settings: Settings) -> Any:
    """The chosen provider's own settings (and nothing else), checked: what to ship to a process that
    builds the provider."""
    check_provider_settings(settings)
    config = spec(settings.provider).config
    return config(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(config)})


def provider_secrets(settings: Settings) -> tuple[str, ...]:
    """The secret Settings fields the chosen provider reads (its password or token), to keep when the rest
    of ``settings`` is shipped somewhere without the other secrets (``Settings.keeping_secrets``)."""
    secret = set(Settings.secret_names())
    return tuple(f.name for f in dataclasses.fields(spec(settings.provider).config) if f.name in secret)


def make_provider(source: Any) -> MediaProvider:
    """The provider a ``provider_config`` (or, for existing callers, whole ``Settings``) describes."""
    config = provider_config(source) if isinstance(source, Settings) else source
    return spec_of_config(config).build(config)


def describe_provider(settings: Settings) -> dict[str, Any]:
    """What the configured provider supports, JSON-ready, for ``GET /api/provider`` and the UI; no secrets,
    no call to the media server."""
    entry = spec(settings.provider)
    who = entry.history_user if entry.capabilities.history else None
    return {
        "name": entry.name,
        "title": entry.title,
        "capabilities": dataclasses.asdict(entry.capabilities),
        "history_user": {
            "user_label": who.user_label, "secret_label": who.secret_label, "secret": who.secret,
            "default_user": str(getattr(settings, who.default_from)) if who.default_from else "",
        } if who else None,
    }


def history_unsupported(why: str) -> HistoryUnsupported:
    """The error for ``top_played`` on a provider without history: ``why`` (a sentence's start, e.g. "A
    local music folder keeps no listening history"), and which registered providers keep one."""
    keeping = [s.title for s in with_capability("history")]
    listed = ", ".join(keeping[:-1]) + " and " + keeping[-1] if len(keeping) > 1 else "".join(keeping)
    advice = f" Providers that keep one: {listed}." if listed else ""
    return HistoryUnsupported(f"{why}, so there is nothing to build a sonic fingerprint from.{advice}")
