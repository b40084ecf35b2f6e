"""The analysed library read as columns, for the jobs that need all of it (index builds, clustering).

Rows are streamed from the database in batches (a server-side cursor on PostgreSQL) and land in numpy
arrays and plain lists, so a million tracks cost their arrays and one batch of rows, never a million
``TrackRow`` objects with a dict each. Ordered by item id, as the index numbers its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
from sqlalchemy import func, select

from audiomuse_ray.store.db import Store
from audiomuse_ray.store.schema import embedding, score

BATCH = 20_000


@dataclass
class LibraryColumns:
    """Every track with an embedding: ``vectors`` (n, dim) float32 and the score columns asked for (None
    where a track has no score row, which ``save_album`` never leaves)."""

    item_ids: list[str]
    vectors: np.ndarray
    fields: dict[str, list]
    tags: np.ndarray | None = None  # (n, labels) float32 when asked for; NaN rows where none were stored

    @property
    def size(self) -> int:
        return len(self.item_ids)


def _batches(store: Store, stmt, batch: int) -> Iterator[Sequence]:
    with store.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
        yield from result.partitions(batch)


def count_embeddings(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(embedding)).scalar_one())


def load_library_columns(store: Store, fields: Sequence[str] = (), *, tags: bool = False,
                         require_tags: bool = False, vectors: bool = True, batch: int = BATCH) -> LibraryColumns:
    """Embeddings with the ``score`` columns named in ``fields``; ``tags`` adds the stored tag scores
    (``require_tags`` skips tracks without them, as clustering needs); ``vectors=False`` leaves the
    embeddings in the database (``vectors`` is then (n, 0))."""
    cols = [embedding.c.item_id, embedding.c.dim, *[score.c[f] for f in fields]]
    if vectors:
        cols.append(embedding.c.vector)
    if tags:
        cols.append(embedding.c.tags)
    stmt = select(*cols).select_from(embedding.outerjoin(score, score.c.item_id == embedding.c.item_id))
    if require_tags:
        stmt = stmt.where(embedding.c.tags.is_not(None))
    stmt = stmt.order_by(embedding.c.item_id)
    expected = count_embeddings(store)
    want_vectors = vectors
    ids: list[str] = []
    values: dict[str, list] = {f: [] for f in fields}
    matrix: np.ndarray | None = None
    tag_blocks: list[np.ndarray] = []
    extra: list[np.ndarray] = []  # rows written while this read ran, past the count taken first
    for part in _batches(store, stmt, batch):
        dim = int(part[0].dim) if want_vectors else 0
        block = (np.frombuffer(b"".join(r.vector for r in part), "<f4").reshape(len(part), dim) if want_vectors
                 else np.zeros((len(part), 0), np.float32))
        if matrix is None:
            matrix = np.empty((max(expected, len(part)), dim), np.float32)
        lo = len(ids)
        fit = max(0, min(len(part), matrix.shape[0] - lo))
        matrix[lo:lo + fit] = block[:fit]
        if fit < len(part):
            extra.append(block[fit:].copy())
        ids.extend(r.item_id for r in part)
        for f in fields:
            values[f].extend(getattr(r, f) for r in part)
        if tags:
            tag_blocks.append(_tags(part))
    if matrix is None:
        return LibraryColumns([], np.zeros((0, 0), np.float32), values, np.zeros((0, 0), np.float32) if tags else None)
    matrix = matrix[:len(ids) - sum(len(e) for e in extra)]
    if extra:
        matrix = np.concatenate([matrix, *extra])
    return LibraryColumns(ids, matrix, values, np.concatenate(tag_blocks) if tags else None)


def _tags(part) -> np.ndarray:
    sizes = {len(r.tags) for r in part if r.tags is not None}
    width = max(sizes) // 4 if sizes else 0
    out = np.full((len(part), width), np.nan, np.float32)
    for i, r in enumerate(part):
        if r.tags is not None and len(r.tags) == 4 * width:
            out[i] = np.frombuffer(r.tags, "<f4")
    return out
