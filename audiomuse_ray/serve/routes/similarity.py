"""Similar songs, search, song paths, alchemy, the sonic fingerprint, the music map and previews."""

from __future__ import annotations

import gzip
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from audiomuse_ray.api import similarity_api as sim
from audiomuse_ray.api.preview import preview as make_preview
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.providers.base import UserCredentials
from audiomuse_ray.schedule import radios_api
from audiomuse_ray.serve.params import (LooseBool, LooseFloat, LooseInt, Text, count, count_field, query_parameters,
                                        read_query)
from audiomuse_ray.serve.schemas import (AlchemyBody, AlchemyReply, ErrorReply, FingerprintBody, FingerprintSong,
                                         MapReply, MaxDistance, PathReply, SimilarSong, Song, TrackDetail)
from audiomuse_ray.serve.services import Services, current_services, services

router = APIRouter(tags=["similarity"])
Svc = Annotated[Services, Depends(services)]
ItemId = Annotated[Text, Query(description="The media server's id of the track.")]
ERRORS = {400: {"model": ErrorReply}, 404: {"model": ErrorReply}, 503: {"model": ErrorReply}}


@router.get("/api/search_tracks", response_model=None,
            responses={200: {"model": list[Song]}, **ERRORS}, summary="Find songs by words")
def search_tracks(svc: Svc,
                  search_query: Annotated[Text, Query(description="Words from the title, artist or album.")] = None,
                  artist: Annotated[Text, Query(description="Artist (with title, when no search_query).")] = None,
                  title: Annotated[Text, Query(description="Title (with artist, when no search_query).")] = None,
                  start: Annotated[LooseInt, Query(description="First result to return (paging).")] = 0,
                  end: Annotated[LooseInt, Query(description="One past the last result to return.")] = None) -> list:
    query = search_query or f"{artist or ''} {title or ''}".strip()
    return sim.search(svc.holder.current(), query, start, end)


class SimilarQuery(BaseModel):
    """The query of ``/api/similar_tracks``. The route reads it itself (``read_query``) and documents it
    from this model (``query_parameters``): the hot route skips FastAPI's per-request parameter solving."""

    item_id: Text = Field(None, description="The media server's id of the track.")
    title: Text = Field(None, description="Seed by title (with artist), as the Jellyfin plugin sends.")
    artist: Text = Field(None, description="Seed by artist (with title).")
    n: LooseInt = count_field("How many songs", 1, 1000, 10)
    eliminate_duplicates: LooseBool = Field(True, description="At most one version of a song.")
    mood_similarity: LooseBool = Field(False, description="Also keep the seed's mood.")
    radius_similarity: LooseBool = Field(True, description="Walk outwards so songs differ among themselves too.")


@router.get("/api/similar_tracks", responses={200: {"model": list[SimilarSong]}, **ERRORS},
            summary="The songs that sound most like a seed",
            openapi_extra={"parameters": query_parameters(SimilarQuery)})
async def similar_tracks(request: Request) -> JSONResponse:
    # a ready JSONResponse skips FastAPI's response-model pass over plain dicts (the hot route)
    q = read_query(SimilarQuery, request)
    ref = sim.SongRef(q.item_id or "", q.title or "", q.artist or "")
    return JSONResponse(sim.similar(current_services().holder.current(), ref, q.n, q.eliminate_duplicates,
                                    q.mood_similarity, q.radius_similarity))


@router.get("/api/track", response_model=None,
            responses={200: {"model": TrackDetail}, **ERRORS}, summary="One analysed track")
async def track(svc: Svc, item_id: ItemId = None) -> dict:
    return sim.track(svc.holder.current(), item_id or "")


@router.get("/api/max_distance", response_model=None, responses={200: {"model": MaxDistance}, **ERRORS},
            summary="How far the farthest track is (to scale distances)")
def max_distance(svc: Svc, item_id: ItemId = None) -> dict:
    return sim.max_distance(svc.holder.current(), item_id or "")


@router.get("/api/find_path", response_model=None, responses={200: {"model": PathReply}, **ERRORS},
            summary="A path of songs that moves from one song's sound (or an anchor's) to another's")
def find_path(svc: Svc,
              start_song_id: Annotated[Text, Query(description="Where the path starts.")] = None,
              end_song_id: Annotated[Text, Query(description="Where the path ends.")] = None,
              max_steps: Annotated[LooseInt, count("Songs on the path", 2, 200)] = None,
              count_: Annotated[LooseInt, Query(alias="count", description="Songs on the path when max_steps is not "
                                                "given (the Navidrome plugin sends both).")] = None,
              path_fix_size: Annotated[LooseBool, Query(description="Exactly that many songs, however close the "
                                                        "ends are.")] = False,
              start_anchor: Annotated[LooseInt, Query(description="Start at a saved anchor instead of a song.")] = None,
              end_anchor: Annotated[LooseInt, Query(description="End at a saved anchor instead of a song.")] = None,
              mood_pct: Annotated[LooseInt, Query(description="0-100: how far from the other end toward an anchor "
                                                  "end its song is taken (100 = the anchor's own sound).")] = 100,
              ) -> dict:
    snap = svc.holder.current()
    start, end = start_song_id or "", end_song_id or ""
    if start_anchor is not None:  # AudioMuse-AI resolves the start first, from the end song
        start = radios_api.anchor_endpoint(svc.store, snap.library, start_anchor, end, mood_pct, artists=snap.artists)
    if end_anchor is not None:
        end = radios_api.anchor_endpoint(svc.store, snap.library, end_anchor, start, mood_pct, artists=snap.artists)
    steps = max_steps if max_steps is not None else count_
    return sim.path(snap, start, end, steps, fixed_size=bool(path_fix_size))


@router.post("/api/alchemy", response_model=None, responses={200: {"model": AlchemyReply}, **ERRORS},
             summary="Songs near a mix of songs and artists, minus others")
async def alchemy(svc: Svc, body: AlchemyBody) -> dict:
    if body.items is None:
        raise BadRequest("Invalid request")
    items = [sim.AlchemyItem(str(i.id), str(i.type).lower(), str(i.op).upper() == "SUBTRACT") for i in body.items]
    return sim.alchemy(svc.holder.current(), items, body.n, body.temperature, body.subtract_distance, body.seed)


def _fingerprint(svc: Services, body: FingerprintBody) -> list:
    creds = UserCredentials(user=body.jellyfin_user_identifier or body.navidrome_user or body.user or "",
                            token=body.jellyfin_token or "",
                            password=body.navidrome_password or body.password or "")
    return sim.sonic_fingerprint(svc.holder.current(), svc.provider(), creds, body.n)


@router.get("/api/sonic_fingerprint/generate", response_model=None,
            responses={200: {"model": list[FingerprintSong]}, **ERRORS},
            summary="Songs like a listener's recent favourites (needs a server with play history)")
async def sonic_fingerprint(svc: Svc, query: Annotated[FingerprintBody, Query()]) -> list:
    # up to ~50 media-server calls: in a worker thread, never on the event loop other requests share
    return await run_in_threadpool(_fingerprint, svc, query)


@router.post("/api/sonic_fingerprint/generate", response_model=None,
             responses={200: {"model": list[FingerprintSong]}, **ERRORS},
             summary="The same, with the listener in a JSON body")
async def sonic_fingerprint_post(svc: Svc, body: FingerprintBody) -> list:
    return await run_in_threadpool(_fingerprint, svc, body)


@router.get("/api/map", responses={200: {"model": MapReply}, **ERRORS},
            summary="The music map: songs in 2-D (gzip when the client accepts it)")
def music_map(request: Request, svc: Svc,
              percent: Annotated[Text, Query(description="25, 50, 75 or 100 (% of the library drawn).")] = None,
              p: Annotated[Text, Query(description="Same as percent.")] = None,
              n: Annotated[LooseInt, Query(description="Legacy: a count of songs, rounded up to a bucket.")] = None,
              max_points: Annotated[LooseInt, Query(description="At most this many songs of the bucket, evenly "
                                                                "spread (a drawing needs no more than 20,000).",
                                                    ge=1)] = None,
              ) -> Response:
    body = sim.map_bucket(svc.holder.current(), percent or p, n, max_points)
    headers = {"Cache-Control": "no-store"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(body), media_type="application/json", headers=headers)


@router.get("/api/preview/{item_id}", summary="A short excerpt of a track, for play buttons",
            responses={200: {"content": {"audio/ogg": {}, "audio/mpeg": {}}, "description": "Audio bytes."},
                       **ERRORS})
def preview(svc: Svc, item_id: Annotated[str, Path(description="The media server's id of the track.")],
            seconds: Annotated[LooseInt, count("Length in seconds", 1, 60)] = None,
            start: Annotated[LooseFloat, Query(description="Start in seconds (default: a third of the way in).")]
            = None) -> Response:
    clip = make_preview(svc.provider(), item_id, {"seconds": seconds, "start": start})
    return Response(clip.body, media_type=clip.media_type, headers={"Cache-Control": "private, max-age=3600"})
