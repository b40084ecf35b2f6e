"""The library dashboard (``GET /api/dashboard/summary``): AudioMuse-AI's ``content`` block and this service's
counts, index age, last jobs, schedules and histograms.

Two tiers, as AudioMuse-AI keeps them. The SNAPSHOT (``library_snapshot``: counts, moods, tempo, keys,
analysed per day) comes from SQL aggregates (``store/dashboard.py``): a few scans of ``score``, seconds at a
million tracks, never a load into Python. A replica keeps it in a ``DashboardCache`` and answers from it, so
a request costs milliseconds; the cache refreshes it in the background when it is older than ``max_age_s``
or the index version moved. The LIVE tier (``live_part``: the last jobs, the schedules, what the running
analysis still has to do, the index's age) reads small tables on every request.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.store import Store
from audiomuse_ray.store import dashboard as agg
from audiomuse_ray.store import schedules as schedule_store
from audiomuse_ray.store import task_rows as task_store

log = logging.getLogger(__name__)
ANALYSIS_TASK = "analysis"
DAYS = 30
RECENT_JOBS = 10
MAX_AGE_S = 300.0  # a snapshot older than this is refreshed in the background (the answer does not wait)


def dashboard_summary(store: Store, *, now: datetime | None = None, days: int = DAYS, recent_jobs: int = RECENT_JOBS,
                      tempo_bucket_bpm: int = 10) -> dict:
    """``{generated_at, stats_updated_at, content, analysis, index, recent_tasks, cron, histograms}``, all
    computed now (the cache below serves the same shape from a snapshot):

    - ``content``: AudioMuse-AI's ``total_songs``, ``distinct_artists``, ``distinct_albums``,
      ``unanalyzable_tracks``, ``moods_coverage`` (``[{label, score, count}]``: the mean score in percent
      over the tracks that carry the mood, and how many tracks have it as their strongest) and
      ``tempo_profile`` (``{slow, medium, fast, very_fast, avg_tempo}``);
    - ``analysis``: ``{analysed, failed, pending}`` (pending: tracks the newest analysis found and has not
      finished, 0 once one succeeded);
    - ``index``: ``{version, created_at, age_seconds}`` or null before the first analysis;
    - ``recent_tasks``: AudioMuse-AI's ``[{task_id, task_type, status, duration_seconds, timestamp}]``;
    - ``cron``: ``[{id, name, task_type, cron_expr, enabled, last_run}]`` (last_run ISO or null);
    - ``histograms``: ``tempo`` ``[{bpm, count}]`` (``tempo_bucket_bpm`` wide), ``key`` ``[{key, scale,
      count}]``, ``analysed_per_day`` ``[{date, count}]`` for the last ``days`` days.
    """
    now = now or datetime.now(timezone.utc)
    return combine(library_snapshot(store, now=now, days=days, tempo_bucket_bpm=tempo_bucket_bpm),
                   live_part(store, now=now, recent_jobs=recent_jobs), now)


def library_snapshot(store: Store, *, now: datetime | None = None, days: int = DAYS, tempo_bucket_bpm: int = 10) -> dict:
    """The costly part: every aggregate over ``score`` (one snapshot, kept by the cache)."""
    now = now or datetime.now(timezone.utc)
    counts = agg.library_counts(store)
    tempo = agg.tempo_profile(store)
    return {
        "stats_updated_at": now.isoformat(),
        "content": {
            "total_songs": counts.tracks, "distinct_artists": counts.distinct_artists,
            "distinct_albums": counts.distinct_albums, "unanalyzable_tracks": counts.failed,
            "moods_coverage": [{"label": m.label, "score": None if m.score is None else round(m.score * 100, 1),
                                "count": m.count} for m in agg.mood_coverage(store, MOOD_LABELS)],
            "tempo_profile": {"slow": tempo.slow, "medium": tempo.medium, "fast": tempo.fast,
                              "very_fast": tempo.very_fast, "avg_tempo": tempo.avg_tempo},
        },
        "analysis": {"analysed": counts.tracks, "failed": counts.failed},
        "histograms": {
            "tempo": [{"bpm": b, "count": n} for b, n in agg.tempo_histogram(store, tempo_bucket_bpm)],
            "key": [{"key": k, "scale": s, "count": n} for k, s, n in agg.key_histogram(store)],
            "analysed_per_day": [{"date": d, "count": n}
                                 for d, n in agg.analysed_per_day(store, now - timedelta(days=days))],
        },
    }


def live_part(store: Store, *, now: datetime | None = None, recent_jobs: int = RECENT_JOBS) -> dict:
    """The cheap part, read on every request: small tables and one indexed look-up."""
    now = now or datetime.now(timezone.utc)
    index = agg.latest_index(store, INDEX_NAME)
    return {
        "pending": _pending(store),
        "index": None if index is None else {"version": index.version, "created_at": index.created_at.isoformat(),
                                             "age_seconds": round((now - index.created_at).total_seconds(), 1)},
        "recent_tasks": [_task(t) for t in task_store.recent_tasks(store, recent_jobs)],
        "cron": _cron(store),
    }


def combine(snapshot: dict, live: dict, now: datetime, workers: list[dict] | None = None) -> dict:
    """The reply: ``generated_at`` says when the live part was read, ``stats_updated_at`` when the snapshot
    was taken (AudioMuse-AI's two stamps); ``workers`` as the caller found them (the cluster's nodes)."""
    return {"generated_at": now.isoformat(), "stats_updated_at": snapshot["stats_updated_at"],
            "workers": workers or [],
            "content": snapshot["content"], "analysis": {**snapshot["analysis"], "pending": live["pending"]},
            "index": live["index"], "recent_tasks": live["recent_tasks"], "cron": live["cron"],
            "histograms": snapshot["histograms"]}


class DashboardCache:
    """The snapshot a replica answers from. ``prefetch`` makes the first one in the background, else the first
    request computes it (and waits); afterwards a request
    that finds it older than ``max_age_s``, or made under another index version, starts one background
    refresh and is answered from the snapshot it has. A failed refresh keeps the old snapshot (logged)."""

    def __init__(self, compute: Callable[[], dict], max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.compute, self.max_age_s, self.clock = compute, max_age_s, clock
        self._lock, self._first = threading.Lock(), threading.Lock()
        self._snapshot: dict | None = None
        self._taken_at = 0.0
        self._version: object = None
        self._refreshing: threading.Thread | None = None
        self.refreshes = 0

    def get(self, version: object = None) -> dict:
        with self._lock:
            snapshot = self._snapshot
            stale = snapshot is not None and (version != self._version or
                                              self.clock() - self._taken_at > self.max_age_s)
            if stale and self._refreshing is None:
                self._refreshing = threading.Thread(target=self._refresh, args=(version,), daemon=True,
                                                    name="dashboard-refresh")
                self._refreshing.start()
        if snapshot is None:
            with self._first:  # concurrent first requests share one computation
                return self._snapshot if self._snapshot is not None else self._take(version)
        return snapshot

    def prefetch(self, version: object = None) -> None:
        """Compute the first snapshot now, in the background (a replica calls it when it starts), so the first
        request finds it made instead of waiting seconds for a million tracks' aggregates; a request that
        comes before it is done waits for this computation instead of starting its own."""
        with self._lock:
            if self._snapshot is not None or self._refreshing is not None:
                return
            if not self._first.acquire(blocking=False):  # a request is computing the first one already
                return
            self._refreshing = threading.Thread(target=self._first_take, args=(version,), daemon=True,
                                                name="dashboard-prefetch")
            self._refreshing.start()

    def _first_take(self, version: object) -> None:
        """Runs holding ``_first``, taken for it by ``prefetch`` (a plain lock: released by this thread)."""
        try:
            self._refresh(version)
        finally:
            self._first.release()

    def wait(self, timeout_s: float | None = None) -> None:
        """Until a background refresh in flight has ended (tests, benchmarks)."""
        thread = self._refreshing
        if thread is not None:
            thread.join(timeout_s)

    def _take(self, version: object) -> dict:
        snapshot = self.compute()
        with self._lock:
            self._snapshot, self._taken_at, self._version = snapshot, self.clock(), version
            self.refreshes += 1
        return snapshot

    def _refresh(self, version: object) -> None:
        try:
            self._take(version)
        except Exception:  # noqa: BLE001 - a database hiccup: keep serving the old snapshot, retry on the next request
            log.exception("dashboard snapshot refresh failed; the previous one is kept")
        finally:
            with self._lock:
                self._refreshing = None


def _pending(store: Store) -> int:
    newest = task_store.recent_tasks(store, 1, task_type=ANALYSIS_TASK)
    if not newest or newest[0].status == task_store.SUCCESS:
        return 0
    d = newest[0].details
    return max(0, int(d.get("total") or 0) - int(d.get("done") or 0))


def _task(t: task_store.TaskRecord) -> dict:
    duration = None
    if t.created_at and t.updated_at and t.finished:
        duration = round((t.updated_at - t.created_at).total_seconds(), 1)
    return {"task_id": t.task_id, "task_type": t.task_type, "status": t.status, "duration_seconds": duration,
            "timestamp": (t.created_at.isoformat() if t.created_at else None)}


def _cron(store: Store) -> list[dict]:
    latest = schedule_store.latest_runs(store)
    return [{"id": s.id, "name": s.name, "task_type": s.task_type, "cron_expr": s.cron_expr, "enabled": s.enabled,
             "last_run": latest[s.id].claimed_at.isoformat() if s.id in latest else None}
            for s in sorted(schedule_store.list_schedules(store), key=lambda s: (not s.enabled, s.id))]
