"""Keeps the newest library snapshot in memory and swaps in a newer one without a restart.

A Serve replica owns one ``LibraryHolder``. ``refresh()`` compares the store's newest index version with
the loaded one and, when it changed, builds the new snapshot (index, metadata, search, map) beside the
old one and swaps the reference, so queries never see half a library. ``start_polling`` runs it in a
daemon thread every few seconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from audiomuse_ray.errors import IndexNotBuilt
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.similarity.library import Library, load_library
from audiomuse_ray.similarity.projection import map_payloads
from audiomuse_ray.similarity.artists import ArtistIndex
from audiomuse_ray.similarity.rebuild import ensure_artist_index, ensure_projection
from audiomuse_ray.similarity.search import SearchIndex
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    library: Library
    search: SearchIndex
    maps: dict[int, bytes]  # percent -> gzipped JSON
    map_method: str
    artists: ArtistIndex | None = None  # built with the same index version


class LibraryHolder:
    def __init__(self, store: Store):
        self.store = store
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def version(self) -> int | None:
        return self._snapshot.library.version if self._snapshot else None

    def current(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            self.refresh()
            snap = self._snapshot
        if snap is None:
            raise IndexNotBuilt("The similarity index is not built yet: run the analysis first (audiomuse-ray analyze).")
        return snap

    def refresh(self) -> bool:
        """Load the newest index version if it is not the loaded one. True when a new one was swapped in."""
        with self._lock:
            newest = indexes.latest_index_version(self.store, INDEX_NAME)
            if newest is None or newest == self.version:
                return False
            library = load_library(self.store, version=newest)
            coords, method = ensure_projection(self.store, library)
            items = [{"item_id": m.item_id, "title": m.title, "artist": m.author, "mood_vector": m.top_tag}
                     for m in library.meta]
            library.projection, library.projection_method = coords, method
            artists = ensure_artist_index(self.store, library)
            self._snapshot = Snapshot(library, SearchIndex(library.meta), map_payloads(items, coords, method), method,
                                      artists)
            log.info("loaded similarity index version %s (%d tracks)", newest, library.size)
            return True

    def start_polling(self, interval_s: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.refresh()
                except Exception:  # a transient database error must not kill the poller
                    log.exception("index refresh failed; will retry")

        threading.Thread(target=loop, name="index-poller", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
