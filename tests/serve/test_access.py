"""The API's access guard, exercised on the FastAPI app in-process (no Serve needed)."""

from __future__ import annotations

import pytest

from audiomuse_ray.api import access as guard
from audiomuse_ray.netaddr import is_loopback


@pytest.fixture
def client(library_client):
    saved = dict(guard._state)
    yield library_client[0]
    guard._state.update(saved)


def test_public_address_without_token_refuses_writes_with_advice(client):
    guard.configure("", "0.0.0.0")
    res = client.post("/api/create_playlist", json={"playlist_name": "x", "track_ids": ["a"]})
    assert res.status_code == 403 and "AUDIOMUSE_API_TOKEN" in res.json()["error"]


def test_token_is_checked_on_api_and_chat_routes(client):
    guard.configure("abc", "127.0.0.1")
    assert client.get("/api/config").status_code == 401
    assert client.post("/chat/api/chatPlaylist", json={}).status_code == 401
    assert client.get("/api/config", headers={"Authorization": "Bearer abd"}).status_code == 401


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                           ("0.0.0.0", False), ("192.0.2.10", False), ("music.lan", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback
