"""DBSCAN: clusters are dense regions, the rest is noise (label -1, in no playlist). ``eps`` (AudioMuse-AI's
``dbscan_eps_min``/``_max``, 0.1-0.5) is per dimension: scaled by the square root of the dimensions, so one
range suits the 58 score features, PCA's few components and the 200-d embeddings alike. ``min_samples``
(5-20) is the smallest cluster it forms."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from audiomuse_ray.clustering.algorithms.base import FLOAT, INT, SIZE, ClusteringAlgorithm, RangeParameter
from audiomuse_ray.clustering.algorithms.registry import register


class DBSCANAlgorithm(ClusteringAlgorithm):
    name = "dbscan"
    label = "DBSCAN"
    description = "Groups songs in dense regions of the space and leaves the scattered ones out."
    parameters = (
        RangeParameter("eps", "dbscan_eps", FLOAT, (0.1, 0.5), 0.0, label="DBSCAN eps",
                       description="neighbourhood radius per dimension, scaled by the square root of the dimensions"),
        RangeParameter("min_samples", "dbscan_min_samples", INT, (5, 20), 1, label="DBSCAN min_samples", role=SIZE,
                       description="songs a dense region needs to be a cluster; capped at the average cluster "
                                   "size on a small library"),
    )

    def fit(self, values: Mapping[str, Any], x: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.cluster import DBSCAN

        return DBSCAN(eps=values["eps"] * np.sqrt(x.shape[1]), min_samples=values["min_samples"]).fit_predict(x)


ALGORITHM = register(DBSCANAlgorithm())
