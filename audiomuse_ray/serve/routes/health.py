"""Health, configuration and index reloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from audiomuse_ray.api import access
from audiomuse_ray.providers.registry import describe_provider
from audiomuse_ray.serve.schemas import Health, Open
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["health and configuration"])
Svc = Annotated[Services, Depends(services)]


# Light, bounded routes are coroutines: they run on the replica's event loop and skip the thread pool hop
# (about 0.3 ms); anything that may touch the database or a media server stays a plain function.
@router.get("/", response_model=None,
            responses={200: {"model": Health}}, summary="Liveness (the plugins' health check)")
async def root(svc: Svc) -> dict:
    return {"status": "ok", "service": "audiomuse-ray", "index_version": svc.holder.version}


@router.get("/api/health", response_model=None,
            responses={200: {"model": Health}}, summary="Liveness and the write policy (no token needed)")
async def api_health(svc: Svc) -> dict:
    """For scripts, probes and the UI (``GET /`` is the UI's page when both are served): also whether this
    server takes writes ("open"), wants a token ("token") or refuses them ("refused": public bind)."""
    return {"status": "ok", "service": "audiomuse-ray", "index_version": svc.holder.version,
            "writes": access.write_policy()}


@router.get("/api/config", response_model=None,
            responses={200: {"model": Open}}, summary="The server's settings, secrets left out")
def config(svc: Svc) -> dict:
    return {k: v for k, v in svc.settings.public_dict().items() if k not in ("database_url", "data_dir")}


class Reloaded(Open):
    index_version: int | None
    reloaded: bool


@router.post("/api/reload_index", response_model=None,
             responses={200: {"model": Reloaded}}, summary="Load the newest index version now")
def reload_index(svc: Svc) -> dict:
    changed = svc.holder.refresh()
    return {"index_version": svc.holder.version, "reloaded": changed}


class ProviderCapabilities(Open):
    history: bool
    artist_ids: bool
    streaming: bool
    playlists: bool


class ProviderInfo(Open):
    name: str
    title: str
    capabilities: ProviderCapabilities
    history_user: dict | None = None


@router.get("/api/provider", response_model=None, responses={200: {"model": ProviderInfo}},
            summary="The media provider and what it supports (history, artist ids, previews, playlists)")
def provider(svc: Svc) -> dict:
    return describe_provider(svc.settings)
