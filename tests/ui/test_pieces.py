"""The UI's pure pieces and the API's full-path routing, without Ray or a browser."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from audiomuse_ray.api import access as guard
from audiomuse_ray.serve.http_app import BearerGuard
from audiomuse_ray.ui.app import banner_text, check_login
from audiomuse_ray.ui.client import ApiError
from audiomuse_ray.ui.task_monitor import TaskPoll, failed_lines, progress_html, recent_html, render_tasks


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
    assert "4 of 10 tracks to analyse" in html and "1 failed" in html and "about 2 min 10 s left" in html
    assert "data-state='PROGRESS'" in html and "value='40'" in html
    assert "bad.mp3" in failed_lines(task) and "C — D" not in failed_lines(task)
    # the job's own summary names no file, so it is not listed as one; a timestamped album line is
    task["details"]["log"] += ["12:00:01 done: 5 analysed, 1 failed, 2 skipped",
                               "12:00:02 E — F: 1 analysed, 2 failed (x.ogg: AudioTooShort; y.wav: SilentAudio)"]
    listed = failed_lines(task).splitlines()
    assert listed == ["- A — B: bad.mp3: UnreadableAudio", "- E — F: x.ogg: AudioTooShort",
                      "- E — F: y.wav: SilentAudio"]
    poll = TaskPoll({}, task)
    assert poll.of_type(("analysis", "main_analysis")) is task and poll.of_type(("clustering",)) == {}


class TasksClient:
    """``/api/tasks`` as a newer server answers it, or a 404 as an older one does."""

    def __init__(self, recent=None, active=None, last=None):
        self.recent, self.active, self.last, self.calls = recent, active, last, []

    def recent_tasks(self, limit):
        self.calls.append(("recent", limit))
        if self.recent is None:
            raise ApiError("This server has no /api/tasks route (HTTP 404): it may be an older audiomuse-ray.", 404)
        return self.recent

    def active_task(self):
        self.calls.append("active")
        return self.active

    def last_task(self):
        self.calls.append("last")
        return self.last


def test_the_task_poll_reads_active_last_and_recent_from_one_call():
    running = {"task_id": "c1", "task_type": "clustering", "status": "PROGRESS", "progress": 30,
               "created_at": "2026-11-25T14:00:05+00:00", "details": {"log": ["run 3 of 10"]}}
    done = {"task_id": "a1", "task_type": "analysis", "status": "REVOKED", "progress": 40, "cancel_requested": True,
            "created_at": "2026-11-25T13:59:00+00:00", "running_time_seconds": 12,
            "details": {"log": ["started", "cancelled by the user"]}}
    client = TasksClient([running, done])
    poll = TaskPoll.fetch(client)
    assert client.calls == [("recent", 10)]
    assert poll.active is running and poll.last is running and poll.recent == (running, done)
    assert poll.of_type(("analysis",)) is done  # the newest analysis, though a clustering ran after it
    _active, listed, log = render_tasks(poll)
    assert listed.index("data-task-id='c1'") < listed.index("data-task-id='a1'")
    assert "data-state='REVOKED'" in listed and "cancelled by the user" in listed and "2026-11-25 13:59:00" in listed
    assert log == "run 3 of 10"
    finished = TaskPoll.fetch(TasksClient([done]))
    assert finished.active == {} and finished.last is done
    assert "No job has run yet" in recent_html(())


def test_the_task_poll_falls_back_on_a_server_without_the_recent_route():
    last = {"task_id": "a1", "task_type": "analysis", "status": "SUCCESS", "details": {}}
    client = TasksClient(None, {}, last)
    poll = TaskPoll.fetch(client)
    assert client.calls == [("recent", 10), "active", "last"] and poll.last is last and poll.recent == ()
    assert "data-state='SUCCESS'" in render_tasks(poll)[1]
    down = TaskPoll.fetch(type("Down", (), {"recent_tasks": lambda self, n: (_ for _ in ()).throw(ApiError("down"))})())
    assert down.error == "down" and "down" in render_tasks(down)[0]


def test_the_instant_playlist_tab_reads_the_chat_routes_reply_shape():
    """The reply as ``chat_api.result_json`` builds it (AudioMuse-AI's ``{"response": {...}}`` wrapper)."""
    from audiomuse_ray.api.chat_api import result_json
    from audiomuse_ray.chat.execute import ChatSong
    from audiomuse_ray.chat.service import ChatResult
    from audiomuse_ray.ui.chat import read_reply

    sql = "SELECT item_id, title, author FROM score WHERE other_features LIKE '%relaxed%' LIMIT 25"
    songs = (ChatSong("id-1", "Quiet Song", "Some Artist"), ChatSong("id-2", "Other", None))
    reply = result_json(ChatResult("Here are calm songs.", "calm ambient", "KEYWORDS", None, sql, songs))
    status, message, query, frame = read_reply(reply)
    assert status == "2 songs (KEYWORDS)." and message == "Here are calm songs." and query == sql
    assert frame["item_id"].tolist() == ["id-1", "id-2"] and frame["title"].tolist() == ["Quiet Song", "Other"]
    assert frame["artist"].tolist() == ["Some Artist", ""]
    none = result_json(ChatResult("No AI provider is configured; no SQL was generated.", "x", "NONE", None, None, None))
    status, message, query, frame = read_reply(none)
    assert status.startswith("**Problem:**") and "no SQL was generated" in status and query == "" and frame.empty


def test_the_score_plot_follows_the_jobs_own_record_of_improvements():
    """A 4-second clustering finished between two of the page's 2-second polls and its plot showed one
    point; the job's record gives the whole step curve, up to the runs done now."""
    from audiomuse_ray.ui.clustering import score_points

    details = {"runs_done": 30, "best_score": -2.0, "score_history": [[1, -4.0], [7, -3.1], [22, -2.0]]}
    assert score_points(details, []) == [[1, -4.0], [7, -3.1], [22, -2.0], [30, -2.0]]
    assert score_points({**details, "runs_done": 22}, []) == [[1, -4.0], [7, -3.1], [22, -2.0]]
    older = {"runs_done": 30, "best_score": -2.0}  # a server that keeps no record: the page's own polls
    assert score_points(older, [[10, -3.0]]) == [[10, -3.0], [30, -2.0]]
    assert score_points(older, [[10, -3.0], [30, -2.0]]) == [[10, -3.0], [30, -2.0]]


class PreviewClient:
    def preview(self, item_id: str, seconds: int = 30) -> tuple[bytes, str]:
        return b"OggS" + item_id.encode(), "audio/ogg"


def test_each_preview_removes_the_previews_older_than_ten_minutes(tmp_path):
    """One file per play, in the temporary folder: without the clean-up a UI left running piles them up."""
    import os

    from audiomuse_ray.ui.common import PREVIEW_KEEP_S, PREVIEW_PREFIX, preview_file

    now = 1_800_000_000.0
    old = tmp_path / f"{PREVIEW_PREFIX}old.ogg"
    recent = tmp_path / f"{PREVIEW_PREFIX}recent.ogg"
    other = tmp_path / "someone-elses.ogg"
    for path, age in ((old, PREVIEW_KEEP_S + 1), (recent, PREVIEW_KEEP_S - 60), (other, 10 * PREVIEW_KEEP_S)):
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    made = preview_file(PreviewClient(), "t1", folder=str(tmp_path), now=lambda: now)
    assert open(made, "rb").read() == b"OggSt1" and made.endswith(".ogg")
    assert not old.exists() and recent.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(PREVIEW_PREFIX)) == sorted(
        [recent.name, os.path.basename(made)])
