"""How a clustering job is configured: one builder shared by the CLI, ``jobs/cluster.py`` and
``POST /api/clustering/start``, and the fitting of the cluster ranges to the library actually clustered.

- One builder (``build_options``) so the entry points cannot drift apart again (they used to disagree on
  the PCA range with embeddings). It takes plain values and refuses bad ones with ``BadRequest``, whose
  sentence names the value: the CLI prints it, the HTTP API answers it with a 400.
- Fitting (``fit_to_library``): AudioMuse-AI's defaults (40-100 clusters) suit libraries of thousands of
  tracks. On 72 tracks they give clusters of one or two songs, and since a playlist needs ``min_size``
  songs after the per-artist cap, one playlist or none. The ranges are capped so that the most clusters
  allowed still average ``SONGS_PER_PLAYLIST`` songs, the minimum shrunk by the same factor; DBSCAN's
  ``min_samples`` (the smallest cluster it can form) at most the average cluster size at that cap. A
  library of ``SONGS_PER_PLAYLIST`` x 100 tracks or more keeps the requested range.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from audiomuse_ray.clustering.evolution import ALGORITHMS, SearchConfig
from audiomuse_ray.clustering.playlists import PlaylistOptions
from audiomuse_ray.clustering.scoring import Weights
from audiomuse_ray.errors import BadRequest

DEFAULT_CLUSTERS = (40, 100)
DEFAULT_DBSCAN_EPS = (0.1, 0.5)
DEFAULT_DBSCAN_MIN_SAMPLES = (5, 20)
DEFAULT_RUNS = 5000
DEFAULT_TOP_N = 8
DEFAULT_MIN_SONGS_PER_GENRE = 100
PCA_SCORES = (0, 8)  # score vectors have 58 dimensions, most of them tags that move together
PCA_EMBEDDINGS = (0, 199)
SONGS_PER_PLAYLIST = 8  # measured on the 72-track corpus: 6-8 playlists covering 60-70 % (README)
MIN_CLUSTERS = 2


@dataclass(frozen=True)
class ClusteringOptions:
    search: SearchConfig = field(default_factory=SearchConfig)
    playlists: PlaylistOptions = field(default_factory=PlaylistOptions)
    embeddings: bool = False
    explorers: int = 0  # 0 = one per CPU
    seed: int = 0
    fit_to_library: bool = True  # cap the cluster ranges by the number of tracks (``fit_to_library``)


def build_options(*, algorithm: str = "kmeans", runs: int = DEFAULT_RUNS, embeddings: bool = False,
                  num_clusters: tuple[int, int] = DEFAULT_CLUSTERS, gmm_n_components: tuple[int, int] | None = None,
                  spectral_n_clusters: tuple[int, int] | None = None,
                  dbscan_eps: tuple[float, float] = DEFAULT_DBSCAN_EPS,
                  dbscan_min_samples: tuple[int, int] = DEFAULT_DBSCAN_MIN_SAMPLES,
                  pca_components: tuple[int, int] | None = None,
                  min_songs_per_genre: int = DEFAULT_MIN_SONGS_PER_GENRE, stratified_percentile: float = 50.0,
                  weights: Mapping[str, float] | None = None, top_n: int = DEFAULT_TOP_N, max_songs: int = 0,
                  explorers: int = 0, seed: int = 0, fit_to_library: bool = True) -> ClusteringOptions:
    """The one way to make ``ClusteringOptions``. GMM and spectral ranges default to ``num_clusters``, the PCA
    range to 0-199 with embeddings and 0-8 on score vectors; ``weights`` overrides ``Weights`` by name."""
    algorithm = str(algorithm).strip().lower()
    if algorithm not in ALGORITHMS:
        raise BadRequest(f"algorithm must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}.")
    clusters = _int_pair("num_clusters", num_clusters, MIN_CLUSTERS)
    known = {f.name for f in dataclasses.fields(Weights)}
    unknown = sorted(set(weights or {}) - known)
    if unknown:
        raise BadRequest(f"unknown score weight(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    cfg = SearchConfig(
        algorithm=algorithm,
        runs=_int("runs", runs, 1),
        num_clusters=clusters,
        gmm_components=_int_pair("gmm_n_components", gmm_n_components or clusters, MIN_CLUSTERS),
        spectral_clusters=_int_pair("spectral_n_clusters", spectral_n_clusters or clusters, MIN_CLUSTERS),
        dbscan_eps=_float_pair("dbscan_eps", dbscan_eps),
        dbscan_min_samples=_int_pair("dbscan_min_samples", dbscan_min_samples, 1),
        pca_components=_int_pair("pca_components", pca_components or (PCA_EMBEDDINGS if embeddings else PCA_SCORES), 0),
        min_songs_per_genre=_int("min_songs_per_genre", min_songs_per_genre, 1),
        stratified_percentile=_float("stratified_percentile", stratified_percentile, 0.0, 100.0),
        weights=Weights(**{name: _float(f"weight {name}", value, None, None) for name, value in (weights or {}).items()}),
    )
    playlists = PlaylistOptions(max_songs=_int("max_songs", max_songs, 0), top_n=_int("top_n", top_n, 0))
    return ClusteringOptions(search=cfg, playlists=playlists, embeddings=bool(embeddings),
                             explorers=_int("explorers", explorers, 0), seed=_int("seed", seed, 0),
                             fit_to_library=bool(fit_to_library))


def options_from_json(body: Mapping[str, Any]) -> ClusteringOptions:
    """AudioMuse-AI's JSON parameter names (``clustering_method``, ``num_clusters_min``...) onto
    ``build_options``. Unknown keys are ignored; a malformed value is a ``BadRequest`` naming its key."""
    from audiomuse_ray.api.params import flag, integer, number

    def pair(prefix: str, default: tuple, read=integer) -> tuple:
        return read(body, f"{prefix}_min", default[0]), read(body, f"{prefix}_max", default[1])

    embeddings = flag(body, "enable_clustering_embeddings", False)
    clusters = pair("num_clusters", DEFAULT_CLUSTERS)
    weights = {name: number(body, f"score_weight_{name}", getattr(Weights(), name))
               for name in (f.name for f in dataclasses.fields(Weights))}
    top_n = next((v for v in (integer(body, key, None) for key in
                              ("top_n_playlists", "top_n_clustering_playlist", "min_clustering_top")) if v is not None),
                 DEFAULT_TOP_N)
    return build_options(
        algorithm=str(body.get("clustering_method") or "kmeans"),
        runs=integer(body, "clustering_runs", DEFAULT_RUNS), embeddings=embeddings, num_clusters=clusters,
        gmm_n_components=pair("gmm_n_components", clusters), spectral_n_clusters=pair("spectral_n_clusters", clusters),
        dbscan_eps=pair("dbscan_eps", DEFAULT_DBSCAN_EPS, number),
        dbscan_min_samples=pair("dbscan_min_samples", DEFAULT_DBSCAN_MIN_SAMPLES),
        pca_components=pair("pca_components", PCA_EMBEDDINGS if embeddings else PCA_SCORES),
        min_songs_per_genre=integer(body, "min_songs_per_genre_for_stratification", DEFAULT_MIN_SONGS_PER_GENRE),
        stratified_percentile=number(body, "stratified_sampling_target_percentile", 50.0), weights=weights,
        top_n=top_n, max_songs=integer(body, "max_songs_per_cluster", 0),
    )


# ------------------------------------------------------------------------------------ fitting
def fit_range(requested: tuple[int, int], top: int, floor: int = MIN_CLUSTERS) -> tuple[int, int]:
    """``requested`` when its maximum is at most ``top``; otherwise ``top`` and the minimum shrunk by the
    same factor (40-100 capped at 9 gives 4-9), never below ``floor``."""
    lo, hi = requested
    top = max(floor, top)
    if hi <= top:
        return requested
    return max(floor, min(top, round(lo * top / hi))), top


_RANGE_OF = {"kmeans": ("num_clusters", "clusters"), "gmm": ("gmm_components", "GMM components"),
             "spectral": ("spectral_clusters", "spectral clusters"), "dbscan": ("dbscan_min_samples", "DBSCAN min_samples")}


def fit_to_library(options: ClusteringOptions, n_tracks: int) -> tuple[ClusteringOptions, str]:
    """Options with the ranges fitted to ``n_tracks`` (unless ``options.fit_to_library`` is off), and one
    sentence for the task log saying which range the algorithm used and why."""
    cfg = options.search
    name, label = _RANGE_OF[cfg.algorithm]
    requested = getattr(cfg, name)
    if not options.fit_to_library:
        return options, f"{n_tracks} tracks: {label} {_span(requested)} as requested (fitting turned off)"
    top = max(MIN_CLUSTERS, n_tracks // SONGS_PER_PLAYLIST)
    clusters = fit_range(cfg.num_clusters, top)
    fitted = dataclasses.replace(
        cfg, num_clusters=clusters, gmm_components=fit_range(cfg.gmm_components, top),
        spectral_clusters=fit_range(cfg.spectral_clusters, top),
        # a DBSCAN cluster has at least min_samples songs: no more than the average cluster at the cap
        dbscan_min_samples=fit_range(cfg.dbscan_min_samples, n_tracks // clusters[1], floor=2),
    )
    used = getattr(fitted, name)
    if used == requested:
        return dataclasses.replace(options, search=fitted), f"{n_tracks} tracks: {label} {_span(used)} as requested"
    why = (f"clusters of about {n_tracks // clusters[1]}+ songs" if cfg.algorithm == "dbscan"
           else f"about {n_tracks // used[1]}+ songs a playlist")
    return (dataclasses.replace(options, search=fitted),
            f"{n_tracks} tracks: {label} {_span(used)} instead of {_span(requested)} ({why})")


def _span(pair: tuple[int, int]) -> str:
    return f"{pair[0]}–{pair[1]}"


# ------------------------------------------------------------------------------------ checks
def _int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise BadRequest(f"{name} must be a whole number; got {value!r}.")
    if value < lo:
        raise BadRequest(f"{name} must be at least {lo}; got {value}.")
    return value


def _int_pair(name: str, pair: Any, lo: int) -> tuple[int, int]:
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a minimum and a maximum; got {pair!r}.") from None
    a, b = _int(f"{name} minimum", a, lo), _int(f"{name} maximum", b, lo)
    if a > b:
        raise BadRequest(f"{name}: the minimum ({a}) is above the maximum ({b}).")
    return a, b


def _float(name: str, value: Any, lo: float | None, hi: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number; got {value!r}.")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadRequest(f"{name} must be between {lo:g} and {hi:g}; got {value:g}.")
    return float(value)


def _float_pair(name: str, pair: Any) -> tuple[float, float]:
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a minimum and a maximum; got {pair!r}.") from None
    a, b = _float(f"{name} minimum", a, None, None), _float(f"{name} maximum", b, None, None)
    if a <= 0 or a > b:
        raise BadRequest(f"{name} must satisfy 0 < minimum <= maximum; got {a:g}-{b:g}.")
    return a, b
