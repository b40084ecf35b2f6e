"""The schedule table (AudioMuse-AI's ``/api/cron``): cron rows that start the analysis, clustering, radios or
sonic fingerprint playlists; the scheduler actor fires them (``schedule/scheduler.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query

from audiomuse_ray.errors import BadRequest
from audiomuse_ray.schedule import cron, cron_api
from audiomuse_ray.serve.params import LooseInt, count
from audiomuse_ray.serve.radio_schemas import CronBody, CronRow, CronRun, CronSaved, Deleted
from audiomuse_ray.serve.schemas import ErrorReply
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["schedules"])
Svc = Annotated[Services, Depends(services)]
ScheduleId = Annotated[int, Path(description="A schedule id as GET /api/cron lists it.")]
ERRORS = {400: {"model": ErrorReply}, 404: {"model": ErrorReply}}
RUNS_MAX = 200


@router.get("/api/cron", response_model=None, responses={200: {"model": list[CronRow]}},
            summary="The schedule table, with each row's last and next run")
def list_cron(svc: Svc) -> list:
    return cron_api.list_cron(svc.store, cron.zone(svc.settings.timezone))


@router.post("/api/cron", response_model=None, responses={200: {"model": CronSaved}, **ERRORS},
             summary="Add or replace a schedule row (AudioMuse-AI's page re-posts rows without ids)")
def save_cron(svc: Svc, body: Annotated[CronBody | None, Body()] = None) -> dict:
    if body is None:
        raise BadRequest("The request body must be a JSON object")
    return cron_api.save_cron(svc.store, body.model_dump(exclude_unset=True, mode="json"))


@router.delete("/api/cron/{schedule_id}", response_model=None, responses={200: {"model": Deleted}, **ERRORS},
               summary="Remove a schedule row and its run history")
def delete_cron(svc: Svc, schedule_id: ScheduleId) -> dict:
    return cron_api.delete_cron(svc.store, schedule_id)


@router.get("/api/cron/runs", response_model=None, responses={200: {"model": list[CronRun]}, **ERRORS},
            summary="The newest ticks the scheduler claimed and what became of each")
def cron_runs(svc: Svc,
              schedule_id: Annotated[LooseInt, Query(description="Only this row's runs (default: every row).")] = None,
              limit: Annotated[LooseInt, count("How many", 1, RUNS_MAX)] = None) -> list:
    return cron_api.cron_runs(svc.store, schedule_id, max(1, min(RUNS_MAX, limit or 20)))
