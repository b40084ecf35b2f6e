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
