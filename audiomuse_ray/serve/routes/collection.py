"""Collection sync: a hub's routes (``/api/collection/hub/…``, a hub token each) and a client's (start a
sync with a hub, its last task, the owner's consent to share), AudioMuse-AI's paths and shapes where it
has them.

Every hub route needs a hub token (``AUDIOMUSE_HUB_TOKENS``), checked by the access guard before the body
is read and by ``hub_caller`` here, which names the client a push is recorded under; the API token opens
none of them, and a hub token opens nothing else (``api/access.py``). A server without hub tokens answers
404 with a sentence saying it is not a hub. Pushes and lookups run off the event loop, so a replica
serves many clients at once; pushes of one recording by two clients at once store it once (per-key
locks in ``store/hub.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.api import collection_api
from audiomuse_ray.collection import hub
from audiomuse_ray.serve.collection_schemas import (ConsentBody, ConsentReply, HubInfoReply, HubLookupBody,
                                                    HubLookupReply, HubPushBody, HubPushReply, SyncLastTask,
                                                    SyncStartBody)
from audiomuse_ray.serve.schemas import ErrorReply, TaskStarted
from audiomuse_ray.serve.services import Services, services

Svc = Annotated[Services, Depends(services)]
_bearer = HTTPBearer(auto_error=False, scheme_name="HubToken",
                     description="A hub token from the hub's AUDIOMUSE_HUB_TOKENS (not the API token).")


def hub_caller(svc: Svc, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The name of the client whose hub token came with the request; 401 (wrong or none) or 404 (no hub)."""
    return hub.authorise(svc.settings, f"Bearer {credentials.credentials}" if credentials else None)


Caller = Annotated[str, Depends(hub_caller)]
HUB_ERRORS = {401: {"model": ErrorReply}, 404: {"model": ErrorReply}, 503: {"model": ErrorReply}}
BODY_ERRORS = {400: {"model": ErrorReply}, 409: {"model": ErrorReply}, **HUB_ERRORS}

hub_router = APIRouter(tags=["collection hub"], dependencies=[Depends(hub_caller)])
router = APIRouter(tags=["collection sync"])


def _json(model) -> dict:
    return model.model_dump(exclude_unset=True) if model is not None else {}


@hub_router.get("/api/collection/hub/info", response_model=None, responses={200: {"model": HubInfoReply}, **HUB_ERRORS},
                summary="This hub's model version, size and batch limit")
def hub_info(svc: Svc, _caller: Caller) -> dict:
    return hub.hub_info(svc.store, hub.hub_model_version(svc.settings)).to_json()


@hub_router.post("/api/collection/hub/lookup", response_model=None,
                 responses={200: {"model": HubLookupReply}, **BODY_ERRORS},
                 summary="Candidate analyses for tag queries (the client confirms them by fingerprint)")
async def hub_lookup(svc: Svc, _caller: Caller, body: Annotated[HubLookupBody | None, Body()] = None) -> dict:
    def work() -> dict:
        request = hub.LookupRequest.from_json(_json(body))
        return hub.lookup(svc.store, request, model_version=hub.hub_model_version(svc.settings)).to_json()

    return await run_in_threadpool(work)


@hub_router.post("/api/collection/hub/push", response_model=None,
                 responses={200: {"model": HubPushReply}, **BODY_ERRORS},
                 summary="Share analyses: each stored once per recording, confirmed by fingerprint")
async def hub_push(svc: Svc, caller: Caller, body: Annotated[HubPushBody | None, Body()] = None) -> dict:
    def work() -> dict:
        request = hub.PushRequest.from_json(_json(body))
        return hub.push(svc.store, request, model_version=hub.hub_model_version(svc.settings),
                        contributor=caller).to_json()

    return await run_in_threadpool(work)


router.include_router(hub_router)


@router.post("/api/collection/start", status_code=202, response_model=None,
             responses={202: {"model": TaskStarted}, 400: {"model": ErrorReply}, 409: {"model": ErrorReply}},
             summary="Sync the analyses of the N most recent albums with a hub: push ours, pull confirmed ones")
async def start_sync(svc: Svc, body: Annotated[SyncStartBody | None, Body()] = None) -> dict:
    return await run_in_threadpool(collection_api.start, svc.settings, svc.store, _json(body))


@router.get("/api/collection/last_task", response_model=None, responses={200: {"model": SyncLastTask}},
            summary="The newest collection sync task ({status: NO_PREVIOUS_TASK} when none)")
def last_task(svc: Svc) -> dict:
    return collection_api.last_task(svc.store, svc.settings.task_stale_s)


@router.get("/api/collection/consent", response_model=None, responses={200: {"model": ConsentReply}},
            summary="What a sync shares, and whether the owner consented to it")
def consent(svc: Svc) -> dict:
    return collection_api.consent_state(svc.store)


@router.put("/api/collection/consent", response_model=None,
            responses={200: {"model": ConsentReply}, 400: {"model": ErrorReply}},
            summary="Consent to sharing as stated ({consent: true}), or withdraw it (false)")
def set_consent(svc: Svc, body: Annotated[ConsentBody | None, Body()] = None) -> dict:
    return collection_api.set_consent(svc.store, _json(body))
