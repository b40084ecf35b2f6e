"""What each scheduled task type starts, through the API's own start path (``runtime.jobs.start_job``: a task row
reserved first, one active job per kind, the job in a detached Ray actor), and the bodies of the two job
kinds this package adds to that runner: the radios and the sonic fingerprint playlists.

Both need the media server: they take a provider factory (``Settings -> MediaProvider``), carried in the
job's options to the actor that runs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from audiomuse_ray.errors import AudioMuseError, BadRequest, HistoryUnsupported, ProviderError
from audiomuse_ray.parsing import integer
from audiomuse_ray.providers.base import MediaProvider, UserCredentials
from audiomuse_ray.analysis.run import ANALYSIS_JOB, AnalysisRequest
from audiomuse_ray.clustering.run import CLUSTERING_JOB
from audiomuse_ray.runtime.jobs import JobKind, start_job
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store, open_store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store.schedules import ScheduleRow
from audiomuse_ray.runtime.progress import Heartbeat, heartbeat_interval

log = logging.getLogger(__name__)
ANALYSIS, CLUSTERING = ANALYSIS_JOB.name, CLUSTERING_JOB.name
RADIOS, FINGERPRINT = "alchemy_radio", "sonic_fingerprint"  # the two job kinds this package adds
TASK_TYPES = (ANALYSIS, CLUSTERING, RADIOS, FINGERPRINT)  # AudioMuse-AI's cron task types
FINGERPRINT_PLAYLIST = "Sonic Fingerprint"
HISTORY_LIMIT = 500  # most-played tracks read to skip what a listener played recently

ProviderFactory = Callable[[Settings], MediaProvider]


def default_provider_factory(settings: Settings) -> MediaProvider:
    from audiomuse_ray.providers import make_provider

    return make_provider(settings)


@dataclass(frozen=True)
class RadiosJob:
    provider_factory: ProviderFactory
    radio_ids: tuple[int, ...] | None = None  # None = every enabled radio


@dataclass(frozen=True)
class FingerprintJob:
    provider_factory: ProviderFactory
    users: tuple[str, ...] = ()  # empty = the provider's configured user
    n: int = 100
    playlist_name: str = FINGERPRINT_PLAYLIST


def check_options(task_type: str, options: Mapping[str, Any]) -> None:
    """``BadRequest`` when a schedule's options cannot start its task type."""
    _job_options(Settings(), task_type, options, default_provider_factory)


def job_options(settings: Settings, s: ScheduleRow, provider_factory: ProviderFactory) -> tuple[JobKind, Any]:
    """(job kind, options) for a schedule row."""
    return JOB_KINDS[s.task_type], _job_options(settings, s.task_type, s.options, provider_factory)


def _job_options(settings: Settings, task_type: str, o: Mapping[str, Any], provider_factory: ProviderFactory):
    if task_type == ANALYSIS:
        return AnalysisRequest(integer(o, "num_recent_albums", settings.num_recent_albums, lo=0),
                           integer(o, "workers", settings.workers, lo=0, hi=1024))
    if task_type == CLUSTERING:
        from audiomuse_ray.clustering.options import options_from_json

        try:
            return options_from_json(dict(o))
        except BadRequest:
            raise
        except ValueError as exc:  # the builder's own checks
            raise BadRequest(f"Clustering options: {exc}") from None
    if task_type == RADIOS:
        ids = o.get("radio_ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
            raise BadRequest("'radio_ids' must be a list of radio ids")
        return RadiosJob(provider_factory, None if ids is None else tuple(ids))
    if task_type == FINGERPRINT:
        users = o.get("users") or []
        if not isinstance(users, list) or not all(isinstance(u, str) and u.strip() for u in users):
            raise BadRequest("'users' must be a list of user names or ids")
        name = str(o.get("playlist_name") or FINGERPRINT_PLAYLIST).strip()
        return FingerprintJob(provider_factory, tuple(u.strip() for u in users), integer(o, "n", 100, lo=1, hi=1000),
                              name)
    raise BadRequest(f"'task_type' must be one of {', '.join(TASK_TYPES)}")


def make_starter(settings: Settings, store: Store, provider_factory: ProviderFactory) -> Callable[[ScheduleRow], str]:
    """The scheduler's start function: the schedule's job through ``start_job``; returns its task id."""
    def start(s: ScheduleRow) -> str:
        kind, options = job_options(settings, s, provider_factory)
        return start_job(settings, store, kind, options)

    return start


# ---------------------------------------------------------------------------- the job bodies (in JobRunner)
def run_job(kind: str, settings: Settings, options: Any, *, task_id: str, runner: str | None = None) -> dict:
    """Run a radios or fingerprint job under its task row (heartbeat, final status, summary in details)."""
    store = open_store(settings.database_url)
    try:
        task_store.create_task(store, task_id, kind, runner=runner)
        with Heartbeat(store, task_id, heartbeat_interval(settings.task_stale_s)):
            try:
                body = radios_job if kind == RADIOS else fingerprint_job
                summary = body(settings, store, options, task_id)
            except AudioMuseError as exc:
                task_store.update_task(store, task_id, status=task_store.FAILURE, details={"error": str(exc)},
                                       log=f"failed: {exc}")
                raise
        failed = summary.get("failed") or []
        task_store.update_task(store, task_id, status=task_store.SUCCESS, progress=100, details=summary,
                               log=summary["message"] + (f" Failed: {', '.join(failed)}." if failed else ""))
        return summary
    finally:
        store.dispose()


def _library(store: Store):
    from audiomuse_ray.similarity.library import load_library
    from audiomuse_ray.similarity.rebuild import ensure_artist_index

    lib = load_library(store)
    return lib, ensure_artist_index(store, lib)


def radios_job(settings: Settings, store: Store, job: RadiosJob, task_id: str) -> dict:
    from audiomuse_ray.schedule.radios_api import listening_history, provider_writer, run_radios

    lib, artists = _library(store)
    provider = job.provider_factory(settings)
    history, why = listening_history(provider, HISTORY_LIMIT)
    if history is None:  # no history: radios still run, without the skip
        task_store.update_task(store, task_id, log=f"no listening history ({why}); recently played songs not skipped")
    return run_radios(store, lib, provider_writer(store, provider), artists=artists, history=history,
                      radio_ids=job.radio_ids)


def fingerprint_job(settings: Settings, store: Store, job: FingerprintJob, task_id: str) -> dict:
    """One playlist per user: ``playlist_name`` for the configured user, ``playlist_name - user`` for others."""
    from audiomuse_ray.similarity.fingerprint import TOP_N_SONGS, fingerprint_playlist

    lib, _artists = _library(store)
    provider = job.provider_factory(settings)
    now = datetime.now(timezone.utc)
    created, failed = 0, []
    for user in job.users or ("",):
        name = f"{job.playlist_name} - {user}" if user else job.playlist_name
        try:
            records = provider.top_played(UserCredentials(user=user) if user else None, limit=TOP_N_SONGS)
            rows = fingerprint_playlist(lib, records, job.n, now)
            if not rows:
                raise HistoryUnsupported(f"none of {user or 'the user'}'s most played songs is analysed yet")
            ids = [lib.meta[r].item_id for r, _d in rows]
            playlist_store.save_playlist(store, name, ids, provider.name, provider.create_playlist(name, ids))
            created += 1
        except ProviderError as exc:
            failed.append(user or name)
            task_store.update_task(store, task_id, log=f"{name}: {exc}")
    return {"message": f"Created {created} sonic fingerprint playlist(s).", "users": len(job.users or ("",)),
            "playlists_created": created, "failed": failed}


def _run_radios(settings: Settings, options: Any, *, task_id: str, runner: str | None = None) -> dict:
    return run_job(RADIOS, settings, options, task_id=task_id, runner=runner)


def _run_fingerprint(settings: Settings, options: Any, *, task_id: str, runner: str | None = None) -> dict:
    return run_job(FINGERPRINT, settings, options, task_id=task_id, runner=runner)


RADIOS_JOB = JobKind(RADIOS, _run_radios)
FINGERPRINT_JOB = JobKind(FINGERPRINT, _run_fingerprint)
JOB_KINDS = {k.name: k for k in (ANALYSIS_JOB, CLUSTERING_JOB, RADIOS_JOB, FINGERPRINT_JOB)}
