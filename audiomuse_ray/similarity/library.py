"""An in-memory snapshot of the analysed library: the Voyager index, the raw embeddings and the metadata
every similarity route returns. Built once per index version by whoever serves queries.

Distances: Voyager's cosine space gives ``1 - cos``; the path and alchemy tools use angular distance
``arccos(cos) / pi`` (0..1) or euclidean, as AudioMuse-AI's ``PATH_DISTANCE_METRIC`` chooses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from audiomuse_ray.errors import IndexNotBuilt, UnknownTrack
from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, LoadedIndex, load_index_bytes
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes
from audiomuse_ray.store import tracks as track_store

ANGULAR, EUCLIDEAN = "angular", "euclidean"


@dataclass(frozen=True)
class TrackMeta:
    item_id: str
    title: str
    author: str
    album: str
    album_artist: str
    moods: dict[str, float] = field(default_factory=dict)  # other_features
    top_tag: str = "unknown"  # first label of mood_vector
    artist_id: str = ""  # the media server's id of ``author`` (empty when unknown)

    def row(self) -> dict:
        return {"item_id": self.item_id, "title": self.title, "author": self.author,
                "album": self.album or "unknown", "album_artist": self.album_artist or "unknown"}

    @cached_property  # normalising is the costliest step of the duplicate filters; frozen still allows this
    def signature(self) -> tuple[str, str]:
        return normalise(self.author), normalise(self.title)


def normalise(text: str | None) -> str:
    """Case- and accent-insensitive form: "Café  Ünïcode" -> "cafe unicode"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@dataclass
class Library:
    index: LoadedIndex
    vectors: np.ndarray  # (n, dim) float32, row i = item_ids[i]
    meta: list[TrackMeta]
    projection: np.ndarray | None = None  # (n, 2) map coordinates when computed
    projection_method: str = "none"

    @classmethod
    def from_arrays(cls, vectors: np.ndarray, meta: list[TrackMeta], version: int = 1,
                    params: IndexParams = IndexParams()) -> "Library":
        """Index ``vectors`` directly (tests, benchmarks): no store involved."""
        from audiomuse_ray.similarity.index import build_index

        data = build_index(vectors, params)
        return cls(index=load_index_bytes(data, [m.item_id for m in meta], version, params),
                   vectors=np.asarray(vectors, np.float32), meta=meta)

    @property
    def version(self) -> int:
        return self.index.version

    @property
    def size(self) -> int:
        return len(self.meta)

    @cached_property
    def norms(self) -> np.ndarray:
        """(n,) length of each row of ``vectors``, computed once per snapshot."""
        return np.maximum(np.linalg.norm(self.vectors, axis=1), 1e-12)

    def row(self, item_id: str) -> int:
        try:
            return self.index.row_of[item_id]
        except KeyError:
            raise UnknownTrack(f"Track {item_id!r} is not in the analysed library.") from None

    def neighbours(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine distances) of the ``k`` nearest rows, nearest first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        index = self.index.index
        if index.ef < k:
            index.ef = k
        ids, dists = index.query(np.asarray(vector, np.float32), k=k)
        return ids.astype(np.int64), dists


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


def load_library(store: Store, params: IndexParams = IndexParams(), version: int | None = None) -> Library:
    """The newest stored index (or ``version``) with the embeddings and metadata of its rows."""
    stored = indexes.load_index(store, INDEX_NAME, version)
    if stored is None:
        raise IndexNotBuilt("No similarity index yet: run the analysis first (audiomuse-ray analyze).")
    loaded = load_index_bytes(stored.data, stored.item_ids, stored.version, params)
    rows = {t.item_id: t for t in track_store.get_tracks(store, None, with_embeddings=True)}  # all: no huge IN list
    dim = stored.dim
    vectors = np.zeros((len(stored.item_ids), dim), np.float32)
    meta = []
    for i, item_id in enumerate(stored.item_ids):
        t = rows.get(item_id)
        if t is not None and t.embedding is not None:
            vectors[i] = t.embedding
        meta.append(TrackMeta(
            item_id=item_id, title=(t.title if t else "") or "", author=(t.author if t else "") or "",
            album=(t.album if t else "") or "", album_artist=(t.album_artist if t else "") or "",
            moods=dict(t.other_features) if t else {}, top_tag=next(iter(t.mood_vector), "unknown") if t else "unknown",
            artist_id=(t.artist_id if t else "") or "",
        ))
    return Library(index=loaded, vectors=vectors, meta=meta)
