"""Clustering algorithms, one module each, registered in the order they are offered. A new algorithm is a
module here (a ``ClusteringAlgorithm`` subclass with its parameters and ``fit``, registered at import) and its
name in the import below; the CLI, the API, the UI (through the API) and the search then offer it."""

from audiomuse_ray.clustering.algorithms.base import (
    CLUSTERS, COUNT, FLOAT, INT, SIZE, ClusteringAlgorithm, RangeParameter, Setting,
)
from audiomuse_ray.clustering.algorithms.registry import (
    DEFAULT_ALGORITHM, algorithms, algorithms_catalog, get, names, parameter, parameters, register, unregister,
)
from audiomuse_ray.clustering.algorithms import kmeans, dbscan, gmm, spectral  # noqa: E402,F401  (registers them)

__all__ = ["CLUSTERS", "COUNT", "DEFAULT_ALGORITHM", "FLOAT", "INT", "SIZE", "ClusteringAlgorithm", "RangeParameter",
           "Setting", "algorithms", "algorithms_catalog", "get", "names", "parameter", "parameters", "register",
           "unregister"]
