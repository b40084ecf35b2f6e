"""Anchors (saved alchemy mixes) and radios (an anchor's playlist, made again on each run and replaced in
place on the media server), in AudioMuse-AI's shapes; plus a radio's next playlist without writing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.schedule import radios_api
from audiomuse_ray.serve.radio_schemas import (AnchorBody, AnchorList, AnchorSaved, Deleted, RadioBody, RadioList,
                                               RadioPreview, RadioSaved, RadiosRunBody, RadiosRunReply)
from audiomuse_ray.serve.schemas import ErrorReply
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["anchors and radios"])
Svc = Annotated[Services, Depends(services)]
AnchorId = Annotated[int, Path(description="An anchor id as GET /api/anchors lists it.")]
RadioId = Annotated[int, Path(description="A radio id as GET /api/radios lists it.")]
ERRORS = {400: {"model": ErrorReply}, 404: {"model": ErrorReply}, 409: {"model": ErrorReply}}
MEDIA_ERRORS = {**ERRORS, 502: {"model": ErrorReply}, 503: {"model": ErrorReply}}


def _body(model) -> dict:
    """What the client sent (unset fields left out, so an update changes only those)."""
    return model.model_dump(exclude_unset=True, mode="json") if model is not None else {}


@router.get("/api/anchors", response_model=None, responses={200: {"model": AnchorList}},
            summary="Saved anchors (alchemy mixes), newest first")
def list_anchors(svc: Svc) -> dict:
    return radios_api.list_anchors(svc.store)


@router.post("/api/anchors", response_model=None, responses={200: {"model": AnchorSaved}, **ERRORS},
             summary="Save a mix as an anchor: {name, items} as /api/alchemy takes them, or {name, centroid}")
def create_anchor(svc: Svc, body: Annotated[AnchorBody | None, Body()] = None) -> dict:
    return radios_api.create_anchor(svc.store, _body(body))


@router.put("/api/anchors/{anchor_id}", response_model=None, responses={200: {"model": AnchorSaved}, **ERRORS},
            summary="Rename an anchor, or replace its items, centroid or exclusions")
def update_anchor(svc: Svc, anchor_id: AnchorId, body: Annotated[AnchorBody | None, Body()] = None) -> dict:
    return radios_api.update_anchor(svc.store, anchor_id, _body(body))


@router.delete("/api/anchors/{anchor_id}", response_model=None, responses={200: {"model": Deleted}, **ERRORS},
               summary="Delete an anchor (and its radio)")
def delete_anchor(svc: Svc, anchor_id: AnchorId) -> dict:
    return radios_api.delete_anchor(svc.store, anchor_id)


@router.get("/api/radios", response_model=None, responses={200: {"model": RadioList}},
            summary="Saved radios with their last run")
def list_radios(svc: Svc) -> dict:
    return radios_api.list_radios(svc.store)


@router.post("/api/radios", response_model=None, responses={200: {"model": RadioSaved}, **ERRORS},
             summary="Make an anchor a radio: {anchor_id, n_results, temperature, enabled}")
def create_radio(svc: Svc, body: Annotated[RadioBody | None, Body()] = None) -> dict:
    return radios_api.create_radio(svc.store, _body(body))


@router.put("/api/radios/{radio_id}", response_model=None, responses={200: {"model": RadioSaved}, **ERRORS},
            summary="Change a radio's size, temperature, repeat share, skip window or enabled state")
def update_radio(svc: Svc, radio_id: RadioId, body: Annotated[RadioBody | None, Body()] = None) -> dict:
    return radios_api.update_radio(svc.store, radio_id, _body(body))


@router.delete("/api/radios/{radio_id}", response_model=None, responses={200: {"model": Deleted}, **ERRORS},
               summary="Delete a radio (its anchor stays)")
def delete_radio(svc: Svc, radio_id: RadioId) -> dict:
    return radios_api.delete_radio(svc.store, radio_id)


def _run(svc: Services, radio_ids: list[int] | None) -> dict:
    snap = svc.holder.current()
    provider = svc.provider()
    history, _why = radios_api.listening_history(provider)
    return radios_api.run_radios(svc.store, snap.library, radios_api.provider_writer(svc.store, provider),
                                 artists=snap.artists, history=history, radio_ids=radio_ids)


@router.post("/api/radios/run", response_model=None, responses={200: {"model": RadiosRunReply}, **MEDIA_ERRORS},
             summary="Make every enabled radio's playlist again, replacing the previous one in place")
async def run_radios(svc: Svc, body: Annotated[RadiosRunBody | None, Body()] = None) -> dict:
    # media-server calls for every radio: in a worker thread, never on the event loop other requests share
    return await run_in_threadpool(_run, svc, body.radio_ids if body else None)


def _preview(svc: Services, radio_id: int) -> dict:
    snap = svc.holder.current()
    history, _why = radios_api.listening_history(svc.provider())
    return radios_api.preview_radio(svc.store, snap.library, radio_id, artists=snap.artists, history=history)


@router.get("/api/radios/{radio_id}/preview", response_model=None,
            responses={200: {"model": RadioPreview}, **MEDIA_ERRORS},
            summary="The radio's next playlist, without writing it")
async def preview_radio(svc: Svc, radio_id: RadioId) -> dict:
    return await run_in_threadpool(_preview, svc, radio_id)
