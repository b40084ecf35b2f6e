"""One pass of the scheduler: every enabled schedule whose tick is due is claimed, then started.

The claim is a row keyed by (schedule, tick) in the database, taken before the start; a scheduler that
loses the race (another replica, or its own earlier life after a restart) skips that tick. A start that is
refused because a job of that kind is still active (one at a time per kind) is recorded as SKIPPED with
the reason; a start that fails is FAILED. Either way the row says what happened to the tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Callable

from audiomuse_ray.errors import AudioMuseError, JobAlreadyRunning
from audiomuse_ray.schedule import cron
from audiomuse_ray.store import Store
from audiomuse_ray.store import schedules as schedule_store
from audiomuse_ray.store.schedules import ScheduleRow

log = logging.getLogger(__name__)
LOST_AFTER_S = 600.0  # a claim with no outcome for this long: its scheduler died between claim and start

Starter = Callable[[ScheduleRow], str]  # starts the schedule's job; returns its task id


@dataclass(frozen=True)
class TickOutcome:
    schedule_id: int
    name: str
    task_type: str
    tick: datetime
    status: str  # STARTED, SKIPPED or FAILED
    task_id: str | None = None
    message: str | None = None


def run_due(store: Store, now: datetime, start: Starter, *, tz: tzinfo, claimed_by: str) -> list[TickOutcome]:
    """Start what is due at ``now``; returns what this pass started, skipped or failed (not what others took)."""
    schedule_store.mark_lost(store, LOST_AFTER_S, now)
    last = schedule_store.last_ticks(store)
    outcomes = []
    for s in schedule_store.list_schedules(store, enabled_only=True):
        try:
            tick = cron.due_tick(s.cron_expr, now, tz, s.updated_at or now, last.get(s.id))
        except (AudioMuseError, ValueError) as exc:  # saved before validation, or by hand
            log.warning("schedule %s (%s) has an unusable cron expression %r: %s", s.id, s.name, s.cron_expr, exc)
            continue
        if tick is None or not schedule_store.claim(store, s.id, tick, claimed_by, now):
            continue
        try:
            task_id = start(s)
            outcome = TickOutcome(s.id, s.name, s.task_type, tick, schedule_store.STARTED, task_id)
        except JobAlreadyRunning as exc:
            outcome = TickOutcome(s.id, s.name, s.task_type, tick, schedule_store.SKIPPED, exc.task_id, str(exc))
        except AudioMuseError as exc:
            outcome = TickOutcome(s.id, s.name, s.task_type, tick, schedule_store.FAILED, None, str(exc))
        schedule_store.finish_run(store, s.id, tick, outcome.status, outcome.task_id, outcome.message)
        log.info("schedule %s (%s) tick %s: %s %s", s.id, s.name, tick.isoformat(), outcome.status,
                 outcome.task_id or outcome.message or "")
        outcomes.append(outcome)
    return outcomes
