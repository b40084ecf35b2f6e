"""The UI's pure pieces and the API's full-path routing, without Ray or a browser."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from audiomuse_ray.api import guard
from audiomuse_ray.serve.app import BearerGuard
from audiomuse_ray.ui.app import banner_text, check_login
from audiomuse_ray.ui.client import ApiError
from audiomuse_ray.ui.tasks import TaskPoll, failed_lines, progress_html


def full_path_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/health")
    def health():
        return {"ok": True}

    @app.get("/chat/api/config_defaults")
    def chat():
        return {"chat": True}

    app.add_middleware(BearerGuard)
    return app


@pytest.mark.parametrize("prefix, path", [("/api", "/api/health"), ("/chat", "/chat/api/config_defaults"),
                                          ("", "/api/health")])
def test_routes_declared_as_full_paths_match_under_their_own_prefix(prefix, path):
    """Serve hands a replica root_path = its route prefix and the full path (both ingresses do)."""
    guard.configure("", "127.0.0.1")
    res = TestClient(full_path_app(), root_path=prefix).get(path)
    assert res.status_code == 200, res.text


def test_other_prefixes_keep_stripping_their_root_path():
    guard.configure("", "127.0.0.1")
    client = TestClient(full_path_app(), root_path="/jf")
    assert client.get("/jf/api/health").status_code == 200


def test_health_needs_no_token_and_says_the_write_policy():
    guard.configure("s3cret", "0.0.0.0")
    assert guard.refusal("/api/health", "GET", "") is None
    assert guard.refusal("/api/config", "GET", "")[0] == 401
    assert guard.write_policy() == "token"
    guard.configure("", "0.0.0.0")
    assert guard.write_policy() == "refused"
    guard.configure("", "127.0.0.1")
    assert guard.write_policy() == "open"


class StubClient:
    def __init__(self, health=None, error=None):
        self._health, self._error = health, error

    def health(self):
        if self._error:
            raise ApiError(self._error)
        return self._health


def test_banner_says_why_in_a_sentence():
    assert banner_text(StubClient({"index_version": 3, "writes": "open"})) == ""
    assert "run the analysis" in banner_text(StubClient({"index_version": None, "writes": "open"}))
    refused = banner_text(StubClient({"index_version": 1, "writes": "refused"}))
    assert "public address without an API token" in refused and "AUDIOMUSE_API_TOKEN" in refused
    down = banner_text(StubClient(error="The audiomuse-ray server at http://x does not answer: is it running?"))
    assert "cannot be reached" in down and "is it running" in down


def test_login_takes_the_token_as_password_only():
    check = check_login("s3cret")
    assert check("anyone", "s3cret") and not check("anyone", "wrong") and not check("anyone", "")
    assert not check_login("")("anyone", "")


def test_progress_shows_counts_eta_and_failed_files():
    task = {"task_id": "abcdef1234", "task_type": "analysis", "status": "PROGRESS", "progress": 40,
            "running_time_seconds": 75,
            "details": {"done": 4, "total": 10, "analysed": 3, "failed": 1, "skipped": 2, "eta_s": 130,
                        "log": ["A — B: 3 analysed, 1 failed (bad.mp3: UnreadableAudio)", "C — D: 2 analysed"]}}
    html = progress_html(task, "analysis")
    assert "4 of 10 tracks" in html and "1 failed" in html and "about 2 min 10 s left" in html
    assert "data-state='PROGRESS'" in html and "value='40'" in html
    assert "bad.mp3" in failed_lines(task) and "C — D" not in failed_lines(task)
    poll = TaskPoll({}, task)
    assert poll.of_type(("analysis", "main_analysis")) is task and poll.of_type(("clustering",)) == {}
