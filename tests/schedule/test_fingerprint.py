"""The sonic fingerprint playlist a scheduled run writes per user (pure part): the listener's analysed
songs first, then the nearest neighbours of their recency-weighted mean, ``n`` in all, no song twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from audiomuse_ray.providers.base import PlayRecord
from audiomuse_ray.similarity.fingerprint import fingerprint_playlist
from tests.schedule.library import library

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_fingerprint_playlist():
    lib = library()
    played = [PlayRecord("c2-t000", 30, NOW - timedelta(days=1)), PlayRecord("c2-t001", 5, NOW - timedelta(days=3)),
              PlayRecord("not-analysed", 99, NOW), PlayRecord("c0-t000", 1, NOW - timedelta(days=400))]
    rows = fingerprint_playlist(lib, played, 15, NOW)
    ids = [lib.meta[r].item_id for r, _d in rows]
    assert ids[:3] == ["c2-t000", "c2-t001", "c0-t000"] and [d for _r, d in rows[:3]] == [0.0, 0.0, 0.0]
    assert len(ids) == len(set(ids)) == 15
    assert sum(i.startswith("c2-") for i in ids[3:]) == 12  # the recent plays weigh most
    assert fingerprint_playlist(lib, [PlayRecord("not-analysed", 1, NOW)], 10, NOW) == []
