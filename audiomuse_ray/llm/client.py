"""One function per provider, each speaking that provider's documented REST format; ``complete`` picks one.

Keys travel in headers (never in URLs or logs). Any failure -- down, slow, refused, malformed -- is an
``LLMError`` with a sentence naming the provider; callers fall back to rule-based output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from audiomuse_ray.errors import LLMError  # re-exported: ``from audiomuse_ray.llm.client import LLMError``

PROVIDERS = ("NONE", "OLLAMA", "OPENAI", "GEMINI", "MISTRAL")
DEFAULT_URLS = {
    "OLLAMA": "http://127.0.0.1:11434",
    "OPENAI": "http://127.0.0.1:8080",
    "GEMINI": "https://generativelanguage.googleapis.com",
    "MISTRAL": "https://api.mistral.ai",
}
DEFAULT_MODELS = {"OLLAMA": "llama3.1:8b", "OPENAI": "gpt-4o-mini", "GEMINI": "gemini-2.5-flash",
                  "MISTRAL": "ministral-3b-latest"}


@dataclass(frozen=True)
class LLMConfig:
    provider: str = "NONE"
    url: str = ""
    model: str = ""
    api_key: str = ""
    timeout_s: float = 60.0
    temperature: float = 0.7

    @property
    def enabled(self) -> bool:
        return self.provider.upper() != "NONE"

    def base(self) -> str:
        return (self.url or DEFAULT_URLS.get(self.provider.upper(), "")).rstrip("/")

    def model_name(self) -> str:
        return self.model or DEFAULT_MODELS.get(self.provider.upper(), "")


def _post(cfg: LLMConfig, url: str, body: dict, headers: dict | None = None) -> dict:
    name = cfg.provider.title()
    try:
        resp = requests.post(url, json=body, headers=headers or {}, timeout=cfg.timeout_s)
    except requests.Timeout as exc:
        raise LLMError(f"{name} did not answer within {cfg.timeout_s:g} s.") from exc
    except requests.ConnectionError as exc:
        raise LLMError(f"{name} at {cfg.base()} cannot be reached.") from exc
    if resp.status_code >= 400:
        raise LLMError(f"{name} refused the request: HTTP {resp.status_code} {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError as exc:
        raise LLMError(f"{name} answered with something that is not JSON.") from exc


def _chat_completions(cfg: LLMConfig, url: str, prompt: str) -> str:
    headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
    data = _post(cfg, url, {"model": cfg.model_name(), "messages": [{"role": "user", "content": prompt}],
                            "temperature": cfg.temperature}, headers)
    try:
        return str(data["choices"][0]["message"]["content"])
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"{cfg.provider.title()}'s answer has no choices[0].message.content.") from exc


def complete(cfg: LLMConfig, prompt: str) -> str:
    """The model's text answer to ``prompt``, with any <think>...</think> preamble removed."""
    p = cfg.provider.upper()
    if p == "OLLAMA":
        data = _post(cfg, f"{cfg.base()}/api/generate", {"model": cfg.model_name(), "prompt": prompt, "stream": False,
                                                         "options": {"temperature": cfg.temperature}})
        text = data.get("response") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise LLMError("Ollama's answer has no 'response' text.")
    elif p == "OPENAI":
        base = cfg.base()
        url = base if base.endswith("/chat/completions") else f"{base}/v1/chat/completions"
        text = _chat_completions(cfg, url, prompt)
    elif p == "MISTRAL":
        text = _chat_completions(cfg, f"{cfg.base()}/v1/chat/completions", prompt)
    elif p == "GEMINI":
        if not cfg.api_key:
            raise LLMError("Gemini needs an API key.")
        data = _post(cfg, f"{cfg.base()}/v1beta/models/{cfg.model_name()}:generateContent",
                     {"contents": [{"parts": [{"text": prompt}]}], "generationConfig": {"temperature": cfg.temperature}},
                     {"x-goog-api-key": cfg.api_key})
        try:
            text = "".join(part.get("text", "") for part in data["candidates"][0]["content"]["parts"])
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMError("Gemini's answer has no candidates[0].content.parts text.") from exc
    else:
        raise LLMError(f"Unknown AI provider {cfg.provider!r}; choose one of {', '.join(PROVIDERS)}.")
    return re.sub(r"(?s)^.*</think>", "", text).strip()
