"""What every long job shares: task ids, a progress reporter over the store, and the cancel check.

A job creates one parent record and child records (one per album, batch...). ``Progress`` throttles
writes so a fast loop does not hammer the database, and computes an ETA from the rate so far.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from audiomuse_ray.store import Store
from audiomuse_ray.store import tasks as task_store


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
