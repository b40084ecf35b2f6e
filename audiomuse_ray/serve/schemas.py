"""The JSON shapes the API answers and takes, as Pydantic models, for ``/api/openapi.json``.

They describe what AudioMuse-AI's plugins parse; every model allows extra fields, because replies carry
more than a plugin reads (an album, a distance) and clients send more than a route uses. Hot routes return
their JSON directly and name the model only in the document, so describing a reply costs nothing per call.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audiomuse_ray.serve.params import LooseFloat, LooseInt


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorReply(Open):
    """Every error: a sentence for a person; some routes add their own fields beside it."""

    error: str = Field(description="What went wrong and what to do about it.")


class Song(Open):
    item_id: str = Field(description="The media server's id of the track.")
    title: str | None = None
    author: str | None = Field(None, description="The artist.")
    album: str | None = None


class SimilarSong(Song):
    distance: float = Field(description="Angular distance from the seed (0 = the same sound).")


class TrackDetail(Song):
    tempo: float | None = None
    key: str | None = None
    scale: str | None = None
    energy: float | None = None
    mood_vector: str | None = Field(None, description="'label:score,...' the strongest MusiCNN tags.")
    other_features: str | None = Field(None, description="'danceable:0.6,aggressive:0.1,...'.")


class MaxDistance(Open):
    max_distance: float
    farthest_item_id: str


class PathSong(Song):
    embedding_vector: list[float] = Field(description="The track's 200-d MusiCNN embedding.")


class PathReply(Open):
    path: list[PathSong]
    total_distance: float


class MapPoint(Song):
    embedding_2d: list[float] = Field(description="Its place on the music map.")


class AlchemyReply(Open):
    results: list[MapPoint]
    filtered_out: list[MapPoint]
    centroid_2d: list[float] | None = None
    add_centroid_2d: list[float] | None = None
    subtract_centroid_2d: list[float] | None = None
    add_points: list[dict[str, Any]] = []
    sub_points: list[dict[str, Any]] = []
    projection: str


class MapReply(Open):
    items: list[dict[str, Any]] = Field(description="Songs with 'embedding_2d' (a sample for large libraries).")
    projection: str | None = None


class SimilarArtist(Open):
    artist: str
    artist_id: str = Field(description="The media server's artist id, or the name where it gave none.")
    divergence: float
    distance: float


class FingerprintSong(Song):
    distance: float


class PlaylistCreated(Open):
    message: str
    playlist_id: str


class TaskStatus(Open):
    task_id: str | None
    state: str | None = Field(None, description="PENDING, STARTED, PROGRESS, SUCCESS, FAILURE, REVOKED.")
    status: str | None = None
    status_message: str | None = None
    progress: int | None = None
    details: dict[str, Any] = {}
    task_type: str | None = Field(None, description="main_analysis, main_clustering, ...")
    running_time_seconds: float | None = None


class TaskStarted(Open):
    task_id: str
    task_type: str
    status: str


class CancelReply(Open):
    message: str
    task_id: str | None = None
    cancelled_jobs_count: int | None = None
    cancelled_main_tasks: list[str] | None = None


class Health(Open):
    status: str
    service: str
    index_version: int | None
    writes: str | None = Field(None, description="'open' (loopback), 'token' or 'refused' (public, no token).")


class ChatReplyBody(Open):
    message: str
    original_request: str
    ai_provider_used: str
    ai_model_selected: str | None
    executed_query: str | None
    query_results: list[Song] | None


class ChatReply(Open):
    response: ChatReplyBody


# ----------------------------------------------------------------------------------------- request bodies
class AlchemyIngredient(Open):
    id: str = Field(description="A song's item id, or an artist's id or name.")
    op: str = Field("ADD", description="ADD or SUBTRACT.")
    type: str = Field("song", description="song or artist.")


class AlchemyBody(Open):
    items: list[AlchemyIngredient] | None = None
    n: LooseInt = Field(None, description="How many songs (1..200).")
    temperature: LooseFloat = Field(None, description="0 = the closest songs; higher = a freer sample.")
    subtract_distance: LooseFloat = Field(None, description="Drop songs closer than this to the subtracted centroid.")
    seed: LooseInt = Field(None, description="Random seed for a repeatable sample.")


class PlaylistBody(Open):
    playlist_name: str | None = None
    track_ids: list[Any] | None = Field(None, description="Item ids, or objects with an 'item_id'.")


class FingerprintBody(Open):
    n: LooseInt = Field(None, description="How many songs (1..1000); default 50.")
    jellyfin_user_identifier: str | None = Field(None, description="Jellyfin/Emby user id or name.")
    jellyfin_token: str | None = Field(None, description="That user's Jellyfin/Emby token.")
    navidrome_user: str | None = Field(None, description="Navidrome/Subsonic user name.")
    navidrome_password: str | None = Field(None, description="That user's password.")
    user: str | None = Field(None, description="A user of the media server (any provider).")
    password: str | None = Field(None, description="That user's password or token.")


class AnalysisBody(Open):
    num_recent_albums: LooseInt = Field(None, description="The newest N albums; 0 = all.")
    workers: LooseInt = Field(None, description="Analysis actors; 0 = one per CPU of the cluster.")


class ChatBody(Open):
    userInput: str | None = Field(None, description="What the listener asked for, in words.")
    ai_provider: str | None = Field(None, description="OLLAMA, OPENAI, GEMINI, MISTRAL, KEYWORDS or NONE.")
    ai_model: str | None = None
    ollama_server_url: str | None = None
    openai_server_url: str | None = None


class ChatPlaylistBody(Open):
    playlist_name: Any = None
    item_ids: Any = None
