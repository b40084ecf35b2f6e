"""Similar tracks, as the AudioMuse-AI plugins expect them.

From the seed's nearest neighbours (Voyager, cosine distance ``1 - cos``), always: drop near-copies (a
song within 0.01 of the previously kept one, the seed first) and songs with an already-seen normalised
(artist, title). Optionally keep only songs whose six mood features differ from the seed's by at most
0.15 on average (``mood_similarity``). Then either:

- ``radius_similarity``: a walk through distance buckets of 50 (nearest first) that each time takes the
  song minimising ``0.7 · distance to the last pick + 0.3 · distance to the seed``, so the list drifts
  smoothly instead of jumping back and forth; with ``eliminate_duplicates`` an artist appears at most once
  per bucket, in at most two buckets and ``MAX_SONGS_PER_ARTIST`` times; or
- plain distance order, with at most ``MAX_SONGS_PER_ARTIST`` songs per artist when ``eliminate_duplicates``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.similarity.library import Library

MAX_SONGS_PER_ARTIST = 3
DUPLICATE_COSINE_DISTANCE = 0.01
MOOD_SIMILARITY_THRESHOLD = 0.15
BUCKET = 50
WEIGHT_LAST, WEIGHT_SEED = 0.7, 0.3
FARTHEST_EXACT_MAX = 50_000  # above, max_distance asks the index (a pass over 100k vectors is about 0.2 s)
FARTHEST_CANDIDATES = 100


@dataclass(frozen=True)
class SimilarOptions:
    n: int = 10
    eliminate_duplicates: bool = True
    mood_similarity: bool = False
    radius_similarity: bool = True
    max_songs_per_artist: int = MAX_SONGS_PER_ARTIST


def candidate_count(o: SimilarOptions) -> int:
    if o.mood_similarity:
        return o.n + max(20, o.n * (8 if o.eliminate_duplicates else 4)) + 1
    if o.radius_similarity or o.eliminate_duplicates:
        return o.n + max(20, 3 * o.n) + 1
    return o.n + max(3, int(0.2 * o.n)) + 1


def mood_distance(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a.get(m, 0.0) - b.get(m, 0.0)) for m in MOOD_LABELS) / len(MOOD_LABELS)


def mood_distances(lib: Library, seed: int, rows: list[int]) -> np.ndarray:
    """``mood_distance`` from the seed to each of ``rows``, from the mood columns (inf where a row has none)."""
    moods = lib.meta.moods
    d = np.abs(moods[rows] - moods[seed]).mean(axis=1)
    return np.where(lib.meta.has_moods[rows], d, np.inf)


def similar_tracks(lib: Library, seed: int, options: SimilarOptions = SimilarOptions()) -> list[tuple[int, float]]:
    """(row, cosine distance to the seed) pairs, never the seed itself, at most ``options.n``."""
    rows, dists = lib.neighbours(lib.vectors[seed], candidate_count(options))
    keep = rows != seed
    c = _Candidates.around(lib, seed, rows[keep], dists[keep])
    picks = c.drop_near_copies()
    picks = _drop_same_song(lib, seed, c, picks)
    if options.mood_similarity and lib.meta.has_moods[seed] and picks:
        close = mood_distances(lib, seed, [c.rows[i] for i in picks]) <= MOOD_SIMILARITY_THRESHOLD
        picks = [i for i, ok in zip(picks, close.tolist()) if ok]
    if options.radius_similarity:
        picks = _radius_walk(lib, c, picks, options)
    else:
        if options.eliminate_duplicates and options.max_songs_per_artist > 0:
            picks = _artist_cap(lib, c, picks, options.max_songs_per_artist)
        picks = picks[: options.n]
    return [(c.rows[i], c.seed_distance[i]) for i in picks]


class _Candidates:
    """The seed's neighbours with every pairwise cosine distance among them computed in one product.

    Candidates are numbered 1..m in distance order; position 0 is the seed; ``gap[a, b]`` is the cosine
    distance between positions a and b.
    """

    def __init__(self, rows: list[int], seed_distance: np.ndarray, gap: np.ndarray):
        self.rows = rows  # position -> library row (position 0 is the seed)
        self.seed_distance = seed_distance  # position -> Voyager's distance to the seed (float64)
        self.gap = gap

    @classmethod
    def around(cls, lib: Library, seed: int, rows: np.ndarray, dists: np.ndarray) -> "_Candidates":
        all_rows = np.concatenate([[seed], rows]).astype(np.int64)
        v = lib.vectors[all_rows].astype(np.float32)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        gap = 1.0 - np.clip(v @ v.T, -1.0, 1.0)
        return cls(all_rows.tolist(), np.concatenate([[0.0], np.asarray(dists, np.float64)]), gap)

    def drop_near_copies(self) -> list[int]:
        """Positions left after dropping each song within DUPLICATE_COSINE_DISTANCE of the last one kept."""
        kept, last = [], 0
        close = (self.gap < DUPLICATE_COSINE_DISTANCE).tolist()
        for i in range(1, len(self.rows)):
            if close[last][i]:
                continue
            kept.append(i)
            last = i
        return kept


def _drop_same_song(lib: Library, seed: int, c: _Candidates, picks: list[int]) -> list[int]:
    """Drops each song whose normalised (artist, title) the seed or an earlier pick already has (their
    hashes, from the columns)."""
    sigs = lib.meta.signature[[c.rows[i] for i in picks]].tolist()
    seen, kept = {int(lib.meta.signature[seed])}, []
    for i, sig in zip(picks, sigs):
        if sig not in seen:
            seen.add(sig)
            kept.append(i)
    return kept


def _authors(lib: Library, c: _Candidates, picks: list[int]) -> dict[int, int]:
    """Position -> artist code, -1 for a song without an artist (it never counts as a repeat)."""
    blank = lib.meta.no_author
    codes = lib.meta.author.codes[[c.rows[i] for i in picks]].tolist()
    return {i: (-1 if code == blank else code) for i, code in zip(picks, codes)}


def _artist_cap(lib: Library, c: _Candidates, picks: list[int], cap: int) -> list[int]:
    counts: dict[int, int] = {}
    kept = []
    for i, artist in _authors(lib, c, picks).items():
        if artist >= 0 and counts.get(artist, 0) < cap:
            counts[artist] = counts.get(artist, 0) + 1
            kept.append(i)
    return kept


def _radius_walk(lib: Library, c: _Candidates, picks: list[int], o: SimilarOptions) -> list[int]:
    """Each step scores a whole bucket at once (numpy) and masks out what the artist rules forbid."""
    if not picks:
        return []
    ordered = sorted(picks, key=lambda i: c.seed_distance[i])
    author = _authors(lib, c, ordered)
    codes: dict[int, int] = {}
    artist_of = np.array([codes.setdefault(author[i], len(codes)) for i in ordered])
    position = np.array(ordered)
    check_artists = o.eliminate_duplicates and o.max_songs_per_artist > 0
    counts = np.zeros(len(codes), np.int64)
    artist_buckets: list[set[int]] = [set() for _ in codes]
    used = np.zeros(len(ordered), bool)
    used[0] = True
    counts[artist_of[0]] = 1
    artist_buckets[artist_of[0]].add(0)
    playlist = [ordered[0]]
    weighted_seed = WEIGHT_SEED * c.seed_distance[position]

    window = max(3, math.ceil(o.n / BUCKET))
    b, n_buckets = 0, math.ceil(len(ordered) / BUCKET)
    while len(playlist) < o.n and b < n_buckets:
        while b < min(window, n_buckets) and len(playlist) < o.n:
            lo, hi = b * BUCKET, min(len(ordered), (b + 1) * BUCKET)
            artists = artist_of[lo:hi]
            ok = ~used[lo:hi]
            if check_artists:
                ok &= counts[artists] < o.max_songs_per_artist
                ok &= np.array([b in artist_buckets[a] or len(artist_buckets[a]) < 2 for a in artists.tolist()], bool)
            # the score of every song of the bucket after any last pick, in one product; then each pick is
            # one row plus the penalty of what is ruled out (inf), and an argmin
            after = WEIGHT_LAST * c.gap[:, position[lo:hi]] + weighted_seed[lo:hi]
            penalty = np.where(ok, 0.0, np.inf)
            while len(playlist) < o.n:
                j = int((after[playlist[-1]] + penalty).argmin())
                if penalty[j]:  # nothing left in this bucket: every score is inf
                    break
                a = int(artists[j])
                used[lo + j] = True
                penalty[j] = np.inf
                if check_artists:  # one song per artist per bucket
                    penalty[artists == a] = np.inf
                counts[a] += 1
                artist_buckets[a].add(b)
                playlist.append(ordered[lo + j])
            b += 1
        window = min(n_buckets, max(window + 1, window * 2))
    return _avoid_three_in_a_row(author, playlist)[: o.n]


def _avoid_three_in_a_row(author: dict[int, int], playlist: list[int]) -> list[int]:
    out = list(playlist)
    for i in range(2, len(out)):
        a = author[out[i]]
        if a >= 0 and a == author[out[i - 1]] == author[out[i - 2]]:
            swap = next((j for j in range(i + 1, len(out)) if author[out[j]] != a), None)
            if swap is not None:
                out[i], out[swap] = out[swap], out[i]
    return out


def farthest(lib: Library, row: int, exact_up_to: int = FARTHEST_EXACT_MAX) -> tuple[int, float]:
    """(row, cosine distance ``1 - cos``) of the track farthest from ``row``, in the distance similar tracks
    report; (row, 0.0) for a library of one. Exact (one pass over every vector) up to ``exact_up_to``
    tracks; above, the farthest of the index's nearest neighbours of the opposite direction (the farthest
    track from v is the nearest to -v), which costs one query instead of a pass over a million vectors."""
    if lib.size < 2:
        return row, 0.0
    v = lib.vectors[row]
    if lib.size > exact_up_to:
        rows, _d = lib.neighbours(-v, FARTHEST_CANDIDATES)
        rows = rows[rows != row]
        dist = 1.0 - (lib.vectors[rows] @ v) / (lib.norms[rows] * lib.norms[row])
        best = int(np.argmax(dist))
        return int(rows[best]), float(dist[best])
    dist = 1.0 - (lib.vectors @ v) / (lib.norms * lib.norms[row])
    dist[row] = -np.inf
    far = int(np.argmax(dist))
    return far, float(dist[far])
