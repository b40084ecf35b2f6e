"""The Collection tab's pieces without a browser: the statement as the server sends it, the sync's progress."""

from __future__ import annotations

from audiomuse_ray.api.collection_api import statement
from audiomuse_ray.ui.collection import consent_note, statement_markdown, sync_html


def test_the_statement_shows_every_shared_field_and_what_never_leaves():
    text = statement_markdown({**statement(), "consented": False})
    for words in ("artist, title, album, duration", "fingerprint", "embedding", "Never shared", "the audio",
                  "media-server ids", "client names"):
        assert words in text, words
    assert consent_note({"consented": False}).startswith("Tick the box")
    assert "2026-12-02 19:03" in consent_note({"consented": True, "given_at": "2026-12-02T19:03:11+00:00"})


def test_the_progress_shows_the_sync_counts_and_its_error():
    assert "No collection sync has run yet" in sync_html({"status": "NO_PREVIOUS_TASK"})
    running = sync_html({"task_id": "abcdef123456", "status": "PROGRESS", "progress": 40, "running_time_seconds": 12,
                         "details": {"hub": "https://hub.example", "done": 30, "total": 75, "pulled": 25, "pushed": 5,
                                     "analysed": 5, "eta_s": 20}})
    assert "data-state='PROGRESS'" in running and "value='40'" in running
    for words in ("hub https://hub.example", "30 of 75 tracks", "25 pulled from the hub", "5 pushed", "5 analysed here",
                  "about 20 s left"):
        assert words in running, words
    failed = sync_html({"task_id": "abcdef123456", "status": "FAILURE", "progress": 10,
                        "details": {"error": "The hub at <x> refused the token."}})
    assert "data-state='FAILURE'" in failed and "refused the token" in failed and "<x>" not in failed
