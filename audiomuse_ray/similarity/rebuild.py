"""Rebuild the stored index (and its 2-D map) from the store's embeddings, after an analysis or on demand."""

from __future__ import annotations

import numpy as np

from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, build_index
from audiomuse_ray.similarity.projection import decode_coords, encode_coords, project
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes, tracks


def rebuild_index(store: Store, params: IndexParams = IndexParams()) -> int | None:
    """Build from every stored embedding and save a new version; None when nothing is analysed yet."""
    ids, matrix = tracks.load_embeddings(store)
    if not ids:
        return None
    return indexes.save_index(store, INDEX_NAME, build_index(matrix, params), ids, int(matrix.shape[1]))


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
