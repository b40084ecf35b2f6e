"""The instant-playlist routes on Ray Serve (AudioMuse-AI's paths, fields and reply shape) against a loopback
model server: the server's own provider with its key, URL overrides without it, malformed and slow answers
(a clear message, nothing run, other routes keep answering), config defaults, and ``_instant`` playlists."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from audiomuse_ray.store import open_store
from audiomuse_ray.store import tracks as track_store

from tests.conftest import wait_until_routed
from tests.fakes.llm import FakeLLM

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = "gemini-server-key"
SQL = ("SELECT item_id, title, author FROM score WHERE "
       "CAST(substring(mood_vector FROM '(?:^|,)ambient:([0-9.]+)') AS float) >= 0.3 ORDER BY random() LIMIT 50")
FIELDS = {"message", "original_request", "ai_provider_used", "ai_model_selected", "executed_query", "query_results"}


@pytest.fixture(scope="module")
def chat_app(analysed_corpus, serve_base, tmp_path_factory):
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _summary = analysed_corpus
    with FakeLLM(SQL) as server_llm, FakeLLM(SQL) as caller_llm:
        chat = settings.replace(ai_provider="GEMINI", ai_url=server_llm.url, ai_api_key=KEY, chat_llm_timeout_s=2.0,
                                playlist_dir=str(tmp_path_factory.mktemp("instant")))
        serve.run(build(chat, reload_interval_s=60.0, num_cpus=0), name="chat", route_prefix="/chatapp")
        wait_until_routed(serve_base + "/chatapp/api/active_tasks")
        yield serve_base + "/chatapp", chat, server_llm, caller_llm
        serve.delete("chat")


def post(url: str, body: dict, timeout: float = 60) -> requests.Response:
    return requests.post(url, json=body, timeout=timeout)


def test_config_defaults_on_both_paths(chat_app):
    base, settings, server_llm, _ = chat_app
    for path in ("/chat/api/config_defaults", "/api/config_defaults"):
        body = requests.get(base + path, timeout=10).json()
        assert body["default_ai_provider"] == "GEMINI" and body["ai_api_key_set"] is True
        assert body["ollama_server_url"].endswith("/api/generate") and "default_mistral_model_name" in body
        assert KEY not in str(body)


def test_server_provider_answers_in_audiomuse_shape_with_its_key(chat_app):
    base, settings, server_llm, _ = chat_app
    server_llm.mode, before = "good", len(server_llm.requests)
    for path in ("/chat/api/chatPlaylist", "/api/chatPlaylist"):
        res = post(base + path, {"userInput": "ambient for reading", "ai_provider": "GEMINI", "gemini_api_key": "caller"})
        assert res.status_code == 200, res.text
        reply = res.json()["response"]
        assert set(reply) == FIELDS
        assert reply["ai_provider_used"] == "GEMINI" and reply["original_request"] == "ambient for reading"
        assert reply["executed_query"].endswith("LIMIT 25") and "REGEXP_SUBSTRING" in reply["executed_query"]
        assert 0 < len(reply["query_results"]) <= 25
        assert set(reply["query_results"][0]) >= {"item_id", "title", "author"}
        # the album comes from the library by id (the model's query selects only item_id, title, author)
        store = open_store(settings.database_url)
        try:
            stored = {t.item_id: t.album for t in track_store.get_tracks(store, [r["item_id"] for r in reply["query_results"]])}
        finally:
            store.dispose()
        assert [r["album"] for r in reply["query_results"]] == [stored[r["item_id"]] for r in reply["query_results"]]
        assert all(r["album"] for r in reply["query_results"])
    # the server's key, in Gemini's header; the caller's "gemini_api_key" field is ignored
    assert [h.get("x-goog-api-key") for h in server_llm.auth_headers()[before:]] == [KEY, KEY]


@pytest.mark.parametrize("provider,field,path", [("OLLAMA", "ollama_server_url", "/api/generate"),
                                                  ("OPENAI", "openai_server_url", "/v1/chat/completions")])
def test_url_override_formats_good_malformed_slow(chat_app, provider, field, path):
    base, _settings, server_llm, caller_llm = chat_app
    body = {"userInput": "ambient", "ai_provider": provider, field: caller_llm.url + path}
    caller_llm.mode, before = "good", len(caller_llm.requests)
    good = post(base + "/chat/api/chatPlaylist", body).json()["response"]
    assert good["query_results"] and good["executed_query"]
    assert caller_llm.auth_headers()[before:] == [{}]  # the request reached the override without any key

    caller_llm.mode = "malformed"
    res = post(base + "/chat/api/chatPlaylist", body)
    assert res.status_code == 502
    bad = res.json()["response"]
    assert bad["executed_query"] is None and bad["query_results"] is None and "Nothing was run" in bad["message"]

    caller_llm.mode, caller_llm.delay_s = "slow", 4.0
    outcome: dict = {}

    def slow_call() -> None:
        started = time.perf_counter()
        r = post(base + "/chat/api/chatPlaylist", body)
        outcome.update(status=r.status_code, reply=r.json()["response"], seconds=time.perf_counter() - started)

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    assert requests.get(base + "/chat/api/config_defaults", timeout=10).status_code == 200
    assert time.perf_counter() - started < 1.0  # the replica is not blocked by the waiting request
    thread.join()
    caller_llm.mode = "good"
    assert outcome["status"] == 502 and outcome["seconds"] < 4.0
    assert "did not answer within 2 s" in outcome["reply"]["message"] and outcome["reply"]["executed_query"] is None


def test_provider_without_key_none_and_keywords(chat_app):
    base, *_ = chat_app
    mistral = post(base + "/chat/api/chatPlaylist", {"userInput": "x", "ai_provider": "MISTRAL"})
    assert mistral.status_code == 503 and "needs an API key" in mistral.json()["response"]["message"]
    none = post(base + "/chat/api/chatPlaylist", {"userInput": "x", "ai_provider": "NONE"}).json()["response"]
    assert none["executed_query"] is None and "no SQL was generated" in none["message"]
    kw = post(base + "/chat/api/chatPlaylist", {"userInput": "calm ambient", "ai_provider": "KEYWORDS"}).json()["response"]
    assert kw["query_results"] and kw["executed_query"]
    missing = post(base + "/chat/api/chatPlaylist", {"ai_provider": "NONE"})
    assert missing.status_code == 400 and missing.json() == {"error": "Missing userInput in request"}


def test_create_instant_playlist(chat_app):
    base, settings, *_ = chat_app
    songs = post(base + "/chat/api/chatPlaylist", {"userInput": "calm ambient", "ai_provider": "KEYWORDS"}).json()
    ids = [s["item_id"] for s in songs["response"]["query_results"]]
    res = post(base + "/chat/api/create_playlist", {"playlist_name": "Reading", "item_ids": ids})
    assert res.status_code == 200, res.text
    assert "Successfully created playlist 'Reading_instant'" in res.json()["message"]
    from pathlib import Path

    written = Path(settings.playlist_dir) / "Reading_instant.m3u8"
    assert written.exists() and len([line for line in written.read_text().splitlines() if line and not line.startswith("#")]) == len(ids)
    listed = requests.get(base + "/api/playlists", timeout=10).json()
    assert [s["item_id"] for s in listed["Reading_instant"]] == ids
    bad = post(base + "/chat/api/create_playlist", {"playlist_name": "x"})
    assert bad.status_code == 400 and bad.json()["message"].startswith("Error:")


# flat (the guard accepts it), so it reaches the engine: a backtracking engine needs about 60^12 steps on the
# 60-letter value the statement builds, holding the process's GIL; RE2 answers at once
PATHOLOGICAL = ("SELECT item_id, title, author FROM score WHERE regexp_replace(title, '.*', '" + "a" * 60 + "') ~ '"
                + "a*" * 12 + "b'")


def test_a_pathological_regex_leaves_the_server_answering(chat_app):
    base, _settings, _server_llm, caller_llm = chat_app
    caller_llm.mode, caller_llm.answers, caller_llm.calls = "good", [PATHOLOGICAL], 0
    body = {"userInput": "pathological", "ai_provider": "OLLAMA", "ollama_server_url": caller_llm.url + "/api/generate"}

    def timed_get() -> float:
        started = time.perf_counter()
        assert requests.get(base + "/chat/api/config_defaults", timeout=30).status_code == 200
        return time.perf_counter() - started

    usual = sorted(timed_get() for _ in range(5))[2]
    replies: list[requests.Response] = []
    thread = threading.Thread(target=lambda: replies.extend(post(base + "/chat/api/chatPlaylist", body, timeout=120)
                                                           for _ in range(3)))
    thread.start()
    during = [timed_get() for _ in range(10)]
    thread.join(timeout=120)
    assert not thread.is_alive() and len(replies) == 3
    for res in replies:
        reply = res.json()["response"]
        assert res.status_code == 200 and reply["query_results"] == [] and "REGEXP" in reply["executed_query"]
    assert max(during) < max(1.0, 10 * usual), (usual, during)
    caller_llm.answers = [SQL]
