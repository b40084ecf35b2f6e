"""The route name Ray Serve labels a request with is found by the first route, not a walk over all of them."""

from __future__ import annotations

import pickle

import pytest
from ray.serve._private.thirdparty.get_asgi_route_name import get_asgi_route_name
from starlette.routing import Match

from audiomuse_ray.serve.http_app import create_api
from audiomuse_ray.serve.route_names import ServeRouteName


def _scope(path: str, root: str) -> dict:
    """A request as a replica deployed at ``root`` receives it (Serve sets root_path to the route prefix)."""
    return {"type": "http", "method": "GET", "path": path, "root_path": root, "query_string": b"", "headers": []}


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.mark.parametrize("path, root", [("/api/similar_tracks", "/api"), ("/api/health", "/api"),
                                        ("/chat/api/chatPlaylist", "/chat")])
def test_serve_names_a_fixed_path_from_the_first_route(api, path, root):
    first = api.router.routes[0]
    assert isinstance(first, ServeRouteName) and first.matches(_scope(path, root))[0] == Match.FULL
    assert get_asgi_route_name(api, _scope(path, root)) == path


def test_a_path_with_parameters_is_left_to_the_walk(api):
    scope = _scope("/api/status/abc123", "/api")
    assert api.router.routes[0].matches(scope)[0] == Match.NONE
    assert get_asgi_route_name(api, scope) in (None, "/api/status/{task_id}")


@pytest.mark.parametrize("path, root", [("/api/similar_tracks", ""),  # what the app's own router sees
                                        ("/jf/api/similar_tracks", "/jf"),  # mounted under another prefix
                                        ("/similar_tracks", ""), ("/api/unknown", "/api")])
def test_the_app_itself_never_routes_to_it(api, path, root):
    assert api.router.routes[0].matches(_scope(path, root))[0] == Match.NONE


def test_it_survives_the_pickling_that_ships_the_app_to_replicas(api):
    copy = pickle.loads(pickle.dumps(api.router.routes[0]))
    assert copy.matches(_scope("/api/similar_tracks", "/api"))[0] == Match.FULL
    assert copy.path == "/similar_tracks"  # Serve puts the root path back in front
