"""The LLM clients never carry the server's key anywhere but the configured URL's fixed path: a caller's
model name cannot rewrite the path (Gemini puts it there), redirects are not followed, and answers are
bounded in size. Against loopback servers that speak each provider's format."""

from __future__ import annotations

import pytest

from audiomuse_ray.chat.service import ChatRequest, instant_playlist, llm_config
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.llm.client import LLMConfig, LLMError, check_model_name, complete
from tests.fakes.llm import FakeLLM

KEY = "server-secret-key"
GOOD_NAMES = {"GEMINI": ["gemini-2.5-flash", "models/gemini-2.0-pro-exp", "gemini-1.5-flash-8b"],
              "OLLAMA": ["llama3.1:8b", "hf.co/org/Model-GGUF:Q4_K_M", "qwen2.5-coder:7b-instruct"],
              "OPENAI": ["gpt-4o-mini", "meta-llama/Llama-3.1-8B-Instruct", "mistral-small@2024"]}
# the classes: path traversal, query and fragment, percent-encoding, whitespace and header injection,
# control characters, look-alike Unicode, absolute URLs, empty and overlong
HOSTILE_NAMES = ["../../x?y=", "..", "a/../../b", "x?key=1", "x#frag", "x%2F..%2Fy", "x y", "x\r\nHost: evil",
                 "x\x00y", "gemini\u2215..", "http://evil.example/x", "//evil.example/x", "", "a" * 200, "-x", "x/"]


@pytest.mark.parametrize("provider", sorted(GOOD_NAMES))
def test_plain_model_names_pass(provider):
    for name in GOOD_NAMES[provider]:
        assert check_model_name(name, provider) == (name.removeprefix("models/") if provider == "GEMINI" else name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_model_names_never_reach_the_server(name):
    with FakeLLM("SELECT 1") as llm:
        for provider in ("GEMINI", "OLLAMA", "OPENAI", "MISTRAL"):
            if provider != "GEMINI" and name in ("x/",):
                continue  # a trailing slash is harmless in a JSON body
            cfg = LLMConfig(provider=provider, url=llm.url, model=name or "\t", api_key=KEY, timeout_s=5)
            with pytest.raises(LLMError):
                complete(cfg, "hello")
        assert llm.requests == []


def test_gemini_name_with_a_slash_or_colon_is_refused_other_providers_keep_it():
    with pytest.raises(ValueError):
        check_model_name("org/model", "GEMINI")
    with pytest.raises(ValueError):
        check_model_name("gemini:generateContent", "GEMINI")
    assert check_model_name("org/model", "OPENAI") == "org/model"


def test_caller_model_name_is_a_bad_request_before_any_call(settings, store):
    gemini = settings.replace(ai_provider="GEMINI", ai_url="http://127.0.0.1:9", ai_api_key=KEY)
    for name in HOSTILE_NAMES[:8]:
        with pytest.raises(BadRequest, match="ai_model"):
            llm_config(gemini, ChatRequest("x", "GEMINI", name), "GEMINI", overrides_allowed=False)

    def never(cfg, prompt):  # the model is not asked at all
        raise AssertionError("asked the model")

    with pytest.raises(BadRequest):
        instant_playlist(gemini, store, ChatRequest("ambient", "GEMINI", "../../x?y="), ask=never)


def test_key_goes_only_to_the_fixed_gemini_path():
    with FakeLLM("SELECT item_id FROM score") as llm:
        complete(LLMConfig(provider="GEMINI", url=llm.url, model="models/gemini-2.5-flash", api_key=KEY), "hi")
        assert [r.path for r in llm.requests] == ["/v1beta/models/gemini-2.5-flash:generateContent"]
        assert llm.auth_headers() == [{"x-goog-api-key": KEY}]


@pytest.mark.parametrize("provider", ["GEMINI", "OPENAI", "MISTRAL", "OLLAMA"])
def test_redirects_are_not_followed_so_the_key_stays_home(provider):
    with FakeLLM("SELECT 1") as elsewhere, FakeLLM("SELECT 1", mode="redirect") as configured:
        configured.redirect_to = elsewhere.url + "/v1beta/models/x:generateContent"
        cfg = LLMConfig(provider=provider, url=configured.url, model="", api_key=KEY, timeout_s=5)
        with pytest.raises(LLMError, match="redirect"):
            complete(cfg, "hello")
        assert len(configured.requests) == 1
        assert elsewhere.requests == []


def test_an_oversized_answer_is_refused_unread():
    with FakeLLM("SELECT 1", mode="huge") as llm:
        with pytest.raises(LLMError, match="larger than"):
            complete(LLMConfig(provider="OLLAMA", url=llm.url, timeout_s=10), "hello")


def test_think_preamble_is_dropped_in_linear_time():
    with FakeLLM("<think>" + "x" * 100_000 + "</think>\nSELECT 1") as llm:
        assert complete(LLMConfig(provider="OLLAMA", url=llm.url, timeout_s=10), "hello") == "SELECT 1"
