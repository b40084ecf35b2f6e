"""The whole flow against a loopback model server speaking each provider's format: good, malformed, not JSON,
slow (a clear message, nothing run); a refused answer gets one corrected try; the server's key goes only to
the server's own provider and URL; URL overrides only for authenticated or loopback servers; the CLI."""

from __future__ import annotations

import pytest

from audiomuse_ray.chat.service import ChatRequest, instant_playlist, llm_config
from audiomuse_ray.cli import main
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.settings import Settings
from tests.chat.conftest import SECRET, score_ids
from tests.fakes.llm import FakeLLM

GOOD_SQL = ("```sql\nSELECT item_id, title, author FROM score WHERE "
            "CAST(substring(other_features FROM '(?:^|,)sad:([0-9.]+)') AS float) >= 0.5 ORDER BY random() LIMIT 100\n```")
KEY = "sk-server-secret"
PROVIDERS = ["OLLAMA", "OPENAI", "GEMINI", "MISTRAL"]


def settings_for(store, provider: str, url: str, **more) -> Settings:
    return Settings.load({}, database_url=store.url, ai_provider=provider, ai_url=url, ai_api_key=KEY,
                         chat_db_user="audiomuse_chat_test", chat_llm_timeout_s=1.5, **more)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_good_answer_runs_the_guarded_query(seeded, provider):
    with FakeLLM(GOOD_SQL) as llm:
        result = instant_playlist(settings_for(seeded, provider, llm.url), seeded, ChatRequest("sad songs"))
    assert result.http_status == 200, result.message
    assert result.provider == provider and result.executed_query and result.executed_query.endswith("LIMIT 25")
    assert result.songs and {s.item_id for s in result.songs} <= score_ids(seeded)
    assert "Found" in result.message
    # the server's own provider at its own URL gets the server's key, in that provider's header
    header = llm.auth_headers()[0]
    assert (header.get("authorization") == f"Bearer {KEY}") or (header.get("x-goog-api-key") == KEY) \
        or (provider == "OLLAMA" and header == {})


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["malformed", "not_json", "slow", "error"])
def test_each_provider_bad_answer_is_a_clear_message_and_nothing_runs(seeded, provider, mode):
    with FakeLLM(GOOD_SQL, mode=mode, delay_s=4.0) as llm:
        result = instant_playlist(settings_for(seeded, provider, llm.url), seeded, ChatRequest("sad songs"))
    assert result.http_status == 502
    assert result.executed_query is None and result.songs is None
    assert "The AI provider failed" in result.message and "Nothing was run" in result.message
    if mode == "slow":
        assert "did not answer within 1.5 s" in result.message


def test_a_refused_answer_gets_one_corrected_try(seeded):
    with FakeLLM(["DROP TABLE score", GOOD_SQL]) as llm:
        result = instant_playlist(settings_for(seeded, "OPENAI", llm.url), seeded, ChatRequest("sad songs"))
    assert llm.calls == 2 and result.songs
    assert "refused" in result.message
    second_prompt = llm.requests[1].json()["messages"][0]["content"]
    assert "DROP TABLE score" in second_prompt and "Only a SELECT may run" in second_prompt


def test_two_refused_answers_run_nothing(seeded):
    with FakeLLM(["SELECT name AS item_id FROM playlist", "DELETE FROM score"]) as llm:
        result = instant_playlist(settings_for(seeded, "OLLAMA", llm.url), seeded, ChatRequest("x"))
    assert result.executed_query is None and result.songs is None and llm.calls == 2
    assert "No usable query" in result.message and SECRET not in result.message


def test_none_says_no_sql_is_generated_and_keywords_work_offline(seeded):
    settings = Settings.load({}, database_url=seeded.url, chat_db_user="audiomuse_chat_test")
    none = instant_playlist(settings, seeded, ChatRequest("sad songs", provider="NONE"))
    assert none.executed_query is None and none.songs is None and "no SQL was generated" in none.message
    assert "KEYWORDS" in none.message
    # with no language model configured, a request that names no provider gets the offline keyword mode
    default = instant_playlist(settings, seeded, ChatRequest("sad songs"))
    assert default.provider == "KEYWORDS" and default.songs and "Keyword mode" in default.message
    kw = instant_playlist(settings, seeded, ChatRequest("sad songs", provider="keywords"))
    assert kw.executed_query and kw.songs and "Keyword mode" in kw.message
    nothing = instant_playlist(settings, seeded, ChatRequest("qwerty zxcv", provider="KEYWORDS"))
    assert nothing.songs is None and "no word" in nothing.message
    with pytest.raises(BadRequest):
        instant_playlist(settings, seeded, ChatRequest("x", provider="CHATGPT"))
    with pytest.raises(BadRequest):
        instant_playlist(settings, seeded, ChatRequest("   "))


def test_url_override_never_receives_the_servers_key(seeded):
    with FakeLLM(GOOD_SQL) as server_llm, FakeLLM(GOOD_SQL) as other:
        settings = settings_for(seeded, "OPENAI", server_llm.url)
        overridden = instant_playlist(settings, seeded, ChatRequest("sad", openai_url=other.url + "/v1/chat/completions"))
        assert overridden.songs and other.requests and not server_llm.requests
        assert other.auth_headers() == [{}]  # the caller's server got the request, not the key
        same = instant_playlist(settings, seeded, ChatRequest("sad", openai_url=server_llm.url + "/"))
        assert same.songs and server_llm.auth_headers() == [{"authorization": f"Bearer {KEY}"}]
        # another provider than the server's: its default or overridden URL never gets the OpenAI key
        ollama = instant_playlist(settings, seeded, ChatRequest("sad", provider="OLLAMA",
                                                                ollama_url=other.url + "/api/generate"))
        assert ollama.songs and other.auth_headers()[-1] == {}
        gemini = instant_playlist(settings, seeded, ChatRequest("sad", provider="GEMINI"))
        assert gemini.http_status == 503 and gemini.executed_query is None and "needs an API key" in gemini.message


def test_url_override_needs_a_token_or_a_loopback_bind(seeded):
    with FakeLLM(GOOD_SQL) as llm, FakeLLM(GOOD_SQL) as other:
        public = settings_for(seeded, "OLLAMA", llm.url, host="0.0.0.0")
        with pytest.raises(BadRequest, match="AUDIOMUSE_API_TOKEN"):
            instant_playlist(public, seeded, ChatRequest("sad", ollama_url=other.url))
        assert not other.requests
        # the server's own URL, as config_defaults hands it out, is not an override
        assert instant_playlist(public, seeded, ChatRequest("sad", ollama_url=llm.url + "/api/generate")).songs
        with_token = public.replace(api_token="t0ken")
        assert instant_playlist(with_token, seeded, ChatRequest("sad", ollama_url=other.url)).songs
        assert other.requests


def test_request_model_override_and_defaults():
    s = Settings.load({}, ai_provider="OPENAI", ai_url="http://127.0.0.1:9/v1", ai_model="mine", ai_api_key=KEY)
    assert llm_config(s, ChatRequest("x"), "OPENAI", overrides_allowed=True).model == "mine"
    assert llm_config(s, ChatRequest("x", model="theirs"), "OPENAI", overrides_allowed=True).model == "theirs"
    mistral = llm_config(s, ChatRequest("x"), "MISTRAL", overrides_allowed=True)
    assert mistral.api_key == "" and mistral.model == "ministral-3b-latest" and mistral.url == "https://api.mistral.ai"


class RecordingProvider:
    name = "recording"

    def __init__(self):
        self.created: list[tuple[str, list[str]]] = []

    def create_playlist(self, name, item_ids):
        self.created.append((name, list(item_ids)))
        return "pl-1"


def test_cli_chat_keywords_and_create(seeded, capsys, monkeypatch):
    if seeded.dialect != "sqlite":
        pytest.skip("one database is enough for the CLI")
    import audiomuse_ray.providers as providers

    media = RecordingProvider()
    monkeypatch.setattr(providers, "make_provider", lambda settings: media)
    args = ["--database-url", seeded.url]
    assert main(["chat", "sad music", "--provider", "keywords", "--create", "Rainy", *args]) == 0
    out = capsys.readouterr().out
    assert "Keyword mode" in out and "SQL: SELECT" in out and "Created playlist 'Rainy_instant'" in out
    assert media.created and media.created[0][0] == "Rainy_instant"
    assert set(media.created[0][1]) <= score_ids(seeded) and len(media.created[0][1]) == 19  # sad > 0
    assert main(["chat", "sad music", "--provider", "none", *args]) == 1
    assert "no SQL was generated" in capsys.readouterr().out
