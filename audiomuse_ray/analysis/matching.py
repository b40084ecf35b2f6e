"""The driver's side of the confirmation rule, for the analysis, sync and import jobs alike.

Before an album goes to a worker, ``Matcher.prepare`` gives each of its tracks its candidates: local
tracks with the same tag key and an analysis of this model version (a second copy of a recording is
analysed once), and, when the job has a ``source``, the hub's or the exchange file's records found by the
same tags. The worker confirms by fingerprint. ``Matcher.rows`` turns what was confirmed into rows to
store; ``Matcher.shared`` pushes the album's analyses to a hub afterwards. Nothing is taken on tags alone.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Protocol, Sequence

from audiomuse_ray.analysis.album import AlbumJob, AlbumResult, reuse_row
from audiomuse_ray.recording.identity import TagQuery, durations_agree, tag_key
from audiomuse_ray.recording.records import Candidate, SharedAnalysis
from audiomuse_ray.providers.base import Track
from audiomuse_ray.store import Store
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.store.fingerprints import COPIED, IMPORTED, PULLED, FingerprintRow
from audiomuse_ray.store.tracks import TrackRow

log = logging.getLogger(__name__)


class CandidateSource(Protocol):
    """Where records come from: a hub (``origin`` "pulled") or an exchange file ("imported")."""

    origin: str

    def lookup(self, queries: Sequence[TagQuery]) -> list[list[SharedAnalysis]]:
        """Candidates for each query, in order."""


class Pusher(Protocol):
    def push(self, model_version: str, records: Sequence[SharedAnalysis]) -> list:
        """One ``PushResult`` per record (``hub.PushResult``)."""


@dataclass
class Matcher:
    store: Store
    model_version: str
    source: CandidateSource | None = None
    pusher: Pusher | None = None
    fingerprint_known: bool = False  # fingerprint analysed tracks that have none (to share them)
    analyse_unmatched: bool = True
    _records: dict[str, dict[str, SharedAnalysis]] = field(default_factory=dict)  # job task id -> ref -> record

    @property
    def includes_known(self) -> bool:
        """Whether the plan keeps tracks already analysed (to push or fingerprint them)."""
        return self.pusher is not None or self.fingerprint_known

    # ------------------------------------------------------------------ before the worker
    def prepare(self, job: AlbumJob) -> AlbumJob:
        """``job`` with candidates for its tracks and the known tracks that need a fingerprint."""
        candidates: dict[str, list[Candidate]] = {}
        keyed = [(t, tag_key(t.artist, t.title)) for t in job.tracks]
        local = fingerprint_store.candidates(self.store, [k for _t, k in keyed if k], self.model_version)
        for track, key in keyed:
            for row in local.get(key, []):
                if row.item_id != track.item_id and durations_agree(track.duration, row.duration):
                    candidates.setdefault(track.item_id, []).append(
                        Candidate("local", row.item_id, row.chromaprint, row.duration))
        if self.source is not None:
            asked = [(t, k) for t, k in keyed if k]
            found = self.source.lookup([TagQuery(t.artist, t.title, t.album, t.duration) for t, _k in asked]) if asked else []
            records = self._records.setdefault(job.task_id, {})
            for (track, _key), records_found in zip(asked, found):
                for i, record in enumerate(records_found):
                    ref = record.recording_id or f"{track.item_id}#{i}"
                    records[ref] = record
                    candidates.setdefault(track.item_id, []).append(
                        Candidate(self.source.origin, ref, record.fingerprint, record.duration))
        missing: list[Track] = []
        if self.includes_known and job.known:
            have = fingerprint_store.get_fingerprints(self.store, [t.item_id for t in job.known])
            missing = [t for t in job.known if t.item_id not in have]
        return replace(job, candidates={k: tuple(v) for k, v in candidates.items()}, fingerprint_only=missing,
                       analyse_unmatched=self.analyse_unmatched)

    # ------------------------------------------------------------------ after the worker
    def rows(self, job: AlbumJob, result: AlbumResult) -> list[TrackRow]:
        """The rows to store for the tracks a candidate confirmed."""
        records = self._records.pop(job.task_id, {})
        by_id = {t.item_id: t for t in job.tracks}
        local_refs = [c.ref for c, _fp in result.confirmed.values() if c.source == "local"]
        local = {r.item_id: r for r in track_store.get_tracks(self.store, local_refs, with_embeddings=True)}
        out = []
        for item_id, (candidate, fp) in result.confirmed.items():
            track = by_id[item_id]
            if candidate.source == "local" and candidate.ref in local:
                out.append(reuse_row(local[candidate.ref], track, replace(fp, origin=COPIED)))
            elif candidate.ref in records:
                record = records[candidate.ref]
                origin = PULLED if candidate.source == PULLED else IMPORTED
                out.append(record.to_track_row(track, replace(fp, origin=origin, recording_id=record.recording_id)))
        return out

    def shared(self, job: AlbumJob) -> dict[str, int]:
        """Push the album's analyses of this model version that the hub does not know yet; returns counts
        (``pushed``: records sent; ``push_stored``/``push_known``/``push_refused``: the hub's answers).
        Their recording ids are kept, so the next sync skips them."""
        if self.pusher is None:
            return {}
        ids = [t.item_id for t in [*job.tracks, *job.known]]
        prints = {k: v for k, v in fingerprint_store.get_fingerprints(self.store, ids).items() if not v.recording_id}
        rows = [r for r in track_store.get_tracks(self.store, list(prints), with_embeddings=True)
                if r.model_version == self.model_version and r.embedding is not None]
        if not rows:
            return {}
        records = [SharedAnalysis.from_track(r, prints[r.item_id]) for r in rows]
        results = self.pusher.push(self.model_version, records)
        fingerprint_store.set_recording_ids(
            self.store, {r.item_id: res.recording_id for r, res in zip(rows, results) if res.recording_id})
        counts = Counter(f"push_{res.status}" for res in results)
        counts["pushed"] = len(records)
        return dict(counts)
