"""Gaussian mixture: ``n_components`` (AudioMuse-AI's ``gmm_n_components_min``/``_max``; the cluster range
when not given) full-covariance Gaussians, each song to its likeliest. ``reg_covar`` 1e-4 keeps a component
fitted on a few songs from collapsing; 100 EM iterations at most."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from audiomuse_ray.clustering.algorithms.base import CLUSTERS, COUNT, INT, ClusteringAlgorithm, RangeParameter
from audiomuse_ray.clustering.algorithms.registry import register

COVARIANCE = "full"


class GaussianMixtureAlgorithm(ClusteringAlgorithm):
    name = "gmm"
    label = "Gaussian mixture"
    description = "Fits overlapping Gaussian groups and gives each song to its likeliest one."
    parameters = (RangeParameter(
        "n_components", "gmm_n_components", INT, (40, 100), 2, label="GMM components", role=COUNT, follows=CLUSTERS,
        description="Gaussian components per run (the cluster range unless given); fitted to the library's size"),)

    def fit(self, values: Mapping[str, Any], x: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(min(values["n_components"], x.shape[0] - 1), covariance_type=COVARIANCE,
                               random_state=seed, reg_covar=1e-4, max_iter=100).fit_predict(x)


ALGORITHM = register(GaussianMixtureAlgorithm())
