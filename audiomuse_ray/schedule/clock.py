"""The scheduler's clock, injectable so tests move time instead of waiting for it.

``SystemClock`` is the real one. ``ManualClock`` is a time set by hand in one process; ``RemoteClock``
shares one hand-set time between processes (the test and the scheduler actor on a Ray cluster) through a
small actor. A hand-set clock's ``wait`` returns after a short real pause, so the scheduler notices each
move of the time within a fraction of a second.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

POLL_S = 0.05


class Clock(Protocol):
    def now(self) -> datetime:
        """UTC-aware current time."""

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Return after ``seconds`` of this clock's time, or sooner (``stop`` set, or a hand-set clock)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(max(0.0, seconds))


class ManualClock:
    def __init__(self, start: datetime):
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(min(seconds, POLL_S))


class ClockKeeper:
    """The Ray actor behind ``RemoteClock``: holds the shared time."""

    def __init__(self, start: datetime):
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> datetime:
        self._now = moment
        return self._now


class RemoteClock:
    """A hand-set time every process sees (picklable: it holds an actor handle)."""

    def __init__(self, keeper):
        self.keeper = keeper

    @classmethod
    def start(cls, moment: datetime) -> "RemoteClock":
        import ray

        return cls(ray.remote(ClockKeeper).options(num_cpus=0).remote(moment))

    def now(self) -> datetime:
        import ray

        return ray.get(self.keeper.now.remote())

    def set(self, moment: datetime) -> None:
        import ray

        ray.get(self.keeper.set.remote(moment))

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(min(seconds, POLL_S))
