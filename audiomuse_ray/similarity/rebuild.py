"""Rebuild the stored index (and its 2-D map) from the store's embeddings, after an analysis or on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from audiomuse_ray.similarity.artists import ARTIST_INDEX_NAME, ArtistIndex
from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, build_index
from audiomuse_ray.similarity.projection import decode_coords, encode_coords, project
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes, tracks

if TYPE_CHECKING:  # library.py imports this module's neighbours; only the annotation needs it
    from audiomuse_ray.similarity.library import Library


@dataclass(frozen=True)
class Rebuilt:
    """A freshly stored index version, loaded once: callers go on to its map without reading it again."""

    library: "Library"
    artists: ArtistIndex

    @property
    def version(self) -> int:
        return self.library.version


def rebuild(store: Store, params: IndexParams = IndexParams()) -> Rebuilt | None:
    """Build from every stored embedding and save a new version, then the artist index of that version;
    None when nothing is analysed yet."""
    from audiomuse_ray.similarity.library import load_library

    ids, matrix = tracks.load_embeddings(store)
    if not ids:
        return None
    version = indexes.save_index(store, INDEX_NAME, build_index(matrix, params), ids, int(matrix.shape[1]))
    library = load_library(store, params, version=version)
    return Rebuilt(library, save_artist_index(store, library))


def rebuild_index(store: Store, params: IndexParams = IndexParams()) -> int | None:
    """``rebuild`` for callers that only need the new version number."""
    rebuilt = rebuild(store, params)
    return None if rebuilt is None else rebuilt.version


def save_artist_index(store: Store, library) -> ArtistIndex:
    """Build the artists of ``library`` and store them under its track index version."""
    artists = ArtistIndex.build(library)
    data, names = artists.to_bytes()
    indexes.save_index(store, ARTIST_INDEX_NAME, data, names, int(library.vectors.shape[1]), version=library.version)
    return artists


def ensure_artist_index(store: Store, library) -> ArtistIndex:
    """The artist index of ``library``'s version: loaded if stored (a database indexed before artist indexes
    existed has none), else built and stored."""
    stored = indexes.load_index(store, ARTIST_INDEX_NAME, library.version)
    if stored is not None:
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
