"""Similar artists: each artist's tracks summarised as a few directions, those directions in a Voyager index.

An artist (a track's ``author``) is summarised by spherical k-means over its tracks' unit embeddings: up to
``MAX_COMPONENTS`` components, about one per ``TRACKS_PER_COMPONENT`` tracks, each a unit direction with a
weight (its share of the artist's tracks). A band that plays both ballads and thrash keeps two directions
instead of one average that sounds like neither.

Two artists' distance is the weighted soft chamfer distance between their components (cosine distance
``1 - cos``): every component of one is matched to the nearest of the other, both ways, weighted and
averaged, so 0 means the same sound and 2 the opposite one. Candidates come from the index (the nearest
components of each of the query's components), then are ranked by that distance.

Held as arrays, not one object per artist or track (a million tracks, tens of thousands of artists): each
artist's rows as one slice of ``track_rows``, each component's weight and owner, each track's component;
the directions are the index's own vectors. ``profile(p)`` makes the ``ArtistProfile`` of one artist when
a route needs it. Built from the library snapshot, stored with its track index version (``rebuild.py``)
and loaded with it (``api/holder.py``). Pure: no store, no HTTP.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from audiomuse_ray.errors import UnknownArtist
from audiomuse_ray.similarity.columns import IdLookup, Strings
from audiomuse_ray.similarity.library import Library
from audiomuse_ray.similarity.meta import normalise
from audiomuse_ray.store.arrays import decode_strings, encode_strings

ARTIST_INDEX_NAME = "artist_components"
MAX_COMPONENTS = 3
TRACKS_PER_COMPONENT = 4  # an artist with 1-4 tracks has one component, 5-8 two, 9 or more three
KMEANS_ITERATIONS = 25
REPRESENTATIVE_SONGS = 3
COMPONENT_MATCHES = 3
ARRAYS = ("track_offsets", "track_rows", "track_component", "component_offsets", "weights")


@dataclass(frozen=True)
class ArtistProfile:
    name: str
    artist_id: str  # the media server's id, "" when no track carried one
    rows: tuple[int, ...]  # library rows of its tracks
    directions: np.ndarray  # (k, dim) unit vectors, one per component
    weights: np.ndarray  # (k,) share of the tracks in each component, sums to 1
    centroids: np.ndarray  # (k, dim) mean raw embedding of each component's tracks (alchemy mixes these)
    position: int = -1  # its number in the ArtistIndex


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


def group_rows(lib: Library) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Library rows by artist name (the track's ``author``), artists in first-seen order, untitled ones
    skipped: (author code of each artist, offsets (artists + 1,), rows (tracks,) artist after artist)."""
    author = lib.meta.author
    named = np.array([bool(v.strip()) for v in author.values], bool)
    rows = np.nonzero(named[author.codes])[0] if len(author) else np.zeros(0, np.int64)
    codes = author.codes[rows]
    found, first = np.unique(codes, return_index=True)
    order = found[np.argsort(first, kind="stable")]
    rank = np.zeros(len(author.values), np.int64)
    rank[order] = np.arange(len(order))
    by_artist = np.argsort(rank[codes], kind="stable")
    counts = np.bincount(rank[codes], minlength=len(order))
    return order.astype(np.int32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), rows[by_artist]


def _components(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(directions (k, dim), each track's component): k-means, then each track to its nearest direction,
    components left empty dropped (what the stored profile keeps)."""
    directions, _labels = spherical_kmeans(units, component_count(len(units)))
    labels = np.argmax(units @ directions.T, axis=1)
    keep = [c for c in range(directions.shape[0]) if np.any(labels == c)] or [0]
    directions = directions[keep]
    return directions, np.argmax(units @ directions.T, axis=1)


def soft_chamfer(a: ArtistProfile, b: ArtistProfile) -> float:
    """Weighted mean distance from each component to the other artist's nearest one, averaged both ways."""
    return _chamfer(a.directions, a.weights, b.directions, b.weights)


def _chamfer(da: np.ndarray, wa: np.ndarray, db: np.ndarray, wb: np.ndarray) -> float:
    d = 1.0 - np.clip(da @ db.T, -1.0, 1.0)
    return float(0.5 * (wa @ d.min(axis=1) + wb @ d.min(axis=0)))


class ArtistIndex:
    """The artists of one library snapshot: their tracks and components as arrays, the components in a
    Voyager index, lookups by the media server's id and by normalised name."""

    def __init__(self, lib: Library, names: Strings, artist_ids: Strings, track_offsets: np.ndarray,
                 track_rows: np.ndarray, track_component: np.ndarray, component_offsets: np.ndarray,
                 weights: np.ndarray, index: object | None):
        self.library = lib
        self.names, self.artist_ids = names, artist_ids
        self.track_offsets = np.asarray(track_offsets, np.int64)
        self.track_rows = np.asarray(track_rows, np.int32 if lib.size < 2**31 else np.int64)
        self.track_component = np.asarray(track_component, np.int8)
        self.component_offsets = np.asarray(component_offsets, np.int64)
        self.weights = np.asarray(weights, np.float32)
        self.owner = np.repeat(np.arange(len(names)), np.diff(self.component_offsets))
        self.index = index
        self.by_id = IdLookup(artist_ids)  # first artist of an id wins; "" is never looked up
        self.by_name = IdLookup(Strings.of(normalise(n) for n in names))

    @classmethod
    def build(cls, lib: Library, vectors: np.ndarray | None = None) -> "ArtistIndex":
        """Profiles of every artist of ``lib`` (``vectors``: its embeddings, when the caller has them whole)."""
        vectors = lib.vectors if vectors is None else vectors
        codes, offsets, rows = group_rows(lib)
        comp_offsets, track_component, weights, directions = [0], np.zeros(len(rows), np.int8), [], []
        for a in range(len(codes)):
            lo, hi = int(offsets[a]), int(offsets[a + 1])
            dirs, labels = _components(unit_rows(vectors[rows[lo:hi]]))
            track_component[lo:hi] = labels
            counts = np.bincount(labels, minlength=len(dirs)).astype(np.float32)
            weights.append(counts / max(1.0, counts.sum()))
            directions.append(dirs)
            comp_offsets.append(comp_offsets[-1] + len(dirs))
        names = Strings(lib.meta.author.values.arrow.take(codes)) if len(codes) else Strings.of([])
        artist_ids = Strings.of(_common_ids(lib, offsets, rows))
        all_dirs = np.concatenate(directions).astype(np.float32) if directions else np.zeros((0, 0), np.float32)
        return cls(lib, names, artist_ids, offsets, rows, track_component, np.array(comp_offsets),
                   np.concatenate(weights) if weights else np.zeros(0, np.float32),
                   _voyager(all_dirs) if len(all_dirs) else None)

    # ------------------------------------------------------------------------------- one artist
    def __len__(self) -> int:
        return len(self.names)

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def profiles(self) -> list[ArtistProfile]:
        """Every profile (small libraries and tests; a route asks for one with ``profile``)."""
        return [self.profile(p) for p in range(len(self))]

    def rows_of(self, p: int) -> np.ndarray:
        return self.track_rows[self.track_offsets[p]:self.track_offsets[p + 1]]

    def directions_of(self, p: int) -> np.ndarray:
        lo, hi = self.component_offsets[p], self.component_offsets[p + 1]
        return np.asarray(self.index.get_vectors(list(range(lo, hi))), np.float32)

    def profile(self, p: int) -> ArtistProfile:
        rows = self.rows_of(p)
        labels = self.track_component[self.track_offsets[p]:self.track_offsets[p + 1]]
        directions = self.directions_of(p)
        vectors = self.library.vectors[rows]
        centroids = np.stack([vectors[labels == c].mean(axis=0) if np.any(labels == c) else directions[c]
                              for c in range(len(directions))]).astype(np.float32)
        lo, hi = self.component_offsets[p], self.component_offsets[p + 1]
        return ArtistProfile(self.names[p], self.artist_ids[p], tuple(rows.tolist()), directions,
                             self.weights[lo:hi].copy(), centroids, p)

    def find(self, key: str) -> ArtistProfile:
        """An artist by the media server's id, else by name (case- and accent-insensitive)."""
        key = (key or "").strip()
        p = self.by_id.get(key) if key else None
        if p is None:
            p = self.by_name.get(normalise(key))
        if p is None:
            raise UnknownArtist(f"Artist '{key}' not found in index or no similar artists found.")
        return self.profile(p)

    # ------------------------------------------------------------------------------- storing
    def to_bytes(self, with_index: bool = True) -> tuple[bytes, list[str]]:
        """(npz of the arrays, the names and ids, and the Voyager index unless stored apart; the artist name
        of each component)."""
        buf = io.BytesIO()
        voyager = self.index.as_bytes() if self.index is not None and with_index else b""
        np.savez(buf, **{name: getattr(self, name) for name in ARRAYS},
                 names=np.frombuffer(encode_strings(self.names.arrow), np.uint8),
                 artist_ids=np.frombuffer(encode_strings(self.artist_ids.arrow), np.uint8),
                 voyager=np.frombuffer(voyager, np.uint8))
        return buf.getvalue(), self.names.arrow.take(self.owner).to_pylist() if len(self.owner) else []

    @classmethod
    def from_bytes(cls, lib: Library, data: bytes, names: list[str] | None = None, index=None) -> "ArtistIndex":
        """The index ``to_bytes`` stored for ``lib`` (``index``: its Voyager index, when stored apart);
        rebuilt when it was written for other tracks."""
        from voyager import Index

        stored = np.load(io.BytesIO(data))
        if "track_rows" not in stored.files:  # written before issue #20 (directions only): rebuild
            return cls.build(lib)
        arrays = {name: stored[name] for name in ARRAYS}
        own = Strings(decode_strings(stored["names"].tobytes()))
        if names is not None and (len(names) != int(arrays["component_offsets"][-1])
                                  or (len(arrays["track_rows"]) and int(arrays["track_rows"].max()) >= lib.size)):
            return cls.build(lib)
        if index is None and stored["voyager"].size:
            index = Index.load(io.BytesIO(stored["voyager"].tobytes()))
        return cls(lib, own, Strings(decode_strings(stored["artist_ids"].tobytes())), **arrays, index=index)

    # ------------------------------------------------------------------------------- queries
    def similar(self, artist: ArtistProfile, n: int = 10, ef_search: int | None = None,
                with_matches: bool = False) -> list[SimilarArtist]:
        """The ``n`` nearest other artists, nearest first."""
        if self.index is None or len(self) < 2:
            return []
        total = len(self.owner)
        k = min(total, max(3 * n + 1, 10) * MAX_COMPONENTS)
        ef = max(k, ef_search or 0)
        ids, _d = self.index.query(artist.directions.astype(np.float32), k=k, query_ef=ef)
        me = artist.position if artist.position >= 0 else self.find(artist.name).position
        candidates = [p for p in dict.fromkeys(int(self.owner[int(c)]) for c in np.ravel(ids)) if p != me]
        scored = sorted((_chamfer(artist.directions, artist.weights, self.directions_of(p),
                                  self.weights[self.component_offsets[p]:self.component_offsets[p + 1]]),
                         self.names[p], p) for p in candidates)
        out = []
        for d, _name, p in scored[:n]:
            profile = self.profile(p)
            out.append(SimilarArtist(profile, d, self.component_matches(artist, profile) if with_matches else ()))
        return out

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
        meta = self.library.meta
        return tuple(SongRef(meta.ids[rows[o]], meta.title[rows[o]], float(dist[o])) for o in order)

    def tracks(self, artist: ArtistProfile) -> list[int]:
        """Its library rows ordered by title."""
        n_title = self.library.meta.n_title
        return sorted(artist.rows, key=lambda r: (n_title[r], r))

    def nbytes(self) -> int:
        arrays = (self.track_offsets, self.track_rows, self.track_component, self.component_offsets, self.weights,
                  self.owner)
        return int(sum(a.nbytes for a in arrays) + self.names.nbytes() + self.artist_ids.nbytes()
                   + self.by_id.nbytes() + self.by_name.nbytes())


def _common_ids(lib: Library, offsets: np.ndarray, rows: np.ndarray) -> list[str]:
    """Each artist's media-server id: the one most of its tracks carry ("" when none does)."""
    ids = lib.meta.artist_id
    blank = ids.code_of("")
    out = []
    for a in range(len(offsets) - 1):
        codes = ids.codes[rows[offsets[a]:offsets[a + 1]]]
        codes = codes[codes != blank] if blank is not None else codes
        out.append(ids.values[int(np.bincount(codes).argmax())] if codes.size else "")
    return out


def _voyager(directions: np.ndarray):
    from voyager import Index, Space

    index = Index(Space.Cosine, num_dimensions=int(directions.shape[1]), M=16, ef_construction=100,
                  max_elements=int(directions.shape[0]))
    index.add_items(np.ascontiguousarray(directions), ids=np.arange(directions.shape[0]))
    return index
