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


class PagedProvider:
    """``albums`` albums of 3 tracks, made up on request."""

    name = "paged"

    def __init__(self, albums: int):
        self.albums = albums

    def list_albums(self, limit: int = 0):
        from audiomuse_ray.providers.base import Album

        return [Album(id=f"al{a}", name=f"Album {a}", artist="A", track_count=3) for a in range(self.albums)]

    def list_tracks(self, album):
        a = int(album.id[2:])
        return [_track(f"{a}-{k}", 200.0) for k in range(3)]


def test_done_tracks_are_found_page_by_page_without_loading_every_analysed_id(settings, store, monkeypatch):
    """Across several pages of albums: analysed tracks (this model version) and permanent failures are
    skipped, another version's analysis is redone, and the planner never asks for the set of all ids."""
    import audiomuse_ray.analysis.run as run
    from audiomuse_ray.store import tracks as track_store

    version = expected_version(settings.models_dir)
    albums = run.PLAN_PAGE_ALBUMS * 2 + 7
    rows = [track_store.TrackRow(item_id=f"t{a}-0", title="x", author="A", album="B", model_version=version)
            for a in range(0, albums, 2)]  # the first track of every other album, this version
    rows += [track_store.TrackRow(item_id=f"t{a}-1", title="x", author="A", album="B", model_version="old")
             for a in range(0, albums, 5)]  # another model's analysis: to do again
    errors = [track_store.ErrorRow(f"t{a}-2", "/m/x", "UnreadableAudio", "bad", model_version=version)
              for a in range(0, albums, 3)]
    track_store.save_album(store, rows, errors)
    monkeypatch.setattr(run, "make_provider", lambda _settings: PagedProvider(albums))
    monkeypatch.setattr(track_store, "analysed_ids", lambda *a, **k: (_ for _ in ()).throw(AssertionError("loaded all")))
    jobs, n_albums, skipped = plan_jobs(settings, store, version, 0, "t", lambda: False)
    todo = {t.item_id for j in jobs for t in j.tracks}
    expected_skips = {f"t{a}-0" for a in range(0, albums, 2)} | {f"t{a}-2" for a in range(0, albums, 3)}
    assert n_albums == albums and skipped == len(expected_skips)
    assert todo == {f"t{a}-{k}" for a in range(albums) for k in range(3)} - expected_skips
    known_jobs, _n, _s = plan_jobs(settings, store, version, 0, "t", lambda: False, include_known=True)
    assert {t.item_id for j in known_jobs for t in j.known} == {f"t{a}-0" for a in range(0, albums, 2)}
