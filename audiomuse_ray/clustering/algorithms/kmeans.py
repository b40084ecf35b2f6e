"""K-Means: ``n_clusters`` drawn from the library's cluster range (AudioMuse-AI's ``num_clusters_min``/
``_max``, 40-100, the CLI's ``--clusters``). Above 50 dimensions (embeddings without PCA) MiniBatch K-Means
with 3 starts and batches of 1,024 does the same job faster; below, plain K-Means with one start, since the
search itself supplies the restarts."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from audiomuse_ray.clustering.algorithms.base import CLUSTERS, COUNT, INT, ClusteringAlgorithm, RangeParameter
from audiomuse_ray.clustering.algorithms.registry import register

MINIBATCH_ABOVE_DIMS = 50


class KMeansAlgorithm(ClusteringAlgorithm):
    name = "kmeans"
    label = "K-Means"
    description = ("Splits the songs into k groups around k centres; MiniBatch K-Means above "
                   f"{MINIBATCH_ABOVE_DIMS} dimensions.")
    parameters = (RangeParameter(
        "n_clusters", CLUSTERS, INT, (40, 100), 2, cli="--clusters", label="clusters", role=COUNT,
        description="clusters (playlists before filtering) per run; GMM components and spectral clusters "
                    "too unless given; fitted to the library's size"),)

    def fit(self, values: Mapping[str, Any], x: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.cluster import KMeans, MiniBatchKMeans

        k = min(values["n_clusters"], x.shape[0] - 1)
        model = (MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=1024) if x.shape[1] > MINIBATCH_ABOVE_DIMS
                 else KMeans(k, random_state=seed, n_init=1))
        return model.fit_predict(x)


ALGORITHM = register(KMeansAlgorithm())
