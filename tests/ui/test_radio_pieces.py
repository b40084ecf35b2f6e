"""The Radios, Schedules and Library tabs' pure pieces: tables and figures built from the API's JSON."""

from __future__ import annotations

from audiomuse_ray.ui.library import key_figure, moods_figure, per_day_figure, stats_html, tempo_figure
from audiomuse_ray.ui.radios import anchors_frame, radios_frame
from audiomuse_ray.ui.schedules import rows_frame, runs_frame

SUMMARY = {
    "generated_at": "2030-06-15T12:00:00+00:00",
    "content": {"distinct_artists": 1234, "distinct_albums": 56, "tempo_profile": {"avg_tempo": 118.4},
                "moods_coverage": [{"label": "relaxed", "score": 41.0, "count": 30}, {"label": "sad", "score": 12.5,
                                                                                       "count": 10},
                                   {"label": "happy", "score": None, "count": 0}]},
    "analysis": {"analysed": 40000, "failed": 3, "pending": 12},
    "index": {"version": 7, "age_seconds": 7300.0},
    "histograms": {"tempo": [{"bpm": 80, "count": 2}, {"bpm": 120, "count": 5}],
                   "key": [{"key": "C", "scale": "major", "count": 4}, {"key": "Bb", "scale": "minor", "count": 3},
                           {"key": "A#", "scale": "minor", "count": 1}],
                   "analysed_per_day": [{"date": "2030-06-14", "count": 9}, {"date": "2030-06-15", "count": 2}]},
}


def test_the_library_numbers_and_plots():
    html = stats_html(SUMMARY)
    for text in ("40,000", "tracks analysed", "1,234", "56", "118 BPM", "version 7", "2 hours ago", "12"):
        assert text in html
    assert "not built yet" in stats_html({"content": {}, "analysis": {}, "index": None})
    moods = moods_figure(SUMMARY).data[0]
    assert list(moods.y) == ["happy", "sad", "relaxed"] and list(moods.x) == [0.0, 25.0, 75.0]  # % of 40 tracks
    keys = key_figure(SUMMARY).data
    assert list(keys[0].x[:2]) == ["C", "C#"] and keys[1].y[10] == 4  # Bb counted as A#, minor
    days = per_day_figure(SUMMARY, days=30).data[0]
    assert len(days.x) == 30 and days.x[-1] == "2030-06-15" and list(days.y[-2:]) == [9, 2] and sum(days.y) == 11
    assert list(tempo_figure(SUMMARY).data[0].y) == [2, 5]


def test_radio_and_schedule_tables():
    anchors = [{"id": 1, "name": "Mix", "items": [{"op": "ADD"}, {"op": "ADD"}, {"op": "SUBTRACT"}]},
               {"id": 2, "name": "Old", "items": [], "has_centroid": True}]
    radios = [{"id": 5, "anchor_id": 1, "name": "Mix", "n_results": 20, "temperature": 0.5, "enabled": False,
               "max_repeat_share": 1.0, "skip_played_days": 0, "last_run_at": None, "provider_playlist_id": None}]
    frame = anchors_frame(anchors, radios)
    assert frame.to_dict("records") == [
        {"id": 1, "name": "Mix", "songs added": 2, "subtracted": 1, "radio": "yes"},
        {"id": 2, "name": "Old", "songs added": "a saved vector", "subtracted": 0, "radio": ""}]
    row = radios_frame(radios).to_dict("records")[0]
    assert (row["enabled"], row["last run"], row["playlist id"]) == ("off", "never", "")
    rows = [{"id": 3, "name": "Nightly", "task_type": "analysis", "cron_expr": "0 3 * * *", "enabled": True,
             "next_run": 1907200800.0, "last_run": None, "last_status": None}]
    assert rows_frame(rows).to_dict("records")[0]["next run"] == "2030-06-09 02:00 UTC"
    assert rows_frame(rows).to_dict("records")[0]["last run"] == "never"
    runs = [{"schedule_id": 3, "tick": "2030-06-15T03:00:00+00:00", "status": "SKIPPED", "task_id": "t1",
             "message": "An analysis is already running."}]
    assert runs_frame(runs, rows).to_dict("records")[0] == {
        "tick": "2030-06-15 03:00 UTC", "schedule": "Nightly", "outcome": "SKIPPED", "task id": "t1",
        "message": "An analysis is already running."}
