"""The hub client against loopback HTTP servers that misbehave: every failure is a typed error with a
sentence that never repeats the token; and the CLI's sync refuses a wrong token before any work."""

from __future__ import annotations

import pytest

from audiomuse_ray.collection.client import HubClient
from audiomuse_ray.collection.hub import MAX_BATCH, HubInfo
from audiomuse_ray.recording.identity import TagQuery
from audiomuse_ray.errors import BadRequest, HubAuthError, HubError, HubModelMismatch, HubUnavailable
from tests.conftest import free_port
from tests.fakes.loopback import LoopbackServer, Response

TOKEN = "client-secret-token-42"
INFO = "/api/collection/hub/info"
LOOKUP = "/api/collection/hub/lookup"


def info(version="v1", schema=1):
    return lambda req: Response(200, HubInfo(version, 3, schema).to_json())


def client(url, **kw) -> HubClient:
    return HubClient(url, TOKEN, timeout_s=kw.pop("timeout_s", 2.0), retries=kw.pop("retries", 0), **kw)


def test_the_token_travels_as_a_bearer_header_and_info_is_read():
    with LoopbackServer() as server:
        server.route("GET", INFO, info())
        assert client(server.url + "/").check("v1").recordings == 3
        assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert server.requests[0].path == INFO  # a trailing slash on the URL is fine


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_a_hub_auth_error(status):
    with LoopbackServer() as server:
        server.route("GET", INFO, lambda req: Response(status, {"error": "The hub token was refused."}))
        with pytest.raises(HubAuthError, match="refused the token") as err:
            client(server.url).info()
    assert TOKEN not in str(err.value)


def test_a_hub_of_another_model_version_is_refused_with_both_versions_named():
    with LoopbackServer() as server:
        server.route("GET", INFO, info("musicnn-onnx-other"))
        with pytest.raises(HubModelMismatch, match="musicnn-onnx-other.*musicnn-onnx-mine.*cannot be mixed"):
            client(server.url).check("musicnn-onnx-mine")
        server.route("POST", LOOKUP, lambda req: Response(409, {"error": "This hub shares analyses of model version X."}))
        with pytest.raises(HubModelMismatch, match="This hub shares"):
            client(server.url).lookup("musicnn-onnx-mine", [TagQuery("a", "b")])


def test_a_hub_of_a_newer_record_schema_asks_for_an_upgrade():
    with LoopbackServer() as server:
        server.route("GET", INFO, info(schema=99))
        with pytest.raises(HubError, match="Upgrade audiomuse-ray"):
            client(server.url).info()


def test_a_hub_that_is_gone_slow_or_not_a_hub_is_unavailable():
    with pytest.raises(HubUnavailable, match="did not answer"):
        client(f"http://127.0.0.1:{free_port()}").info()
    with LoopbackServer() as server:
        server.route("GET", INFO, lambda req: Response(200, {}, delay_s=1.5))
        with pytest.raises(HubUnavailable, match="did not answer.*ReadTimeout"):
            client(server.url, timeout_s=0.5).info()
    with LoopbackServer() as server:  # no hub routes at all
        with pytest.raises(HubUnavailable, match="no collection hub"):
            client(server.url).info()
    with LoopbackServer() as server:
        server.route("GET", INFO, lambda req: Response(200, b"<html>hello</html>"))
        with pytest.raises(HubUnavailable, match="not JSON"):
            client(server.url).info()
    with LoopbackServer() as server:
        server.route("GET", INFO, lambda req: Response(200, {"model_version": "v1"}))
        with pytest.raises(HubUnavailable, match="unexpected"):
            client(server.url).info()


def test_a_blinking_hub_is_retried_and_a_failing_one_is_unavailable():
    calls = []

    def flaky(req):
        calls.append(1)
        return Response(503, {"error": "busy"}) if len(calls) < 2 else info()(req)

    with LoopbackServer() as server:
        server.route("GET", INFO, flaky)
        assert client(server.url, retries=2).info().model_version == "v1" and len(calls) == 2
        server.route("GET", INFO, lambda req: Response(500, {"error": "database is locked"}))
        with pytest.raises(HubUnavailable, match="HTTP 500: database is locked.*run the sync again"):
            client(server.url, retries=1).info()


def test_a_lookup_is_sent_in_batches_and_a_short_answer_is_refused():
    seen = []

    def lookup(req):
        n = len(req.json()["queries"])
        seen.append(n)
        return Response(200, {"model_version": "v1", "results": [{"candidates": []}] * n})

    with LoopbackServer() as server:
        server.route("GET", INFO, info())
        server.route("POST", LOOKUP, lookup)
        c = client(server.url)
        c.info()
        queries = [TagQuery("artist", f"title {i}") for i in range(250)]
        assert c.lookup("v1", queries) == [[]] * 250
        assert sum(seen) == 250 and max(seen) <= min(100, MAX_BATCH)
        server.route("POST", LOOKUP, lambda req: Response(200, {"model_version": "v1", "results": []}))
        with pytest.raises(HubUnavailable, match="0 results for 1 queries"):
            c.lookup("v1", queries[:1])


def test_bad_urls_and_missing_tokens_are_refused_before_any_request():
    with pytest.raises(BadRequest, match="http"):
        HubClient("hub.example:8000", TOKEN)
    with pytest.raises(HubAuthError, match="token is needed"):
        HubClient("http://hub.example", "")


def test_the_cli_sync_refuses_a_wrong_token_with_a_sentence(tmp_path, corpus, capsys):
    from audiomuse_ray.cli import main
    from tests.conftest import REPO

    with LoopbackServer() as server:
        server.route("GET", INFO, lambda req: Response(401, {"error": "The hub token was refused."}))
        code = main(["--data-dir", str(tmp_path), "--music-dir", str(corpus / "library"), "--models-dir",
                     str(REPO / "models"), "sync", "--hub", server.url, "--token", "not-the-token", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "refused the token" in err and "not-the-token" not in err
