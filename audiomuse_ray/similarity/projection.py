"""The 2-D music map: every track placed on a plane (UMAP when it can run, PCA otherwise), sampled
deterministically into 25/50/75/100 % buckets and kept gzipped, because the map is fetched whole.
"""

from __future__ import annotations

import gzip
import json
import logging

import numpy as np

log = logging.getLogger(__name__)
PERCENTS = (25, 50, 75, 100)
UMAP_MIN_TRACKS = 16  # fewer points than UMAP's neighbourhood: PCA is the honest picture


def project_pca(vectors: np.ndarray) -> np.ndarray:
    """First two principal components, scaled into [-1, 1]."""
    x = np.asarray(vectors, np.float64)
    x = x - x.mean(axis=0)
    if x.shape[0] < 2:
        return np.zeros((x.shape[0], 2))
    _u, _s, vt = np.linalg.svd(x, full_matrices=False)
    coords = x @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    return _scale(coords)


def project_umap(vectors: np.ndarray, seed: int = 42) -> np.ndarray:
    import umap

    n_neighbors = min(15, max(2, vectors.shape[0] - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=1)
    return _scale(reducer.fit_transform(np.asarray(vectors, np.float32)))


def project(vectors: np.ndarray, method: str = "auto") -> tuple[np.ndarray, str]:
    """(coords (n, 2), method used). ``auto`` tries UMAP and falls back to PCA."""
    if method in ("auto", "umap") and vectors.shape[0] >= UMAP_MIN_TRACKS:
        try:
            return project_umap(vectors), "umap"
        except ImportError:
            log.info("umap-learn is not installed: the map uses PCA")
    return project_pca(vectors), "pca"


def _scale(coords: np.ndarray) -> np.ndarray:
    coords = coords - coords.mean(axis=0)
    peak = np.abs(coords).max()
    return coords / peak if peak > 0 else coords


def sample_indices(n: int, percent: int) -> np.ndarray:
    """Deterministic, evenly spread: ``max(1, floor(n · p / 100))`` indices of ``linspace(0, n-1)``."""
    if n == 0:
        return np.zeros(0, int)
    m = max(1, int(np.floor(n * percent / 100)))
    return np.unique(np.linspace(0, n - 1, min(m, n)).astype(int))


def map_payloads(items: list[dict], coords: np.ndarray, method: str) -> dict[int, bytes]:
    """Gzipped JSON ``{"items", "projection", "count"}`` per percent bucket."""
    out = {}
    for pct in PERCENTS:
        chosen = [
            {**items[i], "embedding_2d": [round(float(coords[i, 0]), 3), round(float(coords[i, 1]), 3)]}
            for i in sample_indices(len(items), pct)
        ]
        body = json.dumps({"items": chosen, "projection": method, "count": len(chosen)}, separators=(",", ":"))
        out[pct] = gzip.compress(body.encode(), compresslevel=6)
    return out


def encode_coords(coords: np.ndarray) -> bytes:
    return gzip.compress(np.asarray(coords, "<f4").tobytes())


def decode_coords(data: bytes) -> np.ndarray:
    return np.frombuffer(gzip.decompress(data), "<f4").reshape(-1, 2)
