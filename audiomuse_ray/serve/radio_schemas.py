"""JSON shapes of the anchors, radios, schedules (``/api/cron``) and dashboard routes, in AudioMuse-AI's
spelling plus this service's extra fields (see ``serve/schemas.py`` for the conventions: every model allows
extra fields; bodies keep AudioMuse-AI's loose input and the use cases check the values with its messages)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from audiomuse_ray.serve.params import LooseBool, LooseFloat, LooseInt
from audiomuse_ray.serve.schemas import AlchemyIngredient, Open, Song


# ------------------------------------------------------------------------------------------------ anchors
class AnchorBody(Open):
    name: str | None = Field(None, description="The anchor's name (also its radio's playlist name).")
    items: list[AlchemyIngredient] | None = Field(
        None, description="Songs and artists added or subtracted, as /api/alchemy takes them (kept by id, so the "
                          "anchor survives a re-analysis).")
    centroid: list[Any] | None = Field(None, description="AudioMuse-AI's form: the mix's embedding vector.")
    exclusions: list[Any] | None = Field(
        None, description="[{vector, distance}] regions or [{type: song|artist, id}] never played.")
    subtract_distance: LooseFloat = Field(None, description="Radius around the subtracted songs.")


class AnchorRef(Open):
    id: int
    name: str


class AnchorSaved(Open):
    anchor: AnchorRef


class Anchor(AnchorRef):
    items: list[dict[str, Any]] = []
    exclusions: list[dict[str, Any]] = []
    has_centroid: bool = False
    subtract_distance: float | None = None
    created_at: str | None = None


class AnchorList(Open):
    anchors: list[Anchor]


class Deleted(Open):
    deleted: bool


# ------------------------------------------------------------------------------------------------- radios
class RadioBody(Open):
    anchor_id: LooseInt = Field(None, description="The saved anchor the radio plays (one radio per anchor).")
    n_results: LooseInt = Field(None, description="Songs per playlist (1..200).")
    temperature: LooseFloat = Field(None, description="0 = the same closest songs every run; higher = a fresher "
                                                      "draw from the softmax over distances.")
    enabled: LooseBool = Field(None, description="Whether runs (and the alchemy_radio schedule) include it.")
    max_repeat_share: LooseFloat = Field(None, description="At most this share (0..1) of the previous run's "
                                                           "songs comes back; 1 = no limit.")
    skip_played_days: LooseInt = Field(None, description="Skip songs played in the last N days (needs a media "
                                                         "server with play history); 0 = never.")


class Radio(Open):
    id: int
    anchor_id: int
    name: str
    temperature: float
    n_results: int
    enabled: bool
    max_repeat_share: float | None = None
    skip_played_days: int | None = None
    last_run_at: str | None = None
    last_song_count: int | None = None
    provider_playlist_id: str | None = Field(None, description="The playlist the last run wrote on the media "
                                                               "server (replaced in place by the next run).")


class RadioSaved(Open):
    radio: Radio


class RadioList(Open):
    radios: list[Radio]


class RadiosRunBody(Open):
    radio_ids: list[int] | None = Field(None, description="Only these radios (default: every enabled one).")


class RadiosRunReply(Open):
    message: str
    radios_enabled: int
    playlists_created: int
    failed: list[str] = Field(description="Names of the radios whose playlist could not be made.")
    radios: list[dict[str, Any]] = Field([], description="What each run did: playlist id, songs, repeats.")


class PreviewSong(Song):
    distance: float
    repeated: bool = Field(description="The radio's previous run played it too.")


class RadioPreview(Open):
    radio: Radio
    results: list[PreviewSong]
    repeated: int
    skipped_recent: int
    missing: list[str] = Field(description="Ids of the anchor's songs or artists this library no longer holds.")


# ---------------------------------------------------------------------------------------------- schedules
class CronBody(Open):
    id: LooseInt = Field(None, description="The row to replace; without one, the row of that task type and name.")
    name: str | None = Field(None, description="A label (default: the task type).")
    task_type: str | None = Field(None, description="analysis, clustering, alchemy_radio or sonic_fingerprint.")
    cron_expr: str | None = Field(None, description="5-field cron expression (minute hour day month weekday), "
                                                    "in AUDIOMUSE_TIMEZONE.")
    enabled: LooseBool = None
    options: Any = Field(None, description="The task's options: analysis {num_recent_albums, workers}, clustering "
                                           "(the start body), alchemy_radio {radio_ids}, sonic_fingerprint "
                                           "{users, n, playlist_name}.")


class CronRow(Open):
    id: int
    name: str
    task_type: str
    cron_expr: str
    enabled: bool
    last_run: float | None = Field(None, description="Unix time of the last start.")
    next_run: float | None = Field(None, description="Unix time of the next tick (enabled rows).")
    last_status: str | None = Field(None, description="STARTED, SKIPPED, FAILED or LOST.")
    options: dict[str, Any] = {}


class CronSaved(Open):
    message: str
    id: int


class CronRun(Open):
    schedule_id: int
    tick: str
    claimed_at: str
    status: str
    task_id: str | None = None
    message: str | None = None


# ---------------------------------------------------------------------------------------------- dashboard
class MoodCoverage(Open):
    label: str
    score: float | None = Field(None, description="Mean score of the mood, in percent, over the tracks carrying it.")
    count: int = Field(description="Tracks whose strongest mood it is.")


class DashboardContent(Open):
    total_songs: int
    distinct_artists: int
    distinct_albums: int
    unanalyzable_tracks: int
    moods_coverage: list[MoodCoverage]
    tempo_profile: dict[str, Any]


class DashboardSummary(Open):
    generated_at: str = Field(description="When the live part (tasks, schedules, index) was read.")
    stats_updated_at: str = Field(description="When the library snapshot (content, histograms) was taken.")
    workers: list[dict[str, Any]] = Field(description="The cluster's nodes.")
    content: DashboardContent
    analysis: dict[str, int]
    index: dict[str, Any] | None
    recent_tasks: list[dict[str, Any]]
    cron: list[dict[str, Any]]
    histograms: dict[str, list[dict[str, Any]]]
