"""Long jobs started from the HTTP API or the scheduler run in detached Ray actors, not in the process that
asked for them: a replica restart, a scale-down or a second replica leaves the job running, and the task
row names the actor (``runner``) so a cancel can tell a running job from one whose actor is gone.

What runs is a ``JobKind``: a task type and the module-level function the CLI and the ``jobs/`` entry points
call too (``run_analysis`` and friends, through a small adapter beside each). The kind travels to the actor
by reference, so this module knows no job package: each package defines its own kind, and nothing here
changes when one is added.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

import ray

from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.providers.registry import provider_secrets
from audiomuse_ray.runtime.progress import new_task_id
from audiomuse_ray.runtime.ray_cluster import connect_ray
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import task_rows as task_store

log = logging.getLogger(__name__)
JOB_NAMESPACE = "audiomuse-jobs"


@dataclass(frozen=True)
class JobKind:
    """A kind of long job: ``name`` is its task type (one active job per type), ``run`` a module-level
    function ``run(settings, options, *, task_id, runner)`` that records its own outcome in the task row,
    ``secrets`` the secret settings it reads besides the database URL and its media provider's."""

    name: str
    run: Callable[..., Any]
    secrets: tuple[str, ...] = ()


class JobRunner:
    """Detached actor hosting one job; it needs no CPU of its own (the job's workers reserve theirs).

    The job starts from the constructor: Ray runs a detached actor's creation even when the process that
    asked for it (a replica) dies a moment later, whereas a method call queued by that process would die
    with it. The actor removes itself when the job returns."""

    def __init__(self, kind: JobKind, settings: Settings, task_id: str, runner: str, options: Any):
        self.task_id = task_id
        threading.Thread(target=self._run, args=(kind, settings, task_id, runner, options),
                         name=f"job-{task_id[:8]}", daemon=True).start()

    def _run(self, kind: JobKind, settings: Settings, task_id: str, runner: str, options: Any) -> None:
        try:
            kind.run(settings, options, task_id=task_id, runner=runner)
        except Exception:  # the job has already recorded its failure in the task row
            log.exception("%s job %s failed", kind.name, task_id)
        finally:
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def task(self) -> str:
        return self.task_id


def job_settings(settings: Settings, kind: JobKind) -> Settings:
    """``settings`` as a job of ``kind`` receives them: the database URL, its provider's secret and the
    kind's own secrets; everything else blanked (the API token and the hub tokens never travel)."""
    return settings.keeping_secrets("database_url", *provider_secrets(settings), *kind.secrets)


def start_job(settings: Settings, store: Store, kind: JobKind, options: Any) -> str:
    """Reserve the task row (refused with ``JobAlreadyRunning`` while another job of ``kind`` is active),
    then start the detached actor that runs the job; returns the task id at once."""
    task_store.reap_stale(store, settings.task_stale_s)
    task_id = new_task_id()
    name = f"{kind.name}-{task_id}"
    runner = f"actor:{JOB_NAMESPACE}/{name}"
    task_store.create_task(store, task_id, kind.name, status=task_store.PENDING, runner=runner)
    try:
        connect_ray(settings)
        ray.remote(JobRunner).options(name=name, namespace=JOB_NAMESPACE, lifetime="detached", num_cpus=0,
                                      max_restarts=0).remote(kind, job_settings(settings, kind), task_id, runner,
                                                             options)
    except (AudioMuseError, ray.exceptions.RayError, ValueError) as exc:
        task_store.finish_lost(store, task_id, task_store.FAILURE, f"the job could not be started: {exc}")
        raise AudioMuseError(f"The {kind.name} job could not be started on Ray: {exc}") from exc
    return task_id
