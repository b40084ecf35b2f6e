"""Tasks that cannot get stuck, on SQLite and PostgreSQL: heartbeats, stale tasks failed by their readers,
one active job per type even when starters race, final states that stay final, cancel of a dead job."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from audiomuse_ray.errors import JobAlreadyRunning
from audiomuse_ray.store import open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.runtime.progress import Heartbeat, cancel_task, runner_alive, this_process_runner


def test_a_second_active_job_of_a_type_is_refused(store):
    task_store.create_task(store, "a1", "analysis")
    with pytest.raises(JobAlreadyRunning) as err:
        task_store.create_task(store, "a2", "analysis")
    assert err.value.task_id == "a1" and "a1" in str(err.value)
    task_store.create_task(store, "c1", "clustering")  # another type may run beside it
    task_store.create_task(store, "a1-00001", "analysis_album", parent_id="a1")  # children are not jobs
    task_store.update_task(store, "a1", status=task_store.SUCCESS)
    assert task_store.create_task(store, "a3", "analysis").status == task_store.STARTED


def test_racing_starters_get_exactly_one_active_job(db_url):
    """Eight threads, each with its own engine (as separate replicas would have), start at once."""
    open_store(db_url).dispose()
    barrier = threading.Barrier(8)
    won, refused, other = [], [], []

    def starter(i: int) -> None:
        s = open_store(db_url)
        try:
            barrier.wait()
            task_store.create_task(s, f"t{i}", "analysis", status=task_store.PENDING)
            won.append(i)
        except JobAlreadyRunning:
            refused.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            other.append(exc)
        finally:
            s.dispose()

    threads = [threading.Thread(target=starter, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == [] and len(won) == 1 and len(refused) == 7


def test_stale_tasks_fail_with_a_reason_and_stop_blocking(clocked_store, clock):
    store = clocked_store
    task_store.create_task(store, "old", "analysis")
    task_store.create_task(store, "old-00000", "analysis_album", parent_id="old")
    clock.advance(40)
    assert task_store.reap_stale(store, 60) == []  # fresh enough
    assert task_store.reap_stale(store, 20) == ["old"]
    rec = task_store.get_task(store, "old")
    assert rec.status == task_store.FAILURE and "driver lost" in rec.details["error"]
    assert task_store.children(store, "old")[0].status == task_store.FAILURE
    task_store.create_task(store, "new", "analysis")  # no longer blocks
    # the lost job's late writes cannot bring it back, and it is told to stop
    assert task_store.update_task(store, "old", status=task_store.PROGRESS, progress=50, log="late") is False
    rec = task_store.get_task(store, "old")
    assert rec.status == task_store.FAILURE and rec.details["log"][-1].endswith("late")
    assert task_store.is_cancel_requested(store, "old")


def test_a_heartbeat_keeps_a_quiet_job_alive(clocked_store, clock):
    store = clocked_store
    task_store.create_task(store, "quiet", "analysis")
    beat = Heartbeat(store, "quiet", interval_s=60)
    for _ in range(5):  # a quiet job: no progress for 5 x 50 s, one beat each time
        clock.advance(50)
        assert beat.beat() is True
        assert task_store.reap_stale(store, 60) == []
    clock.advance(61)  # the driver died: no more beats
    assert task_store.reap_stale(store, 60) == ["quiet"]
    assert beat.beat() is False  # a reaped task is not kept alive


def test_the_heartbeat_thread_beats_on_its_own(clocked_store, clock):
    store = clocked_store
    task_store.create_task(store, "busy", "analysis")
    clock.advance(120)
    with Heartbeat(store, "busy", interval_s=0.01):
        beaten = threading.Event()
        for _ in range(500):  # the thread's first beats land within milliseconds
            if task_store.get_task(store, "busy").updated_at.replace(tzinfo=None) == clock().replace(tzinfo=None):
                beaten.set()
                break
            beaten.wait(0.01)
        assert beaten.is_set()
    assert task_store.reap_stale(store, 60) == []


def test_cancel_of_a_job_whose_driver_died_revokes_at_once(store):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    runner = f"process:{this_process_runner().split(':')[1]}:{proc.pid}"
    task_store.create_task(store, "job", "analysis", runner=runner)
    assert runner_alive(runner) is True
    assert cancel_task(store, "job", 60) == "CANCELLING"  # alive: it will see the flag
    assert task_store.get_task(store, "job").cancel_requested
    proc.kill()  # SIGKILL; not waited for, so a zombie once the kernel is done with it: dead all the same
    deadline = time.monotonic() + 5
    while runner_alive(runner) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner_alive(runner) is False
    assert cancel_task(store, "job", 60) == task_store.REVOKED
    assert task_store.get_task(store, "job").status == task_store.REVOKED
    proc.wait()


def test_runner_liveness_is_unknown_where_it_cannot_be_told():
    assert runner_alive(None) is None
    assert runner_alive("process:some-other-host:1") is None
    assert runner_alive(this_process_runner()) is True


def test_a_reserved_job_gets_time_to_start(clocked_store, clock):
    """PENDING (reserved by the API, its actor still starting) is not lost after one heartbeat period."""
    store = clocked_store
    task_store.create_task(store, "reserved", "analysis", status=task_store.PENDING)
    clock.advance(task_store.PENDING_GRACE_S / 2)
    assert task_store.reap_stale(store, 1) == []
    clock.advance(task_store.PENDING_GRACE_S)
    assert task_store.reap_stale(store, 1) == ["reserved"]


def test_recent_tasks_route_lists_newest_first_after_reaping_stale_ones(clocked_store, clock):
    """``GET /api/tasks?limit=N``'s logic: top-level tasks only, newest first, a lost job already FAILURE
    (with its reason in the log tail), ``limit`` clamped to 1..200."""
    from audiomuse_ray.api import jobs_api

    store = clocked_store
    task_store.create_task(store, "done", "clustering")
    for i in range(12):
        task_store.update_task(store, "done", log=f"line {i}")
    task_store.update_task(store, "done", status=task_store.SUCCESS, progress=80)
    clock.advance(5)
    task_store.create_task(store, "lost", "analysis")
    task_store.create_task(store, "lost-00000", "analysis_album", parent_id="lost")
    clock.advance(40)
    task_store.create_task(store, "running", "clustering_other")
    task_store.update_task(store, "running", status=task_store.PROGRESS, progress=30)

    listed = jobs_api.recent_tasks(store, 10, 30)
    assert [t["task_id"] for t in listed] == ["running", "lost", "done"]  # no child, newest first
    running, lost, done = listed
    assert running["status"] == "PROGRESS" and running["progress"] == 30 and running["created_at"]
    assert lost["status"] == "FAILURE" and "driver lost" in lost["details"]["error"]
    assert "driver lost" in lost["details"]["log"][-1]
    assert done["status"] == "SUCCESS" and done["progress"] == 100
    assert len(done["details"]["log"]) == jobs_api.LOG_TAIL + 1 and done["details"]["log"][-1].endswith("line 11")
    assert task_store.get_task(store, "lost").status == task_store.FAILURE  # reaped in the store, not just shown

    assert [t["task_id"] for t in jobs_api.recent_tasks(store, 2, 60)] == ["running", "lost"]
    assert len(jobs_api.recent_tasks(store, 0, 60)) == 1  # clamped to at least one
    assert len(jobs_api.recent_tasks(store, None, 60)) == 3  # default 20
