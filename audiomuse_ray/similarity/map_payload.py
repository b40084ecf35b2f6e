"""``/api/map`` bodies, made from the snapshot's columns when first asked for, gzipped as they are written.

A bucket is 25/50/75/100 % of the library (AudioMuse-AI's ``percent``), optionally thinned to at most
``max_points`` evenly spread songs (what a drawing needs: the UI asks for 20,000). Bodies are written block
by block through one gzip stream, so a million-song bucket never exists as a million dicts at once; small
ones are kept for the next request, big ones are made again (they are rare, and would cost every replica
tens of MB).
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict

import numpy as np

from audiomuse_ray.similarity.meta import TrackColumns
from audiomuse_ray.similarity.projection import sample_indices

BLOCK = 20_000
CACHE_BODY_MAX = 4 * 1024 * 1024  # keep bodies up to this many gzipped bytes
CACHE_TOTAL = 16 * 1024 * 1024


def bucket_rows(n: int, percent: int, max_points: int | None = None) -> np.ndarray:
    rows = sample_indices(n, percent)
    if max_points is not None and 0 < max_points < len(rows):
        rows = rows[np.unique(np.linspace(0, len(rows) - 1, max_points).astype(int))]
    return rows


def gzip_body(columns: TrackColumns, coords: np.ndarray, method: str, rows: np.ndarray) -> bytes:
    """Gzipped JSON ``{"items": [{item_id, title, artist, mood_vector, embedding_2d}], "projection", "count"}``."""
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    out = [z.compress(b'{"items":[')]
    for lo in range(0, len(rows), BLOCK):
        part = rows[lo:lo + BLOCK]
        xy = np.round(coords[part].astype(np.float64), 3).tolist()
        items = [{"item_id": i, "title": t, "artist": a, "mood_vector": m, "embedding_2d": p}
                 for i, t, a, m, p in zip(columns.ids.take(part), columns.title.take(part),
                                          columns.author.take(part), columns.top_tag.take(part), xy)]
        text = json.dumps(items, separators=(",", ":"))[1:-1]
        out.append(z.compress(((b"," if lo else b"") + text.encode())))
    out.append(z.compress(f'],"projection":{json.dumps(method)},"count":{len(rows)}}}'.encode()))
    out.append(z.flush())
    return b"".join(out)


class MapBodies:
    """The bodies of one snapshot, made on demand; the small ones cached (least recently used first out)."""

    def __init__(self, columns: TrackColumns, coords: np.ndarray, method: str):
        self.columns, self.coords, self.method = columns, coords, method
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, percent: int, max_points: int | None = None) -> bytes:
        key = (int(percent), max_points)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        body = gzip_body(self.columns, self.coords, self.method, bucket_rows(len(self.columns), percent, max_points))
        if len(body) <= CACHE_BODY_MAX:
            with self._lock:
                self._cache[key] = body
                while sum(len(b) for b in self._cache.values()) > CACHE_TOTAL:
                    self._cache.popitem(last=False)
        return body
