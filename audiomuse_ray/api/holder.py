"""Keeps the newest library snapshot in memory and swaps in a newer one without a restart.

A Serve replica owns one ``LibraryHolder``. ``refresh()`` compares the store's newest index version with
the loaded one and, when it changed, loads the new snapshot (index, columns, artists, map coordinates:
all built once per version by the rebuild, streamed from the store) beside the old one and swaps the
reference, so queries never see half a library. ``start_polling`` runs it in a daemon thread every few
seconds. What a snapshot holds is arrays and one Voyager index per kind, never a Python object per track
(tests/similarity/test_scale_design.py checks it), so a million tracks fit one replica.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
from dataclasses import dataclass

from audiomuse_ray.errors import IndexNotBuilt
from audiomuse_ray.similarity.artists import ArtistIndex
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.similarity.library import Library, load_library
from audiomuse_ray.similarity.map_payload import MapBodies
from audiomuse_ray.similarity.rebuild import ensure_artist_index, ensure_projection
from audiomuse_ray.similarity.search import SearchIndex
from audiomuse_ray.store import Store
from audiomuse_ray.store import indexes

log = logging.getLogger(__name__)


class MapBuckets:
    """``maps[percent]``: the gzipped ``/api/map`` body of that bucket (``body`` also thins it)."""

    def __init__(self, bodies: MapBodies):
        self.bodies = bodies

    def __getitem__(self, percent: int) -> bytes:
        return self.bodies.body(int(percent))

    def body(self, percent: int, max_points: int | None = None) -> bytes:
        return self.bodies.body(int(percent), max_points)


@dataclass(frozen=True)
class Snapshot:
    library: Library
    search: SearchIndex
    maps: MapBuckets  # percent -> gzipped JSON, made on first request
    map_method: str
    artists: ArtistIndex | None = None  # built with the same index version


def load_snapshot(store: Store, version: int | None = None, tmp_dir: str | None = None) -> Snapshot:
    """Everything the routes read for one index version, from the store."""
    library = load_library(store, version=version, tmp_dir=tmp_dir)
    coords, method = ensure_projection(store, library)
    library.projection, library.projection_method = coords, method
    artists = ensure_artist_index(store, library, tmp_dir)
    return Snapshot(library, SearchIndex(library.meta), MapBuckets(MapBodies(library.meta, coords, method)), method,
                    artists)


def release_memory() -> None:
    """Give back what loading freed: the old snapshot now rather than at some later collection, Arrow's
    pool and the C heap's free pages (a load's temporaries would otherwise stay resident)."""
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001  (an older pyarrow without it: only less memory given back)
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass


class LibraryHolder:
    def __init__(self, store: Store, tmp_dir: str | None = None):
        self.store = store
        self.tmp_dir = tmp_dir
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
            release_memory()  # what requests left behind, before two snapshots are held at once
            snapshot = load_snapshot(self.store, newest, self.tmp_dir)
            self._snapshot = snapshot
            del snapshot
            release_memory()
            log.info("loaded similarity index version %s (%d tracks)", newest, self._snapshot.library.size)
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
