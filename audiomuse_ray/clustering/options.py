"""How a clustering job is configured: one builder shared by the CLI, ``jobs/cluster.py`` and
``POST /api/clustering/start``, and the fitting of the cluster ranges to the library actually clustered.

- One builder (``build_options``) so the entry points cannot drift apart again (they used to disagree on
  the PCA range with embeddings). It takes plain values and refuses bad ones with ``BadRequest``, whose
  sentence names the value: the CLI prints it, the HTTP API answers it with a 400. The algorithm names and
  their ranges (AudioMuse-AI's option names and defaults) come from the registry in ``algorithms/``.
- Fitting (``fit_to_library``): AudioMuse-AI's defaults (40-100 clusters) suit libraries of thousands of
  tracks. On 72 tracks they give clusters of one or two songs, and since a playlist needs ``min_size``
  songs after the per-artist cap, one playlist or none. The ranges are capped so that the most clusters
  allowed still average ``SONGS_PER_PLAYLIST`` songs, the minimum shrunk by the same factor; a cluster
  size (DBSCAN's ``min_samples``, the smallest cluster it can form) at most the average cluster size at that
  cap. A
  library of ``SONGS_PER_PLAYLIST`` x 100 tracks or more keeps the requested range.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from audiomuse_ray.clustering import algorithms
from audiomuse_ray.clustering.algorithms import CLUSTERS, COUNT, FLOAT, INT, SIZE, RangeParameter
from audiomuse_ray.clustering.evolution import SearchConfig
from audiomuse_ray.clustering.playlists import PlaylistOptions
from audiomuse_ray.clustering.scoring import Weights
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.parsing import flag, integer, number

DEFAULT_RUNS = 5000
SAMPLE_SIZE = 20_000  # songs a run clusters at most by default: a K-Means run costs well under a second
# on one core at this size, so 1,000 runs take minutes on two cores, whatever the library's size
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


def build_options(*, algorithm: str = algorithms.DEFAULT_ALGORITHM, runs: int = DEFAULT_RUNS, embeddings: bool = False,
                  ranges: Mapping[str, Any] | None = None, pca_components: tuple[int, int] | None = None,
                  min_songs_per_genre: int = DEFAULT_MIN_SONGS_PER_GENRE, stratified_percentile: float = 50.0,
                  weights: Mapping[str, float] | None = None, top_n: int = DEFAULT_TOP_N, max_songs: int = 0,
                  explorers: int = 0, seed: int = 0, fit_to_library: bool = True,
                  sample_size: int = 0) -> ClusteringOptions:
    """The one way to make ``ClusteringOptions``. ``ranges`` holds (minimum, maximum) by the registered
    algorithms' option names (``num_clusters``, ``gmm_n_components``, ``dbscan_eps``...); every registered
    range is checked and kept, one not given taking the range it follows (GMM and spectral follow
    ``num_clusters``) or its default. The PCA range defaults to 0-199 with embeddings and 0-8 on score
    vectors; ``weights`` overrides ``Weights`` by name. ``sample_size``: the most songs one run clusters
    (0: fitted to the library by ``fit_to_library``, ``SAMPLE_SIZE``)."""
    algorithm = algorithms.get(str(algorithm).strip().lower()).name
    given = dict(ranges or {})
    unknown = sorted(set(given) - {p.option for p in algorithms.parameters()})
    if unknown:
        raise BadRequest(f"unknown clustering range(s) {', '.join(unknown)}; known: "
                         f"{', '.join(p.option for p in algorithms.parameters())}.")
    known = {f.name for f in dataclasses.fields(Weights)}
    unknown = sorted(set(weights or {}) - known)
    if unknown:
        raise BadRequest(f"unknown score weight(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    checked: dict[str, tuple] = {}

    def check(p: RangeParameter) -> tuple:
        if p.option not in checked:
            raw = given.get(p.option)
            if raw is None:
                raw = check(algorithms.parameter(p.follows)) if p.follows else p.default
            checked[p.option] = (_int_pair(p.option, raw, int(p.floor)) if p.kind == INT
                                 else _float_pair(p.option, raw, p.floor))
        return checked[p.option]

    for p in algorithms.parameters():
        check(p)
    cfg = SearchConfig(
        algorithm=algorithm,
        runs=_int("runs", runs, 1),
        ranges=checked,
        pca_components=_int_pair("pca_components", pca_components or (PCA_EMBEDDINGS if embeddings else PCA_SCORES), 0),
        min_songs_per_genre=_int("min_songs_per_genre", min_songs_per_genre, 1),
        stratified_percentile=_float("stratified_percentile", stratified_percentile, 0.0, 100.0),
        sample_size=_int("sample_size", sample_size, 0),
        weights=Weights(**{name: _float(f"weight {name}", value, None, None) for name, value in (weights or {}).items()}),
    )
    playlists = PlaylistOptions(max_songs=_int("max_songs", max_songs, 0), top_n=_int("top_n", top_n, 0))
    return ClusteringOptions(search=cfg, playlists=playlists, embeddings=bool(embeddings),
                             explorers=_int("explorers", explorers, 0), seed=_int("seed", seed, 0),
                             fit_to_library=bool(fit_to_library))


def options_from_json(body: Mapping[str, Any]) -> ClusteringOptions:
    """AudioMuse-AI's JSON parameter names (``clustering_method``, ``num_clusters_min``...; each registered
    algorithm's ``<option>_min``/``_max``) onto ``build_options``. A range given by one end keeps the other
    end of the range it follows, or of its default. Unknown keys are ignored; a malformed value is a
    ``BadRequest`` naming its key."""

    def pair(prefix: str, default: tuple, read=integer) -> tuple:
        return read(body, f"{prefix}_min", default[0]), read(body, f"{prefix}_max", default[1])

    ranges: dict[str, tuple] = {}

    def json_range(p: RangeParameter) -> tuple:
        if p.option not in ranges:
            base = json_range(algorithms.parameter(p.follows)) if p.follows else p.default
            ranges[p.option] = pair(p.option, base, integer if p.kind == INT else number)
        return ranges[p.option]

    for p in algorithms.parameters():
        json_range(p)
    embeddings = flag(body, "enable_clustering_embeddings", False)
    weights = {name: number(body, f"score_weight_{name}", getattr(Weights(), name))
               for name in (f.name for f in dataclasses.fields(Weights))}
    top_n = next((v for v in (integer(body, key, None) for key in
                              ("top_n_playlists", "top_n_clustering_playlist", "min_clustering_top")) if v is not None),
                 DEFAULT_TOP_N)
    return build_options(
        algorithm=str(body.get("clustering_method") or algorithms.DEFAULT_ALGORITHM),
        runs=integer(body, "clustering_runs", DEFAULT_RUNS), embeddings=embeddings, ranges=ranges,
        pca_components=pair("pca_components", PCA_EMBEDDINGS if embeddings else PCA_SCORES),
        min_songs_per_genre=integer(body, "min_songs_per_genre_for_stratification", DEFAULT_MIN_SONGS_PER_GENRE),
        stratified_percentile=number(body, "stratified_sampling_target_percentile", 50.0), weights=weights,
        top_n=top_n, max_songs=integer(body, "max_songs_per_cluster", 0),
        sample_size=integer(body, "clustering_sample_size", 0),
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


def fit_to_library(options: ClusteringOptions, n_tracks: int) -> tuple[ClusteringOptions, str]:
    """Options with every registered range fitted to ``n_tracks`` (unless ``options.fit_to_library`` is
    off): a cluster ``COUNT`` to one cluster per ``SONGS_PER_PLAYLIST`` tracks, a cluster ``SIZE`` to the
    average cluster at the fitted cluster range's top. Also one sentence for the task log saying which range
    the chosen algorithm used (its first fitted one) and why."""
    cfg = options.search
    headline = next((p for p in algorithms.get(cfg.algorithm).parameters if p.role), None)
    if not cfg.sample_size and fitted_sample_size(n_tracks):
        cfg = dataclasses.replace(cfg, sample_size=fitted_sample_size(n_tracks))
        options = dataclasses.replace(options, search=cfg)
    if not options.fit_to_library:
        kept = f"{headline.title} {_span(cfg.range_of(headline.option))}" if headline else "ranges"
        return options, f"{n_tracks} tracks: {kept} as requested (fitting turned off)"
    top = max(MIN_CLUSTERS, n_tracks // SONGS_PER_PLAYLIST)
    clusters = fit_range(cfg.range_of(CLUSTERS), top)
    size_cap = n_tracks // clusters[1]  # a cluster of at least this many songs still fits the cluster range
    fitted: dict[str, tuple] = {}
    for p in algorithms.parameters():
        requested = cfg.range_of(p.option)
        fitted[p.option] = (fit_range(requested, top) if p.role == COUNT
                            else fit_range(requested, size_cap, floor=2) if p.role == SIZE else requested)
    fitted_options = dataclasses.replace(options, search=dataclasses.replace(cfg, ranges=fitted))
    if headline is None:
        return fitted_options, f"{n_tracks} tracks: {cfg.algorithm} has no range to fit"
    requested, used = cfg.range_of(headline.option), fitted[headline.option]
    if used == requested:
        return fitted_options, f"{n_tracks} tracks: {headline.title} {_span(used)} as requested"
    why = (f"clusters of about {size_cap}+ songs" if headline.role == SIZE
           else f"about {n_tracks // used[1]}+ songs a playlist")
    return fitted_options, f"{n_tracks} tracks: {headline.title} {_span(used)} instead of {_span(requested)} ({why})"


def fitted_sample_size(n_tracks: int) -> int:
    """The default most songs a run clusters: ``SAMPLE_SIZE`` on a library bigger than that, else 0 (no
    cap: the stratified sample is already smaller than the library)."""
    return SAMPLE_SIZE if n_tracks > SAMPLE_SIZE else 0


def _span(pair: tuple) -> str:
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


def _float_pair(name: str, pair: Any, above: float) -> tuple[float, float]:
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a minimum and a maximum; got {pair!r}.") from None
    a, b = _float(f"{name} minimum", a, None, None), _float(f"{name} maximum", b, None, None)
    if a <= above or a > b:
        raise BadRequest(f"{name} must satisfy {above:g} < minimum <= maximum; got {a:g}-{b:g}.")
    return a, b
