"""A hub's shared analyses (``shared_analysis``): candidates by tag key, inserts under per-key locks.

``locked(store, keys)`` is a transaction that holds a lock on each tag key, so two clients pushing the
same recording at once cannot both find no match and both insert: the second waits, then sees the first's
row. PostgreSQL: transaction-scoped advisory locks, taken in one order (no deadlock between two batches).
SQLite has one writer at a time: the transaction starts with a write, which holds the database's write
lock until it ends (a first statement that writes waits for the lock instead of failing on a stale read).
"""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Iterator, TypeVar

import numpy as np
from sqlalchemy import Connection, func, select, text

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import meta, shared_analysis
from audiomuse_ray.store.tracks import format_features, parse_features

@dataclass(frozen=True)
class SharedRow:
    """One shared analysis as the hub stores it. ``collection.records.SharedAnalysis`` is this with its
    wire format and conversions; the functions here take and give either (``as_type``)."""

    artist: str | None
    title: str | None
    album: str | None
    duration: float | None
    fingerprint: str  # Chromaprint, compressed base64, first two minutes
    model_version: str
    tempo: float | None = None
    key: str | None = None
    scale: str | None = None
    energy: float | None = None
    mood_vector: dict[str, float] = field(default_factory=dict)
    other_features: dict[str, float] = field(default_factory=dict)
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    tags: np.ndarray | None = None
    recording_id: str | None = None  # the hub's key; None in a push


R = TypeVar("R", bound=SharedRow)
_PG_LOCK_SPACE = 0x68756221  # "hub!": the first half of every advisory lock this module takes


@contextlib.contextmanager
def locked(store: Store, tag_keys: Iterable[str]) -> Iterator[Connection]:
    """``with locked(store, keys) as conn:`` a transaction holding the locks of ``keys`` until it ends."""
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            for h in sorted({_lock_number(k) for k in tag_keys}):
                conn.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _PG_LOCK_SPACE, "key": h})
        else:
            upsert(conn, meta, [{"key": "hub_last_write", "value": utcnow().isoformat()}], ["key"])
        yield conn


def _lock_number(key: str) -> int:
    """A signed 32-bit number per key (PostgreSQL's two-int advisory lock takes int4)."""
    h = zlib.crc32(key.encode("utf-8"))
    return h - (1 << 32) if h >= 1 << 31 else h


def candidates(conn: Connection, tag_keys: Iterable[str], model_version: str,
               limit_per_key: int | None = None, as_type: type[R] = SharedRow) -> dict[str, list[R]]:
    """Shared analyses of ``model_version`` by tag key, oldest first."""
    keys = sorted({k for k in tag_keys if k})
    out: dict[str, list[R]] = {}
    for start in range(0, len(keys), 500):
        stmt = (select(shared_analysis)
                .where(shared_analysis.c.model_version == model_version)
                .where(shared_analysis.c.tag_key.in_(keys[start:start + 500]))
                .order_by(shared_analysis.c.created_at, shared_analysis.c.recording_id))
        for r in conn.execute(stmt):
            found = out.setdefault(r.tag_key, [])
            if limit_per_key is None or len(found) < limit_per_key:
                found.append(_record(r, as_type))
    return out


def insert(conn: Connection, record: SharedRow, recording_id: str, tag_key: str, contributor: str) -> None:
    conn.execute(shared_analysis.insert().values(
        recording_id=recording_id, model_version=record.model_version, tag_key=tag_key,
        artist=record.artist, title=record.title, album=record.album, duration=record.duration,
        chromaprint=record.fingerprint, tempo=record.tempo, key=record.key, scale=record.scale,
        energy=record.energy, mood_vector=format_features(record.mood_vector),
        other_features=format_features(record.other_features), dim=int(record.embedding.shape[0]),
        embedding=record.embedding.astype("<f4").tobytes(),
        tags=None if record.tags is None else record.tags.astype("<f4").tobytes(),
        contributor=contributor, created_at=utcnow()))


def existing_ids(conn: Connection, recording_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(recording_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        stmt = select(shared_analysis.c.recording_id).where(shared_analysis.c.recording_id.in_(ids[start:start + 500]))
        found.update(r[0] for r in conn.execute(stmt))
    return found


def count(store: Store, model_version: str | None = None) -> int:
    stmt = select(func.count()).select_from(shared_analysis)
    if model_version is not None:
        stmt = stmt.where(shared_analysis.c.model_version == model_version)
    with store.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def contributors(store: Store) -> dict[str, int]:
    """Records per client name (the name of the hub token that pushed them)."""
    stmt = select(shared_analysis.c.contributor, func.count()).group_by(shared_analysis.c.contributor)
    with store.connect() as conn:
        return {str(name): int(n) for name, n in conn.execute(stmt)}


def iter_records(store: Store, model_version: str, batch: int = 1000,
                 as_type: type[R] = SharedRow) -> Iterator[R]:
    """Every shared analysis of ``model_version``, by recording id, a batch per query."""
    after = ""
    while True:
        with store.connect() as conn:
            rows = conn.execute(select(shared_analysis).where(shared_analysis.c.model_version == model_version)
                                .where(shared_analysis.c.recording_id > after)
                                .order_by(shared_analysis.c.recording_id).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield _record(r, as_type)
        after = rows[-1].recording_id


def _record(r, as_type: type[R]) -> R:
    return as_type(
        artist=r.artist, title=r.title, album=r.album, duration=r.duration, fingerprint=r.chromaprint,
        model_version=r.model_version, tempo=r.tempo, key=r.key, scale=r.scale, energy=r.energy,
        mood_vector=parse_features(r.mood_vector), other_features=parse_features(r.other_features),
        embedding=np.frombuffer(r.embedding, dtype="<f4").astype(np.float32),
        tags=None if r.tags is None else np.frombuffer(r.tags, dtype="<f4").astype(np.float32),
        recording_id=r.recording_id)
