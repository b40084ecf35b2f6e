"""Sonic fingerprint: what a listener plays most, weighted by how recently, as one point in sound space.

Each of the user's top-played tracks counts ``exp(-ln2 · days_since_played / 30)`` (a 30-day half-life),
``0.25`` when the server does not say when it was last played. The fingerprint is the weighted mean
embedding; the playlist is the seed tracks first, then the fingerprint's nearest neighbours.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np

from audiomuse_ray.providers.base import PlayRecord

HALF_LIFE_DAYS = 30.0
UNKNOWN_RECENCY_WEIGHT = 0.25
TOP_N_SONGS = 20
DEFAULT_NEIGHBOURS = 100


def recency_weight(last_played: datetime | None, now: datetime) -> float:
    if last_played is None:
        return UNKNOWN_RECENCY_WEIGHT
    if last_played.tzinfo is None:
        last_played = last_played.replace(tzinfo=timezone.utc)
    days = max(0.0, (now - last_played).total_seconds() / 86400.0)
    return math.exp(-math.log(2) * days / HALF_LIFE_DAYS)


def fingerprint(vectors: np.ndarray, records: list[PlayRecord], now: datetime) -> np.ndarray:
    """Weighted mean of ``vectors`` (one row per record, same order)."""
    if len(records) == 0:
        raise ValueError("a fingerprint needs at least one played track")
    w = np.array([recency_weight(r.last_played, now) for r in records])
    return (w[:, None] * np.asarray(vectors, np.float64)).sum(axis=0) / w.sum()


def fingerprint_playlist(lib, records: list[PlayRecord], n: int, now: datetime) -> list[tuple[int, float]]:
    """``n`` (row, distance) of a listener's playlist: the played tracks the library holds first (distance
    0), then the fingerprint's nearest neighbours; empty when none of the played tracks is analysed."""
    played = [r for r in records if r.item_id in lib.index.row_of]
    if not played or n <= 0:
        return []
    rows = [lib.row(r.item_id) for r in played]
    target = fingerprint(lib.vectors[rows], played, now)
    out = [(r, 0.0) for r in dict.fromkeys(rows)][:n]
    seen = {r for r, _d in out} | set(rows)
    neighbours, dists = lib.neighbours(target, min(lib.size, n + len(rows) + 20))
    for r, d in zip(neighbours, dists):
        if len(out) >= n:
            break
        if int(r) not in seen:
            seen.add(int(r))
            out.append((int(r), float(d)))
    return out
