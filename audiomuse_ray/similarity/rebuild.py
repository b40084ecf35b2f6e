"""Rebuild the stored index from the store's embeddings (after an analysis, or on demand)."""

from __future__ import annotations

from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, build_index
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes, tracks


def rebuild_index(store: Store, params: IndexParams = IndexParams()) -> int | None:
    """Build from every stored embedding and save a new version; None when nothing is analysed yet."""
    ids, matrix = tracks.load_embeddings(store)
    if not ids:
        return None
    return indexes.save_index(store, INDEX_NAME, build_index(matrix, params), ids, int(matrix.shape[1]))
