"""Which albums an analysis run takes on, and in what order: no Ray, a real SQLite store."""

from __future__ import annotations

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.analysis.run import expected_seconds, plan_jobs
from audiomuse_ray.providers.base import Track


def _track(i, duration):
    return Track(item_id=f"t{i}", title=f"T{i}", artist="A", album="B", album_artist="A", path_or_url=f"/m/{i}.mp3",
                 duration=duration)


def test_album_length_counts_unknown_tracks_as_four_minutes_and_caps_long_ones():
    assert expected_seconds([_track(1, 100.0), _track(2, None)]) == 340.0
    assert expected_seconds([_track(1, 5400.0)]) == 600.0  # a 90-minute file is analysed as 10 minutes


def test_longest_albums_are_scheduled_first(corpus, settings, store):
    settings = settings.replace(music_dir=str(corpus / "library"))
    jobs, n_albums, skipped = plan_jobs(settings, store, expected_version(settings.models_dir), 0, "t", lambda: False)
    lengths = [expected_seconds(j.tracks) for j in jobs]
    assert (n_albums, skipped, sum(len(j.tracks) for j in jobs)) == (7, 0, 72)
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
    assert len({j.task_id for j in jobs}) == len(jobs)
