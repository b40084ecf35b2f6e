"""Analysing one album's tracks with already-loaded models: the unit of work a Ray worker runs.

No Ray and no SQL here: the result is a list of rows for ``store.tracks.save_album`` (written by the
driver, one transaction per album). A track that cannot be analysed becomes an ``ErrorRow``.

Every analysed track is fingerprinted from the audio the analysis decoded (Chromaprint, first two
minutes). A track that comes with candidates (another local copy of its recording, a hub's or a file's
analysis, found by its tags) is first fingerprinted from a two-minute decode; a candidate that the
fingerprint confirms is reported in ``confirmed`` and the track is not analysed. A later track of the same
album with the same tags is compared with the ones analysed before it, so two formats of one recording
in one album are analysed once.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
from dataclasses import dataclass, field, replace
from functools import cached_property

from pathlib import Path

import numpy as np

from audiomuse_ray.analysis import audio
from audiomuse_ray.analysis.models import MusicnnModels
from audiomuse_ray.analysis.track import TrackAnalysis, analyze_samples
from audiomuse_ray.analysis import acoustic
from audiomuse_ray.recording.identity import durations_agree, tag_key
from audiomuse_ray.recording.records import Candidate
from audiomuse_ray.errors import AudioError, FingerprintUnavailable, ProviderError
from audiomuse_ray.providers.base import Album, MediaProvider, Track
from audiomuse_ray.store.fingerprints import ANALYSED, COPIED, FingerprintRow
from audiomuse_ray.store.tracks import ErrorRow, TrackRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlbumJob:
    album: Album
    tracks: list[Track]
    task_id: str  # the album's child task record
    known: list[Track] = field(default_factory=list)  # already analysed (a sync pushes them)
    candidates: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)  # item id -> to confirm
    fingerprint_only: list[Track] = field(default_factory=list)  # analysed before fingerprints existed
    analyse_unmatched: bool = True  # False (an import): a track no candidate confirms is left as it is

    @cached_property
    def tag_keys(self) -> frozenset[str]:
        """The tracks' tag keys (computed once: the scheduler asks at every dispatch)."""
        return frozenset(k for k in (tag_key(t.artist, t.title) for t in self.tracks) if k)


@dataclass(frozen=True)
class AlbumResult:
    album_id: str
    rows: list[TrackRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    seconds: float = 0.0  # wall clock in the worker
    cpu_seconds: float = 0.0  # CPU time of the worker process for this album
    worker: str = ""
    rss_bytes: int = 0  # the worker's resident memory after this album: flat from album to album, or a leak
    confirmed: dict[str, tuple[Candidate, FingerprintRow]] = field(default_factory=dict)  # item id -> match
    fingerprints: list[FingerprintRow] = field(default_factory=list)  # of ``fingerprint_only`` tracks
    unmatched: list[str] = field(default_factory=list)  # item ids left alone (analyse_unmatched=False)


def resident_bytes() -> int:
    """This process's resident set size now, from ``/proc/self/statm``; where there is no /proc, the
    peak (``ru_maxrss``), which can only overstate a growth, never hide one."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def to_row(track: Track, analysis: TrackAnalysis, fingerprint: FingerprintRow | None = None) -> TrackRow:
    return TrackRow(
        item_id=track.item_id, title=track.title, author=track.artist, album=track.album,
        album_artist=track.album_artist, tempo=analysis.tempo, key=analysis.key, scale=analysis.scale,
        mood_vector=analysis.top_tags(), energy=analysis.energy, other_features=analysis.moods,
        duration=analysis.duration, path_or_url=track.path_or_url, model_version=analysis.model_version,
        embedding=analysis.embedding, tags=analysis.tag_vector(list(analysis.tags)),
        artist_id=track.artist_id or None, fingerprint=fingerprint,
    )


def reuse_row(row: TrackRow, track: Track, fingerprint: FingerprintRow) -> TrackRow:
    """Another track's analysis stored for ``track``: its own tags, ids, path and duration."""
    return replace(row, item_id=track.item_id, title=track.title, author=track.artist, album=track.album,
                   album_artist=track.album_artist, path_or_url=track.path_or_url, artist_id=track.artist_id or None,
                   duration=fingerprint.duration or row.duration, analysed_at=None, fingerprint=fingerprint)


def _fingerprint_row(track: Track, fp: acoustic.Fingerprint | None, duration: float | None,
                     origin: str = ANALYSED) -> FingerprintRow | None:
    if fp is None:
        return None
    return FingerprintRow(track.item_id, fp.chromaprint, fp.seconds, tag_key(track.artist, track.title), duration, origin)


def _fingerprint_path(path: Path) -> tuple[acoustic.Fingerprint | None, float | None]:
    """A two-minute decode and its fingerprint; (None, None) where Chromaprint is not installed on this node."""
    try:
        return acoustic.fingerprint_file(path)
    except FingerprintUnavailable as exc:
        log.warning("%s", exc)
        return None, None


def _fingerprint_decoded(path: Path, decoded: audio.DecodedAudio) -> acoustic.Fingerprint | None:
    """From the analysis' own samples when they start at 0 s; a two-minute decode for a sampled long file.
    None where Chromaprint is not installed: the analysis goes on without one."""
    try:
        if decoded.sampled:
            return acoustic.fingerprint_file(path)[0]
        return acoustic.fingerprint_samples(decoded.samples)
    except FingerprintUnavailable as exc:
        log.warning("%s", exc)
        return None


class _AlbumWork:
    """One album's tracks in order, remembering what it analysed so a later copy can reuse it."""

    def __init__(self, job: AlbumJob, models: MusicnnModels, provider: MediaProvider):
        self.job, self.models, self.provider = job, models, provider
        self.rows: list[TrackRow] = []
        self.confirmed: dict[str, tuple[Candidate, FingerprintRow]] = {}
        self.unmatched: list[str] = []
        self.seen: dict[str, list[tuple[np.ndarray, TrackRow]]] = {}  # tag key -> (items, row) analysed here

    def track(self, track: Track) -> None:
        key = tag_key(track.artist, track.title)
        candidates = self.job.candidates.get(track.item_id, ())
        with self.provider.local_file(track) as path:
            fp = None
            if candidates or (key and key in self.seen) or not self.job.analyse_unmatched:
                fp, duration = _fingerprint_path(path)
                if fp is not None and self._matched(track, key, fp, duration, candidates):
                    return
                if not self.job.analyse_unmatched:
                    self.unmatched.append(track.item_id)
                    return
            decoded = audio.decode(path)
            analysis = analyze_samples(decoded.samples, self.models, duration=decoded.duration_s, name=Path(path).name)
            fp = fp or _fingerprint_decoded(path, decoded)
        row = to_row(track, analysis, _fingerprint_row(track, fp, analysis.duration))
        self.rows.append(row)
        if key and fp is not None:
            self.seen.setdefault(key, []).append((fp.items(), row))

    def _matched(self, track: Track, key: str | None, fp: acoustic.Fingerprint, duration: float,
                 candidates: tuple[Candidate, ...]) -> bool:
        items = fp.items()
        for candidate in candidates:
            if durations_agree(duration, candidate.duration) and \
                    acoustic.same_recording(items, acoustic.decode(candidate.fingerprint)):
                self.confirmed[track.item_id] = (candidate, _fingerprint_row(track, fp, duration))
                return True
        for other_items, other in self.seen.get(key or "", []):
            if durations_agree(duration, other.duration) and acoustic.same_recording(items, other_items):
                self.rows.append(reuse_row(other, track, _fingerprint_row(track, fp, duration, COPIED)))
                return True
        return False


def analyse_album(job: AlbumJob, models: MusicnnModels, provider: MediaProvider, worker: str = "") -> AlbumResult:
    """Every track of ``job``; typed failures (bad audio, server trouble) are recorded, not raised."""
    started, cpu_started = time.monotonic(), time.process_time()
    work = _AlbumWork(job, models, provider)
    errors, fingerprints = [], []
    for track in job.tracks:
        try:
            work.track(track)
        except (AudioError, ProviderError) as exc:
            log.info("%s: %s", track.path_or_url, exc)
            errors.append(ErrorRow(track.item_id, track.path_or_url, type(exc).__name__, str(exc), models.version))
        except Exception as exc:  # job boundary: one odd file must not cost the album; recorded as a bug
            log.exception("unexpected failure on %s", track.path_or_url)
            errors.append(ErrorRow(track.item_id, track.path_or_url, "InternalError",
                                   f"{type(exc).__name__}: {exc} (unexpected; please report it)", models.version))
    for track in job.fingerprint_only:  # already analysed: a failure here only means it is not shared
        try:
            with provider.local_file(track) as path:
                fp, duration = _fingerprint_path(path)
            if fp is not None:
                fingerprints.append(_fingerprint_row(track, fp, duration))
        except (AudioError, ProviderError) as exc:
            log.info("no fingerprint for %s: %s", track.path_or_url, exc)
    return AlbumResult(job.album.id, work.rows, errors, time.monotonic() - started, time.process_time() - cpu_started,
                       worker, resident_bytes(), work.confirmed, fingerprints, work.unmatched)
