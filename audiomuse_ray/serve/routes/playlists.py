"""Playlists on the media server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.api import playlists_api
from audiomuse_ray.serve.schemas import ErrorReply, PlaylistBody, PlaylistCreated, Song
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["playlists"])
Svc = Annotated[Services, Depends(services)]
ERRORS = {400: {"model": ErrorReply}, 502: {"model": ErrorReply}, 503: {"model": ErrorReply}}


@router.post("/api/create_playlist", status_code=201, response_model=None,
             responses={201: {"model": PlaylistCreated}, **ERRORS},
             summary="Create a playlist on the media server")
async def create_playlist(svc: Svc, body: PlaylistBody) -> dict:
    return await run_in_threadpool(lambda: playlists_api.create_playlist(svc.store, svc.provider(),
                                                                         body.playlist_name, body.track_ids))


@router.get("/api/playlists", response_model=None, responses={200: {"model": dict[str, list[Song]]}},
            summary="The playlists this service made")
def playlists(svc: Svc) -> dict:
    return playlists_api.list_playlists(svc.store)
