"""A radio's next playlist: a pure function of the library, the anchor's recipe, the previous run and the
listener's recent plays.

Candidates are the songs nearest the recipe's ADD centroid, less the anchor's own songs, those near its
SUBTRACT centroid (as song alchemy filters them), its exclusions and, when asked, the songs played in the
last ``skip_played_days`` days. Temperature 0 takes the nearest; a positive temperature draws without
replacement with probabilities ``softmax(-distance / T)``, as song alchemy does (the Gumbel top-k trick:
sorting ``-d / T + Gumbel noise`` is that draw). Either way, a song of the previous run is taken only
while fewer than ``floor(max_repeat_share × len(previous))`` of them are in: the rest of the playlist is
new, or the playlist is shorter when the library has nothing new left to give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

import numpy as np

from audiomuse_ray.providers.base import PlayRecord
from audiomuse_ray.schedule.anchors import Recipe
from audiomuse_ray.similarity.library import ANGULAR, Library, distance

POOL_FACTOR = 3  # candidates considered per song wanted, as song alchemy keeps 3 n


@dataclass(frozen=True)
class RadioOptions:
    n: int
    temperature: float = 0.0
    max_repeat_share: float = 1.0
    skip_played_days: int = 0
    metric: str = ANGULAR


@dataclass(frozen=True)
class RadioPlaylist:
    rows: tuple[int, ...]  # library rows in playlist order
    item_ids: tuple[str, ...]
    distances: tuple[float, ...]  # to the ADD centroid
    repeated: int  # songs that were in the previous run too
    skipped_recent: int  # candidates left out because the listener played them recently
    missing: tuple[str, ...]  # the anchor's ids this library no longer holds


def recently_played(history: Sequence[PlayRecord] | None, days: int, now: datetime) -> set[str]:
    """Item ids last played less than ``days`` days before ``now`` (none when days is 0 or no history)."""
    if not history or days <= 0:
        return set()
    cutoff = now - timedelta(days=days)
    out = set()
    for rec in history:
        played = rec.last_played
        if played is not None and (played if played.tzinfo else played.replace(tzinfo=timezone.utc)) >= cutoff:
            out.add(rec.item_id)
    return out


def next_playlist(lib: Library, recipe: Recipe, options: RadioOptions, previous: Sequence[str] = (),
                  history: Sequence[PlayRecord] | None = None, now: datetime | None = None,
                  rng: np.random.Generator | None = None) -> RadioPlaylist:
    n = max(1, int(options.n))
    previous_set = set(previous)
    cap = len(previous_set) if options.max_repeat_share >= 1 else math.floor(
        max(0.0, options.max_repeat_share) * len(previous_set))
    recent = recently_played(history, options.skip_played_days, now or datetime.now(timezone.utc))
    pool, skipped = _pool(lib, recipe, options.metric, n, cap, previous_set, recent)
    if not pool:
        return RadioPlaylist((), (), (), 0, skipped, recipe.missing)
    dists = np.array([d for _r, d in pool], np.float64)
    if options.temperature > 0:
        gumbel = -np.log(-np.log((rng or np.random.default_rng()).uniform(1e-12, 1.0, len(pool))))
        keys = -dists / options.temperature + gumbel
    else:
        keys = -dists
    chosen, repeats = [], 0
    for i in np.argsort(-keys, kind="stable"):
        row, d = pool[int(i)]
        is_repeat = lib.meta[row].item_id in previous_set
        if is_repeat and repeats >= cap:
            continue
        repeats += is_repeat
        chosen.append((row, d))
        if len(chosen) == n:
            break
    return RadioPlaylist(tuple(r for r, _d in chosen), tuple(lib.meta[r].item_id for r, _d in chosen),
                         tuple(d for _r, d in chosen), repeats, skipped, recipe.missing)


def _pool(lib: Library, recipe: Recipe, metric: str, n: int, cap: int, previous: set[str],
          recent: set[str]) -> tuple[list[tuple[int, float]], int]:
    """The nearest admissible songs, ``POOL_FACTOR × n`` of them counting at most ``cap`` repeats, nearest
    first; and how many recently played songs were passed over on the way."""
    want = POOL_FACTOR * n
    blocked = recipe.seed_rows | recipe.excluded_rows
    k = min(lib.size, want + len(blocked) + len(recent) + len(previous))
    while True:
        rows, _ = lib.neighbours(recipe.add_centroid, k)
        pool, skipped, fresh, repeats = [], 0, 0, 0
        for r in (int(x) for x in rows):
            if r in blocked or not _admissible(lib, recipe, metric, r):
                continue
            item_id = lib.meta[r].item_id
            if item_id in recent:
                skipped += 1
                continue
            pool.append((r, float(distance(recipe.add_centroid, lib.vectors[r], metric))))
            if item_id in previous:
                repeats += 1
            else:
                fresh += 1
            if fresh + min(repeats, cap) >= want:
                return sorted(pool, key=lambda rd: rd[1]), skipped
        if k >= lib.size:
            return sorted(pool, key=lambda rd: rd[1]), skipped
        k = min(lib.size, 2 * k)


def _admissible(lib: Library, recipe: Recipe, metric: str, row: int) -> bool:
    vec = lib.vectors[row]
    if recipe.subtract_centroid is not None and float(distance(recipe.subtract_centroid, vec, metric)) < recipe.subtract_distance:
        return False
    return all(float(distance(v, vec, metric)) >= radius for v, radius in recipe.regions)
