"""Instant playlists: words -> a guarded read-only query (AudioMuse-AI's /chat/api paths and /api aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.api import chat_api
from audiomuse_ray.serve.schemas import ChatBody, ChatPlaylistBody, ChatReply, ErrorReply, Open, PlaylistCreated
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["instant playlist"])
Svc = Annotated[Services, Depends(services)]


@router.get("/chat/api/config_defaults", response_model=None,
            responses={200: {"model": Open}}, summary="The models and URLs the server uses")
@router.get("/api/config_defaults", response_model=None,
            responses={200: {"model": Open}}, summary="The same, under /api")
def config_defaults(svc: Svc) -> dict:
    return chat_api.config_defaults(svc.settings)


CHAT_REPLIES = {200: {"model": ChatReply}, 400: {"model": ErrorReply}, 422: {"model": ChatReply},
                502: {"model": ChatReply}, 503: {"model": ChatReply}}


@router.post("/chat/api/chatPlaylist", responses=CHAT_REPLIES,
             summary="Songs for a request in words (a language model writes a guarded query)")
@router.post("/api/chatPlaylist", responses=CHAT_REPLIES, summary="The same, under /api")
async def chat_playlist(svc: Svc, body: ChatBody) -> JSONResponse:
    request = chat_api.chat_request(body.userInput, body.ai_provider, body.ai_model, body.ollama_server_url,
                                    body.openai_server_url)
    # a model call and a query: in a worker thread, never on the event loop
    result = await run_in_threadpool(chat_api.chat_playlist, svc.settings, svc.store, request)
    return JSONResponse(chat_api.result_json(result), status_code=result.http_status)


@router.post("/chat/api/create_playlist", response_model=None,
             responses={200: {"model": PlaylistCreated}, 400: {"model": ErrorReply}},
             summary="Save an instant playlist on the media server (name + '_instant')")
async def create_playlist(svc: Svc, body: ChatPlaylistBody) -> dict:
    return await run_in_threadpool(lambda: chat_api.create_playlist(svc.store, svc.provider(), body.playlist_name,
                                                                    body.item_ids))
