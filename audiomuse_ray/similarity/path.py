"""Song path: a smooth walk from one track to another through the library.

1. Jump size: for each endpoint, its nearest neighbours chained in order (endpoint, n1, n2, ...); the mean
   distance between consecutive songs of both chains is the typical step of this neighbourhood.
2. Length: the direct distance over the jump size bounds how many songs fit (``floor(D / jump) + 1``), so
   two close songs get a short path instead of near-duplicates; never more than ``max_steps`` in total.
3. Backbone: that many points interpolated from start to end (spherical for angular, linear for euclidean).
4. Each inner point takes the nearest track that is new by id and by normalised (artist, title), and is not
   within the duplicate distance of the last ``lookback`` songs; a point with no such track is skipped, so
   the path is shorter rather than repetitive. Start and end are always first and last.
5. ``fixed_size`` (AudioMuse-AI's ``path_fix_size``): exactly ``max_steps`` songs; step 2 is skipped and a
   point without a fresh track among its neighbours looks further out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiomuse_ray.similarity.library import ANGULAR, EUCLIDEAN, Library, distance

DUPLICATE_THRESHOLD = {ANGULAR: 0.01, EUCLIDEAN: 0.15}
DEFAULT_JUMP = 0.1


@dataclass(frozen=True)
class PathOptions:
    max_steps: int = 25  # songs in the path, both endpoints included
    metric: str = ANGULAR
    jump_sample: int = 200  # neighbours chained per endpoint to estimate the jump size
    candidates_per_step: int = 75  # neighbours considered for each backbone point
    lookback: int = 1  # recent path songs checked for near-duplicates
    duplicate_threshold: float | None = None  # default by metric
    fixed_size: bool = False  # exactly max_steps songs (as many as the library has), whatever the jump size


@dataclass(frozen=True)
class PathResult:
    rows: list[int]  # library rows, start first, end last
    total_distance: float
    jump: float
    planned_steps: int


def interpolate(a: np.ndarray, b: np.ndarray, num: int, metric: str = ANGULAR) -> np.ndarray:
    """``num`` points from ``a`` to ``b`` inclusive: SLERP of the directions with linearly interpolated
    length for angular, straight line for euclidean (also when the two directions coincide)."""
    t = np.linspace(0.0, 1.0, num)[:, None]
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if metric == EUCLIDEAN or na < 1e-12 or nb < 1e-12:
        return (1 - t) * a64 + t * b64
    ua, ub = a64 / na, b64 / nb
    theta = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if np.sin(theta) < 1e-6:
        return (1 - t) * a64 + t * b64
    directions = (np.sin((1 - t) * theta) * ua + np.sin(t * theta) * ub) / np.sin(theta)
    return directions * ((1 - t) * na + t * nb)


def jump_size(lib: Library, row: int, sample: int, metric: str) -> list[float]:
    rows, _ = lib.neighbours(lib.vectors[row], sample + 1)
    chain = [row] + [int(r) for r in rows if int(r) != row]
    vecs = lib.vectors[chain]
    return [float(distance(vecs[i], vecs[i + 1], metric)) for i in range(len(chain) - 1)]


def find_path(lib: Library, start: int, end: int, options: PathOptions = PathOptions()) -> PathResult:
    metric = options.metric
    threshold = options.duplicate_threshold if options.duplicate_threshold is not None else DUPLICATE_THRESHOLD[metric]
    s, e = lib.vectors[start], lib.vectors[end]
    steps = jump_size(lib, start, options.jump_sample, metric) + jump_size(lib, end, options.jump_sample, metric)
    jump = float(np.mean(steps)) if steps and np.mean(steps) > 0 else DEFAULT_JUMP
    direct = float(distance(s, e, metric))
    fits = int(np.floor(direct / jump + 1e-9)) + 1  # the epsilon keeps 0.5/0.0555... from flooring to 8
    planned = max(2, min(options.max_steps, lib.size if options.fixed_size else fits))
    path = [start]
    used_ids = {lib.meta[start].item_id, lib.meta[end].item_id}
    used_sigs = {lib.meta[start].signature, lib.meta[end].signature}
    for point in interpolate(s, e, planned, metric)[1:-1]:
        want = options.candidates_per_step
        while True:  # a fixed size widens the search rather than skip a point
            rows, _ = lib.neighbours(point, want)
            picked = next((r for r in (int(x) for x in rows) if _fresh(lib, r, path, used_ids, used_sigs, options.lookback,
                                                                      threshold, metric)), None)
            if picked is not None or not options.fixed_size or want >= lib.size:
                break
            want = min(lib.size, want * 4)
        if picked is not None:
            path.append(picked)
            used_ids.add(lib.meta[picked].item_id)
            used_sigs.add(lib.meta[picked].signature)
    path.append(end)
    vecs = lib.vectors[path]
    total = sum(float(distance(vecs[i], vecs[i + 1], metric)) for i in range(len(path) - 1))
    return PathResult(rows=path, total_distance=total if np.isfinite(total) else 0.0, jump=jump, planned_steps=planned)


def _fresh(lib: Library, r: int, path: list[int], used_ids: set, used_sigs: set, lookback: int, threshold: float,
           metric: str) -> bool:
    """Row ``r`` is new by id and by (artist, title), and not a near-duplicate of the last songs."""
    m = lib.meta[r]
    if m.item_id in used_ids or m.signature in used_sigs:
        return False
    recent = lib.vectors[path[-lookback:]]
    return not np.any(np.atleast_1d(distance(lib.vectors[r], recent, metric)) < threshold)
