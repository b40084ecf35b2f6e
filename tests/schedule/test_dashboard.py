"""The library dashboard's aggregates on a seeded store (SQLite and PostgreSQL): counts, moods coverage,
tempo and key histograms, tracks analysed per day, the index's age, the last jobs, the schedules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from audiomuse_ray.api.dashboard_api import dashboard_summary
from audiomuse_ray.similarity.rebuild import rebuild_index
from audiomuse_ray.store import schedules as schedule_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=timezone.utc)
MOODS = ("danceable", "aggressive", "happy", "party", "relaxed", "sad")


def seed(store) -> None:
    rng = np.random.default_rng(1)
    rows = []
    specs = [  # (artist, album artist, album, tempo, key, scale, strongest mood, day offset)
        ("A", "A", "One", 80.0, "C", "major", "relaxed", 0),
        ("A", "A", "One", 95.0, "C", "major", "relaxed", 0),
        ("B", "", "One", 120.0, "A", "minor", "danceable", 1),  # the same album title by another artist
        ("B", "B", "Two", 121.0, "A", "minor", "danceable", 1),
        ("C", "Various", "Three", 150.0, "C", "major", "sad", 1),
        ("D", "Various", "Three", None, "", None, None, 40),  # no tempo, no key, no moods; analysed long ago
    ]
    for i, (artist, album_artist, album, tempo, key, scale, mood, days_ago) in enumerate(specs):
        moods = {} if mood is None else {m: (0.9 if m == mood else 0.1 + 0.01 * j) for j, m in enumerate(MOODS)}
        rows.append(tracks.TrackRow(item_id=f"t{i}", title=f"T{i}", author=artist, album=album, album_artist=album_artist,
                                    tempo=tempo, key=key, scale=scale, other_features=moods,
                                    analysed_at=NOW - timedelta(days=days_ago, hours=1),
                                    embedding=rng.normal(size=8).astype(np.float32)))
    tracks.save_album(store, rows, [tracks.ErrorRow("bad", "/x/bad.mp3", "UnreadableAudio", "truncated")])


def test_dashboard_summary(store):
    seed(store)
    # a tie (two moods at the top) counts for no label
    tracks.save_album(store, [tracks.TrackRow(item_id="tie", title="Tie", author="E", album="Four", tempo=60.0,
                                              other_features={"happy": 0.7, "party": 0.7, "sad": 0.1},
                                              analysed_at=NOW - timedelta(hours=2))])
    rebuild_index(store)
    task_store.create_task(store, "job-1", "analysis", details={"total": 10, "done": 4})
    schedule_store.save_schedule(store, None, name="nightly", task_type="analysis", cron_expr="0 3 * * *",
                                 enabled=True, options={}, now=NOW)

    s = dashboard_summary(store, now=NOW)
    c = s["content"]
    assert (c["total_songs"], c["distinct_artists"], c["unanalyzable_tracks"]) == (7, 5, 1)
    assert c["distinct_albums"] == 5  # (A, One), (B, One), (B, Two), (Various, Three), (E, Four)
    cov = {m["label"]: m for m in c["moods_coverage"]}
    assert [m["label"] for m in c["moods_coverage"]] == list(MOODS)
    assert (cov["relaxed"]["count"], cov["danceable"]["count"], cov["sad"]["count"], cov["happy"]["count"]) == (2, 2, 1, 0)
    assert cov["relaxed"]["score"] == round(100 * (0.9 * 2 + 0.14 * 3) / 5, 1)  # mean % over the 5 tracks with it
    assert cov["happy"]["score"] == round(100 * (0.12 * 5 + 0.7) / 6, 1)
    assert c["tempo_profile"] == {"slow": 2, "medium": 1, "fast": 2, "very_fast": 1, "avg_tempo": 104.3}
    assert s["analysis"] == {"analysed": 7, "failed": 1, "pending": 6}
    assert s["index"]["version"] == 1 and s["index"]["age_seconds"] is not None
    assert s["recent_tasks"][0]["task_id"] == "job-1" and s["recent_tasks"][0]["status"] == "STARTED"
    assert [(x["name"], x["enabled"], x["last_run"]) for x in s["cron"]] == [("nightly", True, None)]
    h = s["histograms"]
    assert h["tempo"] == [{"bpm": 60, "count": 1}, {"bpm": 80, "count": 1}, {"bpm": 90, "count": 1},
                          {"bpm": 120, "count": 2}, {"bpm": 150, "count": 1}]
    assert h["key"] == [{"key": "C", "scale": "major", "count": 3}, {"key": "A", "scale": "minor", "count": 2}]
    assert h["analysed_per_day"] == [{"date": "2030-06-14", "count": 3}, {"date": "2030-06-15", "count": 3}]


def test_an_empty_library(store):
    s = dashboard_summary(store, now=NOW)
    assert s["content"]["total_songs"] == 0 and s["index"] is None and s["analysis"]["pending"] == 0
    assert all(m["count"] == 0 and m["score"] is None for m in s["content"]["moods_coverage"])
    assert s["histograms"] == {"tempo": [], "key": [], "analysed_per_day": []}


def test_a_prefetched_snapshot_is_computed_once_in_the_background_and_a_first_request_waits_for_it():
    import threading

    from audiomuse_ray.api.dashboard_api import DashboardCache

    release, calls = threading.Event(), []

    def compute() -> dict:
        calls.append(threading.current_thread().name)
        release.wait(10)
        return {"n": len(calls)}

    cache = DashboardCache(compute)
    cache.prefetch(version=1)
    cache.prefetch(version=1)  # a second call while one runs starts nothing
    answers = []
    reader = threading.Thread(target=lambda: answers.append(cache.get(1)))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and answers == []  # the first request waits for the prefetch, not a scan of its own
    release.set()
    reader.join(10)
    cache.wait(10)
    assert answers == [{"n": 1}] and calls == ["dashboard-prefetch"] and cache.refreshes == 1
    cache.prefetch(version=1)  # made already: nothing more
    assert cache.get(1) == {"n": 1} and len(calls) == 1
