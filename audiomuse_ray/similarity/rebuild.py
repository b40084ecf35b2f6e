"""Rebuild the stored index, its artist index and its 2-D map from the store's embeddings, after an analysis
or on demand: everything a replica loads, built once per version.

The library is read as columns (``store.columns``), the Voyager index built on every core, and each part
stored in chunks (``store.indexes``): the index, the ids, the metadata columns; then the artist index
and the map under the same version; the track index's header last, so a replica that sees the version
finds all of it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from audiomuse_ray.similarity.artists import ARTIST_INDEX_NAME, ArtistIndex
from audiomuse_ray.similarity.index import FLOAT32, INDEX_NAME, IndexParams, load_index_chunks, new_index, save_to_file
from audiomuse_ray.similarity.library import COLUMNS, VECTORS, Library
from audiomuse_ray.similarity.meta import TrackColumns, mood_matrix
from audiomuse_ray.similarity.projection import decode_coords, encode_coords, project
from audiomuse_ray.similarity.vectors import HalfVectors
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes
from audiomuse_ray.store.arrays import encode_strings
from audiomuse_ray.store.columns import load_library_columns
from audiomuse_ray.store.tracks import parse_features

log = logging.getLogger(__name__)
META_FIELDS = ("title", "author", "album", "album_artist", "artist_id", "mood_vector", "other_features")
ARTISTS = "artists"  # the artist index version's part holding its arrays


@dataclass(frozen=True)
class Rebuilt:
    """A freshly stored index version, loaded once: callers go on to its map without reading it again."""

    library: "Library"
    artists: ArtistIndex
    seconds: dict[str, float] = field(default_factory=dict)  # per step: read, index, artists, map, store

    @property
    def version(self) -> int:
        return self.library.version


def top_tag(mood_vector: str | None) -> str:
    """The first label of ``"rock:0.53,pop:0.2"``, "unknown" when there is none."""
    label = (mood_vector or "").split(",", 1)[0].rpartition(":")[0].strip()
    return label or "unknown"


def columns_from(ids: Sequence[str], fields: dict[str, list], norms: np.ndarray) -> TrackColumns:
    return TrackColumns.build(ids, fields["title"], fields["author"], fields["album"], fields["album_artist"],
                              fields["artist_id"], [top_tag(t) for t in fields["mood_vector"]],
                              mood_matrix([parse_features(t) if t else {} for t in fields["other_features"]]), norms)


def library_rows(store: Store, item_ids: Sequence[str], dim: int) -> tuple[TrackColumns, np.ndarray]:
    """Columns and embeddings of ``item_ids`` (an older version's rows, in its order) from the store."""
    read = load_library_columns(store, META_FIELDS)
    where = {item_id: i for i, item_id in enumerate(read.item_ids)}
    pick = np.array([where.get(i, -1) for i in item_ids], np.int64)
    matrix = np.zeros((len(item_ids), dim), np.float32)
    found = pick >= 0
    if read.size:
        matrix[found] = read.vectors[pick[found]]
    fields = {f: [read.fields[f][p] if p >= 0 else None for p in pick.tolist()] for f in META_FIELDS}
    return columns_from(list(item_ids), fields, np.linalg.norm(matrix, axis=1)), matrix


def rebuild(store: Store, params: IndexParams = IndexParams(), tmp_dir: str | None = None,
            map_method: str = "auto") -> Rebuilt | None:
    """Build from every stored embedding and save a new version with its artist index and map (``map_method``:
    auto, umap or pca); None when nothing is analysed yet."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    read = load_library_columns(store, META_FIELDS)
    if not read.size:
        return None
    matrix = read.vectors
    columns = columns_from(read.item_ids, read.fields, np.linalg.norm(matrix, axis=1))
    del read
    seconds["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = new_index(matrix, params)
    seconds["index"] = time.perf_counter() - t0
    version = indexes.next_version(store, INDEX_NAME)
    compact = params.storage_for(len(matrix)) != FLOAT32
    half = HalfVectors.of(matrix) if compact else None
    library = Library.from_index(index, columns, version, half)
    t0 = time.perf_counter()
    artists = ArtistIndex.build(library, matrix)
    seconds["artists"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    coords, method = project(matrix, map_method)
    library.projection, library.projection_method = coords, method
    seconds["map"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    save_artist_index(store, library, artists, tmp_dir)
    indexes.save_projection(store, INDEX_NAME, version, method, encode_coords(coords))
    path = save_to_file(index, tmp_dir)
    try:
        parts = {indexes.DATA: path, indexes.IDS: columns.ids_bytes(), COLUMNS: columns.to_bytes()}
        if half is not None:
            parts[VECTORS] = half.half
        indexes.save_parts(store, INDEX_NAME, parts, int(matrix.shape[1]), len(columns), version=version)
    finally:
        os.unlink(path)
    seconds["store"] = time.perf_counter() - t0
    log.info("index version %s: %d tracks; %s", version, len(columns),
             ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return Rebuilt(library, artists, seconds)


def rebuild_index(store: Store, params: IndexParams = IndexParams()) -> int | None:
    """``rebuild`` for callers that only need the new version number."""
    rebuilt = rebuild(store, params)
    return None if rebuilt is None else rebuilt.version


def save_artist_index(store: Store, library, artists: ArtistIndex | None = None,
                      tmp_dir: str | None = None) -> ArtistIndex:
    """Build (unless given) the artists of ``library`` and store them under its track index version: the
    arrays, the component names and the Voyager index as parts of their own."""
    artists = artists if artists is not None else ArtistIndex.build(library)
    data, names = artists.to_bytes(with_index=False)
    parts = {ARTISTS: data, indexes.IDS: encode_strings(names)}
    path = save_to_file(artists.index, tmp_dir) if artists.index is not None else None
    try:
        if path:
            parts[indexes.DATA] = path
        indexes.save_parts(store, ARTIST_INDEX_NAME, parts, int(library.vectors.shape[1]), len(names),
                           version=library.version)
    finally:
        if path:
            os.unlink(path)
    return artists


def ensure_artist_index(store: Store, library, tmp_dir: str | None = None) -> ArtistIndex:
    """The artist index of ``library``'s version: loaded if stored (a database indexed before artist indexes
    existed has none), else built and stored."""
    head = indexes.header(store, ARTIST_INDEX_NAME, library.version)
    if head is not None and ARTISTS in head.parts:
        data = indexes.read_part(store, ARTIST_INDEX_NAME, head.version, ARTISTS, head.parts[ARTISTS])
        index = None
        if indexes.DATA in head.parts:
            index = load_index_chunks(indexes.iter_part(store, ARTIST_INDEX_NAME, head.version, indexes.DATA),
                                      tmp_dir=tmp_dir)
        return ArtistIndex.from_bytes(library, bytes(data), index=index)
    if head is not None:  # stored before issue #20: npz of directions, names as the id map
        stored = indexes.load_index(store, ARTIST_INDEX_NAME, library.version)
        return ArtistIndex.from_bytes(library, stored.data, stored.item_ids)
    return save_artist_index(store, library)


def ensure_projection(store: Store, library) -> tuple[np.ndarray, str]:
    """The 2-D map coordinates of ``library``'s index version: loaded if stored, else computed and stored."""
    stored = indexes.load_projection(store, INDEX_NAME, library.version)
    if stored is not None:
        method, data = stored
        coords = decode_coords(data)
        if coords.shape[0] == library.size:
            return coords, method
    coords, method = project(library.vectors)
    indexes.save_projection(store, INDEX_NAME, library.version, method, encode_coords(coords))
    return coords, method
