"""The clustering job: search on Ray, turn the winner into named playlists, replace the old ``_automatic``
playlists on the media server and in the store. Progress (runs, best score, ETA) and cancel go through
the task record like every long job.

- The cluster ranges are fitted to the number of analysed tracks first (``options.fit_to_library``); the
  task log says which range was used and why.
- Ctrl-C (``KeyboardInterrupt``) is a cancel: the task is REVOKED, the explorers are killed (``search``
  kills its actors on the way out) and the interrupt goes on to the caller (the CLI exits 130).
- ``publish`` creates the new playlists before deleting the old ones, so a failure half-way leaves the
  old playlists (and the store's record of them) in place."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import ray

from audiomuse_ray.analysis.models import load_manifest
from audiomuse_ray.clustering.data import load_data
from audiomuse_ray.clustering.naming import ai_name
from audiomuse_ray.clustering.options import ClusteringOptions, fit_to_library
from audiomuse_ray.clustering.playlists import AUTOMATIC, Playlist, build_playlists
from audiomuse_ray.clustering.population import SearchStatus, search
from audiomuse_ray.llm.client import LLMConfig
from audiomuse_ray.providers import MediaProvider, make_provider
from audiomuse_ray.runtime.jobs import JobKind
from audiomuse_ray.runtime.ray_cluster import connect_ray
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store, open_store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.runtime.progress import Heartbeat, heartbeat_interval, new_task_id, this_process_runner

log = logging.getLogger(__name__)
TASK_TYPE = "clustering"


@dataclass(frozen=True)
class ClusteringSummary:
    task_id: str
    status: str
    runs_done: int
    best_score: float | None
    playlists: list[Playlist]
    seconds: float
    explorers_replaced: int = 0


def llm_config(settings: Settings) -> LLMConfig:
    return LLMConfig(provider=settings.ai_provider.upper(), url=settings.ai_url, model=settings.ai_model,
                     api_key=settings.ai_api_key)


def run_clustering(settings: Settings, options: ClusteringOptions = ClusteringOptions(), *, task_id: str | None = None,
                   store: Store | None = None, on_progress: Callable[[SearchStatus], None] | None = None,
                   runner: str | None = None) -> ClusteringSummary:
    """Refused with ``JobAlreadyRunning`` while another clustering is active; keeps a heartbeat."""
    started = time.monotonic()
    own = store is None
    store = store or open_store(settings.database_url)
    task_id = task_id or new_task_id()
    task_store.reap_stale(store, settings.task_stale_s)
    task_store.create_task(store, task_id, TASK_TYPE, details={"algorithm": options.search.algorithm,
                                                               "runs": options.search.runs, "embeddings": options.embeddings},
                           runner=runner or this_process_runner())
    beat = Heartbeat(store, task_id, heartbeat_interval(settings.task_stale_s)).start()
    last_write = [0.0]

    def progress(status: SearchStatus) -> None:
        if on_progress:
            on_progress(status)
        now = time.monotonic()
        if now - last_write[0] >= 1.0 or status.runs_done == status.runs_total:
            last_write[0] = now
            rate = status.runs_done / max(1e-9, now - started)
            eta = (status.runs_total - status.runs_done) / rate if rate > 0 else None
            task_store.update_task(store, task_id, status=task_store.PROGRESS,
                                   progress=int(90 * status.runs_done / max(1, status.runs_total)),
                                   details={"runs_done": status.runs_done, "runs_total": status.runs_total,
                                            "best_score": status.best_score, "eta_s": None if eta is None else round(eta, 1),
                                            "score_history": [list(p) for p in status.history]})

    try:
        labels = load_manifest(settings.models_dir).labels["msd-musicnn"]
        data = load_data(store, labels, options.embeddings)
        options, range_note = fit_to_library(options, data.size)
        task_store.update_task(store, task_id, log=range_note)
        connect_ray(settings)
        explorers = options.explorers or settings.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        best, status, replaced = search(data, options.search, explorers=explorers, seed=options.seed,
                                        on_progress=progress, run_id=task_id,
                                        cancelled=lambda: task_store.is_cancel_requested(store, task_id))
        if status.cancelled:
            task_store.update_task(store, task_id, status=task_store.REVOKED, log=f"cancelled after {status.runs_done} runs")
            return ClusteringSummary(task_id, task_store.REVOKED, status.runs_done, status.best_score, [],
                                     time.monotonic() - started, replaced)
        if best is None:
            raise ValueError("the search produced no result")
        cfg = llm_config(settings)
        playlists = build_playlists(data, best, options.playlists,
                                    namer=lambda c, rule, songs: ai_name(cfg, rule, songs))
        publish(settings, store, playlists)
        task_store.update_task(store, task_id, status=task_store.SUCCESS, progress=100,
                               details={"best_score": best.score, "best_params": best.params.as_dict(),
                                        "playlists": len(playlists)},
                               log=f"{len(playlists)} playlists from {status.runs_done} runs (best {best.score:.3f})")
        return ClusteringSummary(task_id, task_store.SUCCESS, status.runs_done, best.score, playlists,
                                 time.monotonic() - started, replaced)
    except KeyboardInterrupt:  # Ctrl-C: the user cancelled; search() has killed its explorers on the way out
        task_store.update_task(store, task_id, status=task_store.REVOKED, log="interrupted (Ctrl-C)")
        raise
    except BaseException as exc:
        task_store.update_task(store, task_id, status=task_store.FAILURE, details={"error": f"{type(exc).__name__}: {exc}"},
                               log="failed")
        raise
    finally:
        beat.stop()
        if own:
            store.dispose()


def publish(settings: Settings, store: Store, playlists: list[Playlist], *,
            provider: MediaProvider | None = None) -> None:
    """Replace the previous ``_automatic`` playlists on the server and in the store, new ones first.

    Every new playlist is created before any old one is deleted, so a failure half-way leaves the user the
    old playlists (some replaced by new ones of the same name) and the store still lists them. Then the old
    ones that were not replaced go: not among the new ids (a local ``.m3u8`` of the same name is the same
    file, hence the same id) and not among the new names (a server replaced those itself)."""
    provider = provider or make_provider(settings)
    old = provider.list_playlists(AUTOMATIC)
    created = [(p, provider.create_playlist(p.name, p.item_ids)) for p in playlists]
    new_ids, new_names = {pid for _, pid in created}, {p.name for p in playlists}
    for o in old:
        if o.id not in new_ids and o.name not in new_names:
            provider.delete_playlist(o.id)
    playlist_store.delete_playlists(store, AUTOMATIC)
    for p, playlist_id in created:
        playlist_store.save_playlist(store, p.name, p.item_ids, provider.name, playlist_id)


# started by the API and the scheduler (runtime.jobs); names playlists with the language model's key
CLUSTERING_JOB = JobKind(TASK_TYPE, run_clustering, secrets=("ai_api_key",))
