"""One frozen settings object, built from ``AUDIOMUSE_*`` environment variables and CLI flags.

Nothing reads the environment at import time: ``Settings.load(environ, overrides)`` is called once by an
entry point (CLI, job, Serve app) and the result is passed down explicitly. CLI flags win over the
environment, the environment wins over the defaults. Secrets are kept out of ``public_dict()``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from audiomuse_ray.errors import ConfigurationError

PROVIDERS = ("local", "subsonic", "jellyfin", "lyrion")
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
    http_timeout_s: float = field(default=30.0, metadata=_opt("AUDIOMUSE_HTTP_TIMEOUT", "seconds to wait for a media server"))
    http_retries: int = field(default=3, metadata=_opt("AUDIOMUSE_HTTP_RETRIES", "retries for transient media-server errors"))
    api_token: str = field(default="", metadata=_opt("AUDIOMUSE_API_TOKEN", "bearer token required by the HTTP API", secret=True))
    ray_address: str = field(default="", metadata=_opt("AUDIOMUSE_RAY_ADDRESS", "Ray cluster address; empty starts a local Ray"))
    models_dir: str = field(default="", metadata=_opt("AUDIOMUSE_MODELS_DIR", "folder with the converted ONNX models; default the checkout's models/"))
    host: str = field(default="127.0.0.1", metadata=_opt("AUDIOMUSE_HOST", "address the HTTP API binds to"))
    port: int = field(default=8000, metadata=_opt("AUDIOMUSE_PORT", "port of the HTTP API"))
    serve_ingress: str = field(default="haproxy", metadata=_opt("AUDIOMUSE_SERVE_INGRESS", "how HTTP reaches the API on a local Ray: haproxy (fast) or proxy (Serve's Python proxy)"))
    num_recent_albums: int = field(default=0, metadata=_opt("AUDIOMUSE_NUM_RECENT_ALBUMS", "analyse only the N newest albums; 0 = all"))
    workers: int = field(default=0, metadata=_opt("AUDIOMUSE_WORKERS", "analysis actors; 0 = one per CPU"))
    ai_provider: str = field(default="NONE", metadata=_opt("AUDIOMUSE_AI_PROVIDER", "playlist naming model: NONE, OLLAMA, OPENAI, GEMINI, MISTRAL"))
    ai_url: str = field(default="", metadata=_opt("AUDIOMUSE_AI_URL", "model server URL (Ollama, OpenAI-compatible)"))
    ai_model: str = field(default="", metadata=_opt("AUDIOMUSE_AI_MODEL", "model name"))
    ai_api_key: str = field(default="", metadata=_opt("AUDIOMUSE_AI_API_KEY", "API key for cloud models", secret=True))

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults < ``environ`` (``AUDIOMUSE_*``) < ``overrides`` (CLI flags; ``None`` values ignored)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw not in (None, ""):
                values[f.name] = _coerce(f, raw)
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in {f.name for f in fields(cls)}:
                raise ConfigurationError(f"Unknown setting {name!r}.")
            values[name] = value
        return cls(**values).resolved()

    def resolved(self) -> "Settings":
        """Fill derived defaults (paths, database URL) and check the combination makes sense."""
        data_dir = self.data_dir or _default_data_dir()
        data_dir = str(Path(data_dir).expanduser())
        database_url = self.database_url or f"sqlite:///{Path(data_dir) / 'audiomuse.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://"):]
        playlist_dir = self.playlist_dir or str(Path(data_dir) / "playlists")
        models_dir = self.models_dir or str(Path(__file__).resolve().parent.parent / "models")
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
        if self.num_recent_albums < 0 or self.workers < 0:
            raise ConfigurationError("--recent and --workers must be 0 or more.")

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

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


def _coerce(f: dataclasses.Field, raw: str) -> Any:
    kind = f.type if isinstance(f.type, type) else {"int": int, "float": float, "str": str}[str(f.type)]
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{f.metadata['env']}={raw!r} is not a valid {kind.__name__}.") from exc
