"""One function per provider, each speaking that provider's documented REST format; ``complete`` picks one.

Keys travel in headers (never in URLs or logs). The URL's path is fixed here, per provider; the model name,
which a caller may choose, is checked against a plain model-name alphabet and, where it goes into the path
(Gemini), percent-encoded, so it can never steer a request that carries the server's key to another path.
Redirects are never followed (a 307 would re-send the key's header to wherever it points), and an answer
larger than ``MAX_ANSWER_BYTES`` is refused before it is parsed.

Any failure -- down, slow, refused, redirected, malformed -- is an ``LLMError`` with a sentence naming the
provider; callers fall back to rule-based output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

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
MAX_ANSWER_BYTES = 4 << 20
# Model names as providers spell them: "llama3.1:8b", "hf.co/org/model:Q4_K_M", "gpt-4o-mini", "gemini-2.5-flash".
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,127}")
PATH_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # one path segment (Gemini)


def check_model_name(name: str, provider: str) -> str:
    """``name`` when it is a plain model name for ``provider``, else ``ValueError`` with a sentence.
    Gemini's name becomes one URL path segment, so it takes no slash or colon (a leading ``models/`` is
    dropped, as Gemini's own names carry it)."""
    if provider.upper() == "GEMINI":
        bare = name[len("models/"):] if name.startswith("models/") else name
        if not PATH_MODEL_NAME.fullmatch(bare) or ".." in bare:
            raise ValueError(f"{name!r} is not a Gemini model name (letters, digits, '.', '_', '-').")
        return bare
    if not MODEL_NAME.fullmatch(name) or ".." in name or "//" in name:
        raise ValueError(f"{name!r} is not a model name (letters, digits and . _ : @ + / -, at most 128).")
    return name


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


def _no_netrc(request):
    """An explicit no-op auth, so that requests never adds credentials from the server's ~/.netrc."""
    return request


def _post(cfg: LLMConfig, url: str, body: dict, headers: dict | None = None) -> dict:
    name = cfg.provider.title()
    try:
        with requests.post(url, json=body, headers=headers or {}, timeout=cfg.timeout_s, allow_redirects=False,
                           auth=_no_netrc, stream=True) as resp:
            if resp.is_redirect or 300 <= resp.status_code < 400:
                raise LLMError(f"{name} answered with a redirect (HTTP {resp.status_code}); it is not followed, "
                               "so the key stays with the configured URL. Set the final URL in AUDIOMUSE_AI_URL.")
            raw = resp.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            status = resp.status_code
    except requests.Timeout as exc:
        raise LLMError(f"{name} did not answer within {cfg.timeout_s:g} s.") from exc
    except requests.RequestException as exc:
        raise LLMError(f"{name} at {cfg.base()} cannot be reached.") from exc
    except OSError as exc:  # the connection broke while the body was read
        raise LLMError(f"{name} at {cfg.base()} broke off its answer.") from exc
    if len(raw) > MAX_ANSWER_BYTES:
        raise LLMError(f"{name}'s answer is larger than {MAX_ANSWER_BYTES >> 20} MB; it was not read.")
    if status >= 400:
        raise LLMError(f"{name} refused the request: HTTP {status} {raw[:200].decode(errors='replace')}")
    try:
        return json.loads(raw)
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
    try:
        model = check_model_name(cfg.model_name(), p)
    except ValueError as exc:
        raise LLMError(str(exc)) from None
    if p == "OLLAMA":
        data = _post(cfg, f"{cfg.base()}/api/generate", {"model": model, "prompt": prompt, "stream": False,
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
        data = _post(cfg, f"{cfg.base()}/v1beta/models/{quote(model, safe='')}:generateContent",
                     {"contents": [{"parts": [{"text": prompt}]}], "generationConfig": {"temperature": cfg.temperature}},
                     {"x-goog-api-key": cfg.api_key})
        try:
            text = "".join(part.get("text", "") for part in data["candidates"][0]["content"]["parts"])
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMError("Gemini's answer has no candidates[0].content.parts text.") from exc
    else:
        raise LLMError(f"Unknown AI provider {cfg.provider!r}; choose one of {', '.join(PROVIDERS)}.")
    end = text.rfind("</think>")
    return (text[end + len("</think>"):] if end != -1 else text).strip()
