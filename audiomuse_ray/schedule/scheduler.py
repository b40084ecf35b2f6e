"""The scheduler: one detached Ray actor that wakes each minute and starts the jobs whose cron tick is due.

It lives in the cluster, with no second system: ``ensure_scheduler`` gets it or creates it; the API's Serve
replicas call it at start and every minute (``keep_scheduler``: ``audiomuse-ray serve``, ``serve run
serve_app:app`` and KubeRay's RayService all deploy them), and Ray restarts it when its process dies. Whatever
happened to it, the database decides which tick runs: each (schedule, tick) is claimed by one insert
(``store/schedules.py``), so neither a second replica's call nor a restarted actor starts a tick twice,
and its first pass after a start runs a missed tick once (``schedule/cron.py``).

The loop runs in a thread started by the constructor, so a restart by Ray resumes it with no caller.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

import ray
from sqlalchemy.exc import SQLAlchemyError

from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.runtime.ray_cluster import connect_ray
from audiomuse_ray.providers.registry import provider_secrets
from audiomuse_ray.clustering.run import CLUSTERING_JOB
from audiomuse_ray.runtime.jobs import JOB_NAMESPACE
from audiomuse_ray.schedule import cron
from audiomuse_ray.schedule.clock import Clock, SystemClock
from audiomuse_ray.schedule.jobs import ProviderFactory, default_provider_factory, make_starter
from audiomuse_ray.schedule.tick import run_due
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from audiomuse_ray.store import schedules as schedule_store

log = logging.getLogger(__name__)
SCHEDULER_NAME = "audiomuse-scheduler"
PASSES_KEPT = 50


class Scheduler:
    """The actor. ``status()`` says what it did; ``run_now()`` makes a pass at once (the CLI, tests)."""

    def __init__(self, settings: Settings, provider_factory: ProviderFactory = default_provider_factory,
                 clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.tz = cron.zone(settings.timezone)
        self.name = f"scheduler:{socket.gethostname()}:{os.getpid()}"
        self.store = open_store(settings.database_url)
        self.start = make_starter(settings, self.store, provider_factory)
        self.passes: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._loop, name="scheduler", daemon=True).start()

    def _loop(self) -> None:
        done_minute = None
        while not self._stop.is_set():
            now = self.clock.now()
            minute = cron.floor_minute(now)
            if minute != done_minute:
                try:
                    self._pass(now)
                    done_minute = minute
                except (AudioMuseError, SQLAlchemyError) as exc:  # the database is away: try again shortly
                    log.warning("scheduler pass at %s failed: %s", now.isoformat(), exc)
            self.clock.wait(min(5.0, (minute + timedelta(minutes=1) - now).total_seconds()), self._stop)

    def _pass(self, now: datetime) -> list[dict]:
        with self._lock:
            outcomes = run_due(self.store, now, self.start, tz=self.tz, claimed_by=self.name)
            if now.minute == 0:
                schedule_store.prune_runs(self.store, now)
            record = {"at": now.isoformat(), "started": [
                {"schedule_id": o.schedule_id, "task_type": o.task_type, "tick": o.tick.isoformat(), "status": o.status,
                 "task_id": o.task_id, "message": o.message} for o in outcomes]}
            self.passes = (self.passes + [record])[-PASSES_KEPT:]
            return record["started"]

    def run_now(self) -> list[dict]:
        return self._pass(self.clock.now())

    def status(self) -> dict:
        return {"name": self.name, "pid": os.getpid(), "passes": len(self.passes),
                "last_pass": self.passes[-1] if self.passes else None}

    def stop(self) -> None:
        self._stop.set()


def ensure_scheduler(settings: Settings, provider_factory: ProviderFactory = default_provider_factory,
                     clock: Clock | None = None):
    """The scheduler actor, created when there is none (idempotent; safe from several replicas at once).

    Detached, so it outlives its caller; restarted by Ray if its process dies (``max_restarts=-1``); a
    scheduler killed for good is created again by the next call. The first caller's arguments stay until
    ``stop_scheduler``."""
    connect_ray(settings)
    return ray.remote(Scheduler).options(
        name=SCHEDULER_NAME, namespace=JOB_NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0,
        max_restarts=-1, max_concurrency=4,
    ).remote(scheduler_settings(settings), provider_factory, clock)


def scheduler_settings(settings: Settings) -> Settings:
    """What the scheduler actor receives: the secrets of the jobs it starts (the database, its provider, the
    model key a clustering names playlists with), never the API token or the hub tokens."""
    return settings.keeping_secrets("database_url", *provider_secrets(settings), *CLUSTERING_JOB.secrets)


def keep_scheduler(settings: Settings, interval_s: float = 60.0) -> threading.Event:
    """Make sure the scheduler exists now and every ``interval_s`` from a daemon thread (a Serve replica
    runs this, so a RayService keeps its scheduler with no Kubernetes CronJob: a scheduler lost with its
    node is back within a minute). Idempotent across replicas: there is one named actor. Set the returned
    event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                ensure_scheduler(settings)
            except Exception as exc:  # noqa: BLE001 - Ray busy or restarting: the next round tries again
                log.warning("could not make sure the scheduler runs: %s", exc)
            if stop.wait(interval_s):
                return

    threading.Thread(target=loop, name="scheduler-keeper", daemon=True).start()
    return stop


def stop_scheduler() -> bool:
    """Kill the scheduler for good (it is created again by the next ``ensure_scheduler``); False if none."""
    try:
        handle = ray.get_actor(SCHEDULER_NAME, namespace=JOB_NAMESPACE)
    except ValueError:
        return False
    ray.kill(handle, no_restart=True)
    return True
