"""Task records: one row per long job and per child (album, batch), with status, progress and a JSON log.

Cancellation is a flag in the row, so any process that can reach the database (CLI, HTTP API, a Ray
worker) can ask a job to stop and the job sees it at its next check.

A running job's ``updated_at`` is its heartbeat. A job whose driver died stops beating; ``reap_stale``
(called by everything that reads tasks) fails it, and from then on the row is final: a finished task's
status never changes again, and a job that finds its own row finished stops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from audiomuse_ray.errors import JobAlreadyRunning, TaskCancelled
from audiomuse_ray.store.db import Store
from audiomuse_ray.store.schema import task_status

STARTED, PROGRESS, SUCCESS, FAILURE, REVOKED, PENDING = "STARTED", "PROGRESS", "SUCCESS", "FAILURE", "REVOKED", "PENDING"
FINISHED = (SUCCESS, FAILURE, REVOKED)
ACTIVE = (PENDING, STARTED, PROGRESS)
PENDING_GRACE_S = 30.0
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
    runner: str | None = None

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
        runner=r.runner,
    )


def create_task(store: Store, task_id: str, task_type: str, parent_id: str | None = None,
                details: dict[str, Any] | None = None, status: str = STARTED, runner: str | None = None) -> TaskRecord:
    """Insert a task, or take over the row a starter reserved for it (the API inserts PENDING, the job's
    driver then marks it STARTED). A second active top-level task of the same type is refused by the
    database's unique index: ``JobAlreadyRunning`` names the one that runs."""
    now = store.now()
    with store.begin() as conn:
        existing = conn.execute(select(task_status.c.status, task_status.c.details)
                                .where(task_status.c.task_id == task_id)).first()
        if existing is not None:
            if existing.status in FINISHED:
                raise TaskCancelled(f"Task {task_id} was {existing.status} before its job started.")
            merged = {**json.loads(existing.details or "{}"), **(details or {})}
            values: dict[str, Any] = {"status": status, "details": json.dumps(merged), "updated_at": now}
            if runner:
                values["runner"] = runner
            conn.execute(update(task_status).where(task_status.c.task_id == task_id).values(**values))
    if existing is None:
        try:
            with store.begin() as conn:
                conn.execute(insert(task_status).values(
                    task_id=task_id, parent_id=parent_id, task_type=task_type, status=status, progress=0,
                    details=json.dumps(details or {}), cancel_requested=False, created_at=now, updated_at=now,
                    runner=runner))
        except IntegrityError:
            active = recent_tasks(store, 1, task_type=task_type, active_only=True)
            other = active[0].task_id if active else None
            raise JobAlreadyRunning(
                f"An active {task_type} task is already in progress ({other}); wait for it or cancel it "
                f"(audiomuse-ray cancel {other}).", other) from None
    return get_task(store, task_id)


def get_task(store: Store, task_id: str) -> TaskRecord | None:
    with store.connect() as conn:
        r = conn.execute(select(task_status).where(task_status.c.task_id == task_id)).first()
    return _record(r) if r else None


def update_task(store: Store, task_id: str, *, status: str | None = None, progress: int | None = None,
                details: dict[str, Any] | None = None, log: str | None = None) -> bool:
    """Merge ``details`` into the stored JSON and append ``log`` to its ``log`` list (capped).

    A finished task keeps its status and progress (a reaped job's late writes cannot revive it); details
    and log lines still land. Returns False when the task is unknown or already finished."""
    with store.begin() as conn:
        r = conn.execute(select(task_status.c.details, task_status.c.status).where(task_status.c.task_id == task_id)).first()
        if r is None:
            return False
        merged = json.loads(r.details or "{}")
        if details:
            merged.update(details)
        if log:
            lines = merged.setdefault("log", [])
            lines.append(f"{store.now().strftime('%H:%M:%S')} {log}")
            del lines[:-MAX_LOG_LINES]
        values: dict[str, Any] = {"details": json.dumps(merged)}
        finished = r.status in FINISHED
        if not finished:
            values["updated_at"] = store.now()
            if status is not None:
                values["status"] = status
            if progress is not None:
                values["progress"] = max(0, min(100, int(progress)))
        conn.execute(update(task_status).where(task_status.c.task_id == task_id).values(**values))
    return not finished


def heartbeat(store: Store, task_id: str) -> bool:
    """Mark a running task alive now. False when it is no longer active (finished, reaped, unknown)."""
    with store.begin() as conn:
        n = conn.execute(update(task_status).where(task_status.c.task_id == task_id)
                         .where(task_status.c.status.in_(ACTIVE)).values(updated_at=store.now())).rowcount
    return n > 0


def reap_stale(store: Store, stale_after_s: float) -> list[str]:
    """Fail every active top-level task (and its unfinished children) whose heartbeat is older than
    ``stale_after_s``: its driver is gone and it must not block a new start. Returns their ids.

    A PENDING task (reserved, its driver not started yet) gets at least ``PENDING_GRACE_S``: starting a
    Ray actor on a busy cluster can take longer than a heartbeat period."""
    now = store.now()
    cutoff = now - timedelta(seconds=stale_after_s)
    pending_cutoff = now - timedelta(seconds=max(stale_after_s, PENDING_GRACE_S))
    with store.connect() as conn:
        stale = conn.execute(select(task_status.c.task_id, task_status.c.updated_at)
                             .where(task_status.c.parent_id.is_(None))
                             .where(or_(and_(task_status.c.status.in_((STARTED, PROGRESS)), task_status.c.updated_at < cutoff),
                                        and_(task_status.c.status == PENDING, task_status.c.updated_at < pending_cutoff)))
                             ).all()
    for task_id, _updated in stale:
        finish_lost(store, task_id, FAILURE, f"driver lost: no heartbeat for over {stale_after_s:g} s")
    return [t for t, _u in stale]


def finish_lost(store: Store, task_id: str, status: str, reason: str) -> None:
    """Finish a task whose driver is gone, children first; ``reason`` goes to its log and ``error``."""
    with store.begin() as conn:
        conn.execute(update(task_status).where(task_status.c.parent_id == task_id)
                     .where(task_status.c.status.in_(ACTIVE)).values(status=status, updated_at=store.now()))
    details = {"error": reason} if status == FAILURE else {}
    update_task(store, task_id, status=status, details=details, log=reason)


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
            .values(cancel_requested=True, updated_at=store.now())
        )
    return True


def is_cancel_requested(store: Store, task_id: str) -> bool:
    """True when the job should stop: cancel was asked, or its row was finished by someone else (reaped
    as lost, revoked because its runner was gone)."""
    with store.connect() as conn:
        r = conn.execute(select(task_status.c.cancel_requested, task_status.c.status)
                         .where(task_status.c.task_id == task_id)).first()
    return r is not None and (bool(r.cancel_requested) or r.status in FINISHED)


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
