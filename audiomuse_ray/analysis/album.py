"""Analysing one album's tracks with already-loaded models: the unit of work a Ray worker runs.

No Ray and no SQL here: the result is a list of rows for ``store.tracks.save_album`` (written by the
driver, one transaction per album). A track that cannot be analysed becomes an ``ErrorRow``.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
from dataclasses import dataclass, field

from audiomuse_ray.analysis.models import MusicnnModels
from audiomuse_ray.analysis.track import TrackAnalysis, analyze_file
from audiomuse_ray.errors import AudioError, ProviderError
from audiomuse_ray.providers.base import Album, MediaProvider, Track
from audiomuse_ray.store.tracks import ErrorRow, TrackRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlbumJob:
    album: Album
    tracks: list[Track]
    task_id: str  # the album's child task record


@dataclass(frozen=True)
class AlbumResult:
    album_id: str
    rows: list[TrackRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    seconds: float = 0.0  # wall clock in the worker
    cpu_seconds: float = 0.0  # CPU time of the worker process for this album
    worker: str = ""
    rss_bytes: int = 0  # the worker's resident memory after this album: flat from album to album, or a leak


def resident_bytes() -> int:
    """This process's resident set size now, from ``/proc/self/statm``; where there is no /proc, the
    peak (``ru_maxrss``), which can only overstate a growth, never hide one."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def to_row(track: Track, analysis: TrackAnalysis) -> TrackRow:
    return TrackRow(
        item_id=track.item_id, title=track.title, author=track.artist, album=track.album,
        album_artist=track.album_artist, tempo=analysis.tempo, key=analysis.key, scale=analysis.scale,
        mood_vector=analysis.top_tags(), energy=analysis.energy, other_features=analysis.moods,
        duration=analysis.duration, path_or_url=track.path_or_url, model_version=analysis.model_version,
        embedding=analysis.embedding, tags=analysis.tag_vector(list(analysis.tags)),
        artist_id=track.artist_id or None,
    )


def analyse_album(job: AlbumJob, models: MusicnnModels, provider: MediaProvider, worker: str = "") -> AlbumResult:
    """Every track of ``job``; typed failures (bad audio, server trouble) are recorded, not raised."""
    started, cpu_started = time.monotonic(), time.process_time()
    rows, errors = [], []
    for track in job.tracks:
        try:
            with provider.local_file(track) as path:
                rows.append(to_row(track, analyze_file(path, models)))
        except (AudioError, ProviderError) as exc:
            log.info("%s: %s", track.path_or_url, exc)
            errors.append(ErrorRow(track.item_id, track.path_or_url, type(exc).__name__, str(exc), models.version))
        except Exception as exc:  # job boundary: one odd file must not cost the album; recorded as a bug
            log.exception("unexpected failure on %s", track.path_or_url)
            errors.append(ErrorRow(track.item_id, track.path_or_url, "InternalError",
                                   f"{type(exc).__name__}: {exc} (unexpected; please report it)", models.version))
    return AlbumResult(job.album.id, rows, errors, time.monotonic() - started, time.process_time() - cpu_started, worker,
                       resident_bytes())
