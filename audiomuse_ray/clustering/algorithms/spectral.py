"""Spectral clustering on a 20-nearest-neighbour graph, labels assigned by K-Means. ``n_clusters``
(AudioMuse-AI's ``spectral_n_clusters_min``/``_max``; the cluster range when not given). Its eigen-
decomposition is O(n³), so a sample above ``spectral_max_samples`` (3,000) is subsampled, with the run's
seed, before it is clustered."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from audiomuse_ray.clustering.algorithms.base import (
    CLUSTERS, COUNT, INT, ClusteringAlgorithm, RangeParameter, Setting,
)
from audiomuse_ray.clustering.algorithms.registry import register

NEIGHBOURS = 20


class SpectralAlgorithm(ClusteringAlgorithm):
    name = "spectral"
    label = "Spectral"
    description = "Cuts a graph of each song's nearest neighbours into groups; samples above 3,000 are subsampled."
    parameters = (RangeParameter(
        "n_clusters", "spectral_n_clusters", INT, (40, 100), 2, label="spectral clusters", role=COUNT,
        follows=CLUSTERS,
        description="clusters per run (the cluster range unless given); fitted to the library's size"),)
    settings = (Setting("spectral_max_samples", 3000, "a run's sample above this many songs is subsampled "
                                                     "(the cost grows with the cube of the songs)"),)

    def subsample(self, sample: np.ndarray, seed: int, settings: Mapping[str, Any]) -> np.ndarray:
        limit = settings["spectral_max_samples"]
        if sample.size <= limit:
            return sample
        return np.sort(np.random.default_rng(seed).choice(sample, limit, replace=False))

    def fit(self, values: Mapping[str, Any], x: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.cluster import SpectralClustering

        return SpectralClustering(min(values["n_clusters"], x.shape[0] - 1), affinity="nearest_neighbors",
                                  n_neighbors=min(NEIGHBOURS, x.shape[0] - 1), assign_labels="kmeans",
                                  random_state=seed).fit_predict(x)


ALGORITHM = register(SpectralAlgorithm())
