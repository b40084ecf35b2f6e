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

from audiomuse_ray.analysis.constants import MOOD_LABELS
from audiomuse_ray.similarity.library import Library

MAX_SONGS_PER_ARTIST = 3
DUPLICATE_COSINE_DISTANCE = 0.01
MOOD_SIMILARITY_THRESHOLD = 0.15
BUCKET = 50
WEIGHT_LAST, WEIGHT_SEED = 0.7, 0.3


@dataclass(frozen=True)
class SimilarOptions:
    n: int = 10
    eliminate_duplicates: bool = True
    mood_similarity: bool = False
    radius_similarity: bool = True
    max_songs_per_artist: int = MAX_SONGS_PER_ARTIST


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - cos`` between ``a`` and each row of ``b`` (the distance Voyager's cosine space reports)."""
    a = np.asarray(a, np.float32)
    b = np.atleast_2d(np.asarray(b, np.float32))
    denom = np.maximum(np.linalg.norm(b, axis=1) * np.linalg.norm(a), 1e-12)
    return 1.0 - np.clip(b @ a / denom, -1.0, 1.0)


def candidate_count(o: SimilarOptions) -> int:
    if o.mood_similarity:
        return o.n + max(20, o.n * (8 if o.eliminate_duplicates else 4)) + 1
    if o.radius_similarity or o.eliminate_duplicates:
        return o.n + max(20, 3 * o.n) + 1
    return o.n + max(3, int(0.2 * o.n)) + 1


def mood_distance(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a.get(m, 0.0) - b.get(m, 0.0)) for m in MOOD_LABELS) / len(MOOD_LABELS)


def similar_tracks(lib: Library, seed: int, options: SimilarOptions = SimilarOptions()) -> list[tuple[int, float]]:
    """(row, cosine distance to the seed) pairs, never the seed itself, at most ``options.n``."""
    rows, dists = lib.neighbours(lib.vectors[seed], candidate_count(options))
    candidates = [(int(r), float(d)) for r, d in zip(rows, dists) if int(r) != seed]
    candidates = _drop_near_copies(lib, seed, candidates)
    candidates = _drop_same_song(lib, seed, candidates)
    if options.mood_similarity and lib.meta[seed].moods:
        target = lib.meta[seed].moods
        candidates = [(r, d) for r, d in candidates
                      if lib.meta[r].moods and mood_distance(target, lib.meta[r].moods) <= MOOD_SIMILARITY_THRESHOLD]
    if options.radius_similarity:
        return _radius_walk(lib, seed, candidates, options)
    if options.eliminate_duplicates and options.max_songs_per_artist > 0:
        candidates = _artist_cap(lib, candidates, options.max_songs_per_artist)
    return candidates[: options.n]


def _drop_near_copies(lib: Library, seed: int, candidates: list[tuple[int, float]]) -> list[tuple[int, float]]:
    kept, last = [], lib.vectors[seed]
    for r, d in candidates:
        if float(cosine_distance(last, lib.vectors[r])[0]) < DUPLICATE_COSINE_DISTANCE:
            continue
        kept.append((r, d))
        last = lib.vectors[r]
    return kept


def _drop_same_song(lib: Library, seed: int, candidates: list[tuple[int, float]]) -> list[tuple[int, float]]:
    seen, kept = {lib.meta[seed].signature}, []
    for r, d in candidates:
        if lib.meta[r].signature not in seen:
            seen.add(lib.meta[r].signature)
            kept.append((r, d))
    return kept


def _artist_cap(lib: Library, candidates: list[tuple[int, float]], cap: int) -> list[tuple[int, float]]:
    counts: dict[str, int] = {}
    kept = []
    for r, d in candidates:
        artist = lib.meta[r].author
        if artist and counts.get(artist, 0) < cap:
            counts[artist] = counts.get(artist, 0) + 1
            kept.append((r, d))
    return kept


def _radius_walk(lib: Library, seed: int, candidates: list[tuple[int, float]], o: SimilarOptions) -> list[tuple[int, float]]:
    if not candidates:
        return []
    ordered = sorted(candidates, key=lambda rd: rd[1])
    buckets = [ordered[i:i + BUCKET] for i in range(0, len(ordered), BUCKET)]
    check_artists = o.eliminate_duplicates and o.max_songs_per_artist > 0
    counts: dict[str, int] = {}
    artist_buckets: dict[str, set[int]] = {}
    used: set[int] = set()
    playlist = [ordered[0]]
    used.add(ordered[0][0])
    counts[lib.meta[ordered[0][0]].author] = 1
    artist_buckets.setdefault(lib.meta[ordered[0][0]].author, set()).add(0)

    def allowed(r: int, b: int, in_bucket: set[str]) -> bool:
        if not check_artists:
            return True
        a = lib.meta[r].author
        return (a not in in_bucket and counts.get(a, 0) < o.max_songs_per_artist
                and (b in artist_buckets.get(a, set()) or len(artist_buckets.get(a, set())) < 2))

    window = max(3, math.ceil(o.n / BUCKET))
    b = 0
    while len(playlist) < o.n and b < len(buckets):
        while b < min(window, len(buckets)) and len(playlist) < o.n:
            in_bucket: set[str] = set()
            while len(playlist) < o.n:
                last = lib.vectors[playlist[-1][0]]
                options = [(r, d) for r, d in buckets[b] if r not in used and allowed(r, b, in_bucket)]
                if not options:
                    break
                scores = WEIGHT_LAST * cosine_distance(last, lib.vectors[[r for r, _ in options]]) + WEIGHT_SEED * np.array(
                    [d for _, d in options])
                r, d = options[int(np.argmin(scores))]
                used.add(r)
                a = lib.meta[r].author
                in_bucket.add(a)
                counts[a] = counts.get(a, 0) + 1
                artist_buckets.setdefault(a, set()).add(b)
                playlist.append((r, d))
            b += 1
        window = min(len(buckets), max(window + 1, window * 2))
    return _avoid_three_in_a_row(lib, playlist)[: o.n]


def _avoid_three_in_a_row(lib: Library, playlist: list[tuple[int, float]]) -> list[tuple[int, float]]:
    out = list(playlist)
    for i in range(2, len(out)):
        a = lib.meta[out[i][0]].author
        if a and a == lib.meta[out[i - 1][0]].author == lib.meta[out[i - 2][0]].author:
            swap = next((j for j in range(i + 1, len(out)) if lib.meta[out[j][0]].author != a), None)
            if swap is not None:
                out[i], out[swap] = out[swap], out[i]
    return out
