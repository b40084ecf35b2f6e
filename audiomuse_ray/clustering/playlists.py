"""From the winning clustering to playlists over the whole library.

The winner was fitted on a sample; its clusters' centroids (in the standardised feature space) then take
every analysed track, each to its nearest centroid. Per cluster, songs are ordered by closeness, at most
``max_per_artist`` per artist, split into parts of ``max_songs`` (0 = no limit); clusters smaller than
``min_size`` are dropped; ``top_n`` (0 = all) keeps the most diverse: the largest first, then each time the
cluster farthest from those kept, weighted by log size. Rule names: the profile's top tag, the tempo band
(Slow < 0.33 <= Medium < 0.66 <= Fast of normalised tempo) and its top other feature when >= 0.5; the tag is
the one the cluster scores highest relative to the whole library, so names tell clusters apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.clustering.data import ClusteringData
from audiomuse_ray.clustering.evolution import RunResult, fit_labels

AUTOMATIC = "_automatic"
ASSIGN_BLOCK = 50_000


@dataclass(frozen=True)
class PlaylistOptions:
    max_songs: int = 0
    top_n: int = 8
    min_size: int = 3
    max_per_artist: int = 3


@dataclass(frozen=True)
class Cluster:
    rows: list[int]  # library rows, closest to the centroid first
    centroid: np.ndarray
    tag_profile: np.ndarray  # mean tag scores
    other_profile: np.ndarray  # mean of the six other features
    tempo: float  # mean normalised tempo


@dataclass(frozen=True)
class Playlist:
    name: str
    item_ids: list[str]
    rule_name: str
    cluster: Cluster


def nearest_centroids(features: np.ndarray, centroids: np.ndarray, block: int = ASSIGN_BLOCK
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centroid, its squared distance) for every row, ``block`` rows at a time: a
    million tracks never make the (n, k, d) array that a broadcast difference would."""
    c = np.asarray(centroids, np.float64)
    c2 = (c ** 2).sum(axis=1)
    nearest = np.empty(len(features), np.int64)
    dist = np.empty(len(features), np.float64)
    for lo in range(0, len(features), block):
        x = np.asarray(features[lo:lo + block], np.float64)
        d2 = np.maximum((x ** 2).sum(axis=1)[:, None] - 2 * x @ c.T + c2[None, :], 0.0)
        nearest[lo:lo + len(x)] = d2.argmin(axis=1)
        dist[lo:lo + len(x)] = d2[np.arange(len(x)), nearest[lo:lo + len(x)]]
    return nearest, dist


def assign_library(data: ClusteringData, best: RunResult) -> list[Cluster]:
    """The winner's clusters (fitted on its sample) take every track of the library, each to its nearest
    centroid."""
    labels = fit_labels(best.params, data.features[best.sample])
    ids = sorted(set(labels.tolist()) - {-1})
    if not ids:
        return []
    centroids = np.stack([data.features[best.sample][labels == c].mean(axis=0) for c in ids])
    nearest, d2 = nearest_centroids(data.features, centroids)
    clusters = []
    for j in range(len(ids)):
        members = np.nonzero(nearest == j)[0]
        if members.size == 0:
            continue
        order = members[np.argsort(d2[members], kind="stable")]
        clusters.append(Cluster(order.tolist(), centroids[j], data.moods[members].mean(axis=0),
                                data.others[members].mean(axis=0), float(data.tempo_norm[members].mean())))
    return clusters


def cap_artists(rows: list[int], authors: list[str], cap: int) -> list[int]:
    if cap <= 0:
        return rows
    counts: dict[str, int] = {}
    out = []
    for r in rows:
        key = authors[r].strip().lower()
        if counts.get(key, 0) < cap:
            counts[key] = counts.get(key, 0) + 1
            out.append(r)
    return out


def most_diverse(clusters: list[Cluster], top_n: int) -> list[Cluster]:
    if top_n <= 0 or len(clusters) <= top_n:
        return clusters
    sizes = np.log1p([len(c.rows) for c in clusters])
    chosen = [int(np.argmax(sizes))]
    cents = np.stack([c.centroid for c in clusters])
    while len(chosen) < top_n:
        dist = np.min(np.linalg.norm(cents[:, None, :] - cents[chosen][None, :, :], axis=2), axis=1)
        gain = dist / max(dist.max(), 1e-12) * sizes / sizes.max()
        gain[chosen] = -1
        chosen.append(int(np.argmax(gain)))
    return [clusters[i] for i in chosen]


def rule_name(cluster: Cluster, tag_labels: list[str], library_tags: np.ndarray | None = None) -> str:
    """``Ambient_Slow`` style: the tag that most sets this cluster apart (its mean over the library's mean,
    among tags it scores at least 0.05 on), the tempo band, and a strong other feature."""
    profile = cluster.tag_profile
    if not profile.size:
        top = "Mixed"
    else:
        lift = profile / np.maximum(library_tags, 1e-6) if library_tags is not None else profile.copy()
        lift[profile < 0.05] = -1
        top = tag_labels[int(np.argmax(lift))] if lift.max() > 0 else tag_labels[int(np.argmax(profile))]
    band = "Slow" if cluster.tempo < 0.33 else "Medium" if cluster.tempo < 0.66 else "Fast"
    parts = [top.title().replace(" ", ""), band]
    if cluster.other_profile.size and cluster.other_profile.max() >= 0.5:
        parts.append(MOOD_LABELS[int(np.argmax(cluster.other_profile))].title())
    return "_".join(parts)


def unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def build_playlists(data: ClusteringData, best: RunResult, options: PlaylistOptions,
                    namer=None) -> list[Playlist]:
    """Playlists named by ``namer(cluster, rule_name, songs) -> str`` (rule names when None), ``_automatic``."""
    clusters = []
    for c in assign_library(data, best):
        rows = cap_artists(c.rows, data.authors, options.max_per_artist)
        if len(rows) >= options.min_size:
            clusters.append(Cluster(rows, c.centroid, c.tag_profile, c.other_profile, c.tempo))
    clusters = most_diverse(clusters, options.top_n)
    library_tags = data.moods.mean(axis=0)
    rules = [rule_name(c, data.tag_labels, library_tags) for c in clusters]
    names = [namer(c, r, [(data.titles[i], data.authors[i]) for i in c.rows]) if namer else r
             for c, r in zip(clusters, rules)]
    out = []
    for name, rule, c in zip(unique_names(names), rules, clusters):
        parts = [c.rows] if options.max_songs <= 0 else [c.rows[i:i + options.max_songs]
                                                          for i in range(0, len(c.rows), options.max_songs)]
        for k, rows in enumerate(parts):
            suffix = f" ({k + 1})" if len(parts) > 1 else ""
            out.append(Playlist(f"{name}{suffix}{AUTOMATIC}", [data.item_ids[i] for i in rows], rule, c))
    return out
