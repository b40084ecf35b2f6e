"""The similarity routes' logic: parameters in (AudioMuse-AI's names), JSON-ready bodies out.

Each function takes the holder's snapshot and a parameter mapping, calls one core function and shapes
the result exactly as the AudioMuse-AI plugins read it. Errors are raised as types; the HTTP layer maps
them to status codes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

import numpy as np

from audiomuse_ray.api.holder import Snapshot
from audiomuse_ray.api.params import BadRequest, flag, integer, number, text
from audiomuse_ray.errors import IndexNotBuilt, UnknownTrack
from audiomuse_ray.providers.base import MediaProvider, UserCredentials
from audiomuse_ray.similarity import alchemy as alchemy_core
from audiomuse_ray.similarity.artists import ArtistProfile
from audiomuse_ray.similarity.fingerprint import DEFAULT_NEIGHBOURS, TOP_N_SONGS, fingerprint
from audiomuse_ray.similarity.library import ANGULAR, Library, normalise
from audiomuse_ray.similarity.path import PathOptions, find_path
from audiomuse_ray.similarity.projection import PERCENTS, project_pca
from audiomuse_ray.similarity.similar import SimilarOptions, farthest, similar_tracks


def search(snap: Snapshot, p: Mapping[str, Any]) -> list[dict]:
    query = text(p, "search_query") or f"{text(p, 'artist')} {text(p, 'title')}".strip()
    start = integer(p, "start", 0, lo=0)
    end = integer(p, "end", None)
    return [m.row() for m in snap.search.search(query, start, end)]


def resolve(lib: Library, p: Mapping[str, Any], id_name: str = "item_id") -> int:
    """A library row from ``item_id``, or from ``title`` + ``artist`` (exact, then containment)."""
    item_id = text(p, id_name)
    if item_id:
        return lib.row(item_id)
    title, artist = normalise(text(p, "title")), normalise(text(p, "artist"))
    if not (title and artist):
        raise BadRequest("Request must include either 'item_id' or both 'title' and 'artist'.")
    exact = [i for i, m in enumerate(lib.meta) if normalise(m.title) == title and normalise(m.author) == artist]
    loose = [i for i, m in enumerate(lib.meta) if title in normalise(m.title) and artist in normalise(m.author)]
    if exact or loose:
        return (exact or loose)[0]
    raise UnknownTrack(f"Track '{text(p, 'title')}' by '{text(p, 'artist')}' not found in the database.")


def similar(snap: Snapshot, p: Mapping[str, Any]) -> list[dict]:
    lib = snap.library
    seed = resolve(lib, p)
    options = SimilarOptions(
        n=integer(p, "n", 10, lo=1, hi=1000),
        eliminate_duplicates=flag(p, "eliminate_duplicates", True),
        mood_similarity=flag(p, "mood_similarity", False),
        radius_similarity=flag(p, "radius_similarity", True),
    )
    return [{**lib.meta[r].row(), "distance": float(d)} for r, d in similar_tracks(lib, seed, options)]


def track(snap: Snapshot, p: Mapping[str, Any]) -> dict:
    if not text(p, "item_id"):
        raise BadRequest("Missing 'item_id'.")
    return snap.library.meta[snap.library.row(text(p, "item_id"))].row()


def max_distance(snap: Snapshot, p: Mapping[str, Any]) -> dict:
    """How far the farthest track is from ``item_id`` (plugins scale similar-track distances by it)."""
    if not text(p, "item_id"):
        raise BadRequest("Missing 'item_id' parameter.")
    lib = snap.library
    far, dist = farthest(lib, lib.row(text(p, "item_id")))
    return {"max_distance": dist, "farthest_item_id": lib.meta[far].item_id}


def path(snap: Snapshot, p: Mapping[str, Any], metric: str = ANGULAR) -> dict:
    lib = snap.library
    start_id, end_id = text(p, "start_song_id"), text(p, "end_song_id")
    if not start_id or not end_id:
        raise BadRequest("Both a start and end song must be provided.")
    if start_id == end_id:
        raise BadRequest("Start and end songs cannot be the same.")
    max_steps = integer(p, "max_steps", 25, lo=2, hi=200)
    result = find_path(lib, lib.row(start_id), lib.row(end_id), PathOptions(max_steps=max_steps, metric=metric))
    rows = [{**lib.meta[r].row(), "embedding_vector": [round(float(x), 6) for x in lib.vectors[r]]} for r in result.rows]
    return {"path": rows, "total_distance": result.total_distance}


def alchemy(snap: Snapshot, body: Mapping[str, Any], metric: str = ANGULAR, seed: int | None = None) -> dict:
    lib = snap.library
    items = body.get("items") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise BadRequest("Invalid request")
    add, sub = [], []
    add_artists: list[ArtistProfile] = []
    sub_artists: list[ArtistProfile] = []
    for item in items:
        kind = str(item.get("type", "song")).lower() if isinstance(item, Mapping) else ""
        if kind not in ("song", "artist"):
            raise BadRequest("Invalid request: items must be of type 'song' or 'artist'.")
        subtract = str(item.get("op", "ADD")).upper() == "SUBTRACT"
        if kind == "artist":
            if snap.artists is None:
                raise IndexNotBuilt("The artist index is not built yet: run the analysis first.")
            (sub_artists if subtract else add_artists).append(snap.artists.find(str(item.get("id", ""))))
        else:
            (sub if subtract else add).append(lib.row(str(item.get("id", ""))))
    if not add and not add_artists:
        raise BadRequest("Invalid request")
    n = integer(body, "n", alchemy_core.DEFAULT_N, lo=1, hi=alchemy_core.MAX_N)
    temperature = number(body, "temperature", 1.0)
    subtract_distance = number(body, "subtract_distance", None, lo=0.0)
    rng = np.random.default_rng(integer(body, "seed", seed, lo=0))
    res = alchemy_core.alchemy(lib, add, sub, n=n, temperature=temperature, subtract_distance=subtract_distance,
                               metric=metric, rng=rng, add_anchors=_anchors(add_artists),
                               subtract_anchors=_anchors(sub_artists))
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


def sonic_fingerprint(snap: Snapshot, p: Mapping[str, Any], provider: MediaProvider,
                      now: datetime | None = None) -> list[dict]:
    lib = snap.library
    total = integer(p, "n", DEFAULT_NEIGHBOURS, lo=1, hi=1000)
    creds = UserCredentials(
        user=text(p, "jellyfin_user_identifier") or text(p, "navidrome_user") or text(p, "user"),
        token=text(p, "jellyfin_token"),
        password=text(p, "navidrome_password") or text(p, "password"),
    )
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


def map_bucket(snap: Snapshot, p: Mapping[str, Any]) -> bytes:
    """The gzipped JSON of one percent bucket (``percent``/``p``, or legacy ``n`` as a count)."""
    raw = text(p, "percent") or text(p, "p")
    if raw:
        try:
            pct = number({"percent": raw.rstrip("%")}, "percent", None)
        except BadRequest:
            raise BadRequest("Parameter 'percent' must be 25, 50, 75 or 100.") from None
    elif text(p, "n"):
        ratio = integer(p, "n", 0, lo=0) / max(1, snap.library.size)
        pct = next(q for q in PERCENTS if ratio <= q / 100 or q == 100)
    else:
        pct = 25
    if pct not in PERCENTS:
        raise BadRequest("Parameter 'percent' must be 25, 50, 75 or 100.")
    return snap.maps[int(pct)]
