"""Over real HTTP on Ray Serve: a malformed number is a 400 that names the parameter, and a media provider
missing its settings is a 503 naming the variables to set (not a 502 blaming a server never called)."""

from __future__ import annotations

import json

import pytest
import requests

from audiomuse_ray.store import tracks as track_store
from tests.conftest import wait_until_routed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(analysed_corpus, serve_base):
    """One app over the analysed corpus whose settings pick Subsonic but give no URL."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _summary = analysed_corpus
    unconfigured = settings.replace(provider="subsonic", subsonic_url="", subsonic_user="")
    serve.run(build(unconfigured, reload_interval_s=60.0, num_cpus=0), name="errors", route_prefix="/errors")
    wait_until_routed(serve_base + "/errors/api/active_tasks")
    yield serve_base + "/errors", store
    serve.delete("errors")


def seed_id(store) -> str:
    return next(t.item_id for t in track_store.get_tracks(store) if t.title == "neuronal diving")


@pytest.mark.parametrize("extra, parameter", [
    ({"temperature": "nan"}, "temperature"),  # was a 500: NaN reached the softmax
    ({"temperature": float("inf")}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": "warm"}, "temperature"),
    ({"subtract_distance": -1}, "subtract_distance"),
    ({"n": "ten"}, "n"),
    ({"n": 2.5}, "n"),
])
def test_a_bad_number_in_an_alchemy_body_is_a_400_naming_it(served, extra, parameter):
    url, store = served
    body = {"items": [{"id": seed_id(store), "op": "ADD", "type": "song"}], **extra}
    # json.dumps writes NaN/Infinity literals, as JavaScript clients can; Python's parser reads them
    res = requests.post(url + "/api/alchemy", data=json.dumps(body), timeout=30)
    assert res.status_code == 400 and f"'{parameter}'" in res.json()["error"]


def test_alchemy_still_answers_good_numbers_and_a_negative_seed(served):
    url, store = served
    body = {"items": [{"id": seed_id(store), "op": "ADD", "type": "song"}], "n": 5.0, "temperature": "0.5",
            "seed": -1}  # a negative seed was a 500 from numpy
    res = requests.post(url + "/api/alchemy", json=body, timeout=30)
    assert res.status_code == 200 and len(res.json()["results"]) == 5


def test_bad_numbers_in_similar_tracks_and_the_map_are_400s(served):
    url, store = served
    res = requests.get(url + "/api/similar_tracks", params={"item_id": seed_id(store), "n": "lots"}, timeout=30)
    assert res.status_code == 400 and res.json() == {"error": "Parameter 'n' must be a valid integer."}
    for percent in ("inf", "half", "30"):  # "inf" was a 500 (OverflowError)
        res = requests.get(url + "/api/map", params={"percent": percent}, timeout=30)
        assert res.status_code == 400 and "'percent' must be 25, 50, 75 or 100" in res.json()["error"]


def test_a_provider_without_its_url_is_a_503_naming_the_setting(served):
    url, store = served
    fingerprint = requests.get(url + "/api/sonic_fingerprint/generate", params={"n": 5}, timeout=30)
    playlist = requests.post(url + "/api/create_playlist", timeout=30,
                             json={"playlist_name": "Mix", "track_ids": [seed_id(store)]})
    for res in (fingerprint, playlist):
        assert res.status_code == 503, res.text
        error = res.json()["error"]
        assert "AUDIOMUSE_SUBSONIC_URL" in error and "AUDIOMUSE_SUBSONIC_USER" in error
        assert error.startswith("AUDIOMUSE_PROVIDER=subsonic needs")


def test_a_trailing_slash_too_many_or_too_few_is_redirected_once(served):
    """Starlette's redirect of a path with a trailing slash too many, kept when the router's own is off
    (Serve's metrics label walked every route twice for it on each request)."""
    base, _store = served
    res = requests.get(base + "/api/health/", allow_redirects=False, timeout=30)
    assert res.status_code == 307 and res.headers["location"].endswith("/errors/api/health")
    assert requests.get(base + "/api/health/", timeout=30).json()["status"] == "ok"
    res = requests.get(base + "/api/nothing/", allow_redirects=False, timeout=30)
    assert res.status_code == 404 and "is not a route" in res.json()["error"]
    res = requests.get(base + "/api/docs/assets/missing.js", allow_redirects=False, timeout=30)
    assert res.status_code == 404  # a static file's own miss is not redirected to ".../missing.js/"
