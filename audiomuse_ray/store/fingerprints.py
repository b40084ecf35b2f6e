"""Each analysed track's acoustic fingerprint (``track_fingerprint``), and the local candidates for a tag key.

Written with the track's analysis (``tracks.save_album`` passes the open transaction), or alone for a
track analysed before fingerprints existed (``save_fingerprints``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, select, update

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import score, track_fingerprint

ANALYSED, COPIED, PULLED, IMPORTED = "analysed", "copied", "pulled", "imported"


@dataclass(frozen=True)
class FingerprintRow:
    item_id: str
    chromaprint: str  # compressed base64 of the first two minutes
    seconds: float  # of audio fingerprinted
    tag_key: str | None  # identity.tag_key of the track's tags
    duration: float | None  # of the whole file
    origin: str = ANALYSED
    recording_id: str | None = None  # the hub's key, once known


def _values(row: FingerprintRow) -> dict:
    return {"item_id": row.item_id, "tag_key": row.tag_key, "duration": row.duration,
            "chromaprint": row.chromaprint, "seconds": row.seconds, "origin": row.origin,
            "recording_id": row.recording_id, "created_at": utcnow()}


def write(conn: Connection, rows: Sequence[FingerprintRow]) -> None:
    """Upsert inside the caller's transaction."""
    upsert(conn, track_fingerprint, [_values(r) for r in rows], ["item_id"])


def save_fingerprints(store: Store, rows: Sequence[FingerprintRow]) -> None:
    with store.begin() as conn:
        write(conn, rows)


def get_fingerprints(store: Store, item_ids: Iterable[str]) -> dict[str, FingerprintRow]:
    ids = list(item_ids)
    if not ids:
        return {}
    out: dict[str, FingerprintRow] = {}
    with store.connect() as conn:
        for start in range(0, len(ids), 500):
            stmt = select(track_fingerprint).where(track_fingerprint.c.item_id.in_(ids[start:start + 500]))
            for r in conn.execute(stmt):
                out[r.item_id] = _row(r)
    return out


def _row(r) -> FingerprintRow:
    return FingerprintRow(r.item_id, r.chromaprint, r.seconds, r.tag_key, r.duration, r.origin, r.recording_id)


def candidates(store: Store, tag_keys: Iterable[str], model_version: str) -> dict[str, list[FingerprintRow]]:
    """Fingerprinted tracks with an analysis of ``model_version``, by tag key (for the keys given)."""
    keys = sorted({k for k in tag_keys if k})
    out: dict[str, list[FingerprintRow]] = {}
    if not keys:
        return out
    with store.connect() as conn:
        for start in range(0, len(keys), 500):
            stmt = (select(track_fingerprint)
                    .join(score, score.c.item_id == track_fingerprint.c.item_id)
                    .where(track_fingerprint.c.tag_key.in_(keys[start:start + 500]))
                    .where(score.c.model_version == model_version)
                    .order_by(track_fingerprint.c.item_id))
            for r in conn.execute(stmt):
                out.setdefault(r.tag_key, []).append(_row(r))
    return out


def set_recording_ids(store: Store, recording_ids: Mapping[str, str]) -> None:
    """Remember the hub's key of tracks just pushed (so the next sync does not push them again)."""
    if not recording_ids:
        return
    with store.begin() as conn:
        for item_id, recording_id in recording_ids.items():
            conn.execute(update(track_fingerprint).where(track_fingerprint.c.item_id == item_id)
                         .values(recording_id=recording_id))
