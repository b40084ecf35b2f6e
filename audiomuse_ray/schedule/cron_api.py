"""Use cases behind ``GET/POST /api/cron`` in AudioMuse-AI's shapes, and the CLI's ``schedule`` commands.

A row: ``{id, name, task_type, cron_expr, enabled, last_run, created_at, options}`` (``last_run`` a Unix
timestamp of the last start or null, as AudioMuse-AI answers) plus this service's ``next_run``,
``last_status``, ``last_task_id`` and ``last_message``. Task types: ``analysis`` (options:
``num_recent_albums``, ``workers``), ``clustering`` (options: the clustering start's JSON body),
``alchemy_radio`` (options: ``radio_ids``, default every enabled radio) and ``sonic_fingerprint``
(options: ``users``, default the configured user; ``n``; ``playlist_name``).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any, Mapping

from audiomuse_ray.errors import BadRequest
from audiomuse_ray.parsing import flag
from audiomuse_ray.schedule import cron
from audiomuse_ray.schedule.jobs import TASK_TYPES, check_options
from audiomuse_ray.store import Store
from audiomuse_ray.store import schedules as schedule_store


def list_cron(store: Store, tz: tzinfo, now: datetime | None = None) -> list[dict]:
    """``GET /api/cron``: every row, by id."""
    now = now or datetime.now(timezone.utc)
    latest = schedule_store.latest_runs(store)
    out = []
    for s in schedule_store.list_schedules(store):
        run = latest.get(s.id)
        try:
            upcoming = cron.next_tick(s.cron_expr, now, tz).timestamp() if s.enabled else None
        except (ValueError, KeyError):
            upcoming = None
        out.append({"id": s.id, "name": s.name, "task_type": s.task_type, "cron_expr": s.cron_expr,
                    "enabled": s.enabled, "last_run": run.claimed_at.timestamp() if run else None,
                    "created_at": s.created_at.isoformat() if s.created_at else None, "options": s.options,
                    "retry_pending": False, "next_run": upcoming,
                    "last_status": run.status if run else None, "last_task_id": run.task_id if run else None,
                    "last_message": run.message if run else None})
    return out


def save_cron(store: Store, body: Mapping[str, Any], now: datetime | None = None) -> dict:
    """``POST /api/cron``: ``{id?, name, task_type, cron_expr, enabled, options?}``. With an id, that row is
    replaced; without one, the row of the same task type and name is (AudioMuse-AI's page re-posts its rows
    without ids), else a new one is added. The expression is checked when the row is enabled. Answers
    ``{"message": "saved", "id": id}``."""
    if not isinstance(body, Mapping):
        raise BadRequest("The request body must be a JSON object")
    task_type = str(body.get("task_type") or "").strip()
    if task_type not in TASK_TYPES:
        raise BadRequest(f"'task_type' must be one of {', '.join(TASK_TYPES)}")
    options = {} if body.get("options") is None else body["options"]
    if not isinstance(options, dict):
        raise BadRequest("'options' must be a JSON object")
    check_options(task_type, options)
    enabled = flag(body, "enabled", False)
    expr = " ".join(str(body.get("cron_expr") or "").split())
    if enabled:
        expr = cron.validate(expr)
    name = str(body.get("name") or "").strip() or task_type
    schedule_id = body.get("id")
    if schedule_id not in (None, ""):
        try:
            schedule_id = int(schedule_id)
        except (TypeError, ValueError):
            raise BadRequest("'id' must be an integer") from None
    else:
        existing = schedule_store.find_schedule(store, task_type, name)
        schedule_id = existing.id if existing else None
    saved = schedule_store.save_schedule(store, schedule_id, name=name, task_type=task_type, cron_expr=expr,
                                         enabled=enabled, options=options, now=now)
    return {"message": "saved", "id": saved}


def delete_cron(store: Store, schedule_id: int) -> dict:
    """Remove a row and its run history: ``{"deleted": true}``; 404 when unknown."""
    schedule_store.delete_schedule(store, schedule_id)
    return {"deleted": True}


def cron_runs(store: Store, schedule_id: int | None = None, limit: int = 20) -> list[dict]:
    """The newest claimed ticks and what became of each (STARTED, SKIPPED, FAILED, LOST)."""
    return [{"schedule_id": r.schedule_id, "tick": r.tick.isoformat(), "claimed_at": r.claimed_at.isoformat(),
             "claimed_by": r.claimed_by, "status": r.status, "task_id": r.task_id, "message": r.message}
            for r in schedule_store.recent_runs(store, schedule_id, limit)]
