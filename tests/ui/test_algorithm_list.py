"""The clustering tab's list of algorithms comes from the server (``GET /api/clustering/algorithms``), so an
algorithm the server registers is offered without a UI change; a server older than that route (404) gets
the built-in names; any other failure is reported, not papered over with a list."""

from __future__ import annotations

import pytest

from audiomuse_ray.clustering.algorithms import algorithms_catalog
from audiomuse_ray.ui.client import ApiClient, ApiError
from audiomuse_ray.ui.clustering import algorithm_choices
from tests.fakes.loopback import LoopbackServer, Response

ROUTE = "/api/clustering/algorithms"
BUILT_IN = [("K-Means", "kmeans"), ("DBSCAN", "dbscan"), ("Gaussian mixture", "gmm"), ("Spectral", "spectral")]


def test_the_list_is_the_server_s():
    listing = algorithms_catalog() + [{"name": "hdbscan", "label": "HDBSCAN", "parameters": []}]
    with LoopbackServer() as server:
        server.route("GET", ROUTE, lambda _req: Response(200, listing))
        assert algorithm_choices(ApiClient(server.url)) == BUILT_IN + [("HDBSCAN", "hdbscan")]
        assert [r.path for r in server.requests] == [ROUTE]


def test_an_older_server_without_the_route_gets_the_built_in_names():
    with LoopbackServer() as server:  # no routes: 404, as an older audiomuse-ray answers
        assert algorithm_choices(ApiClient(server.url)) == BUILT_IN


def test_a_failing_server_is_an_error_not_a_list():
    with LoopbackServer() as server:
        server.route("GET", ROUTE, lambda _req: Response(503, {"error": "The store is not reachable."}))
        with pytest.raises(ApiError, match="The store is not reachable.") as info:
            algorithm_choices(ApiClient(server.url))
    assert info.value.status == 503
