"""Task records: one row per long job and per child (album, batch), with status, progress and a JSON log.

Cancellation is a flag in the row, so any process that can reach the database (CLI, HTTP API, a Ray
worker) can ask a job to stop and the job sees it at its next check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import task_status

STARTED, PROGRESS, SUCCESS, FAILURE, REVOKED, PENDING = "STARTED", "PROGRESS", "SUCCESS", "FAILURE", "REVOKED", "PENDING"
FINISHED = (SUCCESS, FAILURE, REVOKED)
MAX_LOG_LINES = 200


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    task_type: str
    status: str
    progress: int
    parent_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    cancel_requested: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def _record(r) -> TaskRecord:
    return TaskRecord(
        task_id=r.task_id,
        task_type=r.task_type,
        status=r.status,
        progress=r.progress,
        parent_id=r.parent_id,
        details=json.loads(r.details or "{}"),
        cancel_requested=bool(r.cancel_requested),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def create_task(store: Store, task_id: str, task_type: str, parent_id: str | None = None,
                details: dict[str, Any] | None = None, status: str = STARTED) -> TaskRecord:
    now = utcnow()
    with store.begin() as conn:
        upsert(conn, task_status, [{
            "task_id": task_id, "parent_id": parent_id, "task_type": task_type, "status": status,
            "progress": 0, "details": json.dumps(details or {}), "cancel_requested": False,
            "created_at": now, "updated_at": now,
        }], ["task_id"])
    return get_task(store, task_id)


def get_task(store: Store, task_id: str) -> TaskRecord | None:
    with store.connect() as conn:
        r = conn.execute(select(task_status).where(task_status.c.task_id == task_id)).first()
    return _record(r) if r else None


def update_task(store: Store, task_id: str, *, status: str | None = None, progress: int | None = None,
                details: dict[str, Any] | None = None, log: str | None = None) -> None:
    """Merge ``details`` into the stored JSON and append ``log`` to its ``log`` list (capped)."""
    with store.begin() as conn:
        r = conn.execute(select(task_status.c.details, task_status.c.status).where(task_status.c.task_id == task_id)).first()
        if r is None:
            return
        merged = json.loads(r.details or "{}")
        if details:
            merged.update(details)
        if log:
            lines = merged.setdefault("log", [])
            lines.append(f"{utcnow().strftime('%H:%M:%S')} {log}")
            del lines[:-MAX_LOG_LINES]
        values: dict[str, Any] = {"details": json.dumps(merged), "updated_at": utcnow()}
        if status is not None:
            values["status"] = status
        if progress is not None:
            values["progress"] = max(0, min(100, int(progress)))
        conn.execute(update(task_status).where(task_status.c.task_id == task_id).values(**values))


def request_cancel(store: Store, task_id: str) -> bool:
    """Flag a task and its unfinished children for cancellation. False when the task is unknown or done."""
    with store.begin() as conn:
        r = conn.execute(select(task_status.c.status).where(task_status.c.task_id == task_id)).first()
        if r is None or r.status in FINISHED:
            return False
        conn.execute(
            update(task_status)
            .where(or_(task_status.c.task_id == task_id, task_status.c.parent_id == task_id))
            .where(task_status.c.status.not_in(FINISHED))
            .values(cancel_requested=True, updated_at=utcnow())
        )
    return True


def is_cancel_requested(store: Store, task_id: str) -> bool:
    with store.connect() as conn:
        return bool(conn.execute(select(task_status.c.cancel_requested).where(task_status.c.task_id == task_id)).scalar())


def children(store: Store, parent_id: str) -> list[TaskRecord]:
    with store.connect() as conn:
        rows = conn.execute(select(task_status).where(task_status.c.parent_id == parent_id).order_by(task_status.c.created_at)).all()
    return [_record(r) for r in rows]


def recent_tasks(store: Store, limit: int = 20, *, task_type: str | None = None, active_only: bool = False,
                 top_level_only: bool = True) -> list[TaskRecord]:
    stmt = select(task_status).order_by(task_status.c.created_at.desc()).limit(limit)
    if task_type:
        stmt = stmt.where(task_status.c.task_type == task_type)
    if active_only:
        stmt = stmt.where(task_status.c.status.not_in(FINISHED))
    if top_level_only:
        stmt = stmt.where(task_status.c.parent_id.is_(None))
    with store.connect() as conn:
        return [_record(r) for r in conn.execute(stmt)]
