"""What every long job shares: task ids, a progress reporter over the store, the cancel check, the
heartbeat that tells a running job from one whose driver died, and cancelling either kind.

A job creates one parent record and child records (one per album, batch...). ``Progress`` throttles
writes so a fast loop does not hammer the database, and computes an ETA from the rate so far.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.exc import SQLAlchemyError

from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.store import Store
from audiomuse_ray.store import task_rows as task_store

log = logging.getLogger(__name__)


def new_task_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Progress:
    """Counts for one parent task; ``report()`` writes them (at most every ``interval_s``)."""

    store: Store
    task_id: str
    total: int
    interval_s: float = 1.0
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    listener: Callable[["Progress"], None] | None = None
    _last_write: float = 0.0

    def add(self, n: int = 1, **counts: int) -> None:
        self.done += n
        for k, v in counts.items():
            self.counts[k] = self.counts.get(k, 0) + v

    @property
    def percent(self) -> int:
        return 100 if self.total <= 0 else int(100 * self.done / self.total)

    @property
    def eta_s(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.done <= 0 or self.total <= 0:
            return None
        return max(0.0, elapsed / self.done * (self.total - self.done))

    def report(self, *, force: bool = False, log: str | None = None, **details: Any) -> None:
        if self.listener:
            self.listener(self)
        now = time.monotonic()
        if not force and not log and now - self._last_write < self.interval_s:
            return
        self._last_write = now
        eta = self.eta_s
        task_store.update_task(
            self.store, self.task_id, status=task_store.PROGRESS, progress=min(self.percent, 99),
            details={"done": self.done, "total": self.total, **self.counts,
                     "eta_s": None if eta is None else round(eta, 1), **details},
            log=log,
        )

    def cancel_requested(self) -> bool:
        return task_store.is_cancel_requested(self.store, self.task_id)


# ------------------------------------------------------------------------------------- liveness
HEARTBEAT_MAX_S = 10.0


def heartbeat_interval(stale_after_s: float) -> float:
    """Beat often enough that a few missed beats never look like a lost driver."""
    return max(0.2, min(HEARTBEAT_MAX_S, stale_after_s / 4))


class Heartbeat:
    """``with Heartbeat(store, task_id, interval_s):`` keeps the task's ``updated_at`` fresh from a
    daemon thread, also while the job waits on something slow (a media server, the index rebuild). A
    killed driver takes the thread with it, and the task goes stale."""

    def __init__(self, store: Store, task_id: str, interval_s: float):
        self.store, self.task_id, self.interval_s = store, task_id, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{task_id[:8]}", daemon=True)

    def beat(self) -> bool:
        """One beat now; False once the task is no longer active (finished or reaped)."""
        try:
            return task_store.heartbeat(self.store, self.task_id)
        except (AudioMuseError, SQLAlchemyError) as exc:  # a database hiccup: the next beat may get through
            log.warning("heartbeat of task %s failed: %s", self.task_id, exc)
            return True

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self.beat():
                return  # finished (or reaped): nothing left to keep alive

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> "Heartbeat":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def this_process_runner() -> str:
    """How a task row names a driver that is this process (a CLI, a ``ray job`` entry point)."""
    return f"process:{socket.gethostname()}:{os.getpid()}"


def runner_alive(runner: str | None) -> bool | None:
    """Whether a task's driver still runs: True or False where this process can tell, None where it
    cannot (another host, no Ray connection, an old row without a runner)."""
    if not runner:
        return None
    kind, _, rest = runner.partition(":")
    if kind == "process":
        host, _, pid = rest.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return None
        return _process_alive(int(pid))
    if kind == "actor":
        import ray

        if not ray.is_initialized():
            return None
        namespace, _, name = rest.rpartition("/")
        try:
            ray.get_actor(name, namespace=namespace or None)
            return True
        except ValueError:
            return False
    return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that nobody reaped yet is a zombie: dead all the same
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def cancel_task(store: Store, task_id: str, stale_after_s: float) -> str:
    """Ask a job to stop. Returns the task's status afterwards: REVOKED at once when its runner is gone
    (nothing would ever read the flag), the old status when it had finished, "CANCELLING" when the
    running job will see the flag within a second or two, "UNKNOWN" for no such task."""
    task_store.reap_stale(store, stale_after_s)
    rec = task_store.get_task(store, task_id)
    if rec is None:
        return "UNKNOWN"
    if rec.finished:
        return rec.status
    task_store.request_cancel(store, task_id)
    if runner_alive(rec.runner) is False:
        task_store.finish_lost(store, task_id, task_store.REVOKED, "cancelled; its driver was already gone")
        return task_store.REVOKED
    return "CANCELLING"
