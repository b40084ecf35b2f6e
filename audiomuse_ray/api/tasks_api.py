"""Playlist and task routes' logic (AudioMuse-AI shapes): create/list playlists, task status, cancel,
last/active task, the recent tasks (``/api/tasks``, this project's own), and starting an analysis or a
clustering from the API.

Every route that reads tasks first fails the stale ones (a driver that stopped beating), so a job whose
driver died is reported as FAILURE and no longer blocks a new start. Jobs run in detached Ray actors
(``audiomuse_ray.runner``), never in the replica's own threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from audiomuse_ray.api.params import BadRequest, integer
from audiomuse_ray.errors import JobAlreadyRunning
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import tasks as task_store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.tasks import cancel_task

LOG_TAIL = 10
ANALYSIS_TASK_TYPE = "main_analysis"


def playlist_request(body: Mapping[str, Any]) -> tuple[str, list[str]]:
    name = str(body.get("playlist_name") or "").strip()
    if not name:
        raise BadRequest("Missing 'playlist_name'")
    raw = body.get("track_ids") or []
    if not isinstance(raw, list):
        raise BadRequest("'track_ids' must be a list of item ids (or of objects with an 'item_id')")
    ids: list[str] = []
    for t in raw:
        item_id = str(t.get("item_id", "")) if isinstance(t, Mapping) else str(t)
        if item_id and item_id not in ids:
            ids.append(item_id)
    if not ids:
        raise BadRequest("No valid track IDs were provided to create the playlist")
    return name, ids


def create_playlist(store: Store, provider: MediaProvider, name: str, item_ids: list[str]) -> str:
    playlist_id = provider.create_playlist(name, item_ids)
    playlist_store.save_playlist(store, name, item_ids, provider.name, playlist_id)
    return playlist_id


def list_playlists(store: Store) -> dict[str, list[dict]]:
    out = {}
    for p in playlist_store.list_playlists(store):
        rows = {t.item_id: t for t in track_store.get_tracks(store, p.item_ids)}
        out[p.name] = [{"item_id": i, "title": rows[i].title if i in rows else None,
                        "author": rows[i].author if i in rows else None} for i in p.item_ids]
    return out


def _running_seconds(rec: task_store.TaskRecord) -> float:
    if rec.created_at is None:
        return 0.0
    end = rec.updated_at if rec.finished and rec.updated_at else datetime.now(timezone.utc)
    start = rec.created_at if rec.created_at.tzinfo else rec.created_at.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    return round((end - start).total_seconds(), 1)


def _details(rec: task_store.TaskRecord) -> dict:
    details = dict(rec.details)
    log = details.get("log") or []
    if len(log) > LOG_TAIL:
        details["log"] = [f"... ({len(log) - LOG_TAIL} earlier log entries truncated)"] + log[-LOG_TAIL:]
    return details


def status(store: Store, task_id: str, stale_after_s: float) -> tuple[int, dict]:
    task_store.reap_stale(store, stale_after_s)
    rec = task_store.get_task(store, task_id)
    if rec is None:
        return 404, {"task_id": task_id, "state": "UNKNOWN", "status_message": "Task ID not found.",
                     "progress": 0, "details": {}, "task_type_from_db": None, "running_time_seconds": 0}
    message = {"REVOKED": "Task revoked.", "SUCCESS": "SUCCESS", "FAILURE": "FAILED"}.get(rec.status, rec.status)
    return 200, {"task_id": task_id, "state": rec.status, "status_message": message,
                 "progress": 100 if rec.finished else rec.progress, "details": _details(rec),
                 "task_type_from_db": rec.task_type, "running_time_seconds": _running_seconds(rec)}


def cancel(store: Store, task_id: str, stale_after_s: float) -> tuple[int, dict]:
    rec = task_store.get_task(store, task_id)
    if rec is None:
        return 404, {"message": "Task not found.", "task_id": task_id}
    if rec.finished:
        return 400, {"message": f"Task is already {rec.status}.", "task_id": task_id}
    pending = sum(1 for c in task_store.children(store, task_id) if not c.finished)
    outcome = cancel_task(store, task_id, stale_after_s)
    if outcome == task_store.FAILURE:  # it had gone stale: reaped just now
        return 400, {"message": "Task is already FAILURE (its driver was lost).", "task_id": task_id}
    if outcome == task_store.REVOKED:
        return 200, {"message": "Task revoked: its driver was no longer running.", "task_id": task_id,
                     "status": task_store.REVOKED, "cancelled_jobs_count": 1 + pending}
    return 200, {"message": "Cancellation requested; the job stops within a few seconds.", "task_id": task_id,
                 "status": outcome, "cancelled_jobs_count": 1 + pending}


def last_task(store: Store, stale_after_s: float) -> dict:
    task_store.reap_stale(store, stale_after_s)
    recent = task_store.recent_tasks(store, 1)
    if not recent:
        return {"task_id": None, "task_type": None, "status": "NO_PREVIOUS_MAIN_TASK",
                "details": {"log": ["No previous main task found."]}}
    rec = recent[0]
    return {"task_id": rec.task_id, "task_type": rec.task_type, "status": rec.status, "progress": rec.progress,
            "details": _details(rec), "running_time_seconds": _running_seconds(rec)}


def active_task(store: Store, stale_after_s: float) -> dict:
    task_store.reap_stale(store, stale_after_s)
    active = task_store.recent_tasks(store, 1, active_only=True)
    if not active:
        return {}
    rec = active[0]
    return {"task_id": rec.task_id, "parent_task_id": None, "task_type": rec.task_type, "sub_type_identifier": None,
            "status": rec.status, "progress": rec.progress, "details": _details(rec),
            "running_time_seconds": _running_seconds(rec)}


RECENT_DEFAULT, RECENT_MAX = 20, 200


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def recent_tasks(store: Store, params: Mapping[str, Any], stale_after_s: float) -> list[dict]:
    """``GET /api/tasks?limit=N``: the newest top-level tasks first (active and finished), stale ones failed
    first like the other task routes; each with status, progress, log tail and times. ``limit`` 1..200."""
    limit = integer(params, "limit", RECENT_DEFAULT, lo=1, hi=RECENT_MAX)
    task_store.reap_stale(store, stale_after_s)
    return [{"task_id": rec.task_id, "task_type": rec.task_type, "status": rec.status,
             "progress": 100 if rec.status == task_store.SUCCESS else rec.progress,
             "cancel_requested": rec.cancel_requested, "details": _details(rec),
             "created_at": _iso(rec.created_at), "updated_at": _iso(rec.updated_at),
             "running_time_seconds": _running_seconds(rec)}
            for rec in task_store.recent_tasks(store, limit)]


def _start(settings: Settings, store: Store, kind: str, reply_type: str, options) -> tuple[int, dict]:
    from audiomuse_ray.runner import start_job

    try:
        task_id = start_job(settings, store, kind, options)
    except JobAlreadyRunning as exc:
        active = task_store.get_task(store, exc.task_id) if exc.task_id else None
        return 409, {"error": "An active batch task is already in progress.", "task_id": exc.task_id,
                     "status": active.status if active else None}
    return 202, {"task_id": task_id, "task_type": reply_type, "status": task_store.PENDING}


def start_analysis(settings: Settings, store: Store, body: Mapping[str, Any]) -> tuple[int, dict]:
    """Start the analysis in a detached Ray actor (it fans out over Ray itself); 409 while one runs.
    ``num_recent_albums`` (0 = all) and ``workers`` (0 = one per CPU of the cluster) default to settings."""
    recent = integer(body, "num_recent_albums", settings.num_recent_albums, lo=0)
    workers = integer(body, "workers", settings.workers, lo=0, hi=1024)
    return _start(settings, store, "analysis", ANALYSIS_TASK_TYPE, AnalysisRequest(recent, workers))


@dataclass(frozen=True)
class AnalysisRequest:
    """What an API caller may choose about an analysis; the rest comes from the server's settings."""

    num_recent_albums: int = 0
    workers: int = 0


CLUSTERING_TASK_TYPE = "main_clustering"


def clustering_options(settings: Settings, body: Mapping[str, Any]):
    """AudioMuse-AI's JSON parameter names -> ``ClusteringOptions`` through the builder the CLI and
    ``jobs/cluster.py`` use (unknown keys ignored, API keys never read); a bad value is a ``BadRequest``."""
    from audiomuse_ray.clustering.options import options_from_json

    return options_from_json(body)


def start_clustering(settings: Settings, store: Store, body: Mapping[str, Any]) -> tuple[int, dict]:
    """Start a clustering in a detached Ray actor; 409 while another clustering runs."""
    return _start(settings, store, "clustering", CLUSTERING_TASK_TYPE, clustering_options(settings, body))


def matches_type(task_type: str, prefix: str) -> bool:
    """Whether a stored task type is meant by AudioMuse-AI's ``task_type_prefix``: ours are stored as
    "analysis"/"clustering" and shown as "main_analysis"/"main_clustering", so either spelling counts."""
    prefix = prefix.strip().lower()
    return bool(prefix) and (task_type.lower().startswith(prefix) or f"main_{task_type.lower()}".startswith(prefix))


def cancel_all(store: Store, prefix: str, stale_after_s: float) -> tuple[int, dict]:
    """Cancel every active top-level task whose type matches ``prefix``; 404 when none is active."""
    task_store.reap_stale(store, stale_after_s)
    active = [t for t in task_store.recent_tasks(store, 1000, active_only=True) if matches_type(t.task_type, prefix)]
    if not active:
        message = f"No active tasks of type '{prefix}' found to cancel."
        return 404, {"error": message, "message": message, "cancelled_main_tasks": []}
    jobs = 0
    for t in active:
        jobs += 1 + sum(1 for c in task_store.children(store, t.task_id) if not c.finished)
        cancel_task(store, t.task_id, stale_after_s)
    return 200, {"message": f"Cancellation initiated for {len(active)} main tasks of type '{prefix}' and their "
                            f"children. Total jobs affected: {jobs}.",
                 "cancelled_main_tasks": [t.task_id for t in active]}
