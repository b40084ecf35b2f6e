"""An in-memory snapshot of the analysed library: the Voyager index, the embeddings and the metadata every
similarity route returns. Built once per index version by whoever serves queries.

Nothing in it is a Python object per track (issue #20: a million tracks in one replica): the embeddings are
read out of a float32 index with each track's length kept aside, or kept as one float16 array beside a
compact E4M3 index (``vectors``), the metadata are columns (``meta.TrackColumns``), the id map is an array
with a hash lookup. ``lib.meta[i]`` still gives one row as a ``TrackMeta``. Over a compact index,
``neighbours`` re-ranks a few more candidates than asked by their exact cosine, so what every tool sees is
the same nearest tracks and distances a float32 index gives.

Distances: Voyager's cosine space gives ``1 - cos``; the path and alchemy tools use angular distance
``arccos(cos) / pi`` (0..1) or euclidean, as AudioMuse-AI's ``PATH_DISTANCE_METRIC`` chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from audiomuse_ray.errors import IndexNotBuilt, UnknownTrack
from audiomuse_ray.similarity.index import FLOAT32, INDEX_NAME, IndexParams, LoadedIndex, load_index_chunks, new_index
from audiomuse_ray.similarity.meta import TrackColumns, TrackMeta, normalise  # noqa: F401 (re-exported)
from audiomuse_ray.similarity.vectors import HalfVectors, IndexVectors, RowMatrix
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes

ANGULAR, EUCLIDEAN = "angular", "euclidean"
COLUMNS = "columns"  # the index version's part holding the metadata columns
VECTORS = "vectors"  # beside a compact index: the embeddings as float16, row order
RERANK_EXTRA = 10  # a compact index is asked for max(10, k/4) candidates more than wanted


@dataclass
class Library:
    index: LoadedIndex
    vectors: RowMatrix  # (n, dim) float32 rows, row i = item_ids[i]
    columns: TrackColumns = field(repr=False)
    projection: np.ndarray | None = None  # (n, 2) map coordinates when computed
    projection_method: str = "none"

    @classmethod
    def from_arrays(cls, vectors: np.ndarray, meta: Sequence[TrackMeta], version: int = 1,
                    params: IndexParams = IndexParams()) -> "Library":
        """Index ``vectors`` directly (tests, benchmarks): no store involved."""
        matrix = np.asarray(vectors, np.float32)
        columns = TrackColumns.from_meta(list(meta), np.linalg.norm(matrix, axis=1))
        compact = params.storage_for(len(matrix)) != FLOAT32
        return cls.from_index(new_index(matrix, params), columns, version, HalfVectors.of(matrix) if compact else None)

    @classmethod
    def from_index(cls, index, columns: TrackColumns, version: int, vectors: RowMatrix | None = None) -> "Library":
        """A float32 index gives the vectors back; a compact one needs ``vectors`` beside it."""
        return cls(LoadedIndex(index, columns.ids, version, columns.lookup),
                   vectors if vectors is not None else IndexVectors(index, columns.norms), columns)

    @property
    def compact(self) -> bool:
        """The index only approximates the vectors (E4M3): its candidates are re-ranked exactly."""
        return not isinstance(self.vectors, IndexVectors)

    @property
    def meta(self) -> TrackColumns:
        return self.columns

    @meta.setter
    def meta(self, rows: Sequence[TrackMeta]) -> None:
        """Replace the metadata with ``rows`` (tests that make two songs the same one)."""
        self.columns = TrackColumns.from_meta(list(rows), self.columns.norms)
        self.index.item_ids, self.index.row_of = self.columns.ids, self.columns.lookup
        self.__dict__.pop("norms", None)

    @property
    def version(self) -> int:
        return self.index.version

    @property
    def size(self) -> int:
        return len(self.columns)

    @cached_property
    def norms(self) -> np.ndarray:
        """(n,) length of each row of ``vectors``."""
        return np.maximum(self.columns.norms, 1e-12)

    def row(self, item_id: str) -> int:
        row = self.index.row_of.get(item_id)
        if row is None:
            raise UnknownTrack(f"Track {item_id!r} is not in the analysed library.")
        return row

    def neighbours(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine distances) of the ``k`` nearest rows, nearest first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        vector = np.asarray(vector, np.float32)
        wide = min(self.size, k + max(RERANK_EXTRA, k // 4)) if self.compact else k
        ids, dists = self.index.index.query(vector, k=wide, query_ef=max(wide, self.index.index.ef))
        ids = ids.astype(np.int64)
        if not self.compact:
            return ids, dists
        cand = self.vectors[ids]
        cos = (cand @ vector) / np.maximum(np.linalg.norm(cand, axis=1) * np.linalg.norm(vector), 1e-12)
        order = np.argsort(-cos, kind="stable")[:k]
        return ids[order], (1.0 - cos[order]).astype(np.float32)

    def nbytes(self) -> int:
        """What the snapshot holds besides the Voyager index itself."""
        vectors = self.vectors.nbytes()
        projection = 0 if self.projection is None else self.projection.nbytes
        return int(self.columns.nbytes() + vectors + projection)


def distance(a: np.ndarray, b: np.ndarray, metric: str = ANGULAR) -> np.ndarray | float:
    """Angular (arccos of the cosine / pi, 0..1) or euclidean distance; ``b`` may be a (n, dim) matrix."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if metric == EUCLIDEAN:
        return np.linalg.norm(b - a, axis=-1)
    na = np.linalg.norm(a)
    nb = np.linalg.norm(b, axis=-1)
    cos = (b @ a) / np.maximum(na * nb, 1e-12)
    return np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi


def load_library(store: Store, params: IndexParams = IndexParams(), version: int | None = None,
                 tmp_dir: str | None = None) -> Library:
    """The newest stored index (or ``version``) with the metadata of its rows, streamed from the store."""
    head = indexes.header(store, INDEX_NAME, version)
    if head is None:
        raise IndexNotBuilt("No similarity index yet: run the analysis first (audiomuse-ray analyze).")
    if head.legacy or COLUMNS not in head.parts:
        return _library_from_rows(store, head, params)
    read = lambda part: indexes.read_part(store, INDEX_NAME, head.version, part, head.parts.get(part))  # noqa: E731
    columns = TrackColumns.from_bytes(read(indexes.IDS), read(COLUMNS))
    vectors = None
    if VECTORS in head.parts:
        vectors = HalfVectors(np.frombuffer(read(VECTORS), np.float16).reshape(len(columns), head.dim))
    index = load_index_chunks(indexes.iter_part(store, INDEX_NAME, head.version, indexes.DATA), params, tmp_dir)
    return Library.from_index(index, columns, head.version, vectors)


def _library_from_rows(store: Store, head: indexes.IndexHeader, params: IndexParams) -> Library:
    """A version written before its columns were stored (revision 0006): metadata from the score rows."""
    from audiomuse_ray.similarity.index import load_index_bytes
    from audiomuse_ray.similarity.rebuild import library_rows

    if head.legacy:
        data, item_ids = indexes.load_legacy(store, INDEX_NAME, head.version)
    else:
        stored = indexes.load_index(store, INDEX_NAME, head.version)
        data, item_ids = stored.data, stored.item_ids
    loaded = load_index_bytes(data, item_ids, head.version, params)
    columns, _matrix = library_rows(store, item_ids, head.dim)
    return Library.from_index(loaded.index, columns, head.version)  # such versions are float32
