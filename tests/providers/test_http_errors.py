"""What a user sees when a media server is down, slow, failing or refusing: clear errors, retries."""

from __future__ import annotations


import pytest

from audiomuse_ray.errors import ProviderAuthError, ProviderRequestError, ProviderUnavailable
from audiomuse_ray.providers.http import HttpClient
from tests.conftest import free_port
from tests.fakes.loopback import LoopbackServer, Response



def test_a_down_server_names_the_server_and_the_setting():
    client = HttpClient("Jellyfin", f"http://127.0.0.1:{free_port()}", retries=1, backoff_s=0.01,
                        setting_hint="AUDIOMUSE_JELLYFIN_URL")
    with pytest.raises(ProviderUnavailable, match=r"Jellyfin at http://127.0.0.1:\d+ is unavailable: cannot connect.*2 attempt.*AUDIOMUSE_JELLYFIN_URL"):
        client.get_json("System/Info")


def test_transient_errors_are_retried_then_succeed():
    calls = []

    def flaky(req):
        calls.append(1)
        return Response(503, {"e": 1}) if len(calls) < 3 else Response(200, {"ok": True})

    with LoopbackServer() as server:
        server.route("GET", "/x", flaky)
        assert HttpClient("S", server.url, retries=3, backoff_s=0.01).get_json("x") == {"ok": True}
    assert len(calls) == 3


def test_persistent_500_gives_up_with_the_status():
    with LoopbackServer() as server:
        server.route("GET", "/x", lambda r: Response(500, {"e": 1}))
        with pytest.raises(ProviderUnavailable, match="HTTP 500 after 3 attempt"):
            HttpClient("S", server.url, retries=2, backoff_s=0.01).get_json("x")


def test_a_timeout_is_reported_as_such():
    with LoopbackServer() as server:
        server.route("GET", "/slow", lambda r: Response(200, {}, delay_s=1.0))
        with pytest.raises(ProviderUnavailable, match="no answer within 0.2 s"):
            HttpClient("S", server.url, timeout_s=0.2, retries=0).get_json("slow")


def test_401_is_an_auth_error_and_404_a_request_error_without_secrets_in_the_message():
    with LoopbackServer() as server:
        server.route("GET", "/a", lambda r: Response(401, {}))
        server.route("GET", "/b", lambda r: Response(404, {"error": "gone"}))
        client = HttpClient("S", server.url, retries=3, backoff_s=0.01)
        with pytest.raises(ProviderAuthError) as auth:
            client.request("GET", "a?p=enc:736563726574")
        assert "736563726574" not in str(auth.value)
        with pytest.raises(ProviderRequestError, match="HTTP 404"):
            client.get_json("b")
    assert len([r for r in server.requests if r.path == "/a"]) == 1  # auth errors are not retried
