"""Clustering algorithms come from one registry: an algorithm defined here, in the test, is offered by the
CLI, accepted (and listed when refusing) by the API's validation, described by the catalog and searched by
the evolution, with no other change; the built-ins keep AudioMuse-AI's names and defaults."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiomuse_ray import cli
from audiomuse_ray.clustering import algorithms
from audiomuse_ray.clustering.algorithms import COUNT, INT, ClusteringAlgorithm, RangeParameter
from audiomuse_ray.clustering.data import build_data
from audiomuse_ray.clustering.evolution import SearchConfig
from audiomuse_ray.clustering.options import build_options, fit_to_library, options_from_json
from audiomuse_ray.clustering.playlists import PlaylistOptions, build_playlists
from audiomuse_ray.clustering.population import serial_search
from audiomuse_ray.commands.clustering import options_from_args
from audiomuse_ray.errors import BadRequest
from tests.clustering.test_evolution import LABELS, synthetic_rows


class Bands(ClusteringAlgorithm):
    """Songs cut into ``k`` bands of equal size along the first feature (tempo in the synthetic library,
    whose three groups have three tempos), recording what the search asked of it."""

    name = "bands"
    label = "Tempo bands"
    description = "equal bands along the first feature"
    parameters = (RangeParameter("k", "bands_k", INT, (2, 6), 2, label="bands", role=COUNT,
                                 description="bands per run"),)

    def __init__(self) -> None:
        self.fitted: list[int] = []
        self.mutated = 0

    def mutate(self, values, ranges, rng, n_samples, int_step, float_step):
        self.mutated += 1
        return super().mutate(values, ranges, rng, n_samples, int_step, float_step)

    def fit(self, values, x, seed):
        self.fitted.append(values["k"])
        rank = np.argsort(np.argsort(x[:, 0], kind="stable"))
        return rank * values["k"] // len(x)


@pytest.fixture
def bands():
    algorithm = algorithms.register(Bands())
    yield algorithm
    algorithms.unregister(algorithm.name)


def test_the_cli_offers_it_and_the_options_carry_it(bands):
    args = cli.build_parser().parse_args(["cluster", "--algorithm", "bands", "--bands-k", "3", "5", "--runs", "7"])
    options = options_from_args(args)
    assert options.search.algorithm == "bands" and options.search.range_of("bands_k") == (3, 5)
    assert options.search.runs == 7


def test_without_it_the_cli_refuses_the_name(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["cluster", "--algorithm", "bands"])
    err = capsys.readouterr().err
    assert "invalid choice: 'bands'" in err and "'spectral')" in err


def test_the_api_validation_accepts_it_and_lists_it_when_refusing(bands):
    options = options_from_json({"clustering_method": "Bands", "bands_k_min": "2", "bands_k_max": 4})
    assert options.search.algorithm == "bands" and options.search.range_of("bands_k") == (2, 4)
    with pytest.raises(BadRequest, match=r"one of kmeans, dbscan, gmm, spectral, bands; got 'hdbscan'") as info:
        options_from_json({"clustering_method": "hdbscan"})
    assert info.value.http_status == 400
    with pytest.raises(BadRequest, match="bands_k minimum must be at least 2"):
        options_from_json({"clustering_method": "bands", "bands_k_min": 1})
    algorithms.unregister("bands")
    with pytest.raises(BadRequest, match=r"one of kmeans, dbscan, gmm, spectral; got 'bands'"):
        options_from_json({"clustering_method": "bands"})


def test_its_cluster_count_is_fitted_to_a_small_library(bands):
    fitted, note = fit_to_library(build_options(algorithm="bands", ranges={"bands_k": (2, 40)}), 72)
    assert fitted.search.range_of("bands_k") == (2, 9)
    assert note == "72 tracks: bands 2–9 instead of 2–40 (about 8+ songs a playlist)"


def test_the_catalog_describes_it(bands):
    catalog = json.loads(json.dumps(algorithms.algorithms_catalog()))  # JSON as it is
    assert [a["name"] for a in catalog] == ["kmeans", "dbscan", "gmm", "spectral", "bands"]
    entry = catalog[-1]
    assert entry["label"] == "Tempo bands" and entry["description"] == "equal bands along the first feature"
    assert entry["parameters"] == [{
        "name": "bands_k", "value": "k", "type": "integer", "label": "bands", "default": [2, 6], "minimum": 2,
        "exclusive_minimum": False, "description": "bands per run", "follows": None,
        "json": ["bands_k_min", "bands_k_max"], "cli": "--bands-k"}]


def test_the_serial_search_draws_mutates_and_fits_it(bands):
    data = build_data(synthetic_rows(), LABELS)
    cfg = SearchConfig(algorithm="bands", runs=12, ranges={"bands_k": (2, 4)}, pca_components=(0, 0),
                       min_songs_per_genre=30, exploitation_start=0.25)
    best = serial_search(data, cfg, seed=0)
    assert len(bands.fitted) == 12 and set(bands.fitted) <= {2, 3, 4} and bands.mutated > 0
    assert best.params.algorithm == "bands" and best.params["k"] == 3  # the three tempo groups
    playlists = build_playlists(data, best, PlaylistOptions(top_n=0, min_size=3, max_per_artist=100))
    assert sum(len(p.item_ids) for p in playlists) == 90
    assert all(len({i.split("-")[0] for i in p.item_ids}) == 1 for p in playlists)


def test_the_built_ins_keep_audiomuse_ai_s_names_and_defaults():
    catalog = {a["name"]: a for a in algorithms.algorithms_catalog()}
    ranges = {name: {p["name"]: (p["default"], p["follows"]) for p in a["parameters"]} for name, a in catalog.items()}
    assert ranges == {
        "kmeans": {"num_clusters": ([40, 100], None)},
        "dbscan": {"dbscan_eps": ([0.1, 0.5], None), "dbscan_min_samples": ([5, 20], None)},
        "gmm": {"gmm_n_components": ([40, 100], "num_clusters")},
        "spectral": {"spectral_n_clusters": ([40, 100], "num_clusters")},
    }
    assert catalog["spectral"]["settings"][0]["name"] == "spectral_max_samples"
    assert catalog["spectral"]["settings"][0]["default"] == 3000
    assert [a["label"] for a in catalog.values()] == ["K-Means", "DBSCAN", "Gaussian mixture", "Spectral"]


def test_the_registry_refuses_a_second_owner_of_a_name_or_a_range(bands):
    with pytest.raises(ValueError, match="registered already"):
        algorithms.register(Bands())

    class Stealer(Bands):
        name = "stealer"
        parameters = (RangeParameter("k", "num_clusters", INT, (2, 6), 2, description="clusters"),)

    with pytest.raises(ValueError, match="belongs to kmeans"):
        algorithms.register(Stealer())
    assert "stealer" not in algorithms.names()


def test_the_http_api_lists_it_and_validates_with_it(bands, library_client):
    """Over the API's routes (in process): the catalog route offers it; a clustering start that names an
    unknown algorithm is a 400 listing the registry, this one among them."""
    client = library_client[0]
    assert "bands" in [a["name"] for a in client.get("/api/clustering/algorithms").json()]
    refused = client.post("/api/clustering/start", json={"clustering_method": "hdbscan"})
    assert refused.status_code == 400 and "bands" in refused.json()["error"]
