"""The similarity use cases: typed arguments in (parsed by the HTTP edge or the CLI), JSON-ready bodies out.

Each function takes the holder's snapshot, calls one core function and shapes the result exactly as the
AudioMuse-AI plugins read it. Counts are clamped to their documented bounds (AudioMuse-AI's clients send
large ones); every other problem is raised as a typed error that carries its HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from audiomuse_ray.api.holder import Snapshot
from audiomuse_ray.errors import BadRequest, IndexNotBuilt, UnknownTrack
from audiomuse_ray.providers.base import MediaProvider, UserCredentials
from audiomuse_ray.similarity import alchemy as alchemy_core
from audiomuse_ray.similarity.artists import ArtistProfile
from audiomuse_ray.similarity.fingerprint import DEFAULT_NEIGHBOURS, TOP_N_SONGS, fingerprint
from audiomuse_ray.similarity.library import ANGULAR, Library, normalise
from audiomuse_ray.similarity.path import PathOptions, find_path
from audiomuse_ray.similarity.projection import PERCENTS, project_pca
from audiomuse_ray.similarity.search import find_title_artist
from audiomuse_ray.similarity.similar import SimilarOptions, farthest, similar_tracks


def clamp(value: int | None, default: int | None, lo: int, hi: int | None = None) -> int | None:
    """``value`` within ``[lo, hi]``; None means ``default``."""
    if value is None:
        return default
    value = max(lo, value)
    return min(hi, value) if hi is not None else value


@dataclass(frozen=True)
class SongRef:
    """A song named by its id, or by title and artist (the Jellyfin plugin's form)."""

    item_id: str = ""
    title: str = ""
    artist: str = ""


@dataclass(frozen=True)
class AlchemyItem:
    """One ingredient of a mix: a song or an artist (by id or name), added or subtracted."""

    id: str
    kind: str = "song"  # "song" or "artist"
    subtract: bool = False


def search(snap: Snapshot, query: str, start: int | None = None, end: int | None = None) -> list[dict]:
    return [m.row() for m in snap.search.search(query.strip(), clamp(start, 0, 0), end)]


def resolve(lib: Library, ref: SongRef) -> int:
    """A library row from ``item_id``, or from ``title`` + ``artist`` (exact, then containment)."""
    if ref.item_id:
        return lib.row(ref.item_id)
    title, artist = normalise(ref.title), normalise(ref.artist)
    if not (title and artist):
        raise BadRequest("Request must include either 'item_id' or both 'title' and 'artist'.")
    row = find_title_artist(lib.meta, title, artist)
    if row is not None:
        return row
    raise UnknownTrack(f"Track '{ref.title}' by '{ref.artist}' not found in the database.")


def similar(snap: Snapshot, ref: SongRef, n: int | None = 10, eliminate_duplicates: bool | None = True,
            mood_similarity: bool | None = False, radius_similarity: bool | None = True) -> list[dict]:
    lib = snap.library
    seed = resolve(lib, ref)
    options = SimilarOptions(
        n=clamp(n, 10, 1, 1000),
        eliminate_duplicates=True if eliminate_duplicates is None else eliminate_duplicates,
        mood_similarity=bool(mood_similarity),
        radius_similarity=True if radius_similarity is None else radius_similarity,
    )
    return [{**lib.meta.song(r), "distance": float(d)} for r, d in similar_tracks(lib, seed, options)]


def track(snap: Snapshot, item_id: str) -> dict:
    if not item_id:
        raise BadRequest("Missing 'item_id'.")
    return snap.library.meta[snap.library.row(item_id)].row()


def max_distance(snap: Snapshot, item_id: str) -> dict:
    """How far the farthest track is from ``item_id`` (plugins scale similar-track distances by it)."""
    if not item_id:
        raise BadRequest("Missing 'item_id' parameter.")
    lib = snap.library
    far, dist = farthest(lib, lib.row(item_id))
    return {"max_distance": dist, "farthest_item_id": lib.meta[far].item_id}


def path(snap: Snapshot, start_id: str, end_id: str, max_steps: int | None = 25, metric: str = ANGULAR,
         fixed_size: bool = False) -> dict:
    """``fixed_size``: exactly ``max_steps`` songs (AudioMuse-AI's ``path_fix_size``)."""
    lib = snap.library
    if not start_id or not end_id:
        raise BadRequest("Both a start and end song must be provided.")
    if start_id == end_id:
        raise BadRequest("Start and end songs cannot be the same.")
    options = PathOptions(max_steps=clamp(max_steps, 25, 2, 200), metric=metric, fixed_size=fixed_size)
    result = find_path(lib, lib.row(start_id), lib.row(end_id), options)
    rows = [{**lib.meta[r].row(), "embedding_vector": [round(float(x), 6) for x in lib.vectors[r]]} for r in result.rows]
    return {"path": rows, "total_distance": result.total_distance}


def alchemy(snap: Snapshot, items: list[AlchemyItem], n: int | None = None, temperature: float | None = None,
            subtract_distance: float | None = None, seed: int | None = None, metric: str = ANGULAR) -> dict:
    lib = snap.library
    add, sub = [], []
    add_artists: list[ArtistProfile] = []
    sub_artists: list[ArtistProfile] = []
    for item in items:
        if item.kind not in ("song", "artist"):
            raise BadRequest("Invalid request: items must be of type 'song' or 'artist'.")
        if item.kind == "artist":
            if snap.artists is None:
                raise IndexNotBuilt("The artist index is not built yet: run the analysis first.")
            (sub_artists if item.subtract else add_artists).append(snap.artists.find(item.id))
        else:
            (sub if item.subtract else add).append(lib.row(item.id))
    if not add and not add_artists:
        raise BadRequest("Invalid request")
    if subtract_distance is not None and subtract_distance < 0:
        raise BadRequest(f"Parameter 'subtract_distance' must be at least 0; got {subtract_distance:g}.")
    rng = np.random.default_rng(clamp(seed, None, 0))
    res = alchemy_core.alchemy(lib, add, sub, n=clamp(n, alchemy_core.DEFAULT_N, 1, alchemy_core.MAX_N),
                               temperature=1.0 if temperature is None else temperature,
                               subtract_distance=subtract_distance, metric=metric, rng=rng,
                               add_anchors=_anchors(add_artists), subtract_anchors=_anchors(sub_artists))
    artist_rows = [r for a in add_artists + sub_artists for r in a.rows]
    coords, method = _coords_for(lib, [r for r, _ in res.results] + [r for r, _ in res.filtered_out] + add + sub
                                 + artist_rows)

    def point(r: int, extra: dict | None = None) -> dict:
        return {**lib.meta[r].row(), **(extra or {}), "embedding_2d": coords[r]}

    def centroid(rows: list[int], artists: list[ArtistProfile] = ()) -> list[float] | None:
        points = [coords[r] for r in rows] + [artist_point(a)["embedding_2d"] for a in artists]
        return [float(x) for x in np.mean(points, axis=0)] if points else None

    def artist_point(a: ArtistProfile) -> dict:
        xy = np.mean([coords[r] for r in a.rows], axis=0)
        return {"item_id": a.artist_id or a.name, "title": a.name, "author": a.name, "type": "artist",
                "embedding_2d": [round(float(x), 4) for x in xy]}

    return {
        "results": [point(r, {"distance": d}) for r, d in res.results],
        "filtered_out": [point(r, {"distance": d}) for r, d in res.filtered_out],
        "centroid_2d": centroid(add, add_artists),
        "add_centroid_2d": centroid(add, add_artists),
        "subtract_centroid_2d": centroid(sub, sub_artists),
        "add_centroid_vector": [float(x) for x in res.add_centroid],
        "subtract_centroid_vector": None if res.subtract_centroid is None else [float(x) for x in res.subtract_centroid],
        "add_points": [{**_point_ref(lib, r), "type": "song", "embedding_2d": coords[r]} for r in add]
        + [artist_point(a) for a in add_artists],
        "sub_points": [{**_point_ref(lib, r), "type": "song", "embedding_2d": coords[r]} for r in sub]
        + [artist_point(a) for a in sub_artists],
        "projection": method,
    }


def _anchors(artists: list[ArtistProfile]) -> list[tuple[np.ndarray, float]]:
    """An artist weighs as much as one song: its components' centroids, weighted by their share."""
    return [(a.centroids[c], float(a.weights[c])) for a in artists for c in range(len(a.weights))]


def _point_ref(lib: Library, r: int) -> dict:
    m = lib.meta[r]
    return {"item_id": m.item_id, "title": m.title, "author": m.author}


def _coords_for(lib: Library, rows: list[int]) -> tuple[dict[int, list[float]], str]:
    """2-D positions: the stored map where it exists, else a PCA of just these songs."""
    unique = list(dict.fromkeys(rows))
    if lib.projection is not None and lib.projection.shape[0] == lib.size:
        return {r: [round(float(x), 4) for x in lib.projection[r]] for r in unique}, "precomputed"
    pts = project_pca(lib.vectors[unique]) if len(unique) > 1 else np.zeros((len(unique), 2))
    return {r: [round(float(x), 4) for x in pts[i]] for i, r in enumerate(unique)}, "pca"


def sonic_fingerprint(snap: Snapshot, provider: MediaProvider, creds: UserCredentials, n: int | None = None,
                      now: datetime | None = None) -> list[dict]:
    lib = snap.library
    total = clamp(n, DEFAULT_NEIGHBOURS, 1, 1000)
    records = [r for r in provider.top_played(creds, limit=TOP_N_SONGS) if r.item_id in lib.index.row_of]
    if not records:
        return []
    rows = [lib.row(r.item_id) for r in records]
    target = fingerprint(lib.vectors[rows], records, now or datetime.now(timezone.utc))
    out = [{**_point_ref(lib, r), "distance": 0.0} for r in rows][:total]
    seen = {lib.meta[r].item_id for r in rows}
    neighbours, dists = lib.neighbours(target, min(lib.size, total + len(rows) + 20))
    for r, d in zip(neighbours, dists):
        if len(out) >= total:
            break
        m = lib.meta[int(r)]
        if m.item_id not in seen:
            seen.add(m.item_id)
            out.append({**_point_ref(lib, int(r)), "distance": float(d)})
    return out


def map_bucket(snap: Snapshot, percent: str | None = None, n: int | None = None,
               max_points: int | None = None) -> bytes:
    """The gzipped JSON of one percent bucket (``percent``, or legacy ``n`` as a count); default 25 %;
    ``max_points``: thinned to at most that many songs, evenly spread (made once per snapshot)."""
    if percent:
        try:
            pct = float(percent.strip().rstrip("%"))
        except ValueError:
            pct = -1.0
    elif n is not None:
        ratio = max(0, n) / max(1, snap.library.size)
        pct = next(q for q in PERCENTS if ratio <= q / 100 or q == 100)
    else:
        pct = 25
    if pct not in PERCENTS:
        raise BadRequest("Parameter 'percent' must be 25, 50, 75 or 100.")
    return snap.maps.body(int(pct), max_points) if max_points else snap.maps[int(pct)]
