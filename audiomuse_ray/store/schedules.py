"""The schedule table (AudioMuse-AI's cron rows) and the runs its scheduler claimed.

A run is claimed by inserting ``(schedule_id, tick)``: the primary key lets exactly one scheduler win a
tick, whichever replica or restarted actor tries it, so a tick never starts twice. The claim comes
first, the start after; a scheduler that dies in between leaves a CLAIMED row, which ``mark_lost`` turns
into LOST so no row stays in flight for ever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from audiomuse_ray.errors import UnknownSchedule
from audiomuse_ray.store.db import Store, utcnow
from audiomuse_ray.store.schema import schedule, schedule_run
from audiomuse_ray.store.times import as_utc

CLAIMED, STARTED, SKIPPED, FAILED, LOST = "CLAIMED", "STARTED", "SKIPPED", "FAILED", "LOST"
KEEP_RUNS_DAYS = 90  # older runs are pruned, except each schedule's newest (it says which tick ran last)


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    name: str
    task_type: str
    cron_expr: str
    enabled: bool
    options: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RunRow:
    schedule_id: int
    tick: datetime
    claimed_at: datetime
    claimed_by: str
    status: str
    task_id: str | None = None
    message: str | None = None


def _schedule(r) -> ScheduleRow:
    return ScheduleRow(r.id, r.name, r.task_type, r.cron_expr, bool(r.enabled), json.loads(r.options or "{}"),
                       as_utc(r.created_at), as_utc(r.updated_at))


def _run(r) -> RunRow:
    return RunRow(r.schedule_id, as_utc(r.tick), as_utc(r.claimed_at), r.claimed_by, r.status, r.task_id, r.message)


def list_schedules(store: Store, *, enabled_only: bool = False) -> list[ScheduleRow]:
    stmt = select(schedule).order_by(schedule.c.id)
    if enabled_only:
        stmt = stmt.where(schedule.c.enabled.is_(True))
    with store.connect() as conn:
        return [_schedule(r) for r in conn.execute(stmt).all()]


def get_schedule(store: Store, schedule_id: int) -> ScheduleRow:
    with store.connect() as conn:
        r = conn.execute(select(schedule).where(schedule.c.id == schedule_id)).first()
    if r is None:
        raise UnknownSchedule(f"Schedule {schedule_id} not found (audiomuse-ray schedule list shows them).")
    return _schedule(r)


def find_schedule(store: Store, task_type: str, name: str | None) -> ScheduleRow | None:
    """The first row of ``task_type`` (named ``name`` when given)."""
    stmt = select(schedule).where(schedule.c.task_type == task_type).order_by(schedule.c.id).limit(1)
    if name is not None:
        stmt = stmt.where(schedule.c.name == name)
    with store.connect() as conn:
        r = conn.execute(stmt).first()
    return _schedule(r) if r else None


def save_schedule(store: Store, schedule_id: int | None, *, name: str, task_type: str, cron_expr: str,
                  enabled: bool, options: dict[str, Any], now: datetime | None = None) -> int:
    """Insert (``schedule_id`` None) or replace a row; returns its id. Saving restarts its clock: ticks
    before ``now`` never fire for it."""
    now = now or utcnow()
    values = {"name": name, "task_type": task_type, "cron_expr": cron_expr, "enabled": bool(enabled),
              "options": json.dumps(options or {}), "updated_at": now}
    with store.begin() as conn:
        if schedule_id is None:
            return int(conn.execute(insert(schedule).values(**values, created_at=now)).inserted_primary_key[0])
        n = conn.execute(update(schedule).where(schedule.c.id == schedule_id).values(**values)).rowcount
    if not n:
        raise UnknownSchedule(f"Schedule {schedule_id} not found (audiomuse-ray schedule list shows them).")
    return schedule_id


def delete_schedule(store: Store, schedule_id: int) -> None:
    with store.begin() as conn:
        conn.execute(delete(schedule_run).where(schedule_run.c.schedule_id == schedule_id))
        n = conn.execute(delete(schedule).where(schedule.c.id == schedule_id)).rowcount
    if not n:
        raise UnknownSchedule(f"Schedule {schedule_id} not found (audiomuse-ray schedule list shows them).")


# ---------------------------------------------------------------------------------------------- runs
def last_ticks(store: Store) -> dict[int, datetime]:
    """Each schedule's newest claimed tick."""
    with store.connect() as conn:
        rows = conn.execute(select(schedule_run.c.schedule_id, func.max(schedule_run.c.tick))
                            .group_by(schedule_run.c.schedule_id)).all()
    return {int(sid): as_utc(tick) for sid, tick in rows}


def claim(store: Store, schedule_id: int, tick: datetime, claimed_by: str, now: datetime | None = None) -> bool:
    """Take ``tick`` of a schedule for this scheduler. False when another one (or an earlier life of this
    one) already took it."""
    try:
        with store.begin() as conn:
            conn.execute(insert(schedule_run).values(schedule_id=schedule_id, tick=tick, claimed_at=now or utcnow(),
                                                     claimed_by=claimed_by, status=CLAIMED))
    except IntegrityError:
        return False
    return True


def finish_run(store: Store, schedule_id: int, tick: datetime, status: str, task_id: str | None = None,
               message: str | None = None) -> None:
    with store.begin() as conn:
        conn.execute(update(schedule_run).where(schedule_run.c.schedule_id == schedule_id)
                     .where(schedule_run.c.tick == tick)
                     .values(status=status, task_id=task_id, message=(message or None) and message[:2000]))


def recent_runs(store: Store, schedule_id: int | None = None, limit: int = 20) -> list[RunRow]:
    stmt = select(schedule_run).order_by(schedule_run.c.tick.desc(), schedule_run.c.schedule_id).limit(limit)
    if schedule_id is not None:
        stmt = stmt.where(schedule_run.c.schedule_id == schedule_id)
    with store.connect() as conn:
        return [_run(r) for r in conn.execute(stmt).all()]


def latest_runs(store: Store) -> dict[int, RunRow]:
    """Each schedule's newest run."""
    newest = (select(schedule_run.c.schedule_id, func.max(schedule_run.c.tick).label("tick"))
              .group_by(schedule_run.c.schedule_id).subquery())
    stmt = select(schedule_run).join(newest, and_(newest.c.schedule_id == schedule_run.c.schedule_id,
                                                  newest.c.tick == schedule_run.c.tick))
    with store.connect() as conn:
        return {int(r.schedule_id): _run(r) for r in conn.execute(stmt).all()}


def mark_lost(store: Store, older_than_s: float, now: datetime | None = None) -> int:
    """CLAIMED runs whose scheduler never said how the start went (it died in between) become LOST."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_s)
    with store.begin() as conn:
        res = conn.execute(update(schedule_run).where(schedule_run.c.status == CLAIMED)
                           .where(schedule_run.c.claimed_at < cutoff)
                           .values(status=LOST, message="the scheduler stopped between claiming and starting"))
    return int(res.rowcount or 0)


def prune_runs(store: Store, now: datetime | None = None, keep_days: int = KEEP_RUNS_DAYS) -> int:
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    r2 = schedule_run.alias("r2")
    newest = select(func.max(r2.c.tick)).where(r2.c.schedule_id == schedule_run.c.schedule_id).scalar_subquery()
    with store.begin() as conn:
        res = conn.execute(delete(schedule_run).where(schedule_run.c.tick < cutoff).where(schedule_run.c.tick < newest))
    return int(res.rowcount or 0)
