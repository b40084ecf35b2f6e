"""The 2-D music map: every track placed on a plane (UMAP when it can run, PCA otherwise), computed once per
index version by the rebuild and stored with it.

A big library is not fitted whole: UMAP (or PCA) is fitted on an even sample of ``FIT_SAMPLE`` tracks and
every other track is placed from it (PCA: the fitted axes; UMAP: the mean position of its nearest sampled
tracks, weighted by closeness, which is how UMAP itself starts a new point). At a million tracks that is
a 20k-point UMAP and a million small queries, about a minute on two cores, where UMAP over the whole
library would take hours.
"""

from __future__ import annotations

import functools
import gzip
import logging
import sys

import numpy as np

log = logging.getLogger(__name__)
PERCENTS = (25, 50, 75, 100)
UMAP_MIN_TRACKS = 16  # fewer points than UMAP's neighbourhood: PCA is the honest picture
FIT_SAMPLE = 20_000  # tracks the projection is fitted on; the rest are placed
PLACE_NEIGHBOURS = 10
BLOCK = 65_536


def pca_axes(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (dim,), the first two principal axes (2, dim), zero-padded when the data has fewer)."""
    x = np.asarray(vectors, np.float64)
    mean = x.mean(axis=0)
    axes = np.zeros((2, x.shape[1]))
    if x.shape[0] >= 2:
        _u, _s, vt = np.linalg.svd(x - mean, full_matrices=False)
        axes[:min(2, vt.shape[0])] = vt[:2]
    return mean, axes


def project_pca(vectors: np.ndarray) -> np.ndarray:
    """First two principal components, scaled into [-1, 1]."""
    x = np.asarray(vectors, np.float64)
    if x.shape[0] < 2:
        return np.zeros((x.shape[0], 2))
    mean, axes = pca_axes(x)
    return _scale((x - mean) @ axes.T)


@functools.cache
def _umap():
    """umap, its numba code cached on disk. umap compiles most of its functions without numba's cache, so
    every new process (a Ray worker after an analysis, a job, a replica) compiled them again before its first
    map: 8-20 s of CPU for a 60-point map, measured here. With caching on, a process after the first finds
    them compiled (0.2 s for that map after umap's 2 s import). pynndescent's own functions are cached already;
    numba keeps the cache beside the package or in ``NUMBA_CACHE_DIR`` (set in the Docker image)."""
    import umap

    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # a numba that moved it: maps still work, compiled per process
        return umap
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in ("umap", "pynndescent"):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and hasattr(value, "enable_caching"):
                value.enable_caching()
    return umap


def project_umap(vectors: np.ndarray, seed: int = 42) -> np.ndarray:
    umap = _umap()
    n_neighbors = min(15, max(2, vectors.shape[0] - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=1)
    return _scale(reducer.fit_transform(np.asarray(vectors, np.float32)))


def _fit(vectors: np.ndarray, method: str) -> tuple[np.ndarray, str]:
    if method in ("auto", "umap") and vectors.shape[0] >= UMAP_MIN_TRACKS:
        try:
            return project_umap(vectors), "umap"
        except ImportError:
            log.info("umap-learn is not installed: the map uses PCA")
    return project_pca(vectors), "pca"


def project(vectors, method: str = "auto", fit_sample: int = FIT_SAMPLE, seed: int = 42) -> tuple[np.ndarray, str]:
    """(coords (n, 2) float32, method used). ``auto`` tries UMAP and falls back to PCA. ``vectors`` may be
    any (n, dim) matrix-like that numpy can index by rows (``IndexVectors`` too)."""
    n = len(vectors)
    if n <= fit_sample:
        coords, used = _fit(np.asarray(vectors, np.float32), method)
        return np.asarray(coords, np.float32), used
    sample = np.sort(np.random.default_rng(seed).choice(n, fit_sample, replace=False))
    fitted = np.asarray(vectors[sample], np.float32)
    coords, used = _fit(fitted, method)
    if used == "pca":
        return _pca_all(vectors, fitted), used
    return place(vectors, fitted, np.asarray(coords, np.float32), sample), used


def _pca_all(vectors, fitted: np.ndarray) -> np.ndarray:
    mean, axes = pca_axes(fitted)
    out = np.empty((len(vectors), 2), np.float32)
    for lo in range(0, len(vectors), BLOCK):
        out[lo:lo + BLOCK] = (np.asarray(vectors[lo:lo + BLOCK], np.float64) - mean) @ axes.T
    centre = ((fitted - mean) @ axes.T).mean(axis=0)
    peak = np.abs(out - centre).max()
    return ((out - centre) / peak if peak > 0 else out - centre).astype(np.float32)


def place(vectors, fitted: np.ndarray, fitted_coords: np.ndarray, sample: np.ndarray,
          k: int = PLACE_NEIGHBOURS) -> np.ndarray:
    """Every row's position: its sampled neighbours' positions averaged, weighted by ``1 / (distance + eps)``
    (cosine, through a Voyager index of the sample); the sampled rows keep their fitted positions."""
    from voyager import Index, Space

    index = Index(Space.Cosine, num_dimensions=int(fitted.shape[1]), M=16, ef_construction=100,
                  max_elements=len(fitted))
    index.add_items(fitted, ids=np.arange(len(fitted)))
    index.ef = max(2 * k, 20)
    k = min(k, len(fitted))
    out = np.empty((len(vectors), 2), np.float32)
    for lo in range(0, len(vectors), BLOCK):
        block = np.asarray(vectors[lo:lo + BLOCK], np.float32)
        ids, dists = index.query(block, k=k, num_threads=-1)
        w = 1.0 / (np.asarray(dists, np.float32) + 1e-3)
        out[lo:lo + len(block)] = (fitted_coords[ids] * w[..., None]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    out[sample] = fitted_coords
    return out


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


def encode_coords(coords: np.ndarray) -> bytes:
    return gzip.compress(np.asarray(coords, "<f4").tobytes())


def decode_coords(data: bytes) -> np.ndarray:
    return np.frombuffer(gzip.decompress(data), "<f4").reshape(-1, 2)
