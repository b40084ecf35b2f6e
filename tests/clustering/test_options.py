"""One options builder for the CLI, the Ray job and the HTTP API, and the ranges fitted to the library."""

from __future__ import annotations

import argparse
import importlib.util

import pytest

from audiomuse_ray.api.jobs_api import clustering_options
from audiomuse_ray.clustering.options import (
    ClusteringOptions, build_options, fit_range, fit_to_library, options_from_json,
)
from audiomuse_ray.commands.clustering import add_clustering_arguments, options_from_args
from audiomuse_ray.errors import BadRequest, ConfigurationError
from audiomuse_ray.settings import Settings
from tests.conftest import REPO


def _job_parse():
    spec = importlib.util.spec_from_file_location("cluster_job", REPO / "jobs" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_options


def _cli(argv: list[str]) -> ClusteringOptions:
    parser = argparse.ArgumentParser()
    add_clustering_arguments(parser)
    return options_from_args(parser.parse_args(argv))


def test_cli_job_and_api_build_the_same_options():
    argv = ["--algorithm", "gmm", "--runs", "300", "--embeddings", "--clusters", "5", "30", "--top-n", "4",
            "--max-songs", "20", "--min-songs-per-genre", "40", "--explorers", "3", "--seed", "7"]
    body = {"clustering_method": "GMM", "clustering_runs": "300", "enable_clustering_embeddings": "true",
            "num_clusters_min": 5, "num_clusters_max": 30, "top_n_playlists": 4, "max_songs_per_cluster": 20,
            "min_songs_per_genre_for_stratification": 40, "jellyfin_token": "never read"}
    cli, job, api = _cli(argv), _job_parse()(argv), clustering_options(Settings.load({}), body)
    assert cli == job
    assert cli.search == api.search and cli.playlists == api.playlists and cli.embeddings == api.embeddings
    assert cli.search.range_of("gmm_n_components") == cli.search.range_of("spectral_n_clusters") == (5, 30)
    assert cli.search.pca_components == (0, 199)  # the job used to keep 0-8 with embeddings


def test_defaults_are_audiomuse_ai_s_and_pca_follows_the_space():
    plain, emb = _cli([]), _job_parse()(["--embeddings"])
    assert plain == options_from_json({}) == build_options()
    assert plain.search.range_of("num_clusters") == plain.search.range_of("gmm_n_components") == (40, 100)
    assert plain.search.range_of("dbscan_min_samples") == (5, 20) and plain.search.runs == 5000
    assert plain.search.pca_components == (0, 8) and emb.search.pca_components == (0, 199)
    assert plain.fit_to_library and not _cli(["--no-fit"]).fit_to_library


@pytest.mark.parametrize("body, words", [
    ({"num_clusters_min": "many"}, "num_clusters_min"),
    ({"num_clusters_min": 50, "num_clusters_max": 10}, "minimum (50) is above the maximum (10)"),
    ({"num_clusters_min": 1}, "at least 2"),
    ({"clustering_runs": 0}, "runs must be at least 1"),
    ({"clustering_runs": -3}, "runs must be at least 1"),
    ({"dbscan_eps_min": "nan"}, "finite"),
    ({"dbscan_eps_min": 0, "dbscan_eps_max": 0.4}, "0 < minimum"),
    ({"dbscan_eps_max": "wide"}, "dbscan_eps_max"),
    ({"score_weight_purity": "inf"}, "finite"),
    ({"stratified_sampling_target_percentile": 150}, "between 0 and 100"),
    ({"clustering_method": "hdbscan"}, "kmeans, dbscan, gmm, spectral"),
    ({"enable_clustering_embeddings": "perhaps"}, "enable_clustering_embeddings"),
    ({"max_songs_per_cluster": -1}, "max_songs"),
    ({"pca_components_min": -2}, "pca_components"),
])
def test_bad_numbers_in_the_json_body_are_bad_requests(body, words):
    with pytest.raises(BadRequest, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        clustering_options(Settings.load({}), body)
    assert info.value.http_status == 400


def test_bad_cli_values_are_one_clear_error():
    with pytest.raises(BadRequest, match="num_clusters: the minimum"):
        _cli(["--clusters", "9", "3"])


def test_fit_range_caps_and_scales_the_minimum():
    assert fit_range((40, 100), 9) == (4, 9)
    assert fit_range((40, 100), 100) == (40, 100) and fit_range((40, 100), 5000) == (40, 100)
    assert fit_range((3, 10), 9) == (3, 9)
    assert fit_range((40, 100), 1) == (2, 2)  # never below two clusters


def test_a_small_library_gets_a_fitted_range_and_says_why():
    fitted, note = fit_to_library(build_options(), 72)
    fitted_range = fitted.search.range_of
    assert fitted_range("num_clusters") == fitted_range("gmm_n_components") == fitted_range("spectral_n_clusters") == (4, 9)
    assert fitted_range("dbscan_min_samples") == (2, 8)
    assert note == "72 tracks: clusters 4–9 instead of 40–100 (about 8+ songs a playlist)"
    _, dbscan_note = fit_to_library(build_options(algorithm="dbscan"), 72)
    assert dbscan_note == "72 tracks: DBSCAN min_samples 2–8 instead of 5–20 (clusters of about 8+ songs)"


def test_a_big_library_keeps_the_requested_range():
    opts = build_options()
    fitted, note = fit_to_library(opts, 10_000)
    assert fitted == opts and note == "10000 tracks: clusters 40–100 as requested"
    kept, note = fit_to_library(build_options(fit_to_library=False), 72)
    assert kept.search.range_of("num_clusters") == (40, 100) and "as requested (fitting turned off)" in note


def test_the_cluster_job_takes_typed_settings_flags_too():
    spec = importlib.util.spec_from_file_location("cluster_job_settings", REPO / "jobs" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    options, settings = module.parse(["--runs", "10", "--explorers", "3", "--http-retries", "5"])
    assert (options.search.runs, options.explorers, settings.http_retries) == (10, 3, 5)
    with pytest.raises(ConfigurationError, match="AUDIOMUSE_HTTP_RETRIES"):
        module.parse(["--http-retries", "five"])
