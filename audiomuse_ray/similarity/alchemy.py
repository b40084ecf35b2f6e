"""Song alchemy: add songs together, take others away, and listen to what is near the result.

The ADD songs' mean embedding is the target; ``3 n`` of its nearest tracks are candidates (the seeds
themselves excluded). With SUBTRACT songs, a candidate closer than ``subtract_distance`` to their mean is
filtered out. Of the rest, temperature 0 keeps the ``n`` nearest; a positive temperature samples ``n``
without replacement with probabilities ``softmax(-distance / temperature)``, in draw order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from audiomuse_ray.similarity.library import ANGULAR, EUCLIDEAN, Library, distance

SUBTRACT_DISTANCE = {ANGULAR: 0.2, EUCLIDEAN: 5.0}
DEFAULT_N, MAX_N = 100, 200


@dataclass(frozen=True)
class AlchemyResult:
    results: list[tuple[int, float]]  # (row, distance to the ADD centroid) in selection order
    filtered_out: list[tuple[int, float]]  # rejected for being near the SUBTRACT centroid
    add_centroid: np.ndarray | None
    subtract_centroid: np.ndarray | None = None
    add_rows: list[int] = field(default_factory=list)
    subtract_rows: list[int] = field(default_factory=list)


def softmax_sample(distances: np.ndarray, n: int, temperature: float, rng: np.random.Generator) -> list[int]:
    """Indices of ``n`` draws without replacement, weights ``exp(-d / T)`` (max-subtracted)."""
    logits = -np.asarray(distances, np.float64) / temperature
    weights = np.exp(logits - logits.max())
    p = weights / weights.sum()
    n = min(n, int(np.count_nonzero(p)) or len(p))
    return [int(i) for i in rng.choice(len(p), size=n, replace=False, p=p)]


Anchor = tuple[np.ndarray, float]  # (vector, weight): a song is (its embedding, 1), an artist its components


def weighted_centroid(lib: Library, rows: Sequence[int], anchors: Sequence[Anchor] = ()) -> np.ndarray | None:
    """Mean of the songs' embeddings (weight 1 each) and the anchors' vectors (their weights)."""
    vectors = [lib.vectors[r] for r in rows] + [np.asarray(v, np.float32) for v, _w in anchors]
    weights = [1.0] * len(rows) + [float(w) for _v, w in anchors]
    if not vectors or sum(weights) <= 0:
        return None
    return np.average(np.stack(vectors), axis=0, weights=weights).astype(np.float32)


def alchemy(lib: Library, add_rows: list[int], subtract_rows: list[int] = (), *, n: int = DEFAULT_N,
            temperature: float = 1.0, subtract_distance: float | None = None, metric: str = ANGULAR,
            rng: np.random.Generator | None = None, add_anchors: Sequence[Anchor] = (),
            subtract_anchors: Sequence[Anchor] = ()) -> AlchemyResult:
    """``add_anchors``/``subtract_anchors`` mix weighted vectors (an artist's components) into the
    centroids beside the songs; only songs are excluded from the results as seeds."""
    add_c = weighted_centroid(lib, add_rows, add_anchors)
    if add_c is None:
        raise ValueError("alchemy needs at least one ADD song or artist")
    n = max(1, min(int(n), MAX_N))
    sub_c = weighted_centroid(lib, list(subtract_rows), subtract_anchors)
    seeds = set(add_rows) | set(subtract_rows)
    rows, _ = lib.neighbours(add_c, 3 * n + len(seeds))
    candidates = [int(r) for r in rows if int(r) not in seeds][: 3 * n]
    kept, filtered = [], []
    threshold = subtract_distance if subtract_distance is not None else SUBTRACT_DISTANCE[metric]
    for r in candidates:
        d = float(distance(add_c, lib.vectors[r], metric))
        if sub_c is not None and float(distance(sub_c, lib.vectors[r], metric)) < threshold:
            filtered.append((r, d))
        else:
            kept.append((r, d))
    if temperature <= 0:
        chosen = sorted(kept, key=lambda rd: rd[1])[:n]
    elif kept:
        picks = softmax_sample(np.array([d for _, d in kept]), n, temperature, rng or np.random.default_rng())
        chosen = [kept[i] for i in picks]
    else:
        chosen = []
    return AlchemyResult(chosen, filtered, add_c, sub_c, list(add_rows), list(subtract_rows))
