"""The single source of truth: tracks, embeddings, indexes, playlists and task records.

SQL lives only in this package. Import the repository modules (``store.tracks``, ``store.tasks``, ...)
and pass them a ``Store`` from ``open_store``.
"""

from audiomuse_ray.store.db import Store, open_store, schema_version, upsert, utcnow

__all__ = ["Store", "open_store", "schema_version", "upsert", "utcnow"]
