"""One frozen settings object, built from ``AUDIOMUSE_*`` environment variables and CLI flags.

Nothing reads the environment at import time: ``Settings.load(environ, overrides)`` is called once by an
entry point (CLI, job, Serve app) and the result is passed down explicitly. CLI flags win over the
environment, the environment wins over the defaults. Secrets are kept out of ``public_dict()``.

Every source hands over text at some point (environment variables, CLI flags, ``serve run`` arguments,
KubeRay's serveConfigV2), so every value goes through one parser (``parse_value``) that turns a string
into the field's type and refuses anything else with the setting's name and variable in the message.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, get_type_hints

from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.parsing import parse_hub_tokens

PROVIDERS = ("local", "subsonic", "jellyfin", "lyrion", "emby", "plex")
SUBSONIC_AUTH_MODES = ("auto", "token", "password")


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "audiomuse-ray")


def _opt(env: str, help: str, secret: bool = False) -> dict[str, Any]:
    return {"env": env, "help": help, "secret": secret}


@dataclass(frozen=True)
class Settings:
    """Everything a job needs to know about where things are; ``None`` means "derive a default"."""

    data_dir: str = field(default="", metadata=_opt("AUDIOMUSE_DATA_DIR", "folder for the SQLite file, playlists and caches"))
    database_url: str = field(default="", metadata=_opt("AUDIOMUSE_DATABASE_URL", "SQLAlchemy URL; default sqlite:///DATA_DIR/audiomuse.db", secret=True))
    provider: str = field(default="local", metadata=_opt("AUDIOMUSE_PROVIDER", "media provider: " + ", ".join(PROVIDERS)))
    music_dir: str = field(default="", metadata=_opt("AUDIOMUSE_MUSIC_DIR", "music folder (local provider)"))
    playlist_dir: str = field(default="", metadata=_opt("AUDIOMUSE_PLAYLIST_DIR", "where the local provider writes .m3u8 playlists; default DATA_DIR/playlists"))
    subsonic_url: str = field(default="", metadata=_opt("AUDIOMUSE_SUBSONIC_URL", "Subsonic/Navidrome base URL"))
    subsonic_user: str = field(default="", metadata=_opt("AUDIOMUSE_SUBSONIC_USER", "Subsonic user name"))
    subsonic_password: str = field(default="", metadata=_opt("AUDIOMUSE_SUBSONIC_PASSWORD", "Subsonic password", secret=True))
    subsonic_auth: str = field(default="auto", metadata=_opt("AUDIOMUSE_SUBSONIC_AUTH", "auto (token, falling back to password), token or password"))
    jellyfin_url: str = field(default="", metadata=_opt("AUDIOMUSE_JELLYFIN_URL", "Jellyfin base URL"))
    jellyfin_user_id: str = field(default="", metadata=_opt("AUDIOMUSE_JELLYFIN_USER_ID", "Jellyfin user id"))
    jellyfin_token: str = field(default="", metadata=_opt("AUDIOMUSE_JELLYFIN_TOKEN", "Jellyfin API key", secret=True))
    lyrion_url: str = field(default="", metadata=_opt("AUDIOMUSE_LYRION_URL", "Lyrion Music Server base URL"))
    emby_url: str = field(default="", metadata=_opt("AUDIOMUSE_EMBY_URL", "Emby base URL (without /emby)"))
    emby_user_id: str = field(default="", metadata=_opt("AUDIOMUSE_EMBY_USER_ID", "Emby user id"))
    emby_token: str = field(default="", metadata=_opt("AUDIOMUSE_EMBY_TOKEN", "Emby API key", secret=True))
    plex_url: str = field(default="", metadata=_opt("AUDIOMUSE_PLEX_URL", "Plex Media Server base URL (e.g. http://plex:32400)"))
    plex_token: str = field(default="", metadata=_opt("AUDIOMUSE_PLEX_TOKEN", "Plex token (X-Plex-Token)", secret=True))
    http_timeout_s: float = field(default=30.0, metadata=_opt("AUDIOMUSE_HTTP_TIMEOUT", "seconds to wait for a media server"))
    http_retries: int = field(default=3, metadata=_opt("AUDIOMUSE_HTTP_RETRIES", "retries for transient media-server errors"))
    api_token: str = field(default="", metadata=_opt("AUDIOMUSE_API_TOKEN", "bearer token required by the HTTP API", secret=True))
    ray_address: str = field(default="", metadata=_opt("AUDIOMUSE_RAY_ADDRESS", "Ray cluster address; empty starts a local Ray"))
    models_dir: str = field(default="", metadata=_opt("AUDIOMUSE_MODELS_DIR", "folder with the converted ONNX models; default DATA_DIR/models (scripts/setup.sh fills it)"))
    host: str = field(default="127.0.0.1", metadata=_opt("AUDIOMUSE_HOST", "address the HTTP API binds to"))
    port: int = field(default=8000, metadata=_opt("AUDIOMUSE_PORT", "port of the HTTP API"))
    serve_ingress: str = field(default="haproxy", metadata=_opt("AUDIOMUSE_SERVE_INGRESS", "how HTTP reaches the API on a local Ray: haproxy (fast) or proxy (Serve's Python proxy)"))
    num_recent_albums: int = field(default=0, metadata=_opt("AUDIOMUSE_NUM_RECENT_ALBUMS", "analyse only the N newest albums; 0 = all"))
    workers: int = field(default=0, metadata=_opt("AUDIOMUSE_WORKERS", "analysis actors; 0 = one per CPU"))
    ai_provider: str = field(default="NONE", metadata=_opt("AUDIOMUSE_AI_PROVIDER", "playlist naming model: NONE, OLLAMA, OPENAI, GEMINI, MISTRAL"))
    ai_url: str = field(default="", metadata=_opt("AUDIOMUSE_AI_URL", "model server URL (Ollama, OpenAI-compatible)"))
    ai_model: str = field(default="", metadata=_opt("AUDIOMUSE_AI_MODEL", "model name"))
    ai_api_key: str = field(default="", metadata=_opt("AUDIOMUSE_AI_API_KEY", "API key for cloud models", secret=True))
    task_stale_s: float = field(default=60.0, metadata=_opt("AUDIOMUSE_TASK_STALE_S", "seconds without a heartbeat after which a running job counts as lost (its driver died) and no longer blocks a new one"))
    chat_db_user: str = field(default="audiomuse_chat", metadata=_opt("AUDIOMUSE_AI_CHAT_DB_USER", "PostgreSQL role the instant playlist's generated SQL runs as (created if missing, SELECT on score only)"))
    chat_timeout_s: float = field(default=10.0, metadata=_opt("AUDIOMUSE_CHAT_TIMEOUT_S", "time limit in seconds for one instant-playlist query"))
    chat_llm_timeout_s: float = field(default=120.0, metadata=_opt("AUDIOMUSE_CHAT_LLM_TIMEOUT_S", "seconds to wait for the language model's answer to an instant-playlist request"))
    hub_tokens: str = field(default="", metadata=_opt("AUDIOMUSE_HUB_TOKENS", "collection-sync hub: name:token,... of the clients allowed to push and pull shared analyses; empty = not a hub", secret=True))
    timezone: str = field(default="", metadata=_opt("AUDIOMUSE_TIMEZONE", "IANA time zone of the schedules' cron expressions (e.g. Europe/Rome); empty = the machine's"))

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults < ``environ`` (``AUDIOMUSE_*``) < ``overrides`` (CLI flags, Serve or job arguments;
        ``None`` values ignored). Strings are parsed by the field's type; see ``parse_value``."""
        environ = os.environ if environ is None else environ
        by_name = {f.name: f for f in fields(cls)}
        unknown = sorted(set(overrides) - set(by_name))
        if unknown:
            raise ConfigurationError(
                f"Unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
                f"Valid names: {', '.join(by_name)}."
            )
        values: dict[str, Any] = {}
        for f in by_name.values():
            raw = environ.get(f.metadata["env"])
            if raw not in (None, ""):
                values[f.name] = parse_value(f.name, raw, setting_type(f.name), f.metadata["env"], f.metadata["secret"])
        for name, value in overrides.items():
            if value is not None:
                meta = by_name[name].metadata
                values[name] = parse_value(name, value, setting_type(name), meta["env"], meta["secret"])
        return cls(**values).resolved()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def resolved(self) -> "Settings":
        """Fill derived defaults (paths, database URL) and check the combination makes sense."""
        data_dir = self.data_dir or _default_data_dir()
        data_dir = str(Path(data_dir).expanduser())
        database_url = self.database_url or f"sqlite:///{Path(data_dir) / 'audiomuse.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://"):]
        playlist_dir = self.playlist_dir or str(Path(data_dir) / "playlists")
        # never the source checkout: an installed package or a container has none; set-up fills this folder
        models_dir = self.models_dir or str(Path(data_dir) / "models")
        music_dir = str(Path(self.music_dir).expanduser()) if self.music_dir else ""
        out = dataclasses.replace(
            self, data_dir=data_dir, database_url=database_url, playlist_dir=playlist_dir,
            models_dir=str(Path(models_dir).expanduser()), music_dir=music_dir,
        )
        out.validate()
        return out

    def validate(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigurationError(
                f"AUDIOMUSE_PROVIDER={self.provider!r} is not one of {', '.join(PROVIDERS)}."
            )
        if self.subsonic_auth not in SUBSONIC_AUTH_MODES:
            raise ConfigurationError(
                f"AUDIOMUSE_SUBSONIC_AUTH={self.subsonic_auth!r} is not one of {', '.join(SUBSONIC_AUTH_MODES)}."
            )
        if self.ai_provider.upper() not in ("NONE", "OLLAMA", "OPENAI", "GEMINI", "MISTRAL"):
            raise ConfigurationError(
                f"AUDIOMUSE_AI_PROVIDER={self.ai_provider!r} is not one of NONE, OLLAMA, OPENAI, GEMINI, MISTRAL."
            )
        if self.serve_ingress not in ("haproxy", "proxy"):
            raise ConfigurationError(f"AUDIOMUSE_SERVE_INGRESS={self.serve_ingress!r} is not one of haproxy, proxy.")
        for name in ("num_recent_albums", "workers", "http_retries"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{_label(name, getattr(self, name))} must be 0 or more.")
        if not self.http_timeout_s > 0:
            raise ConfigurationError(f"{_label('http_timeout_s', self.http_timeout_s)} must be more than 0 seconds.")
        if self.hub_tokens:
            hub_tokens = parse_hub_tokens(self.hub_tokens)  # a malformed list: a sentence that names no token
            if self.api_token and self.api_token in hub_tokens.values():  # a hub client would hold the whole API
                raise ConfigurationError("AUDIOMUSE_HUB_TOKENS gives a hub client the API token (AUDIOMUSE_API_TOKEN); "
                                         "give every hub client a token of its own.")
        if self.timezone:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigurationError(f"{_label('timezone', self.timezone)} is not an IANA time zone such as "
                                         "Europe/Rome or UTC.") from None
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(f"{_label('port', self.port)} is not a TCP port (0 to 65535).")

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.metadata["secret"])

    def keeping_secrets(self, *names: str) -> "Settings":
        """A copy holding only the secrets ``names``, every other one blanked: what is shipped to a process
        that needs only those (a job actor, a worker), so a secret reaches only the process that uses it."""
        unknown = set(names) - set(self.secret_names())
        if unknown:
            raise ValueError(f"not secret settings: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **{n: "" for n in self.secret_names() if n not in names})

    # ----------------------------------------------------------------------------------------- reading
    def public_dict(self) -> dict[str, Any]:
        """Settings safe to show in a page or a log: secrets are replaced by whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"]:
                if f.name == "database_url":
                    out[f.name] = redact_url(value)
                else:
                    out[f.name + "_set"] = bool(value)
            else:
                out[f.name] = value
        return out


def redact_url(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


# (what a parse failure says it is not, what a wrongly typed value must be)
_KIND_WORDS = {int: ("integer", "an integer"), float: ("number", "a number"), bool: ("boolean", "true or false"),
               str: ("text", "text")}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def setting_type(name: str) -> type:
    """The Python type of the setting ``name`` (int, float, str or bool)."""
    return _field_types()[name]


@functools.cache
def _field_types() -> dict[str, type]:
    return get_type_hints(Settings)


def parse_value(name: str, value: Any, kind: type, source: str = "", secret: bool = False) -> Any:
    """``value`` as ``kind``: a string is parsed (``"5"`` -> 5, ``"yes"`` -> True), a value of the right type
    passes (an int is also a float), anything else is refused. ``source`` (the environment variable) is
    named in the message; a ``secret`` value is never repeated in it.

    >>> parse_value("http_retries", "5", int, "AUDIOMUSE_HTTP_RETRIES")
    5
    """
    where = f" ({source})" if source else ""
    shown = "***" if secret else repr(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if kind is bool:
                if text.lower() not in _TRUE + _FALSE:
                    raise ValueError(text)
                return text.lower() in _TRUE
            return value if kind is str else kind(text)
        except ValueError:
            raise ConfigurationError(
                f"{name}={shown}{where} is not a valid {_KIND_WORDS[kind][0]}"
                f"{'; use true or false' if kind is bool else ''}."
            ) from None
    if kind is str and isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ConfigurationError(
        f"{name}={shown}{where} must be {_KIND_WORDS[kind][1]}, not {type(value).__name__}"
        f"{'; quote it' if kind is str else ''}."
    )


def _label(name: str, value: Any) -> str:
    return f"{name}={value!r} ({Settings.__dataclass_fields__[name].metadata['env']})"
