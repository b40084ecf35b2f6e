"""AI playlist names against loopback servers answering in each provider's documented format."""

from __future__ import annotations

import pytest

from audiomuse_ray.clustering.naming import ai_name, build_prompt, clean_name
from audiomuse_ray.llm.client import LLMConfig, LLMError, complete
from tests.fakes.loopback import LoopbackServer, Response

SONGS = [("Beast of Insanity", "Braden Walters"), ("Brainsukker", "Gerd Raudenbusch")]
RULE = "Metal_Fast_Aggressive"


def answer(provider: str, text: str) -> Response:
    if provider == "OLLAMA":
        return Response(200, {"model": "m", "response": text, "done": True})
    if provider == "GEMINI":
        return Response(200, {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}}]})
    return Response(200, {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                  "finish_reason": "stop"}]})


ROUTES = {"OLLAMA": "/api/generate", "OPENAI": "/v1/chat/completions", "MISTRAL": "/v1/chat/completions",
          "GEMINI": "/v1beta/models/gemini-test:generateContent"}


@pytest.mark.parametrize("provider", ["OLLAMA", "OPENAI", "MISTRAL", "GEMINI"])
def test_each_provider_names_a_playlist(provider):
    with LoopbackServer() as server:
        server.route("POST", ROUTES[provider], lambda r: answer(provider, "<think>hmm</think> Midnight Arena Riot \U0001F918"))
        cfg = LLMConfig(provider=provider, url=server.url, model="gemini-test" if provider == "GEMINI" else "m",
                        api_key="k3y")
        assert ai_name(cfg, RULE, SONGS) == "Midnight Arena Riot"
        req = server.requests[0]
        if provider == "OLLAMA":
            assert req.json()["prompt"].startswith("You name music playlists") and req.json()["stream"] is False
        elif provider == "GEMINI":
            assert req.headers["x-goog-api-key"] == "k3y" and "k3y" not in req.path
            assert "Beast of Insanity by Braden Walters" in req.json()["contents"][0]["parts"][0]["text"]
        else:
            assert req.headers["authorization"] == "Bearer k3y" and req.json()["messages"][0]["role"] == "user"


@pytest.mark.parametrize("provider", ["OLLAMA", "OPENAI", "MISTRAL", "GEMINI"])
def test_a_malformed_answer_falls_back_to_the_rule_name(provider):
    with LoopbackServer() as server:
        server.route("POST", ROUTES[provider], lambda r: Response(200, {"unexpected": True}))
        cfg = LLMConfig(provider=provider, url=server.url, model="gemini-test", api_key="k")
        with pytest.raises(LLMError):
            complete(cfg, "x")
        assert ai_name(cfg, RULE, SONGS) == RULE


def test_a_timeout_falls_back_quickly():
    with LoopbackServer() as server:
        server.route("POST", "/api/generate", lambda r: Response(200, {"response": "Too Late Name Here"}, delay_s=2))
        cfg = LLMConfig(provider="OLLAMA", url=server.url, timeout_s=0.3)
        with pytest.raises(LLMError, match="did not answer within 0.3 s"):
            complete(cfg, "x")
        assert ai_name(cfg, RULE, SONGS) == RULE


def test_errors_and_out_of_bounds_names_fall_back():
    with LoopbackServer() as server:
        server.route("POST", "/v1/chat/completions", lambda r: Response(500, {"error": "boom"}))
        assert ai_name(LLMConfig(provider="OPENAI", url=server.url), RULE, SONGS) == RULE
    with LoopbackServer() as server:
        server.route("POST", "/api/generate", lambda r: answer("OLLAMA", "Short"))
        assert ai_name(LLMConfig(provider="OLLAMA", url=server.url), RULE, SONGS) == RULE
    assert ai_name(LLMConfig(provider="NONE"), RULE, SONGS) == RULE
    assert ai_name(LLMConfig(provider="OLLAMA", url="http://127.0.0.1:9", timeout_s=1), RULE, SONGS) == RULE


def test_clean_name_and_prompt():
    assert clean_name('  "Neon Nights: Synth & Soul!" \n(explanation)') == "Neon Nights Synth & Soul!"
    assert clean_name("Café Crème Evenings") == "Caf Crme Evenings"
    prompt = build_prompt(RULE, SONGS)
    assert "15 to 35 characters" in prompt and "Metal, Fast, Aggressive" in prompt
