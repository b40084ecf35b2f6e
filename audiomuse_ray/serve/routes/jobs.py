"""Long jobs: start an analysis or a clustering, follow them, cancel them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.api import jobs_api
from audiomuse_ray.clustering.algorithms import algorithms_catalog
from audiomuse_ray.serve.params import LooseInt, count
from audiomuse_ray.serve.schemas import AnalysisBody, CancelReply, ErrorReply, Open, TaskStarted, TaskStatus
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["jobs"])
Svc = Annotated[Services, Depends(services)]
TaskId = Annotated[str, Path(description="A task id as a start route answered it.")]
ERRORS = {400: {"model": ErrorReply}, 404: {"model": ErrorReply}, 409: {"model": ErrorReply}}


@router.get("/api/status/{task_id}", response_model=None,
            responses={200: {"model": TaskStatus}, **ERRORS}, summary="A task's state")
def task_status(svc: Svc, task_id: TaskId) -> dict:
    return jobs_api.status(svc.store, task_id, svc.settings.task_stale_s)


@router.post("/api/cancel/{task_id}", response_model=None,
             responses={200: {"model": CancelReply}, **ERRORS}, summary="Cancel a task")
def cancel(svc: Svc, task_id: TaskId) -> dict:
    return jobs_api.cancel(svc.store, task_id, svc.settings.task_stale_s)


@router.post("/api/cancel_all/{task_type_prefix}", response_model=None,
             responses={200: {"model": CancelReply}, **ERRORS},
             summary="Cancel every active task of a type (e.g. main_clustering)")
def cancel_all(svc: Svc, task_type_prefix: Annotated[str, Path(description="A task type or its start.")]) -> dict:
    return jobs_api.cancel_all(svc.store, task_type_prefix, svc.settings.task_stale_s)


@router.get("/api/last_task", response_model=None,
            responses={200: {"model": TaskStatus}}, summary="The newest top-level task")
def last_task(svc: Svc) -> dict:
    return jobs_api.last_task(svc.store, svc.settings.task_stale_s)


@router.get("/api/active_tasks", response_model=None,
            responses={200: {"model": TaskStatus | dict}}, summary="The running task ({} when none)")
def active_tasks(svc: Svc) -> dict:
    return jobs_api.active_task(svc.store, svc.settings.task_stale_s)


@router.get("/api/tasks", response_model=None,
            responses={200: {"model": list[TaskStatus]}}, summary="Recent top-level tasks, newest first")
def recent_tasks(svc: Svc, limit: Annotated[LooseInt, count("How many", 1,
                                                           jobs_api.RECENT_MAX)] = None) -> list:
    return jobs_api.recent_tasks(svc.store, limit, svc.settings.task_stale_s)


@router.post("/api/analysis/start", status_code=202, response_model=None,
             responses={202: {"model": TaskStarted}, **ERRORS},
             summary="Analyse the library (new albums only) on the cluster")
async def start_analysis(svc: Svc, body: Annotated[AnalysisBody | None, Body()] = None) -> dict:
    body = body or AnalysisBody()
    return await run_in_threadpool(jobs_api.start_analysis, svc.settings, svc.store, body.num_recent_albums,
                                   body.workers)


@router.post("/api/clustering/start", status_code=202, response_model=None,
             responses={202: {"model": TaskStarted}, **ERRORS},
             summary="Search for clusterings and publish the best as playlists")
async def start_clustering(svc: Svc, body: Annotated[dict[str, Any] | None, Body(
        description="AudioMuse-AI's clustering parameters (see GET /api/clustering/algorithms).")] = None) -> dict:
    return await run_in_threadpool(jobs_api.start_clustering, svc.settings, svc.store, body or {})




@router.get("/api/clustering/algorithms", response_model=None, responses={200: {"model": list[Open]}},
            summary="The clustering algorithms this server offers, with their parameters and ranges")
def clustering_algorithms() -> list:
    return algorithms_catalog()
