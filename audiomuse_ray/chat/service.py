"""The instant-playlist flow, one call for the HTTP routes and the CLI: request -> SQL (a language model, or
the keyword mode) -> guard -> read-only run -> ``ChatResult``.

Which model server is asked and with which key is decided here, from the server's settings only:

- API keys come from ``Settings.ai_api_key``, never from a request;
- the key is sent only to the server's own provider at the server's own URL: a request that picks another
  provider, or overrides the URL (``ollama_server_url``, ``openai_server_url``), is sent without it;
- a URL override makes this server fetch a URL of the caller's choosing, so it is honoured only when the
  caller is authenticated (an API token is configured) or the server listens on loopback only.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence

from audiomuse_ray.chat import keywords
from audiomuse_ray.chat.execute import ChatSong, run_query
from audiomuse_ray.chat.sql_guard import GuardedQuery, guard_sql
from audiomuse_ray.chat.prompt import build_prompt, build_retry_prompt
from audiomuse_ray.errors import BadRequest, ConfigurationError, LLMError, QueryFailed, UnsafeQuery
from audiomuse_ray.llm.client import DEFAULT_MODELS, DEFAULT_URLS, LLMConfig, check_model_name, complete
from audiomuse_ray.netaddr import is_loopback
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import tracks as track_store

log = logging.getLogger(__name__)
KEYWORDS = "KEYWORDS"  # the offline mode, chosen like a provider
LLM_PROVIDERS = ("OLLAMA", "OPENAI", "GEMINI", "MISTRAL")
PROVIDERS = ("NONE", *LLM_PROVIDERS, KEYWORDS)
URL_FIELDS = {"OLLAMA": "ollama_server_url", "OPENAI": "openai_server_url"}
ATTEMPTS = 2  # a refused, failed or empty query gets one corrected try
MAX_REQUEST_CHARS = 2000  # what a person types; the prompt quotes it whole
INSTANT_SUFFIX = "_instant"
NO_PROVIDER_MESSAGE = (
    "No AI provider is selected, so no SQL was generated. Choose OLLAMA, OPENAI, GEMINI or MISTRAL (the server's "
    "AUDIOMUSE_AI_PROVIDER, AUDIOMUSE_AI_URL, AUDIOMUSE_AI_MODEL and AUDIOMUSE_AI_API_KEY), or KEYWORDS for the "
    "offline keyword mode."
)


@dataclass(frozen=True)
class ChatRequest:
    """AudioMuse-AI's request fields: ``userInput``, ``ai_provider``, ``ai_model``, ``ollama_server_url``,
    ``openai_server_url`` (empty: the server's settings). There is deliberately no key field."""

    user_input: str
    provider: str = ""
    model: str = ""
    ollama_url: str = ""
    openai_url: str = ""


@dataclass(frozen=True)
class ChatResult:
    """The outcome; ``executed_query`` is the statement that ran (None when nothing ran, ``message`` says
    why) and ``songs`` what it returned (None when nothing ran). ``http_status`` is the reply's status."""

    message: str
    original_request: str
    provider: str
    model: str | None
    executed_query: str | None
    songs: tuple[ChatSong, ...] | None
    http_status: int = 200
    log: tuple[str, ...] = field(default=(), compare=False)


def default_provider(settings: Settings) -> str:
    """The server's language model, or the offline keyword mode when none is configured (a request that
    names no provider still gets songs)."""
    own = (settings.ai_provider or "NONE").strip().upper()
    return KEYWORDS if own == "NONE" else own


def url_overrides_allowed(settings: Settings) -> bool:
    """A caller may point this server at another model URL only when callers are authenticated (token) or
    only this machine can call (loopback bind)."""
    return bool(settings.api_token) or is_loopback(settings.host)


def llm_config(settings: Settings, req: ChatRequest, provider: str, *, overrides_allowed: bool) -> LLMConfig:
    """The model server to ask, and the key to send it (see the module docstring)."""
    own = settings.ai_provider.upper() == provider
    server_url = (settings.ai_url if own and settings.ai_url else DEFAULT_URLS[provider]).rstrip("/")
    requested = {"OLLAMA": req.ollama_url, "OPENAI": req.openai_url}.get(provider, "").strip()
    url = server_url
    if requested and _normal_url(requested, provider) != _normal_url(server_url, provider):
        if not overrides_allowed:
            raise BadRequest(f"'{URL_FIELDS[provider]}' cannot be overridden here: this server listens on a public "
                             "address without an API token. Set AUDIOMUSE_API_TOKEN, or leave the field empty.")
        if not requested.startswith(("http://", "https://")):
            raise BadRequest(f"'{URL_FIELDS[provider]}' must be an http:// or https:// URL.")
        url = requested
    key = settings.ai_api_key if own and url == server_url else ""
    if provider == "OLLAMA":
        url = _normal_url(url, provider)
    model = req.model.strip() or (settings.ai_model if own and settings.ai_model else DEFAULT_MODELS[provider])
    try:
        model = check_model_name(model, provider)
    except ValueError as exc:
        raise BadRequest(f"'ai_model': {exc}") from None
    return LLMConfig(provider=provider, url=url, model=model, api_key=key, timeout_s=settings.chat_llm_timeout_s,
                     temperature=0.2)


def _normal_url(url: str, provider: str) -> str:
    """AudioMuse-AI names Ollama's full endpoint (``.../api/generate``); the client wants the base."""
    url = url.strip().rstrip("/")
    if provider == "OLLAMA" and url.endswith("/api/generate"):
        url = url[: -len("/api/generate")]
    return url


def with_albums(store: Store, songs: Sequence[ChatSong]) -> tuple[ChatSong, ...]:
    """The songs with their albums from the library (a table reads better with them). Looked up by id in
    the application's own query, so the model's statement still selects only item_id, title and author."""
    albums = {t.item_id: t.album for t in track_store.get_tracks(store, [s.item_id for s in songs])}
    return tuple(dataclasses.replace(s, album=albums.get(s.item_id)) for s in songs)


def instant_playlist(settings: Settings, store: Store, req: ChatRequest, *,
                     overrides_allowed: bool | None = None,
                     ask: Callable[[LLMConfig, str], str] = complete) -> ChatResult:
    """The whole flow for one request. ``BadRequest`` for a malformed request; every other outcome,
    including a model that failed and a query that was refused, is a ``ChatResult`` whose message says
    what happened."""
    text = (req.user_input or "").strip()
    if not text:
        raise BadRequest("Missing userInput in request")
    if len(text) > MAX_REQUEST_CHARS:
        raise BadRequest(f"'userInput' is longer than {MAX_REQUEST_CHARS} characters.")
    provider = (req.provider or default_provider(settings)).strip().upper()
    if provider not in PROVIDERS:
        raise BadRequest(f"Unknown ai_provider {req.provider!r}; choose one of {', '.join(PROVIDERS)}.")
    if not settings.chat_timeout_s > 0 or not settings.chat_llm_timeout_s > 0:
        raise ConfigurationError("AUDIOMUSE_CHAT_TIMEOUT_S and AUDIOMUSE_CHAT_LLM_TIMEOUT_S must be more than 0.")
    lines = [f"Received your request: '{text}'."]

    def result(message: str, model: str | None, query: str | None = None,
               songs: Sequence[ChatSong] | None = None, status: int = 200) -> ChatResult:
        lines.append(message)
        return ChatResult("\n".join(lines), text, provider, model, query,
                          with_albums(store, songs) if songs is not None else None, status, tuple(lines))

    if provider == "NONE":
        return result(NO_PROVIDER_MESSAGE, None)
    if provider == KEYWORDS:
        understood = keywords.plan(text)
        if understood.empty:
            return result("Keyword mode: no word of the request names a tag, mood, tempo or energy "
                          "(try words like calm, sad, party, metal, ambient, fast, 80s).", None)
        lines.append(f"Keyword mode (no language model): {understood.describe()}.")
        try:
            query = guard_sql(keywords.build_sql(understood), store.dialect)
            songs = run_query(store, query, role=settings.chat_db_user, timeout_s=settings.chat_timeout_s)
        except (UnsafeQuery, QueryFailed) as exc:  # a bug in the keyword mode, reported like any failure
            return result(f"The keyword query could not run: {exc}", None)
        return result(_found(songs), None, query.sql, songs)

    allowed = url_overrides_allowed(settings) if overrides_allowed is None else overrides_allowed
    cfg = llm_config(settings, req, provider, overrides_allowed=allowed)
    if provider in ("GEMINI", "MISTRAL") and not cfg.api_key:
        return result(f"{provider.title()} needs an API key and this server has none for it (the key in "
                      "AUDIOMUSE_AI_API_KEY is used only with AUDIOMUSE_AI_PROVIDER's provider). Nothing was run.",
                      cfg.model_name(), status=503)
    lines.append(f"Asking {provider} model {cfg.model_name()} at {cfg.base()}.")
    prompt = build_prompt(text)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            answer = ask(cfg, prompt)
        except LLMError as exc:
            return result(f"The AI provider failed: {exc} Nothing was run.", cfg.model_name(), status=502)
        try:
            query: GuardedQuery = guard_sql(answer, store.dialect)
        except UnsafeQuery as exc:
            lines.append(f"Attempt {attempt}: the model's SQL was refused: {exc}")
            prompt = build_retry_prompt(text, answer, str(exc))
            continue
        try:
            songs = run_query(store, query, role=settings.chat_db_user, timeout_s=settings.chat_timeout_s)
        except QueryFailed as exc:
            lines.append(f"Attempt {attempt}: the query failed: {exc}")
            prompt = build_retry_prompt(text, query.postgres_sql, str(exc))
            continue
        if songs or attempt == ATTEMPTS:
            return result(_found(songs), cfg.model_name(), query.sql, songs)
        lines.append(f"Attempt {attempt}: the query found no songs.")
        prompt = build_retry_prompt(text, query.postgres_sql, "it found no songs", empty=True)
    return result(f"No usable query after {ATTEMPTS} attempts; nothing was returned.", cfg.model_name(), status=422)


def _found(songs: Sequence[ChatSong]) -> str:
    return f"Found {len(songs)} songs." if songs else "The query ran but found no matching songs."


def create_instant_playlist(store: Store, provider: MediaProvider, name: str, item_ids: Sequence[str]) -> tuple[str, str]:
    """The playlist ``name`` + ``_instant`` on the media server (recorded in the store): (full name, its id)."""
    name = (name or "").strip()
    if not name:
        raise BadRequest("Playlist name cannot be empty.")
    ids = list(dict.fromkeys(str(i) for i in item_ids if str(i).strip()))
    if not ids:
        raise BadRequest("No songs provided to create the playlist.")
    full = name if name.endswith(INSTANT_SUFFIX) else name + INSTANT_SUFFIX
    playlist_id = provider.create_playlist(full, ids)
    playlist_store.save_playlist(store, full, ids, provider.name, playlist_id)
    return full, playlist_id
