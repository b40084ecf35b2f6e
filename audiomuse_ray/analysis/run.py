"""The analysis job: albums fanned out over a pool of Ray actors, results written per album by the driver.

- Each ``AnalysisWorker`` actor loads the ONNX sessions once (intra-op threads = its CPUs) and analyses
  whole albums. Each actor holds one album at a time and gets the next as soon as it returns, so a slow
  album never blocks the others.
- Only the driver writes, one transaction per album, so a crash or a cancel loses at most the albums in
  flight and a re-run skips every track already stored with the current model version.
- A worker (or its node) that dies: its album is queued again for the surviving workers and a
  replacement actor is started; it joins the pool once Ray can place it.
- Cancel (``audiomuse-ray cancel``, Ctrl-C, the API): the flag in the task row is polled twice a second;
  the workers are killed at once (a running ONNX call cannot be interrupted any other way), the albums in
  flight are marked REVOKED, the job REVOKED.
- The driver keeps a heartbeat in its task row; a driver that dies (SIGKILL, a lost node) leaves a stale
  row that the next reader fails, and its workers die with it (Ray ties actors to their owner). The next
  run skips every album that was written.
- A worker that cannot even start (a model or module missing on its node) fails the job at once with
  that worker's error: it would fail the same way on every retry.
- Recording identity (``analysis/matching.py``): before an album goes to a worker its tracks get their
  candidates (local copies of the same recording; with a sync, the hub's records), which the worker
  confirms by fingerprint instead of analysing. An album whose tag keys overlap an album in flight waits
  for it, so two copies of a recording in two albums are analysed once. The sync job is this job with a
  hub (``collection/sync.py``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable

import ray
from ray.exceptions import RayActorError, RayTaskError

from audiomuse_ray.analysis.album import AlbumJob, AlbumResult, analyse_album
from audiomuse_ray.store.fingerprints import ANALYSED, COPIED, IMPORTED, PULLED
from audiomuse_ray.analysis.constants import MAX_ANALYSED_SECONDS
from audiomuse_ray.analysis.models import expected_version, load_models
from audiomuse_ray.analysis.matching import Matcher
from audiomuse_ray.errors import AudioMuseError, TaskCancelled
from audiomuse_ray.providers import make_provider
from audiomuse_ray.providers.registry import provider_config
from audiomuse_ray.runtime.jobs import JobKind
from audiomuse_ray.runtime.ray_cluster import connect_ray
from audiomuse_ray.settings import Settings
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.similarity.rebuild import ensure_projection, rebuild
from audiomuse_ray.store import Store, open_store
from audiomuse_ray.store import indexes
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.runtime.progress import Heartbeat, Progress, heartbeat_interval, new_task_id, this_process_runner

log = logging.getLogger(__name__)
TASK_TYPE = "analysis"
PERMANENT_ERRORS = {"UnreadableAudio", "AudioTooShort", "SilentAudio"}  # the same file fails the same way
POLL_S = 0.5
NO_WORKER_TIMEOUT_S = 120.0
PLAN_PAGE_ALBUMS = 200  # albums listed before their tracks are checked against the store in one query


@dataclass(frozen=True)
class AnalysisSummary:
    task_id: str
    status: str
    albums: int
    analysed: int
    skipped: int
    failed: int
    seconds: float
    index_version: int | None = None
    retried_albums: int = 0
    worker_cpu_seconds: float = 0.0  # CPU spent in analysis workers (all albums)
    index_seconds: float = 0.0  # of ``seconds``, rebuilding the index and the map afterwards
    counts: dict[str, int] = field(default_factory=dict)  # every count the job kept (copied, pulled, pushed...)


@dataclass(frozen=True)
class WorkerConfig:
    """What an analysis worker needs, and nothing more: where the models are and its media provider's own
    settings (a remote provider's URL and secret, to fetch files); never the whole ``Settings``."""

    models_dir: str
    provider: Any  # providers.registry.provider_config(settings)

    @classmethod
    def of(cls, settings: Settings) -> "WorkerConfig":
        return cls(settings.models_dir, provider_config(settings))


class AnalysisWorker:
    """Ray actor: models and provider loaded once, then one album per call."""

    def __init__(self, config: WorkerConfig, threads: int, use_gpu: bool = False):
        self.models = load_models(config.models_dir, threads=threads, use_gpu=use_gpu)
        self.provider = make_provider(config.provider)
        self.name = f"{ray.get_runtime_context().get_node_id()[:8]}/{ray.get_runtime_context().get_actor_id()[:8]}"

    def ready(self) -> str:
        return self.name

    def analyse(self, job: AlbumJob) -> AlbumResult:
        return analyse_album(job, self.models, self.provider, self.name)


def plan_jobs(settings: Settings, store: Store, version: str, limit: int, task_id: str,
              cancelled: Callable[[], bool], include_known: bool = False) -> tuple[list[AlbumJob], int, int]:
    """List albums and keep the tracks that still need analysing: (jobs, albums seen, tracks skipped).
    ``include_known`` also keeps the analysed ones (``AlbumJob.known``), for a sync to push. "Already done"
    is asked of the store a page of albums at a time, so the driver never loads every analysed id."""
    provider = make_provider(settings)
    permanent = {e.item_id for e in track_store.list_errors(store)
                 if e.error_class in PERMANENT_ERRORS and e.model_version == version}
    pending, skipped = [], 0
    albums = provider.list_albums(limit)
    for lo in range(0, len(albums), PLAN_PAGE_ALBUMS):
        listed = []
        for album in albums[lo:lo + PLAN_PAGE_ALBUMS]:
            if cancelled():
                raise TaskCancelled("cancelled while listing albums")
            listed.append((album, provider.list_tracks(album)))
        analysed = track_store.analysed_among(store, (t.item_id for _a, tracks in listed for t in tracks), version)
        for album, tracks in listed:
            todo = [t for t in tracks if t.item_id not in analysed and t.item_id not in permanent]
            known = [t for t in tracks if t.item_id in analysed] if include_known else []
            skipped += len(tracks) - len(todo)
            if todo or known:
                pending.append((album, todo, known))
    pending.sort(key=lambda at: -expected_seconds(at[1]))
    jobs = [AlbumJob(album=album, tracks=todo, task_id=f"{task_id}-{i:05d}", known=known)
            for i, (album, todo, known) in enumerate(pending)]
    return jobs, len(albums), skipped


def expected_seconds(tracks: list) -> float:
    """An album's audio length (tracks without one count as four minutes), for longest-first scheduling:
    the pool then ends with short albums instead of one long album running alone at the end."""
    return sum(min(t.duration, MAX_ANALYSED_SECONDS) if t.duration else 240.0 for t in tracks)


class _Pool:
    """The actors and what each is doing; knows how to replace a dead one."""

    def __init__(self, config: WorkerConfig, workers: int, threads: int, gpus: int):
        self.config, self.threads = config, threads
        self.idle: list = []
        self.starting: dict = {}  # ready() ref -> actor
        self.names: dict = {}  # actor -> "node/actor" id prefixes, for task records
        for i in range(workers):
            self.start(use_gpu=i < gpus)

    def start(self, use_gpu: bool = False) -> None:
        cls = ray.remote(AnalysisWorker).options(num_cpus=self.threads, num_gpus=1 if use_gpu else 0,
                                                 max_restarts=0, max_task_retries=0)
        actor = cls.remote(self.config, self.threads, use_gpu)
        self.starting[actor.ready.remote()] = actor

    def kill_all(self, busy: list) -> None:
        for actor in [*self.idle, *self.starting.values(), *busy]:
            ray.kill(actor, no_restart=True)
        self.idle, self.starting = [], {}


def run_analysis(settings: Settings, *, num_recent_albums: int | None = None, workers: int | None = None,
                 task_id: str | None = None, on_progress: Callable[[Progress], None] | None = None,
                 store: Store | None = None, runner: str | None = None,
                 exchange: Callable[[Store, str], Matcher] | None = None, task_type: str = TASK_TYPE,
                 details: dict | None = None) -> AnalysisSummary:
    """Analyse the provider's library (the ``num_recent_albums`` newest albums; 0 = all) on Ray.

    Refused with ``JobAlreadyRunning`` while another job of ``task_type`` is active; ``runner`` names
    where this driver runs (default: this process) for the task row. ``exchange(store, model_version)``
    makes the ``Matcher`` (default: local copies only); a sync passes one with its hub."""
    started = time.monotonic()
    own_store = store is None
    store = store or open_store(settings.database_url)
    task_id = task_id or new_task_id()
    limit = settings.num_recent_albums if num_recent_albums is None else num_recent_albums
    version = expected_version(settings.models_dir)
    task_store.reap_stale(store, settings.task_stale_s)
    task_store.create_task(store, task_id, task_type,
                           details={"model_version": version, "recent_albums": limit, **(details or {})},
                           runner=runner or this_process_runner())
    beat = Heartbeat(store, task_id, heartbeat_interval(settings.task_stale_s)).start()
    progress = Progress(store, task_id, total=0, listener=on_progress)
    busy: dict = {}
    pool: _Pool | None = None
    try:
        matcher = exchange(store, version) if exchange else Matcher(store, version)
        jobs, n_albums, skipped = plan_jobs(settings, store, version, limit, task_id, progress.cancel_requested,
                                            include_known=matcher.includes_known)
        progress.total = sum(len(j.tracks) + len(j.known) for j in jobs)
        progress.counts.update(analysed=0, failed=0, skipped=skipped)
        todo = sum(len(j.tracks) for j in jobs)
        to_process = sum(1 for j in jobs if j.tracks)  # AudioMuse-AI's album counts, which its plugins show
        progress.report(force=True, log=f"{n_albums} albums, {todo} tracks to analyse, {skipped} already done",
                        albums_to_process=to_process, albums_skipped=n_albums - to_process)
        retried = 0
        jobs = _share_stored(jobs, store, progress, matcher)
        if jobs:
            connect_ray(settings)
            n_workers = workers or settings.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            n_workers = min(n_workers, len(jobs))
            pool = _Pool(WorkerConfig.of(settings), n_workers, threads=1, gpus=int(ray.cluster_resources().get("GPU", 0)))
            retried = _drive(pool, deque(jobs), busy, store, progress, matcher)
        if progress.cancel_requested():  # the albums are stored; the next run rebuilds the index (it is behind)
            raise TaskCancelled("cancel requested")
        head = indexes.header(store, INDEX_NAME)
        index_version = head.version if head else None
        index_started = time.monotonic()
        stored = sum(progress.counts.get(k, 0) for k in ("analysed", "copied", "pulled", "imported"))
        if stored or head is None or head.items != track_store.count_embeddings(store):
            progress.report(force=True, log="rebuilding the similarity index and the music map")
            rebuilt = rebuild(store)
            index_version = None if rebuilt is None else rebuilt.version
            if rebuilt is not None:
                ensure_projection(store, rebuilt.library)
        summary = AnalysisSummary(task_id, task_store.SUCCESS, n_albums, progress.counts.get("analysed", 0), skipped,
                                  progress.counts.get("failed", 0), time.monotonic() - started, index_version, retried,
                                  progress.cpu_seconds, time.monotonic() - index_started, dict(progress.counts))
        reused = ", ".join(f"{progress.counts[k]} {k}" for k in ("copied", "pulled", "imported") if progress.counts.get(k))
        task_store.update_task(store, task_id, status=task_store.SUCCESS, progress=100,
                               details={"index_version": index_version, "seconds": round(summary.seconds, 1)},
                               log=f"done: {summary.analysed} analysed, {summary.failed} failed, {skipped} skipped"
                                   + (f", {reused}" if reused else ""))
        return summary
    except (TaskCancelled, KeyboardInterrupt):
        if pool:
            pool.kill_all([actor for actor, _job in busy.values()])
        for ref, (_actor, job) in busy.items():
            task_store.update_task(store, job.task_id, status=task_store.REVOKED, log="cancelled while in flight")
        task_store.update_task(store, task_id, status=task_store.REVOKED, log="cancelled")
        return AnalysisSummary(task_id, task_store.REVOKED, 0, progress.counts.get("analysed", 0),
                               progress.counts.get("skipped", 0), progress.counts.get("failed", 0),
                               time.monotonic() - started, counts=dict(progress.counts))
    except AudioMuseError as exc:
        task_store.update_task(store, task_id, status=task_store.FAILURE, details={"error": str(exc)}, log=f"failed: {exc}")
        raise
    except BaseException as exc:
        task_store.update_task(store, task_id, status=task_store.FAILURE,
                               details={"error": f"{type(exc).__name__}: {exc}"}, log="failed unexpectedly")
        raise
    finally:
        beat.stop()
        if pool:
            pool.kill_all([actor for actor, _job in busy.values()])
        if own_store:
            store.dispose()


def _share_stored(jobs: list[AlbumJob], store: Store, progress: Progress, matcher: Matcher) -> list[AlbumJob]:
    """Finish the albums a sync only has to push (analysed and fingerprinted already) without a worker;
    returns the albums that need one."""
    rest = []
    for job in jobs:
        if not job.tracks:
            job = matcher.prepare(job)
            if not job.fingerprint_only:
                _finish_album(job, AlbumResult(job.album.id), store, progress, matcher, child=False)
                if progress.cancel_requested():
                    raise TaskCancelled("cancel requested")
                continue
        rest.append(job)
    return rest


def _next_job(pending: deque, busy: dict) -> AlbumJob | None:
    """The first pending album that shares no tag key with an album in flight (a copy of a recording being
    analysed now waits for that analysis, then reuses it), or None while every one does."""
    in_flight = frozenset().union(*(job.tag_keys for _actor, job in busy.values()))
    for i, job in enumerate(pending):
        if not job.tag_keys & in_flight:
            del pending[i]
            return job
    return None


def _drive(pool: _Pool, pending: deque, busy: dict, store: Store, progress: Progress, matcher: Matcher) -> int:
    """Schedule albums on free actors as results come back; returns how many albums were retried."""
    retried = 0
    last_progress = time.monotonic()
    while pending or busy:
        while pool.idle and pending:
            job = _next_job(pending, busy)
            if job is None:
                break
            job = matcher.prepare(job)
            if not job.tracks and not job.fingerprint_only:  # nothing to decode: share what is stored
                _finish_album(job, AlbumResult(job.album.id), store, progress, matcher, child=False)
                continue
            actor = pool.idle.pop()
            busy[actor.analyse.remote(job)] = (actor, job)
            task_store.create_task(store, job.task_id, "analysis_album", parent_id=progress.task_id,
                                   details={"album": job.album.name, "artist": job.album.artist, "tracks": len(job.tracks),
                                            "worker": pool.names.get(actor, "")})
        ready, _ = ray.wait([*busy, *pool.starting], num_returns=1, timeout=POLL_S)
        for ref in ready:
            if ref in pool.starting:
                actor = pool.starting.pop(ref)
                try:
                    pool.names[actor] = ray.get(ref)
                    pool.idle.append(actor)
                except (RayActorError, RayTaskError) as exc:
                    if getattr(exc, "actor_init_failed", False) or isinstance(exc, RayTaskError):
                        raise AudioMuseError(f"An analysis worker failed to start: {worker_error(exc)}") from None
                    log.warning("an analysis worker was lost while starting: %s", exc)
                continue
            actor, job = busy.pop(ref)
            try:
                result: AlbumResult = ray.get(ref)
            except RayActorError as exc:
                retried += 1
                pending.appendleft(job)
                task_store.update_task(store, job.task_id, status=task_store.PENDING, log=f"worker lost ({type(exc).__name__}); album queued again")
                progress.report(force=True, log=f"worker lost on '{job.album.name}'; retrying it on another worker")
                pool.start()
                continue
            pool.idle.append(actor)
            _finish_album(job, result, store, progress, matcher)
        if progress.cancel_requested():
            raise TaskCancelled("cancel requested")
        if pool.idle or busy:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > NO_WORKER_TIMEOUT_S:
            raise AudioMuseError(f"No analysis worker could be started for {NO_WORKER_TIMEOUT_S:g} s: "
                                 "the Ray cluster has no free CPU. Check `ray status`.")
    return retried


def _finish_album(job: AlbumJob, result: AlbumResult, store: Store, progress: Progress, matcher: Matcher,
                  child: bool = True) -> None:
    """Store one album's rows (analysed, and confirmed copies or pulls) in one transaction, then its new
    fingerprints, then share it (a sync), and count it."""
    reused = matcher.rows(job, result)
    rows = [*result.rows, *reused]
    track_store.save_album(store, rows, result.errors)
    fingerprint_store.save_fingerprints(store, result.fingerprints)
    origins = Counter(r.fingerprint.origin if r.fingerprint else ANALYSED for r in rows)
    counts = {"analysed": origins[ANALYSED], "copied": origins[COPIED], "pulled": origins[PULLED],
              "imported": origins[IMPORTED], "failed": len(result.errors), "unmatched": len(result.unmatched),
              **matcher.shared(job)}
    progress.add(len(job.tracks) + len(job.known), **{k: v for k, v in counts.items() if v or k in ("analysed", "failed")})
    progress.cpu_seconds += result.cpu_seconds
    shown = {k: v for k, v in counts.items() if v}
    if child:
        task_store.update_task(store, job.task_id, status=task_store.SUCCESS, progress=100,
                               details={**shown, "seconds": round(result.seconds, 2),
                                        "cpu_seconds": round(result.cpu_seconds, 2), "worker": result.worker,
                                        "rss_mb": round(getattr(result, "rss_bytes", 0) / 2**20, 1)})
    errs = "; ".join(f"{e.path.rsplit('/', 1)[-1]}: {e.error_class}" for e in result.errors)
    what = ", ".join(f"{v} {k}" for k, v in shown.items() if k != "failed" and not k.startswith("push_")) or "nothing new"
    progress.report(log=f"{job.album.artist} — {job.album.name}: {what}"
                        + (f", {len(result.errors)} failed ({errs})" if errs else ""))


def worker_error(exc: BaseException) -> str:
    """The worker's own exception line out of Ray's wrapping ("...creation task, ray::AnalysisWorker...
    ModelNotBuilt: ..."), so the user reads what is missing rather than Ray's envelope."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for line in reversed(lines):
        if ":" in line and not line.startswith(("File ", "ray::", "Traceback")):
            return line
    return lines[-1] if lines else type(exc).__name__


@dataclass(frozen=True)
class AnalysisRequest:
    """What a caller of the API or a schedule may choose about an analysis; the rest is the settings'."""

    num_recent_albums: int = 0
    workers: int = 0  # 0 = one per CPU of the cluster


def _run_requested(settings: Settings, request: AnalysisRequest, *, task_id: str, runner: str) -> AnalysisSummary:
    return run_analysis(settings, num_recent_albums=request.num_recent_albums, workers=request.workers or None,
                        task_id=task_id, runner=runner)


ANALYSIS_JOB = JobKind(TASK_TYPE, _run_requested)  # started by the API and the scheduler (runtime.jobs)
