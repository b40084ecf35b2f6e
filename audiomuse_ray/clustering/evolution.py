"""The evolutionary Monte-Carlo search, as pure functions: draw or mutate parameters, draw a stratified
sample, fit, score. Ray only schedules these (population.py); a plain loop over ``run_once`` is the same
search on one core. What each algorithm draws, how it moves and how it fits is its own object in
``clustering/algorithms/``; this module reads the registry by the configured name.

- Explore or exploit: once ``exploitation_start`` of the runs are done and elites exist, a run mutates a
  random elite with probability ``exploitation_probability`` (integers move by up to
  ``mutation_int_delta``, floats by ``mutation_float_delta``, clipped to their ranges); otherwise it draws
  fresh parameters from the ranges.
- Sample: per primary genre up to ``target = max(min_songs_per_genre, percentile(genre sizes))`` songs,
  and no more than ``sample_size`` over all (fitted to the library: a million tracks are clustered 20,000
  at a time, the playlists then take the whole library); between consecutive runs of one explorer
  ``sampling_change`` of the previous sample is redrawn, so runs are comparable but not stuck on one subset. An algorithm may cluster fewer of them (spectral
  subsamples above ``spectral_max_samples``: it is O(n^3)).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from audiomuse_ray.clustering import algorithms
from audiomuse_ray.clustering.algorithms import ClusteringAlgorithm
from audiomuse_ray.clustering.data import STRATA, STRATIFIED_GENRES, ClusteringData
from audiomuse_ray.clustering.scoring import Score, Weights, score_clustering

Pairs = tuple[tuple[str, Any], ...]


def _pairs(given: Mapping[str, Any] | Pairs, sort: bool = True) -> Pairs:
    items = [(str(k), tuple(v) if isinstance(v, list) else v) for k, v in dict(given).items()]
    return tuple(sorted(items)) if sort else tuple(items)


@dataclass(frozen=True)
class SearchConfig:
    """``ranges``: the algorithms' parameter ranges by option name (``num_clusters``, ``dbscan_eps``...);
    one not given takes the range it follows, else its algorithm's default. ``settings``: algorithm
    settings (``spectral_max_samples``) over their defaults. Both accept a dict and are kept as sorted
    pairs, so the configuration stays immutable, hashable and comparable."""

    algorithm: str = algorithms.DEFAULT_ALGORITHM
    runs: int = 5000
    ranges: Pairs = ()
    settings: Pairs = ()
    pca_components: tuple[int, int] = (0, 8)  # (0, 199) is sensible with embeddings
    top_elites: int = 10
    exploitation_start: float = 0.2
    exploitation_probability: float = 0.7
    mutation_int_delta: int = 3
    mutation_float_delta: float = 0.05
    sampling_change: float = 0.2
    min_songs_per_genre: int = 100
    stratified_percentile: float = 50.0
    sample_size: int = 0  # at most this many songs a run (0: no cap; options.fit_to_library fits it)
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", _pairs(self.ranges))
        object.__setattr__(self, "settings", _pairs(self.settings))

    def range_of(self, option: str) -> tuple:
        given = dict(self.ranges)
        if option in given:
            return given[option]
        p = algorithms.parameter(option)
        return self.range_of(p.follows) if p.follows else p.default

    def ranges_for(self, algorithm: ClusteringAlgorithm) -> dict[str, tuple]:
        return {p.option: self.range_of(p.option) for p in algorithm.parameters}

    def settings_for(self, algorithm: ClusteringAlgorithm) -> dict[str, Any]:
        given = dict(self.settings)
        return {s.name: given.get(s.name, s.default) for s in algorithm.settings}


@dataclass(frozen=True)
class ClusterParams:
    """One run's parameters: the algorithm's own ``values`` (``n_clusters``, ``eps``...; a dict is accepted
    and kept as pairs in the algorithm's order), the PCA components (0 = none) and the seed."""

    algorithm: str
    values: Pairs = ()
    pca: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _pairs(self.values, sort=False))

    def __getitem__(self, name: str) -> Any:
        return dict(self.values)[name]

    def as_dict(self) -> dict[str, Any]:
        """JSON for the task record: ``{"algorithm": "kmeans", "n_clusters": 7, "pca": 3, "seed": ...}``."""
        return {"algorithm": self.algorithm, **dict(self.values), "pca": self.pca, "seed": self.seed}


@dataclass(frozen=True)
class RunResult:
    params: ClusterParams
    score: float
    parts: dict[str, float]
    n_clusters: int
    sample: np.ndarray  # row indices of the sample the run clustered


def _pca_high(cfg: SearchConfig, n_samples: int, n_features: int) -> int:
    return min(cfg.pca_components[1], n_features, max(0, n_samples - 1))


def draw_params(cfg: SearchConfig, rng: np.random.Generator, n_samples: int, n_features: int) -> ClusterParams:
    pca_hi = _pca_high(cfg, n_samples, n_features)
    pca = int(rng.integers(min(cfg.pca_components[0], pca_hi), pca_hi + 1)) if pca_hi > 0 else 0
    seed = int(rng.integers(0, 2**31 - 1))
    alg = algorithms.get(cfg.algorithm)
    return ClusterParams(alg.name, alg.draw(cfg.ranges_for(alg), rng, n_samples), pca=pca, seed=seed)


def mutate(p: ClusterParams, cfg: SearchConfig, rng: np.random.Generator, n_samples: int, n_features: int) -> ClusterParams:
    pca_hi = _pca_high(cfg, n_samples, n_features)
    changes: dict[str, Any] = {"seed": int(rng.integers(0, 2**31 - 1))}
    if pca_hi > 0:
        d = max(1, cfg.mutation_int_delta)
        changes["pca"] = int(np.clip(p.pca + int(rng.integers(-d, d + 1)), min(cfg.pca_components[0], pca_hi), pca_hi))
    alg = algorithms.get(p.algorithm)
    changes["values"] = alg.mutate(dict(p.values), cfg.ranges_for(alg), rng, n_samples,
                                   cfg.mutation_int_delta, cfg.mutation_float_delta)
    return dataclasses.replace(p, **changes)


def choose_params(cfg: SearchConfig, rng: np.random.Generator, elites: list[ClusterParams], runs_done: int,
                  n_samples: int, n_features: int) -> ClusterParams:
    exploit = elites and runs_done >= cfg.exploitation_start * cfg.runs and rng.uniform() < cfg.exploitation_probability
    if exploit:
        return mutate(elites[int(rng.integers(len(elites)))], cfg, rng, n_samples, n_features)
    return draw_params(cfg, rng, n_samples, n_features)


class Strata:
    """Rows grouped by primary genre (a position in ``STRATA``), computed once per explorer: each run then
    samples with a few array operations instead of a pass over every track in Python."""

    def __init__(self, codes: np.ndarray):
        self.codes = np.asarray(codes, np.int64)
        self.order = np.argsort(self.codes, kind="stable")  # rows stratum after stratum, ascending within one
        counts = np.bincount(self.codes, minlength=len(STRATA))
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.counts = counts

    @classmethod
    def of(cls, genres) -> "Strata":
        """From ``ClusteringData.strata`` codes, a ``Strata``, or genre names (songs of a genre not listed
        go to OTHER_GENRE)."""
        if isinstance(genres, Strata):
            return genres
        if isinstance(genres, np.ndarray) and genres.dtype.kind in "iu":
            return cls(genres)
        index = {g: i for i, g in enumerate(STRATA)}
        return cls(np.array([index.get(g, len(STRATA) - 1) for g in genres], np.int64))

    def members(self, stratum: int) -> np.ndarray:
        return self.order[self.offsets[stratum]:self.offsets[stratum + 1]]


def genre_target(genres, cfg: SearchConfig) -> int:
    """Songs per genre: the ``stratified_percentile`` of the listed genres' sizes, at least
    ``min_songs_per_genre``; with a ``sample_size``, at most that many songs over all strata that have any."""
    strata = Strata.of(genres)
    counts = [int(c) for c in strata.counts[:len(STRATIFIED_GENRES)] if c]
    target = cfg.min_songs_per_genre if not counts else max(
        cfg.min_songs_per_genre, int(np.floor(np.percentile(counts, np.clip(cfg.stratified_percentile, 0, 100)))))
    if cfg.sample_size > 0:
        target = min(target, max(1, cfg.sample_size // max(1, int(np.count_nonzero(strata.counts)))))
    return target


def stratified_sample(genres, cfg: SearchConfig, rng: np.random.Generator,
                      previous: np.ndarray | None = None) -> np.ndarray:
    """Row indices: up to ``genre_target`` per genre (songs of no listed genre form one more stratum),
    keeping ``1 - sampling_change`` of ``previous``. ``genres``: names, ``ClusteringData.strata`` or a
    ``Strata`` (which an explorer makes once)."""
    strata = Strata.of(genres)
    target = genre_target(strata, cfg)
    kept = np.array([], dtype=int)
    if previous is not None and previous.size and cfg.sampling_change > 0:
        keep = int(len(previous) * (1 - cfg.sampling_change))
        kept = rng.choice(previous, size=keep, replace=False)
    chosen = np.zeros(len(strata.codes), bool)
    chosen[kept] = True
    out = [np.asarray(kept, int)]
    for g in range(len(STRATA)):
        members = strata.members(g)
        taken = chosen[members]
        free = members[~taken]
        need = min(target - int(taken.sum()), len(free))
        if need > 0:
            out.append(rng.choice(free, size=need, replace=False))
    return np.sort(np.concatenate(out)).astype(int)


def fit_labels(p: ClusterParams, x: np.ndarray) -> np.ndarray:
    """Cluster labels for ``x`` (PCA first when asked) by ``p``'s algorithm; -1 marks noise."""
    from sklearn.decomposition import PCA

    if p.pca and p.pca < x.shape[1]:
        x = PCA(n_components=p.pca, random_state=p.seed % (2**31)).fit_transform(x)
    return algorithms.get(p.algorithm).fit(dict(p.values), x, p.seed)


def run_once(data: ClusteringData, p: ClusterParams, sample: np.ndarray, cfg: SearchConfig) -> RunResult:
    alg = algorithms.get(p.algorithm)
    sample = alg.subsample(sample, p.seed, cfg.settings_for(alg))
    x = data.features[sample]
    labels = fit_labels(p, x)
    score: Score = score_clustering(data.moods[sample], data.others[sample], labels, cfg.weights, space=x,
                                    embeddings=data.embeddings)
    return RunResult(p, score.total, score.parts, len(set(labels.tolist()) - {-1}), sample)


def update_elites(elites: list[RunResult], result: RunResult, top: int) -> list[RunResult]:
    pool = sorted([*elites, result], key=lambda r: -r.score)
    return pool[:top]
