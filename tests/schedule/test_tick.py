"""Scheduler passes over a real database (SQLite and PostgreSQL) with a fake clock: a due tick starts
once, two schedulers racing (or a restarted one) never start a tick twice, a missed tick starts once, a
refused start is recorded as skipped and nothing stays claimed for ever."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from audiomuse_ray.errors import JobAlreadyRunning
from audiomuse_ray.schedule.tick import run_due
from audiomuse_ray.store import schedules as schedule_store

UTC = timezone.utc
T0 = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)


class Starts:
    """A starter that records what it was asked to start (thread-safe)."""

    def __init__(self, refuse: set[str] = frozenset()):
        self.calls: list[tuple[int, str]] = []
        self.refuse = refuse
        self.lock = threading.Lock()

    def __call__(self, s) -> str:
        if s.task_type in self.refuse:
            raise JobAlreadyRunning(f"An active {s.task_type} task is already in progress (t-1).", "t-1")
        with self.lock:
            self.calls.append((s.id, s.task_type))
            return f"task-{s.id}-{len(self.calls)}"


def add(store, expr: str, task_type: str = "analysis", now: datetime = T0, name: str = "") -> int:
    return schedule_store.save_schedule(store, None, name=name or f"{task_type} {expr}", task_type=task_type,
                                        cron_expr=expr, enabled=True, options={}, now=now)


def test_a_due_tick_starts_once_and_is_recorded(store):
    sid = add(store, "0 3 * * *")
    starts = Starts()
    assert run_due(store, T0 + timedelta(minutes=59), starts, tz=UTC, claimed_by="a") == []
    out = run_due(store, T0 + timedelta(hours=1, seconds=3), starts, tz=UTC, claimed_by="a")
    assert [(o.schedule_id, o.status, o.task_id) for o in out] == [(sid, "STARTED", f"task-{sid}-1")]
    assert run_due(store, T0 + timedelta(hours=1, seconds=40), starts, tz=UTC, claimed_by="a") == []
    run = schedule_store.recent_runs(store, sid)[0]
    assert (run.tick, run.status, run.task_id, run.claimed_by) == (T0 + timedelta(hours=1), "STARTED", f"task-{sid}-1", "a")
    assert len(starts.calls) == 1


def test_two_schedulers_never_start_a_tick_twice(store):
    ids = [add(store, "*/5 * * * *", name=f"s{i}") for i in range(12)]
    starts = Starts()
    now = T0 + timedelta(minutes=5, seconds=1)
    barrier = threading.Barrier(3)

    def scheduler(name: str) -> None:
        barrier.wait()
        run_due(store, now, starts, tz=UTC, claimed_by=name)

    threads = [threading.Thread(target=scheduler, args=(f"replica-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sid for sid, _ in starts.calls) == sorted(ids)  # each schedule started exactly once
    # a restarted scheduler (a new name, the same minute) finds every tick taken
    assert run_due(store, now + timedelta(seconds=30), starts, tz=UTC, claimed_by="restarted") == []
    assert len(starts.calls) == 12


def test_a_missed_tick_runs_once_at_start(store):
    sid = add(store, "*/10 * * * *")
    starts = Starts()
    run_due(store, T0 + timedelta(minutes=10), starts, tz=UTC, claimed_by="before-the-outage")
    # the service was down from 02:10 to 05:47: 21 ticks passed; the restart runs the latest, once
    out = run_due(store, T0 + timedelta(hours=3, minutes=47), starts, tz=UTC, claimed_by="after")
    assert [(o.tick, o.status) for o in out] == [(T0 + timedelta(hours=3, minutes=40), "STARTED")]
    assert run_due(store, T0 + timedelta(hours=3, minutes=48), starts, tz=UTC, claimed_by="after") == []
    assert [sid for sid, _ in starts.calls] == [sid, sid]


def test_a_refused_start_is_skipped_with_the_reason_and_disabled_rows_never_fire(store):
    busy = add(store, "0 * * * *", "clustering")
    off = schedule_store.save_schedule(store, None, name="off", task_type="analysis", cron_expr="0 * * * *",
                                       enabled=False, options={}, now=T0)
    out = run_due(store, T0 + timedelta(hours=1), Starts(refuse={"clustering"}), tz=UTC, claimed_by="a")
    assert [(o.schedule_id, o.status, o.task_id) for o in out] == [(busy, "SKIPPED", "t-1")]
    assert "already in progress" in schedule_store.recent_runs(store, busy)[0].message
    assert schedule_store.recent_runs(store, off) == []


def test_a_claim_without_an_outcome_becomes_lost(store):
    sid = add(store, "0 * * * *")
    tick = T0 + timedelta(hours=1)
    assert schedule_store.claim(store, sid, tick, "died-here", now=tick)
    assert not schedule_store.claim(store, sid, tick, "another", now=tick)
    run_due(store, tick + timedelta(minutes=11), Starts(), tz=UTC, claimed_by="a")
    assert schedule_store.recent_runs(store, sid)[0].status == "LOST"


def test_runs_are_pruned_but_each_schedules_newest_is_kept(store):
    sid = add(store, "0 * * * *")
    old = [T0 + timedelta(hours=h) for h in range(1, 4)]
    for t in old:
        schedule_store.claim(store, sid, t, "a", now=t)
    assert schedule_store.prune_runs(store, now=T0 + timedelta(days=400)) == 2
    assert [r.tick for r in schedule_store.recent_runs(store, sid)] == [old[-1]]
    assert schedule_store.last_ticks(store) == {sid: old[-1]}
