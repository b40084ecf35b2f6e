"""The evolutionary Monte-Carlo search, as pure functions: draw or mutate parameters, draw a stratified
sample, fit, score. Ray only schedules these (population.py); a plain loop over ``run_once`` is the same
search on one core.

- Explore or exploit: once ``exploitation_start`` of the runs are done and elites exist, a run mutates a
  random elite with probability ``exploitation_probability`` (integers move by up to
  ``mutation_int_delta``, floats by ``mutation_float_delta``, clipped to their ranges); otherwise it draws
  fresh parameters from the ranges.
- Sample: per primary genre up to ``target = max(min_songs_per_genre, percentile(genre sizes))`` songs;
  between consecutive runs of one explorer ``sampling_change`` of the previous sample is redrawn, so
  runs are comparable but not stuck on one subset.
- Spectral clustering is O(n^3): samples above ``spectral_max_samples`` are subsampled for it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from audiomuse_ray.clustering.data import OTHER_GENRE, STRATIFIED_GENRES, ClusteringData
from audiomuse_ray.clustering.scoring import Score, Weights, score_clustering

ALGORITHMS = ("kmeans", "dbscan", "gmm", "spectral")


@dataclass(frozen=True)
class SearchConfig:
    algorithm: str = "kmeans"
    runs: int = 5000
    num_clusters: tuple[int, int] = (40, 100)
    dbscan_eps: tuple[float, float] = (0.1, 0.5)
    dbscan_min_samples: tuple[int, int] = (5, 20)
    gmm_components: tuple[int, int] = (40, 100)
    gmm_covariance: str = "full"
    spectral_clusters: tuple[int, int] = (40, 100)
    pca_components: tuple[int, int] = (0, 8)  # (0, 199) is sensible with embeddings
    top_elites: int = 10
    exploitation_start: float = 0.2
    exploitation_probability: float = 0.7
    mutation_int_delta: int = 3
    mutation_float_delta: float = 0.05
    sampling_change: float = 0.2
    min_songs_per_genre: int = 100
    stratified_percentile: float = 50.0
    spectral_max_samples: int = 3000
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class ClusterParams:
    algorithm: str
    n_clusters: int = 0  # kmeans / spectral
    eps: float = 0.0  # dbscan
    min_samples: int = 0  # dbscan
    n_components: int = 0  # gmm
    pca: int = 0  # 0 = no PCA
    seed: int = 0


@dataclass(frozen=True)
class RunResult:
    params: ClusterParams
    score: float
    parts: dict[str, float]
    n_clusters: int
    sample: np.ndarray  # row indices of the sample the run clustered


def _int_range(lo_hi: tuple[int, int], cap: int) -> tuple[int, int]:
    lo, hi = lo_hi
    hi = max(2, min(hi, cap))
    return min(max(2, lo), hi), hi


def draw_params(cfg: SearchConfig, rng: np.random.Generator, n_samples: int, n_features: int) -> ClusterParams:
    pca_hi = min(cfg.pca_components[1], n_features, max(0, n_samples - 1))
    pca = int(rng.integers(min(cfg.pca_components[0], pca_hi), pca_hi + 1)) if pca_hi > 0 else 0
    seed = int(rng.integers(0, 2**31 - 1))
    a = cfg.algorithm
    if a == "kmeans":
        lo, hi = _int_range(cfg.num_clusters, n_samples - 1)
        return ClusterParams(a, n_clusters=int(rng.integers(lo, hi + 1)), pca=pca, seed=seed)
    if a == "gmm":
        lo, hi = _int_range(cfg.gmm_components, n_samples - 1)
        return ClusterParams(a, n_components=int(rng.integers(lo, hi + 1)), pca=pca, seed=seed)
    if a == "spectral":
        lo, hi = _int_range(cfg.spectral_clusters, n_samples - 1)
        return ClusterParams(a, n_clusters=int(rng.integers(lo, hi + 1)), pca=pca, seed=seed)
    if a == "dbscan":
        eps = round(float(rng.uniform(*cfg.dbscan_eps)), 3)
        return ClusterParams(a, eps=eps, min_samples=int(rng.integers(cfg.dbscan_min_samples[0], cfg.dbscan_min_samples[1] + 1)),
                             pca=pca, seed=seed)
    raise ValueError(f"unknown algorithm {a!r}; choose one of {', '.join(ALGORITHMS)}")


def mutate(p: ClusterParams, cfg: SearchConfig, rng: np.random.Generator, n_samples: int, n_features: int) -> ClusterParams:
    def move_int(v: int, lo: int, hi: int) -> int:
        d = max(1, cfg.mutation_int_delta)
        return int(np.clip(v + int(rng.integers(-d, d + 1)), lo, hi))

    pca_hi = min(cfg.pca_components[1], n_features, max(0, n_samples - 1))
    changes = {"seed": int(rng.integers(0, 2**31 - 1))}
    if pca_hi > 0:
        changes["pca"] = move_int(p.pca, min(cfg.pca_components[0], pca_hi), pca_hi)
    if p.algorithm in ("kmeans", "spectral"):
        rng_ = cfg.num_clusters if p.algorithm == "kmeans" else cfg.spectral_clusters
        changes["n_clusters"] = move_int(p.n_clusters, *_int_range(rng_, n_samples - 1))
    elif p.algorithm == "gmm":
        changes["n_components"] = move_int(p.n_components, *_int_range(cfg.gmm_components, n_samples - 1))
    elif p.algorithm == "dbscan":
        eps = p.eps + float(rng.uniform(-cfg.mutation_float_delta, cfg.mutation_float_delta))
        changes["eps"] = round(float(np.clip(eps, *cfg.dbscan_eps)), 3)
        changes["min_samples"] = move_int(p.min_samples, *cfg.dbscan_min_samples)
    return dataclasses.replace(p, **changes)


def choose_params(cfg: SearchConfig, rng: np.random.Generator, elites: list[ClusterParams], runs_done: int,
                  n_samples: int, n_features: int) -> ClusterParams:
    exploit = elites and runs_done >= cfg.exploitation_start * cfg.runs and rng.uniform() < cfg.exploitation_probability
    if exploit:
        return mutate(elites[int(rng.integers(len(elites)))], cfg, rng, n_samples, n_features)
    return draw_params(cfg, rng, n_samples, n_features)


def genre_target(genres: list[str], cfg: SearchConfig) -> int:
    counts = [genres.count(g) for g in STRATIFIED_GENRES if g in genres]
    if not counts:
        return cfg.min_songs_per_genre
    return max(cfg.min_songs_per_genre, int(np.floor(np.percentile(counts, np.clip(cfg.stratified_percentile, 0, 100)))))


def stratified_sample(genres: list[str], cfg: SearchConfig, rng: np.random.Generator,
                      previous: np.ndarray | None = None) -> np.ndarray:
    """Row indices: up to ``genre_target`` per genre (songs of no listed genre form one more stratum),
    keeping ``1 - sampling_change`` of ``previous``."""
    target = genre_target(genres, cfg)
    by_genre: dict[str, list[int]] = {}
    for i, g in enumerate(genres):
        by_genre.setdefault(g, []).append(i)
    kept = np.array([], dtype=int)
    if previous is not None and previous.size and cfg.sampling_change > 0:
        keep = int(len(previous) * (1 - cfg.sampling_change))
        kept = rng.choice(previous, size=keep, replace=False)
    chosen = set(kept.tolist())
    out = list(kept)
    for g in list(STRATIFIED_GENRES) + [OTHER_GENRE]:
        members = by_genre.get(g, [])
        have = sum(1 for i in members if i in chosen)
        free = [i for i in members if i not in chosen]
        need = min(target - have, len(free))
        if need > 0:
            out.extend(rng.choice(free, size=need, replace=False).tolist())
    return np.array(sorted(out), dtype=int)


def fit_labels(p: ClusterParams, x: np.ndarray) -> np.ndarray:
    """Cluster labels for ``x`` (PCA first when asked); -1 marks DBSCAN noise."""
    from sklearn.cluster import DBSCAN, KMeans, MiniBatchKMeans, SpectralClustering
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    if p.pca and p.pca < x.shape[1]:
        x = PCA(n_components=p.pca, random_state=p.seed % (2**31)).fit_transform(x)
    if p.algorithm == "kmeans":
        k = min(p.n_clusters, x.shape[0] - 1)
        model = (MiniBatchKMeans(k, random_state=p.seed, n_init=3, batch_size=1024) if x.shape[1] > 50
                 else KMeans(k, random_state=p.seed, n_init=1))
        return model.fit_predict(x)
    if p.algorithm == "gmm":
        return GaussianMixture(min(p.n_components, x.shape[0] - 1), covariance_type="full", random_state=p.seed,
                               reg_covar=1e-4, max_iter=100).fit_predict(x)
    if p.algorithm == "dbscan":
        return DBSCAN(eps=p.eps * np.sqrt(x.shape[1]), min_samples=p.min_samples).fit_predict(x)
    if p.algorithm == "spectral":
        return SpectralClustering(min(p.n_clusters, x.shape[0] - 1), affinity="nearest_neighbors",
                                  n_neighbors=min(20, x.shape[0] - 1), assign_labels="kmeans",
                                  random_state=p.seed).fit_predict(x)
    raise ValueError(f"unknown algorithm {p.algorithm!r}")


def run_once(data: ClusteringData, p: ClusterParams, sample: np.ndarray, cfg: SearchConfig) -> RunResult:
    if p.algorithm == "spectral" and sample.size > cfg.spectral_max_samples:
        sample = np.sort(np.random.default_rng(p.seed).choice(sample, cfg.spectral_max_samples, replace=False))
    x = data.features[sample]
    labels = fit_labels(p, x)
    score: Score = score_clustering(data.moods[sample], data.others[sample], labels, cfg.weights, space=x,
                                    embeddings=data.embeddings)
    return RunResult(p, score.total, score.parts, len(set(labels.tolist()) - {-1}), sample)


def update_elites(elites: list[RunResult], result: RunResult, top: int) -> list[RunResult]:
    pool = sorted([*elites, result], key=lambda r: -r.score)
    return pool[:top]
