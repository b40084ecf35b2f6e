"""Similar artists and an artist's tracks (an artist named by the media server's id or by name)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from audiomuse_ray.api import artists_api
from audiomuse_ray.serve.params import LooseBool, LooseInt, Text, count
from audiomuse_ray.serve.schemas import ErrorReply, SimilarArtist, Song
from audiomuse_ray.serve.services import Services, services

router = APIRouter(tags=["artists"])
Svc = Annotated[Services, Depends(services)]
ArtistId = Annotated[Text, Query(description="The media server's artist id (or a name).")]
ArtistName = Annotated[Text, Query(description="The artist's name (or the media server's id).")]
ERRORS = {400: {"model": ErrorReply}, 404: {"model": ErrorReply}, 503: {"model": ErrorReply}}


@router.get("/api/similar_artists", response_model=None, responses={200: {"model": list[SimilarArtist]}, **ERRORS},
            summary="Artists whose songs sound like this artist's")
def similar_artists(svc: Svc, artist_id: ArtistId = None, artist: ArtistName = None,
                    n: Annotated[LooseInt, count("How many artists", 1, artists_api.MAX_ARTISTS)] = 10,
                    ef_search: Annotated[LooseInt, Query(description="Search effort of the artist index "
                                                                     "(higher: slower, more exact).")] = None,
                    include_component_matches: Annotated[LooseBool, Query(
                        description="Also say which parts of the two artists' sound matched, with songs.")] = False,
                    ) -> list:
    return artists_api.similar_artists(svc.holder.current(), artist_id, artist, n, ef_search,
                                       include_component_matches)


@router.get("/api/artist_tracks", response_model=None,
            responses={200: {"model": list[Song]}, **ERRORS}, summary="An artist's analysed songs")
def artist_tracks(svc: Svc, artist_id: ArtistId = None, artist: ArtistName = None) -> list:
    return artists_api.artist_tracks(svc.holder.current(), artist_id, artist)
