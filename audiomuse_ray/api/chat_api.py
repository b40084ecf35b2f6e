"""Instant-playlist routes' logic with AudioMuse-AI's names and JSON shapes (``/chat/api/...`` and the same
under ``/api/...``): the model defaults, the request -> songs flow, and creating the ``_instant`` playlist.

Request fields that carry API keys (``openai_api_key``, ``gemini_api_key``, ``mistral_api_key``) are
ignored: keys are server settings only (see ``chat.service``).
"""

from __future__ import annotations

from typing import Any

from audiomuse_ray.chat import service
from audiomuse_ray.chat.execute import ChatSong
from audiomuse_ray.chat.service import ChatRequest, ChatResult
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.llm.client import DEFAULT_MODELS, DEFAULT_URLS
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store


def config_defaults(settings: Settings) -> dict[str, Any]:
    """AudioMuse-AI's ``config_defaults`` fields (each provider's model, the two server URLs), plus which
    providers exist here and whether the server holds a key (never the key)."""
    own = settings.ai_provider.upper()

    def model(provider: str) -> str:
        return settings.ai_model if own == provider and settings.ai_model else DEFAULT_MODELS[provider]

    def url(provider: str) -> str:
        return settings.ai_url if own == provider and settings.ai_url else DEFAULT_URLS[provider]

    return {
        "default_ai_provider": service.default_provider(settings),
        "default_ollama_model_name": model("OLLAMA"),
        "ollama_server_url": url("OLLAMA").rstrip("/") + "/api/generate",
        "default_openai_model_name": model("OPENAI"),
        "openai_server_url": url("OPENAI"),
        "default_gemini_model_name": model("GEMINI"),
        "default_mistral_model_name": model("MISTRAL"),
        "ai_providers": list(service.PROVIDERS),
        "ai_api_key_set": bool(settings.ai_api_key),
        "url_overrides_allowed": service.url_overrides_allowed(settings),
        "keyword_mode": service.KEYWORDS,
    }


def chat_request(user_input: str | None, ai_provider: str | None = None, ai_model: str | None = None,
                 ollama_server_url: str | None = None, openai_server_url: str | None = None) -> ChatRequest:
    """AudioMuse-AI's request fields as a ``ChatRequest``; a missing ``userInput`` is its 400."""
    if not isinstance(user_input, str) or not user_input.strip():
        raise BadRequest("Missing userInput in request")
    return ChatRequest(user_input=user_input.strip(), provider=(ai_provider or "").strip(),
                       model=(ai_model or "").strip(), ollama_url=(ollama_server_url or "").strip(),
                       openai_url=(openai_server_url or "").strip())


def song_json(song: ChatSong) -> dict[str, Any]:
    # AudioMuse-AI's chat answers name the artist "artist"; its other routes and this issue say "author": both
    return {"item_id": song.item_id, "title": song.title, "author": song.author, "artist": song.author,
            "album": song.album}


def result_json(result: ChatResult) -> dict[str, Any]:
    """AudioMuse-AI's reply: ``{"response": {message, original_request, ai_provider_used, ai_model_selected,
    executed_query, query_results}}``."""
    return {"response": {
        "message": result.message,
        "original_request": result.original_request,
        "ai_provider_used": result.provider,
        "ai_model_selected": result.model,
        "executed_query": result.executed_query,
        "query_results": None if result.songs is None else [song_json(s) for s in result.songs],
    }}


def chat_playlist(settings: Settings, store: Store, request: ChatRequest) -> ChatResult:
    """Blocking (a model call, a query): call it off the event loop. The reply's status is the result's
    (a model that failed is a 502 in the same shape)."""
    return service.instant_playlist(settings, store, request)


def create_playlist(store: Store, provider: MediaProvider, name: Any, item_ids: Any) -> dict[str, Any]:
    """``{playlist_name, item_ids}`` -> the playlist ``<name>_instant`` on the media server. Blocking."""
    try:
        if name is None or item_ids is None:
            raise BadRequest("Missing playlist_name or item_ids in request")
        if not isinstance(item_ids, list) or not all(isinstance(i, (str, int)) for i in item_ids):
            raise BadRequest("'item_ids' must be a list of item ids.")
        full, playlist_id = service.create_instant_playlist(store, provider, str(name), [str(i) for i in item_ids])
    except BadRequest as exc:
        raise BadRequest(str(exc), reply={"message": f"Error: {exc}"}) from None
    return {"message": f"Successfully created playlist '{full}' on the media server with ID: {playlist_id}",
            "playlist_name": full, "playlist_id": playlist_id}
