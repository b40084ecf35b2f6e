"""The library dashboard (``GET /api/dashboard/summary``): AudioMuse-AI's ``content`` block and this service's
counts, index age, last jobs, schedules and histograms, all from SQL aggregates (``store/dashboard.py``) so
a million-track library costs a few scans in the database, never a load into Python."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from audiomuse_ray.analysis.constants import MOOD_LABELS
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.store import Store
from audiomuse_ray.store import dashboard as agg
from audiomuse_ray.store import schedules as schedule_store
from audiomuse_ray.store import tasks as task_store

ANALYSIS_TASK = "analysis"
DAYS = 30
RECENT_JOBS = 10


def dashboard_summary(store: Store, *, now: datetime | None = None, days: int = DAYS, recent_jobs: int = RECENT_JOBS,
                      tempo_bucket_bpm: int = 10) -> dict:
    """``{generated_at, content, analysis, index, recent_tasks, cron, histograms}``:

    - ``content``: AudioMuse-AI's ``total_songs``, ``distinct_artists``, ``distinct_albums``,
      ``unanalyzable_tracks``, ``moods_coverage`` (``[{label, score, count}]``: mean score, and tracks whose
      strongest mood it is) and ``tempo_profile`` (``{slow, medium, fast, very_fast, avg_tempo}``);
    - ``analysis``: ``{analysed, failed, pending}`` (pending: tracks the newest analysis found and has not
      finished, 0 once one succeeded);
    - ``index``: ``{version, created_at, age_seconds}`` or null before the first analysis;
    - ``recent_tasks``: AudioMuse-AI's ``[{task_id, task_type, status, duration_seconds, timestamp}]``;
    - ``cron``: ``[{id, name, task_type, cron_expr, enabled, last_run}]`` (last_run ISO or null);
    - ``histograms``: ``tempo`` ``[{bpm, count}]`` (``tempo_bucket_bpm`` wide), ``key`` ``[{key, scale,
      count}]``, ``analysed_per_day`` ``[{date, count}]`` for the last ``days`` days.
    """
    now = now or datetime.now(timezone.utc)
    counts = agg.library_counts(store)
    tempo = agg.tempo_profile(store)
    index = agg.latest_index(store, INDEX_NAME)
    return {
        "generated_at": now.isoformat(),
        "content": {
            "total_songs": counts.tracks, "distinct_artists": counts.distinct_artists,
            "distinct_albums": counts.distinct_albums, "unanalyzable_tracks": counts.failed,
            "moods_coverage": [{"label": m.label, "score": m.score, "count": m.count}
                               for m in agg.mood_coverage(store, MOOD_LABELS)],
            "tempo_profile": {"slow": tempo.slow, "medium": tempo.medium, "fast": tempo.fast,
                              "very_fast": tempo.very_fast, "avg_tempo": tempo.avg_tempo},
        },
        "analysis": {"analysed": counts.tracks, "failed": counts.failed, "pending": _pending(store)},
        "index": None if index is None else {"version": index.version, "created_at": index.created_at.isoformat(),
                                             "age_seconds": round((now - index.created_at).total_seconds(), 1)},
        "recent_tasks": [_task(t) for t in task_store.recent_tasks(store, recent_jobs)],
        "cron": _cron(store),
        "histograms": {
            "tempo": [{"bpm": b, "count": n} for b, n in agg.tempo_histogram(store, tempo_bucket_bpm)],
            "key": [{"key": k, "scale": s, "count": n} for k, s, n in agg.key_histogram(store)],
            "analysed_per_day": [{"date": d, "count": n}
                                 for d, n in agg.analysed_per_day(store, now - timedelta(days=days))],
        },
    }


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
