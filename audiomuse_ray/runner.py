"""Long jobs started from the HTTP API run in detached Ray actors, not in the replica that took the
request: a replica restart, a scale-down or a second replica leaves the job running, and the task row
names the actor (``runner``) so a cancel can tell a running job from one whose actor is gone.

The job itself is the same function the CLI and the ``jobs/`` entry points call (``run_analysis``,
``run_clustering``); the actor only hosts it and exits when it returns.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray

from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.providers.registry import provider_secrets
from audiomuse_ray.ray_runtime import connect_ray
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import tasks as task_store
from audiomuse_ray.tasks import new_task_id

log = logging.getLogger(__name__)
JOB_NAMESPACE = "audiomuse-jobs"
ANALYSIS, CLUSTERING, SYNC = "analysis", "clustering", "collection_sync"
RADIOS, FINGERPRINT = "alchemy_radio", "sonic_fingerprint"  # audiomuse_ray/schedule/jobs.py runs these
SCHEDULED_KINDS = (RADIOS, FINGERPRINT)


class JobRunner:
    """Detached actor hosting one job; it needs no CPU of its own (the job's workers reserve theirs).

    The job starts from the constructor: Ray runs a detached actor's creation even when the process that
    asked for it (a replica) dies a moment later, whereas a method call queued by that process would die
    with it. The actor removes itself when the job returns."""

    def __init__(self, kind: str, settings: Settings, task_id: str, runner: str, options: Any):
        self.task_id = task_id
        threading.Thread(target=self._run, args=(kind, settings, task_id, runner, options),
                         name=f"job-{task_id[:8]}", daemon=True).start()

    def _run(self, kind: str, settings: Settings, task_id: str, runner: str, options: Any) -> None:
        try:
            if kind == ANALYSIS:
                from audiomuse_ray.analysis.run import run_analysis

                run_analysis(settings, num_recent_albums=options.num_recent_albums, workers=options.workers or None,
                             task_id=task_id, runner=runner)
            elif kind == CLUSTERING:
                from audiomuse_ray.clustering.run import run_clustering

                run_clustering(settings, options, task_id=task_id, runner=runner)
            elif kind in SCHEDULED_KINDS:
                from audiomuse_ray.schedule.jobs import run_job

                run_job(kind, settings, options, task_id=task_id, runner=runner)
            elif kind == SYNC:
                from audiomuse_ray.collection.sync import run_sync

                run_sync(settings, options, task_id=task_id, runner=runner)
            else:
                raise ValueError(f"unknown job kind {kind!r}")
        except Exception:  # the job has already recorded its failure in the task row
            log.exception("%s job %s failed", kind, task_id)
        finally:
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def task(self) -> str:
        return self.task_id


# The secrets each kind of job reads besides the database URL and its media provider's: everything else is
# blanked before the settings travel to the job's actor (the API token and the hub tokens never do).
JOB_SECRETS: dict[str, tuple[str, ...]] = {CLUSTERING: ("ai_api_key",)}


def job_settings(settings: Settings, kind: str) -> Settings:
    """``settings`` as the job of ``kind`` receives them: only the secrets it uses."""
    return settings.keeping_secrets("database_url", *provider_secrets(settings), *JOB_SECRETS.get(kind, ()))


def start_job(settings: Settings, store: Store, kind: str, options: Any) -> str:
    """Reserve the task row (refused with ``JobAlreadyRunning`` while another job of ``kind`` is active),
    then start the detached actor that runs the job; returns the task id at once."""
    task_store.reap_stale(store, settings.task_stale_s)
    task_id = new_task_id()
    name = f"{kind}-{task_id}"
    runner = f"actor:{JOB_NAMESPACE}/{name}"
    task_store.create_task(store, task_id, kind, status=task_store.PENDING, runner=runner)
    try:
        connect_ray(settings)
        ray.remote(JobRunner).options(name=name, namespace=JOB_NAMESPACE, lifetime="detached", num_cpus=0,
                                      max_restarts=0).remote(kind, job_settings(settings, kind), task_id, runner,
                                                             options)
    except (AudioMuseError, ray.exceptions.RayError, ValueError) as exc:
        task_store.finish_lost(store, task_id, task_store.FAILURE, f"the job could not be started: {exc}")
        raise AudioMuseError(f"The {kind} job could not be started on Ray: {exc}") from exc
    return task_id
