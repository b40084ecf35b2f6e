"""Job use cases (AudioMuse-AI shapes): task status, cancel, last/active task, the recent tasks
(``/api/tasks``, this project's own), and starting an analysis or a clustering.

Every route that reads tasks first fails the stale ones (a driver that stopped beating), so a job whose
driver died is reported as FAILURE and no longer blocks a new start. Jobs run in detached Ray actors
(``audiomuse_ray.runtime.jobs``), never in the replica's own threads.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from audiomuse_ray.analysis.run import ANALYSIS_JOB, AnalysisRequest
from audiomuse_ray.api.similarity_api import clamp
from audiomuse_ray.clustering.options import options_from_json
from audiomuse_ray.clustering.run import CLUSTERING_JOB
from audiomuse_ray.errors import BadRequest, JobAlreadyRunning, UnknownTask
from audiomuse_ray.runtime.jobs import JobKind, start_job
from audiomuse_ray.runtime.progress import cancel_task
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import task_rows as task_store

LOG_TAIL = 10
ANALYSIS_TASK_TYPE = "main_analysis"


def _running_seconds(rec: task_store.TaskRecord, now: datetime) -> float:
    if rec.created_at is None:
        return 0.0
    end = rec.updated_at if rec.finished and rec.updated_at else now
    start = rec.created_at if rec.created_at.tzinfo else rec.created_at.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    return round((end - start).total_seconds(), 1)


def _details(rec: task_store.TaskRecord) -> dict:
    """The stored details, the log cut to its tail, and AudioMuse-AI's ``status_message`` (the Lyrion plugin
    shows it): the job's own when it wrote one, else its last log line without the time."""
    details = dict(rec.details)
    log = details.get("log") or []
    if len(log) > LOG_TAIL:
        details["log"] = [f"... ({len(log) - LOG_TAIL} earlier log entries truncated)"] + log[-LOG_TAIL:]
    if not details.get("status_message"):
        last = str(log[-1]) if log else ""
        details["status_message"] = (last[9:] if last[:8].count(":") == 2 and last[8:9] == " " else last) \
            or _STATE_MESSAGES.get(rec.status, rec.status)
    return details


_STATE_MESSAGES = {"PENDING": "Queued.", "STARTED": "Started.", "PROGRESS": "In progress.", "SUCCESS": "Finished.",
                   "FAILURE": "Failed.", "REVOKED": "Cancelled."}


def status(store: Store, task_id: str, stale_after_s: float) -> dict:
    """AudioMuse-AI's task status; ``UnknownTask`` (404) answers in the same shape with state UNKNOWN."""
    task_store.reap_stale(store, stale_after_s)
    rec = task_store.get_task(store, task_id)
    if rec is None:
        raise UnknownTask("Task ID not found.", reply={
            "task_id": task_id, "state": "UNKNOWN", "status_message": "Task ID not found.", "progress": 0,
            "details": {}, "task_type_from_db": None, "running_time_seconds": 0})
    message = {"REVOKED": "Task revoked.", "SUCCESS": "SUCCESS", "FAILURE": "FAILED"}.get(rec.status, rec.status)
    return {"task_id": task_id, "state": rec.status, "status_message": message,
            "progress": 100 if rec.finished else rec.progress, "details": _details(rec),
            "task_type_from_db": rec.task_type, "task_type": public_task_type(rec.task_type),
            "running_time_seconds": _running_seconds(rec, store.now())}


def cancel(store: Store, task_id: str, stale_after_s: float) -> dict:
    rec = task_store.get_task(store, task_id)
    if rec is None:
        raise UnknownTask("Task not found.", reply={"message": "Task not found.", "task_id": task_id})
    if rec.finished:
        message = f"Task is already {rec.status}."
        raise BadRequest(message, reply={"message": message, "task_id": task_id})
    pending = sum(1 for c in task_store.children(store, task_id) if not c.finished)
    outcome = cancel_task(store, task_id, stale_after_s)
    if outcome == task_store.FAILURE:  # it had gone stale: reaped just now
        message = "Task is already FAILURE (its driver was lost)."
        raise BadRequest(message, reply={"message": message, "task_id": task_id})
    if outcome == task_store.REVOKED:
        return {"message": "Task revoked: its driver was no longer running.", "task_id": task_id,
                "status": task_store.REVOKED, "cancelled_jobs_count": 1 + pending}
    return {"message": "Cancellation requested; the job stops within a few seconds.", "task_id": task_id,
            "status": outcome, "cancelled_jobs_count": 1 + pending}


def last_task(store: Store, stale_after_s: float) -> dict:
    task_store.reap_stale(store, stale_after_s)
    recent = task_store.recent_tasks(store, 1)
    if not recent:
        return {"task_id": None, "task_type": None, "status": "NO_PREVIOUS_MAIN_TASK",
                "details": {"log": ["No previous main task found."]}}
    rec = recent[0]
    return {"task_id": rec.task_id, "task_type": public_task_type(rec.task_type), "status": rec.status,
            "progress": rec.progress,
            "details": _details(rec), "running_time_seconds": _running_seconds(rec, store.now())}


def active_task(store: Store, stale_after_s: float) -> dict:
    task_store.reap_stale(store, stale_after_s)
    active = task_store.recent_tasks(store, 1, active_only=True)
    if not active:
        return {}
    rec = active[0]
    return {"task_id": rec.task_id, "parent_task_id": None, "task_type": public_task_type(rec.task_type),
            "sub_type_identifier": None,
            "status": rec.status, "progress": rec.progress, "details": _details(rec),
            "running_time_seconds": _running_seconds(rec, store.now())}


RECENT_DEFAULT, RECENT_MAX = 20, 200


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def recent_tasks(store: Store, limit: int | None, stale_after_s: float) -> list[dict]:
    """``GET /api/tasks?limit=N``: the newest top-level tasks first (active and finished), stale ones failed
    first like the other task routes; each with status, progress, log tail and times. ``limit`` 1..200."""
    limit = clamp(limit, RECENT_DEFAULT, 1, RECENT_MAX)
    task_store.reap_stale(store, stale_after_s)
    return [{"task_id": rec.task_id, "task_type": public_task_type(rec.task_type), "status": rec.status,
             "progress": 100 if rec.status == task_store.SUCCESS else rec.progress,
             "cancel_requested": rec.cancel_requested, "details": _details(rec),
             "created_at": _iso(rec.created_at), "updated_at": _iso(rec.updated_at),
             "running_time_seconds": _running_seconds(rec, store.now())}
            for rec in task_store.recent_tasks(store, limit)]


def _start(settings: Settings, store: Store, kind: JobKind, reply_type: str, options) -> dict:
    """The job started in a detached Ray actor (202); ``JobAlreadyRunning`` (409) names the active one."""
    try:
        task_id = start_job(settings, store, kind, options)
    except JobAlreadyRunning as exc:
        active = task_store.get_task(store, exc.task_id) if exc.task_id else None
        raise JobAlreadyRunning("An active batch task is already in progress.", exc.task_id, reply={
            "task_id": exc.task_id, "status": active.status if active else None}) from None
    return {"task_id": task_id, "task_type": reply_type, "status": task_store.PENDING}


def start_analysis(settings: Settings, store: Store, num_recent_albums: int | None = None,
                   workers: int | None = None) -> dict:
    """Start the analysis in a detached Ray actor (it fans out over Ray itself); 409 while one runs.
    ``num_recent_albums`` (0 = all) and ``workers`` (0 = one per CPU of the cluster) default to settings."""
    request = AnalysisRequest(clamp(num_recent_albums, settings.num_recent_albums, 0),
                              clamp(workers, settings.workers, 0, 1024))
    return _start(settings, store, ANALYSIS_JOB, ANALYSIS_TASK_TYPE, request)


CLUSTERING_TASK_TYPE = "main_clustering"


def clustering_options(settings: Settings, body: Mapping[str, Any]):
    """AudioMuse-AI's JSON parameter names -> ``ClusteringOptions`` through the builder the CLI and
    ``jobs/cluster.py`` use (unknown keys ignored, API keys never read); a bad value is a ``BadRequest``."""
    return options_from_json(body)


def start_clustering(settings: Settings, store: Store, body: Mapping[str, Any]) -> dict:
    """Start a clustering in a detached Ray actor; 409 while another clustering runs."""
    return _start(settings, store, CLUSTERING_JOB, CLUSTERING_TASK_TYPE, clustering_options(settings, body))


def matches_type(task_type: str, prefix: str) -> bool:
    """Whether a stored task type is meant by AudioMuse-AI's ``task_type_prefix``: ours are stored as
    "analysis"/"clustering" and shown as "main_analysis"/"main_clustering", so either spelling counts."""
    prefix = prefix.strip().lower()
    return bool(prefix) and (task_type.lower().startswith(prefix) or f"main_{task_type.lower()}".startswith(prefix))


def cancel_all(store: Store, prefix: str, stale_after_s: float) -> dict:
    """Cancel every active top-level task whose type matches ``prefix``; 404 when none is active."""
    task_store.reap_stale(store, stale_after_s)
    active = [t for t in task_store.recent_tasks(store, 1000, active_only=True) if matches_type(t.task_type, prefix)]
    if not active:
        message = f"No active tasks of type '{prefix}' found to cancel."
        raise UnknownTask(message, reply={"message": message, "cancelled_main_tasks": []})
    jobs = 0
    for t in active:
        jobs += 1 + sum(1 for c in task_store.children(store, t.task_id) if not c.finished)
        cancel_task(store, t.task_id, stale_after_s)
    return {"message": f"Cancellation initiated for {len(active)} main tasks of type '{prefix}' and their "
                       f"children. Total jobs affected: {jobs}.",
            "cancelled_main_tasks": [t.task_id for t in active]}


def public_task_type(stored: str | None) -> str | None:
    """The task type as AudioMuse-AI names it (``main_analysis``, ``main_clustering``,
    ``main_collection_sync``); ours are stored without ``main_``, and any other type is shown as stored."""
    if stored in ("analysis", "clustering", "collection_sync"):
        return f"main_{stored}"
    return stored
