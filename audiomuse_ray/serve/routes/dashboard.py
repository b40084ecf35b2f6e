"""The library dashboard (AudioMuse-AI's ``/api/dashboard/summary``), answered from the replica's snapshot
(``audiomuse_ray.api.dashboard_api.DashboardCache``): milliseconds per request whatever the library's size."""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends

from audiomuse_ray.api.jobs_api import public_task_type
from audiomuse_ray.api.dashboard_api import DashboardCache, combine, library_snapshot, live_part
from audiomuse_ray.serve.radio_schemas import DashboardSummary
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["dashboard"])
Svc = Annotated[Services, Depends(services)]
_caches: dict[int, tuple[weakref.ref, DashboardCache]] = {}
_lock = threading.Lock()


def dashboard_cache(svc: Services) -> DashboardCache:
    """The snapshot cache of this replica's services (one per ``Services``, made on first use)."""
    with _lock:
        held = _caches.get(id(svc))
        if held is None or held[0]() is not svc:
            store = svc.store
            held = _caches[id(svc)] = (weakref.ref(svc), DashboardCache(lambda: library_snapshot(store)))
        return held[1]


def _workers() -> list[dict]:
    """The Ray cluster's nodes (none outside Ray, e.g. an API mounted in a test)."""
    import ray

    if not ray.is_initialized():
        return []
    return [{"name": n.get("NodeManagerAddress", ""), "node_id": n.get("NodeID", ""),
             "state": "ALIVE" if n.get("Alive") else "DEAD", "cpus": n.get("Resources", {}).get("CPU", 0),
             "gpus": n.get("Resources", {}).get("GPU", 0)} for n in ray.nodes()]


@router.get("/api/dashboard/summary", response_model=None, responses={200: {"model": DashboardSummary}},
            summary="Library numbers, moods, tempo and key histograms, the index, last jobs and schedules")
def dashboard_summary(svc: Svc) -> dict:
    now = datetime.now(timezone.utc)
    snapshot = dashboard_cache(svc).get(svc.holder.version)
    live = live_part(svc.store, now=now)
    live["recent_tasks"] = [{**t, "task_type": public_task_type(t["task_type"])} for t in live["recent_tasks"]]
    return combine(snapshot, live, now, _workers())
