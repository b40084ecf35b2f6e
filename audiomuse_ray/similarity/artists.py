"""Similar artists: each artist's tracks summarised as a few directions, those directions in a Voyager index.

An artist (a track's ``author``) is summarised by spherical k-means over its tracks' unit embeddings: up to
``MAX_COMPONENTS`` components, about one per ``TRACKS_PER_COMPONENT`` tracks, each a unit direction with a
weight (its share of the artist's tracks). A band that plays both ballads and thrash keeps two directions
instead of one average that sounds like neither.

Two artists' distance is the weighted soft chamfer distance between their components (cosine distance
``1 - cos``): every component of one is matched to the nearest of the other, both ways, weighted and
averaged, so 0 means the same sound and 2 the opposite one. Candidates come from the index (the nearest
components of each of the query's components), then are ranked by that distance.

Built from the library snapshot, stored with its track index version (``rebuild.py``) and loaded with it
(``api/holder.py``). Pure: no store, no HTTP.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from audiomuse_ray.errors import UnknownArtist
from audiomuse_ray.similarity.library import Library, normalise

ARTIST_INDEX_NAME = "artist_components"
MAX_COMPONENTS = 3
TRACKS_PER_COMPONENT = 4  # an artist with 1-4 tracks has one component, 5-8 two, 9 or more three
KMEANS_ITERATIONS = 25
REPRESENTATIVE_SONGS = 3
COMPONENT_MATCHES = 3


@dataclass(frozen=True)
class ArtistProfile:
    name: str
    artist_id: str  # the media server's id, "" when no track carried one
    rows: tuple[int, ...]  # library rows of its tracks
    directions: np.ndarray  # (k, dim) unit vectors, one per component
    weights: np.ndarray  # (k,) share of the tracks in each component, sums to 1
    centroids: np.ndarray  # (k, dim) mean raw embedding of each component's tracks (alchemy mixes these)


@dataclass(frozen=True)
class SongRef:
    item_id: str
    title: str
    distance_to_component: float


@dataclass(frozen=True)
class ComponentMatch:
    component1_index: int
    component2_index: int
    distance: float
    component1_weight: float
    component2_weight: float
    artist1_songs: tuple[SongRef, ...]
    artist2_songs: tuple[SongRef, ...]


@dataclass(frozen=True)
class SimilarArtist:
    profile: ArtistProfile
    distance: float
    matches: tuple[ComponentMatch, ...] = ()


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def component_count(n_tracks: int) -> int:
    return max(1, min(MAX_COMPONENTS, math.ceil(n_tracks / TRACKS_PER_COMPONENT)))


def spherical_kmeans(units: np.ndarray, k: int, iterations: int = KMEANS_ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """(directions (k', dim), labels (n,)) for unit rows ``units`` (n, dim); deterministic: the first centre is
    the track nearest the mean direction, each next one the track farthest from the centres so far. Empty
    components are dropped, so k' <= k."""
    n = units.shape[0]
    k = max(1, min(k, n))
    mean = unit_rows(units.mean(axis=0))
    centres = [int(np.argmax(units @ mean))]
    while len(centres) < k:
        nearest = np.max(units @ units[centres].T, axis=1)
        centres.append(int(np.argmin(nearest)))
    directions = units[centres].copy()
    labels = np.full(n, -1)
    for _ in range(iterations):
        new = np.argmax(units @ directions.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        directions = np.stack([unit_rows(units[labels == c].mean(axis=0)) if np.any(labels == c) else directions[c]
                               for c in range(directions.shape[0])])
    used = [c for c in range(directions.shape[0]) if np.any(labels == c)]
    remap = {c: i for i, c in enumerate(used)}
    return directions[used], np.array([remap[c] for c in labels])


def group_rows(lib: Library) -> dict[str, list[int]]:
    """Library rows by artist name (the track's ``author``), in first-seen order; untitled artists skipped."""
    groups: dict[str, list[int]] = {}
    for r, m in enumerate(lib.meta):
        if m.author.strip():
            groups.setdefault(m.author, []).append(r)
    return groups


def _artist_id(lib: Library, rows: list[int]) -> str:
    ids = [lib.meta[r].artist_id for r in rows if lib.meta[r].artist_id]
    return max(set(ids), key=ids.count) if ids else ""


def _profile(lib: Library, name: str, rows: list[int], directions: np.ndarray) -> ArtistProfile:
    """The artist's tracks each go to their nearest direction; weights and raw centroids follow."""
    units = unit_rows(lib.vectors[rows])
    labels = np.argmax(units @ directions.T, axis=1)
    keep = [c for c in range(directions.shape[0]) if np.any(labels == c)] or [0]
    directions = directions[keep]
    labels = np.argmax(units @ directions.T, axis=1)
    counts = np.bincount(labels, minlength=len(keep)).astype(np.float32)
    centroids = np.stack([lib.vectors[rows][labels == c].mean(axis=0) if counts[c] else directions[c]
                          for c in range(len(keep))]).astype(np.float32)
    return ArtistProfile(name, _artist_id(lib, rows), tuple(rows), directions.astype(np.float32),
                         counts / max(1.0, counts.sum()), centroids)


def build_profiles(lib: Library) -> list[ArtistProfile]:
    out = []
    for name, rows in group_rows(lib).items():
        directions, _labels = spherical_kmeans(unit_rows(lib.vectors[rows]), component_count(len(rows)))
        out.append(_profile(lib, name, rows, directions))
    return out


def soft_chamfer(a: ArtistProfile, b: ArtistProfile) -> float:
    """Weighted mean distance from each component to the other artist's nearest one, averaged both ways."""
    d = 1.0 - np.clip(a.directions @ b.directions.T, -1.0, 1.0)
    return float(0.5 * (a.weights @ d.min(axis=1) + b.weights @ d.min(axis=0)))


class ArtistIndex:
    """The artists of one library snapshot, their components in a Voyager index, lookups by id and name."""

    def __init__(self, lib: Library, profiles: list[ArtistProfile], index: object | None = None):
        self.library = lib
        self.profiles = profiles
        self.owner = np.array([p for p, prof in enumerate(profiles) for _ in range(prof.directions.shape[0])], np.int64)
        self.index = index if index is not None else (_voyager(profiles) if profiles else None)
        self.position = {id(prof): p for p, prof in enumerate(profiles)}
        self.by_id = {prof.artist_id: p for p, prof in enumerate(profiles) if prof.artist_id}
        self.by_name: dict[str, int] = {}
        for p, prof in enumerate(profiles):
            self.by_name.setdefault(normalise(prof.name), p)

    @classmethod
    def build(cls, lib: Library) -> "ArtistIndex":
        return cls(lib, build_profiles(lib))

    # ------------------------------------------------------------------------------- storing
    def to_bytes(self) -> tuple[bytes, list[str]]:
        """(npz of directions and the Voyager index, the artist name of each component)."""
        buf = io.BytesIO()
        directions = np.concatenate([p.directions for p in self.profiles]) if self.profiles else np.zeros((0, 0))
        np.savez(buf, directions=directions.astype(np.float32),
                 voyager=np.frombuffer(self.index.as_bytes() if self.index is not None else b"", np.uint8))
        return buf.getvalue(), [p.name for p in self.profiles for _ in range(p.directions.shape[0])]

    @classmethod
    def from_bytes(cls, lib: Library, data: bytes, names: list[str]) -> "ArtistIndex":
        """Rebuild the profiles of ``lib`` from stored directions (memberships are recomputed: a track goes
        to its nearest direction, which is what k-means converged to)."""
        from voyager import Index

        stored = np.load(io.BytesIO(data))
        directions, raw = stored["directions"], stored["voyager"].tobytes()
        groups = group_rows(lib)
        by_name: dict[str, list[int]] = {}
        for c, name in enumerate(names):
            by_name.setdefault(name, []).append(c)
        if set(by_name) != set(groups) or not raw:
            return cls.build(lib)  # written for other tracks: cheaper to rebuild than to patch
        profiles = [_profile(lib, name, groups[name], directions[comps]) for name, comps in by_name.items()]
        if sum(p.directions.shape[0] for p in profiles) != len(names):  # a component lost all its tracks
            return cls(lib, profiles)
        return cls(lib, profiles, Index.load(io.BytesIO(raw)))

    # ------------------------------------------------------------------------------- queries
    def find(self, key: str) -> ArtistProfile:
        """An artist by the media server's id, else by name (case- and accent-insensitive)."""
        key = (key or "").strip()
        p = self.by_id.get(key)
        if p is None:
            p = self.by_name.get(normalise(key))
        if p is None:
            raise UnknownArtist(f"Artist '{key}' not found in index or no similar artists found.")
        return self.profiles[p]

    def similar(self, artist: ArtistProfile, n: int = 10, ef_search: int | None = None,
                with_matches: bool = False) -> list[SimilarArtist]:
        """The ``n`` nearest other artists, nearest first."""
        if self.index is None or len(self.profiles) < 2:
            return []
        total = len(self.owner)
        k = min(total, max(3 * n + 1, 10) * MAX_COMPONENTS)
        ef = max(k, ef_search or 0)
        ids, _d = self.index.query(artist.directions.astype(np.float32), k=k, query_ef=ef)
        me = self.position[id(artist)]
        candidates = dict.fromkeys(int(self.owner[int(c)]) for c in np.ravel(ids))
        candidates.pop(me, None)
        scored = sorted((soft_chamfer(artist, self.profiles[p]), self.profiles[p].name, p) for p in candidates)
        return [SimilarArtist(self.profiles[p], d, self.component_matches(artist, self.profiles[p]) if with_matches else ())
                for d, _name, p in scored[:n]]

    def component_matches(self, a: ArtistProfile, b: ArtistProfile, top_k: int = COMPONENT_MATCHES
                          ) -> tuple[ComponentMatch, ...]:
        """The ``top_k`` closest (component of a, component of b) pairs, each with the songs of both artists
        that sound most like their component."""
        d = 1.0 - np.clip(a.directions @ b.directions.T, -1.0, 1.0)
        pairs = np.argsort(d, axis=None, kind="stable")[:top_k]
        out = []
        for flat in pairs:
            i, j = divmod(int(flat), d.shape[1])
            out.append(ComponentMatch(i, j, float(d[i, j]), float(a.weights[i]), float(b.weights[j]),
                                      self.representatives(a, i), self.representatives(b, j)))
        return tuple(out)

    def representatives(self, artist: ArtistProfile, component: int,
                        top_k: int = REPRESENTATIVE_SONGS) -> tuple[SongRef, ...]:
        rows = list(artist.rows)
        dist = 1.0 - unit_rows(self.library.vectors[rows]) @ artist.directions[component]
        order = np.argsort(dist, kind="stable")[:top_k]
        return tuple(SongRef(self.library.meta[rows[o]].item_id, self.library.meta[rows[o]].title, float(dist[o]))
                     for o in order)

    def tracks(self, artist: ArtistProfile) -> list[int]:
        """Its library rows ordered by title."""
        return sorted(artist.rows, key=lambda r: (normalise(self.library.meta[r].title), r))


def _voyager(profiles: list[ArtistProfile]):
    from voyager import Index, Space

    directions = np.concatenate([p.directions for p in profiles]).astype(np.float32)
    index = Index(Space.Cosine, num_dimensions=int(directions.shape[1]), M=16, ef_construction=100,
                  max_elements=int(directions.shape[0]))
    index.add_items(np.ascontiguousarray(directions), ids=list(range(directions.shape[0])))
    return index
