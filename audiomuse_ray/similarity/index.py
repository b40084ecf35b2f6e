"""Build, serialise and load the Voyager index (angular/cosine space over the 200-d embeddings).

The index is rebuilt from the store after each analysis and saved as a new version (``store.indexes``, in
chunks); Serve replicas load the newest version. Rows are numbered 0..n-1; the id map is an array
(``columns.Strings``) with a hash lookup, never a dict of a million strings.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from audiomuse_ray.similarity.columns import IdLookup, Strings

INDEX_NAME = "music_library"
FLOAT32, E4M3, FLOAT8, AUTO = "float32", "e4m3", "float8", "auto"
COMPACT_FROM = 250_000  # tracks from which ``auto`` keeps an E4M3 index and float16 vectors


@dataclass(frozen=True)
class IndexParams:
    """HNSW settings. M 16 / ef_construction 100 builds 100k tracks in about 35 s on two cores (M 32 / 200:
    68 s). On clustered, low-rank data like music embeddings, recall@41 at 100k was 0.999 with ef 64 and
    1.000 with ef 100 or with M 32 / ef 200; ef 64 answers about a fifth faster than ef 100. The floor is
    48: at 100k (float32) recall@41 0.998 against 0.999 at 64, queries 0.29 -> 0.22 ms; at 1M (E4M3,
    re-ranked) recall@10 as served stayed 0.998 and similar_tracks' query (51 candidates) went 0.49 -> 0.39 ms
    (benchmarks/scale.py's sweep). On 200-d white
    noise, the worst case for any graph index, recall is low for every setting (benchmarks/similarity.py
    measures both).

    ``storage``: how the index keeps each vector. float32 lets the replica read the embeddings back out of
    the index (``vectors.IndexVectors``) instead of keeping a second copy: about 1 KB a track with the
    graph. E4M3 keeps one byte a dimension (about 350 B a track) but only approximates the vectors, so the
    replica keeps them beside it as float16 (400 B) and re-ranks the index's candidates exactly; at a
    million tracks that is 750 MB instead of 1 GB, for a build about a quarter slower (benchmarks/scale.py).
    ``auto`` (the default): float32 below ``COMPACT_FROM`` tracks, E4M3 from there."""

    m: int = 16  # graph degree
    ef_construction: int = 100  # build-time beam width
    query_ef: int = 48  # query-time beam width (raised to k when a query asks for more)
    storage: str = AUTO
    threads: int = -1  # build threads; -1 = every core

    def storage_for(self, n_tracks: int) -> str:
        if self.storage != AUTO:
            return self.storage
        return FLOAT32 if n_tracks < COMPACT_FROM else E4M3


@dataclass
class LoadedIndex:
    index: object  # voyager.Index
    item_ids: Strings | Sequence[str]
    version: int
    row_of: IdLookup | None = None  # item id -> row

    def __post_init__(self) -> None:
        if not isinstance(self.item_ids, Strings):
            self.item_ids = Strings.of(self.item_ids)
        if self.row_of is None:
            self.row_of = IdLookup(self.item_ids)


def _storage(name: str):
    from voyager import StorageDataType

    try:
        return {FLOAT32: StorageDataType.Float32, E4M3: StorageDataType.E4M3, FLOAT8: StorageDataType.Float8}[name]
    except KeyError:
        raise ValueError(f"Unknown index storage {name!r}: use {FLOAT32}, {E4M3} or {FLOAT8}.") from None


def new_index(matrix: np.ndarray, params: IndexParams = IndexParams()):
    """A voyager.Index holding every row of ``matrix`` (n, dim) under its row number."""
    from voyager import Index, Space

    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError("build_index needs a non-empty (n, dim) matrix")
    index = Index(Space.Cosine, num_dimensions=int(matrix.shape[1]), M=params.m,
                  ef_construction=params.ef_construction, max_elements=int(matrix.shape[0]),
                  storage_data_type=_storage(params.storage_for(int(matrix.shape[0]))))
    index.add_items(np.ascontiguousarray(matrix, dtype=np.float32), ids=np.arange(matrix.shape[0]),
                    num_threads=params.threads)
    index.ef = params.query_ef
    return index


def build_index(matrix: np.ndarray, params: IndexParams = IndexParams()) -> bytes:
    """Index every row of ``matrix`` (n, dim) under its row number; return the serialised bytes."""
    return new_index(matrix, params).as_bytes()


def load_index_bytes(data: bytes, item_ids, version: int, params: IndexParams = IndexParams()) -> LoadedIndex:
    from voyager import Index

    index = Index.load(io.BytesIO(data))
    index.ef = params.query_ef
    return LoadedIndex(index=index, item_ids=item_ids, version=version)


def load_index_chunks(chunks, params: IndexParams = IndexParams(), tmp_dir: str | None = None):
    """A voyager.Index from its serialised bytes given chunk by chunk. Voyager reads a file-like object
    with one ``read`` of the whole graph, which would hold the bytes and the index at once; written to a
    temporary file and loaded by path, memory holds the index alone."""
    from voyager import Index

    fd, path = tempfile.mkstemp(prefix="audiomuse-index-", suffix=".voy", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        index = Index.load(path)
    finally:
        os.unlink(path)
    index.ef = params.query_ef
    return index


def save_to_file(index, tmp_dir: str | None = None) -> str:
    """The index serialised to a temporary file (the caller removes it): streamed into the store from there
    instead of held as one more copy in memory."""
    fd, path = tempfile.mkstemp(prefix="audiomuse-index-", suffix=".voy", dir=tmp_dir)
    os.close(fd)
    index.save(path)
    return path
