"""The sync job: for each track of the N most recent albums, push what this instance has, pull what the hub
has (only where the fingerprint confirms it), analyse locally what remains.

It is the analysis job (``analysis/run.py``: Ray actors over albums, progress, cancel, heartbeat, one
active job per type) with a ``Matcher`` whose candidates come from the hub and which pushes each album
once it is stored. Before anything runs, the hub must accept the token and share this instance's model
version; a hub that dies mid-sync fails the job with a sentence, keeping every album already stored (the
next sync goes on from there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.analysis import acoustic
from audiomuse_ray.collection.client import HubClient
from audiomuse_ray.analysis.matching import Matcher
from audiomuse_ray.recording.identity import TagQuery
from audiomuse_ray.recording.records import SharedAnalysis
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store, open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store.fingerprints import PULLED
from audiomuse_ray.runtime.jobs import JobKind, start_job
from audiomuse_ray.runtime.progress import Progress, new_task_id, this_process_runner

TASK_TYPE = "collection_sync"


@dataclass(frozen=True)
class SyncOptions:
    """What ``POST /api/collection/start`` takes (``{url, token, num_albums}``) and the CLI's flags."""

    url: str
    token: str = field(repr=False)
    num_albums: int = 0  # the N most recent albums; 0 = all
    workers: int | None = None

    @classmethod
    def from_json(cls, data) -> "SyncOptions":
        from audiomuse_ray.errors import BadRequest

        if not isinstance(data, dict) or not data.get("url") or not data.get("token"):
            raise BadRequest("A sync needs url (the hub's address) and token (the hub token you were given).")
        try:
            albums = int(data.get("num_albums") or 0)
        except (TypeError, ValueError):
            raise BadRequest("num_albums must be a whole number (0 = all albums).") from None
        if albums < 0:
            raise BadRequest("num_albums must be 0 (all albums) or more.")
        return cls(str(data["url"]), str(data["token"]), albums)


@dataclass(frozen=True)
class SyncSummary:
    task_id: str
    status: str
    albums: int
    pulled: int  # stored from the hub, confirmed by fingerprint, no MusiCNN
    copied: int  # reused from another local copy of the recording
    analysed: int  # analysed here (no confirmed candidate anywhere)
    pushed: int  # records sent to the hub
    shared_new: int  # of those, recordings the hub did not have
    failed: int
    skipped: int  # already analysed here before this sync
    seconds: float
    hub_model_version: str = ""
    worker_cpu_seconds: float = 0.0  # CPU the workers spent (fingerprints, and analyses of what remained)
    index_seconds: float = 0.0  # of ``seconds``, rebuilding the index and the map afterwards

    def to_json(self) -> dict:
        return dict(self.__dict__)


class HubSource:
    """A hub as the ``Matcher``'s candidate source and pusher."""

    origin = PULLED

    def __init__(self, client: HubClient, model_version: str):
        self.client, self.model_version = client, model_version

    def lookup(self, queries: Sequence[TagQuery]) -> list[list[SharedAnalysis]]:
        return self.client.lookup(self.model_version, queries)

    def push(self, model_version: str, records: Sequence[SharedAnalysis]) -> list:
        return self.client.push(model_version, records)


def run_sync(settings: Settings, options: SyncOptions, *, task_id: str | None = None,
             on_progress: Callable[[Progress], None] | None = None, store: Store | None = None,
             runner: str | None = None, client: HubClient | None = None) -> SyncSummary:
    """Sync the ``options.num_albums`` most recent albums with the hub; refused with ``JobAlreadyRunning``
    while another sync is active, with a ``HubError`` sentence when the hub refuses or is gone."""
    from audiomuse_ray.analysis.run import run_analysis

    started = time.monotonic()
    own_store = store is None
    store = store or open_store(settings.database_url)
    task_id = task_id or new_task_id()
    try:
        task_store.reap_stale(store, settings.task_stale_s)
        task_store.create_task(store, task_id, TASK_TYPE, details={"hub": _shown_url(options.url),
                                                                    "recent_albums": options.num_albums},
                               runner=runner or this_process_runner())
        try:
            acoustic.require_chromaprint()
            version = expected_version(settings.models_dir)
            client = client or HubClient(options.url, options.token, timeout_s=settings.http_timeout_s,
                                         retries=settings.http_retries)
            info = client.check(version)
        except AudioMuseError as exc:
            task_store.update_task(store, task_id, status=task_store.FAILURE, details={"error": str(exc)},
                                   log=f"failed: {exc}")
            raise
        source = HubSource(client, version)
        summary = run_analysis(
            settings, num_recent_albums=options.num_albums, workers=options.workers, task_id=task_id,
            on_progress=on_progress, store=store, runner=runner, task_type=TASK_TYPE,
            details={"hub_model_version": info.model_version, "hub_recordings": info.recordings},
            exchange=lambda s, v: Matcher(s, v, source=source, pusher=source))
    finally:
        if own_store:
            store.dispose()
    c = summary.counts
    return SyncSummary(summary.task_id, summary.status, summary.albums, c.get("pulled", 0), c.get("copied", 0),
                       summary.analysed, c.get("pushed", 0), c.get("push_stored", 0), summary.failed,
                       summary.skipped, time.monotonic() - started, info.model_version, summary.worker_cpu_seconds,
                       summary.index_seconds)


def _shown_url(url: str) -> str:
    """The hub's address for a task row: no user:password part."""
    from audiomuse_ray.settings import redact_url

    return redact_url(url)


def start_sync(settings: Settings, store: Store, body) -> str:
    """``POST /api/collection/start`` (``{url, token, num_albums}``): check the body, reserve the task row and
    start the job in a detached Ray actor (``runtime.jobs.start_job``); returns the task id at once. Refused
    with ``JobAlreadyRunning`` (409) while a sync is active, ``BadRequest`` (400) for a malformed body."""
    options = SyncOptions.from_json(body)
    HubClient(options.url, options.token)  # a malformed URL is the caller's 400 now, not a failed task later
    return start_job(settings, store, SYNC_JOB, options)


def last_sync(store: Store, stale_after_s: float) -> task_store.TaskRecord | None:
    """``GET /api/collection/last_task``: the newest sync task (a job whose driver died reads as FAILURE)."""
    task_store.reap_stale(store, stale_after_s)
    recent = task_store.recent_tasks(store, 1, task_type=TASK_TYPE)
    return recent[0] if recent else None


SYNC_JOB = JobKind(TASK_TYPE, run_sync)  # started by POST /api/collection/start (runtime.jobs)
