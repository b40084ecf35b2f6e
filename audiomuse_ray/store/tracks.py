"""Analysed tracks: the ``score`` rows, their embeddings and the analysis errors.

Writes happen per album in one transaction (``save_album``), so a killed job loses at most the albums it
had in flight and re-running it never writes a track twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import delete, func, select

from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.fingerprints import FingerprintRow
from audiomuse_ray.store.schema import analysis_error, embedding, score


@dataclass(frozen=True)
class TrackRow:
    """One analysed track as stored: tags and features as dicts, the embedding as float32."""

    item_id: str
    title: str | None
    author: str | None
    album: str | None
    album_artist: str | None = None
    tempo: float | None = None
    key: str | None = None
    scale: str | None = None
    mood_vector: dict[str, float] = field(default_factory=dict)
    energy: float | None = None
    other_features: dict[str, float] = field(default_factory=dict)
    duration: float | None = None
    path_or_url: str | None = None
    analysed_at: datetime | None = None
    model_version: str | None = None
    embedding: np.ndarray | None = None
    tags: np.ndarray | None = None  # all tag scores (mood_vector keeps only the top few)
    artist_id: str | None = None  # the media server's id of the track's artist
    fingerprint: FingerprintRow | None = None  # written with the analysis when given (track_fingerprint)


@dataclass(frozen=True)
class ErrorRow:
    item_id: str
    path: str
    error_class: str
    message: str
    model_version: str | None = None


def format_features(values: dict[str, float], digits: int = 4) -> str:
    """``{"rock": 0.5312, "pop": 0.2}`` -> ``"rock:0.5312,pop:0.2"`` (AudioMuse-AI's text format)."""
    return ",".join(f"{label}:{round(float(v), digits)}" for label, v in values.items())


def parse_features(text: str | None) -> dict[str, float]:
    """Inverse of ``format_features``; tolerates empty strings and labels containing ``:``."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        label, sep, value = part.rpartition(":")
        if sep and label:
            try:
                out[label.strip()] = float(value)
            except ValueError:
                continue
    return out


def encode_vector(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def decode_vector(data: bytes, dim: int) -> np.ndarray:
    vec = np.frombuffer(data, dtype="<f4")
    if vec.shape[0] != dim:
        raise ValueError(f"stored vector has {vec.shape[0]} values, expected {dim}")
    return vec


def _score_values(row: TrackRow) -> dict:
    return {
        "item_id": row.item_id,
        "title": row.title,
        "author": row.author,
        "album": row.album,
        "album_artist": row.album_artist,
        "tempo": row.tempo,
        "key": row.key,
        "scale": row.scale,
        "mood_vector": format_features(row.mood_vector),
        "energy": row.energy,
        "other_features": format_features(row.other_features),
        "duration": row.duration,
        "path_or_url": row.path_or_url,
        "analysed_at": row.analysed_at or utcnow(),
        "model_version": row.model_version,
        "artist_id": row.artist_id or None,
    }


def save_album(store: Store, tracks: Sequence[TrackRow], errors: Sequence[ErrorRow] = ()) -> None:
    """Write one album's analyses and errors in a single transaction (idempotent upserts).

    A track that now analyses cleanly loses its old error row; a track that now fails keeps its old
    analysis (a transient failure must not erase good data).
    """
    with store.begin() as conn:
        upsert(conn, score, [_score_values(t) for t in tracks], ["item_id"])
        vectors = [
            {"item_id": t.item_id, "dim": int(t.embedding.shape[0]), "vector": encode_vector(t.embedding),
             "tags": encode_vector(t.tags) if t.tags is not None else None}
            for t in tracks
            if t.embedding is not None
        ]
        upsert(conn, embedding, vectors, ["item_id"])
        fingerprint_store.write(conn, [t.fingerprint for t in tracks if t.fingerprint is not None])
        if tracks:
            conn.execute(delete(analysis_error).where(analysis_error.c.item_id.in_([t.item_id for t in tracks])))
        upsert(
            conn,
            analysis_error,
            [
                {
                    "item_id": e.item_id,
                    "path": e.path,
                    "error_class": e.error_class,
                    "message": e.message[:2000],
                    "model_version": e.model_version,
                    "at": utcnow(),
                }
                for e in errors
            ],
            ["item_id"],
        )


def analysed_ids(store: Store, model_version: str | None = None) -> set[str]:
    """Item ids with a stored analysis (of ``model_version`` when given)."""
    stmt = select(score.c.item_id)
    if model_version is not None:
        stmt = stmt.where(score.c.model_version == model_version)
    with store.connect() as conn:
        return {r[0] for r in conn.execute(stmt)}


def analysed_among(store: Store, item_ids: Iterable[str], model_version: str | None = None,
                   chunk: int = 500) -> set[str]:
    """Which of ``item_ids`` have a stored analysis (of ``model_version`` when given): one query per
    ``chunk`` ids, so a planner checks a page of albums at a time instead of loading every analysed id."""
    ids = list(dict.fromkeys(item_ids))
    found: set[str] = set()
    with store.connect() as conn:
        for lo in range(0, len(ids), chunk):
            stmt = select(score.c.item_id).where(score.c.item_id.in_(ids[lo:lo + chunk]))
            if model_version is not None:
                stmt = stmt.where(score.c.model_version == model_version)
            found.update(r[0] for r in conn.execute(stmt))
    return found


def failed_ids(store: Store, model_version: str | None = None) -> set[str]:
    stmt = select(analysis_error.c.item_id)
    if model_version is not None:
        stmt = stmt.where(analysis_error.c.model_version == model_version)
    with store.connect() as conn:
        return {r[0] for r in conn.execute(stmt)}


def count_tracks(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(score)).scalar_one())


def count_embeddings(store: Store) -> int:
    """How many tracks have an embedding: what a current similarity index holds."""
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(embedding)).scalar_one())


def _row_to_track(r, vec: np.ndarray | None = None, tags: np.ndarray | None = None) -> TrackRow:
    return TrackRow(
        item_id=r.item_id,
        title=r.title,
        author=r.author,
        album=r.album,
        album_artist=r.album_artist,
        tempo=r.tempo,
        key=r.key,
        scale=r.scale,
        mood_vector=parse_features(r.mood_vector),
        energy=r.energy,
        other_features=parse_features(r.other_features),
        duration=r.duration,
        path_or_url=r.path_or_url,
        analysed_at=r.analysed_at,
        model_version=r.model_version,
        embedding=vec,
        tags=tags,
        artist_id=r.artist_id,
    )


def get_tracks(store: Store, item_ids: Iterable[str] | None = None, *, with_embeddings: bool = False) -> list[TrackRow]:
    """Tracks by id (in the order asked, unknown ids skipped), or every track when ``item_ids`` is None."""
    ids = None if item_ids is None else list(item_ids)
    stmt = select(score, embedding.c.dim, embedding.c.vector, embedding.c.tags).select_from(
        score.outerjoin(embedding, embedding.c.item_id == score.c.item_id)
    )
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(score.c.item_id.in_(ids))
    else:
        stmt = stmt.order_by(score.c.item_id)
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    found = {
        r.item_id: _row_to_track(
            r,
            decode_vector(r.vector, r.dim) if with_embeddings and r.vector is not None else None,
            np.frombuffer(r.tags, dtype="<f4") if with_embeddings and r.tags is not None else None,
        )
        for r in rows
    }
    order = ids if ids is not None else [r.item_id for r in rows]
    return [found[i] for i in order if i in found]


def load_embeddings(store: Store) -> tuple[list[str], np.ndarray]:
    """All embeddings as (item ids, float32 matrix of shape (n, dim)), ordered by item id."""
    with store.connect() as conn:
        rows = conn.execute(select(embedding).order_by(embedding.c.item_id)).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    ids = [r.item_id for r in rows]
    mat = np.stack([decode_vector(r.vector, r.dim) for r in rows]).astype(np.float32, copy=False)
    return ids, mat


def list_errors(store: Store) -> list[ErrorRow]:
    with store.connect() as conn:
        rows = conn.execute(select(analysis_error).order_by(analysis_error.c.path)).all()
    return [ErrorRow(r.item_id, r.path, r.error_class, r.message, r.model_version) for r in rows]
