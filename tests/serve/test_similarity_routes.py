"""The Serve application over real HTTP, called the way the Jellyfin, Navidrome and Lyrion plugins call it,
on an index built from the real-music corpus."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.similarity.rebuild import rebuild_index
from audiomuse_ray.similarity.similar import mood_distance
from audiomuse_ray.store import open_store
from audiomuse_ray.store import tracks as track_store
from tests.conftest import REPO, wait_until_routed
from tests.fakes.music_servers import FakeJellyfin, FakeLibrary

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOKEN = "s3cret-token"



@pytest.fixture(scope="module")
def jellyfin(corpus, tmp_path_factory):
    """A loopback Jellyfin whose library is the corpus (same item ids as the local provider)."""
    library = FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("pl")))
    with FakeJellyfin(library) as server:
        yield server


@pytest.fixture(scope="module")
def served(analysed_corpus, jellyfin, tmp_path_factory, serve_base):
    """Three apps on the session's Serve: the main one (local provider), a Jellyfin-backed one with an
    API token under /jf, and one over an empty database under /empty."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _summary = analysed_corpus
    jf = settings.replace(provider="jellyfin", jellyfin_url=jellyfin.url, jellyfin_user_id="u1",
                          jellyfin_token="key", api_token=TOKEN)
    empty_dir = tmp_path_factory.mktemp("empty")
    empty = Settings.load({}, data_dir=str(empty_dir), music_dir=settings.music_dir, models_dir=str(REPO / "models"))
    serve.run(build(settings, reload_interval_s=1.0, num_cpus=0), name="audiomuse", route_prefix="/")
    serve.run(build(jf, reload_interval_s=1.0, num_cpus=0), name="jf", route_prefix="/jf")
    serve.run(build(empty, reload_interval_s=1.0, num_cpus=0), name="empty", route_prefix="/empty")
    wait_until_routed(serve_base + "/empty/api/active_tasks")
    yield serve_base, settings, store
    for name in ("audiomuse", "jf", "empty"):
        serve.delete(name)


def ids_by_title(store) -> dict[str, str]:
    return {t.title: t.item_id for t in track_store.get_tracks(store)}


def get(url, path, **params):
    return requests.get(url + path, params=params, timeout=30)


def test_health_and_config_hide_secrets(served):
    url, _settings, _store = served
    assert get(url, "/").json()["status"] == "ok"
    config = get(url, "/api/config").json()
    assert config["provider"] == "local" and "api_token_set" in config
    assert not any("token" == k or "password" == k for k in config)


def test_search_tracks_like_the_plugins(served):
    url, _s, _store = served
    rows = get(url, "/api/search_tracks", search_query="BLUPI music").json()
    assert len(rows) == 10 and set(rows[0]) == {"item_id", "title", "author", "album", "album_artist"}
    assert get(url, "/api/search_tracks", search_query="bl").json() == []
    legacy = get(url, "/api/search_tracks", title="neuronal diving", artist="nexuiz").json()  # Jellyfin's params
    assert [r["title"] for r in legacy] == ["neuronal diving"]
    page = get(url, "/api/search_tracks", search_query="blupi", start=8, end=20).json()
    assert [r["item_id"] for r in page] == [r["item_id"] for r in rows[8:]]


def test_similar_tracks_shapes_and_errors(served):
    url, _s, store = served
    seed = ids_by_title(store)["neuronal diving"]
    rows = get(url, "/api/similar_tracks", item_id=seed, n=5, eliminate_duplicates="true", radius_similarity="true").json()
    assert len(rows) == 5 and seed not in [r["item_id"] for r in rows]
    assert set(rows[0]) == {"item_id", "title", "author", "album", "album_artist", "distance"}
    plain = get(url, "/api/similar_tracks", item_id=seed, n=8, radius_similarity="false",
                eliminate_duplicates="false").json()
    assert [r["distance"] for r in plain] == sorted(r["distance"] for r in plain)
    by_name = get(url, "/api/similar_tracks", title="neuronal diving", artist="Nexuiz", n=5).json()
    assert [r["item_id"] for r in by_name] == [r["item_id"] for r in rows]
    missing = get(url, "/api/similar_tracks", item_id="no-such-track")
    assert missing.status_code == 404 and "error" in missing.json()
    assert get(url, "/api/similar_tracks", n=3).status_code == 400
    assert get(url, "/api/similar_tracks", item_id=seed, eliminate_duplicates="maybe").status_code == 400


def test_mood_similarity_keeps_songs_of_a_similar_mood(served):
    url, _s, store = served
    tracks = {t.item_id: t for t in track_store.get_tracks(store)}
    seed = ids_by_title(store)["neuronal diving"]
    rows = get(url, "/api/similar_tracks", item_id=seed, n=20, mood_similarity="true").json()
    assert rows and all(mood_distance(tracks[seed].other_features, tracks[r["item_id"]].other_features) <= 0.15
                        for r in rows)


def test_find_path_from_metal_to_ambient(served):
    url, _s, store = served
    ids = ids_by_title(store)
    start, end = ids["neuronal diving"], ids["Aberrations"]
    body = get(url, "/api/find_path", start_song_id=start, end_song_id=end, max_steps=8).json()
    path = body["path"]
    assert path[0]["item_id"] == start and path[-1]["item_id"] == end and 2 <= len(path) <= 8
    assert len({r["item_id"] for r in path}) == len(path) and len(path[1]["embedding_vector"]) == 200
    assert body["total_distance"] > 0
    assert get(url, "/api/find_path", start_song_id=start, end_song_id=start).status_code == 400
    assert get(url, "/api/find_path", start_song_id=start).status_code == 400


def test_alchemy_adds_and_subtracts(served):
    url, _s, store = served
    ids = ids_by_title(store)
    add, sub = ids["neuronal diving"], ids["Aberrations"]
    body = {"items": [{"id": add, "op": "ADD", "type": "song"}, {"id": sub, "op": "SUBTRACT", "type": "song"}],
            "n": 10, "temperature": 0}
    res = requests.post(url + "/api/alchemy", json=body, timeout=30).json()
    assert {"results", "filtered_out", "centroid_2d", "add_points", "sub_points", "projection"} <= set(res)
    got = [r["item_id"] for r in res["results"]]
    assert 0 < len(got) <= 10 and add not in got and sub not in got
    assert [r["distance"] for r in res["results"]] == sorted(r["distance"] for r in res["results"])
    assert res["add_points"][0]["item_id"] == add and len(res["centroid_2d"]) == 2
    sampled = {**body, "temperature": 1.0, "seed": 5}
    one = requests.post(url + "/api/alchemy", json=sampled, timeout=30).json()["results"]
    two = requests.post(url + "/api/alchemy", json=sampled, timeout=30).json()["results"]
    assert [r["item_id"] for r in one] == [r["item_id"] for r in two]
    bad = requests.post(url + "/api/alchemy", json={"items": [{"id": sub, "op": "SUBTRACT"}]}, timeout=30)
    assert bad.status_code == 400 and bad.json() == {"error": "Invalid request"}


def test_music_map_buckets(served):
    url, _s, _store = served
    quarter = get(url, "/api/map", percent=25)
    assert quarter.headers.get("content-encoding") == "gzip"
    body = quarter.json()
    assert body["count"] == 18 and len(body["items"]) == 18 and body["projection"] in ("umap", "pca")
    item = body["items"][0]
    assert set(item) == {"item_id", "title", "artist", "mood_vector", "embedding_2d"} and len(item["embedding_2d"]) == 2
    assert get(url, "/api/map", percent=100).json()["count"] == 72
    assert get(url, "/api/map", percent=25).json() == body  # deterministic
    assert get(url, "/api/map", percent=33).status_code == 400


def test_create_playlist_on_the_provider_and_list_it(served):
    url, settings, store = served
    ids = list(ids_by_title(store).values())[:3]
    res = requests.post(url + "/api/create_playlist", json={"playlist_name": "Test Mix", "track_ids": ids}, timeout=30)
    assert res.status_code == 201 and "playlist_id" in res.json()
    m3u = (settings.playlist_dir and __import__("pathlib").Path(settings.playlist_dir) / f"{res.json()['playlist_id']}.m3u8")
    assert m3u.exists() and len([line for line in m3u.read_text().splitlines() if not line.startswith("#")]) == 3
    listed = get(url, "/api/playlists").json()
    assert [r["item_id"] for r in listed["Test Mix"]] == ids and listed["Test Mix"][0]["title"]
    assert requests.post(url + "/api/create_playlist", json={"track_ids": ids}, timeout=30).status_code == 400
    assert requests.post(url + "/api/create_playlist", data="not json", timeout=30).status_code == 400


def test_sonic_fingerprint_needs_history(served, jellyfin, analysed_corpus):
    url, _s, store = served
    local = get(url, "/api/sonic_fingerprint/generate", n=10)
    assert local.status_code == 400 and "no listening history" in local.json()["error"]
    ids = ids_by_title(store)
    now = datetime.now(timezone.utc)
    jellyfin.library.plays.update({ids["neuronal diving"]: (12, now), ids["Aberrations"]: (3, now - timedelta(days=90))})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    res = requests.get(url + "/jf/api/sonic_fingerprint/generate", headers=auth, timeout=30,
                       params={"jellyfin_user_identifier": "u1", "jellyfin_token": "key", "n": 10}).json()
    assert [r["item_id"] for r in res[:2]] == [ids["neuronal diving"], ids["Aberrations"]]
    assert res[0]["distance"] == 0.0 and len(res) == 10 and len({r["item_id"] for r in res}) == 10
    assert set(res[0]) == {"item_id", "title", "author", "distance"}


def test_api_token_is_required_when_set(served):
    url, _s, _store = served
    assert requests.get(url + "/jf/api/config", timeout=30).status_code == 401
    assert requests.get(url + "/jf/api/config", headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    ok = requests.get(url + "/jf/api/config", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert ok.status_code == 200 and TOKEN not in ok.text and "key" not in ok.json().values()
    assert requests.get(url + "/jf/", timeout=30).status_code == 200  # health stays open


def test_no_index_yet_is_503_with_advice(served):
    url, _s, _store = served
    res = requests.get(url + "/empty/api/similar_tracks", params={"item_id": "x"}, timeout=30)
    assert res.status_code == 503 and "run the analysis" in res.json()["error"]


def test_task_routes(served, analysed_corpus):
    url, _s, _store = served
    _settings, _st, summary = analysed_corpus
    status = get(url, f"/api/status/{summary.task_id}").json()
    assert status["state"] == "SUCCESS" and status["progress"] == 100 and status["task_type_from_db"] == "analysis"
    assert get(url, "/api/status/nope").status_code == 404
    assert requests.post(url + f"/api/cancel/{summary.task_id}", timeout=30).status_code == 400
    assert get(url, "/api/active_tasks").json() == {}
    assert get(url, "/api/last_task").json()["status"] in ("SUCCESS", "REVOKED")


def test_a_new_index_version_is_picked_up_without_restart(served):
    url, settings, _store = served
    before = get(url, "/").json()["index_version"]
    writer = open_store(settings.database_url)
    new_version = rebuild_index(writer)
    writer.dispose()
    assert new_version == before + 1
    deadline = time.monotonic() + 90  # the replica computes the new map (UMAP) first
    while time.monotonic() < deadline and get(url, "/").json()["index_version"] != new_version:
        time.sleep(0.3)
    assert get(url, "/").json()["index_version"] == new_version
    assert len(get(url, "/api/similar_tracks", item_id=ids_by_title(_store)["neuronal diving"], n=3).json()) == 3


def test_clustering_starts_from_the_api_and_creates_playlists(served):
    url, settings, _store = served
    body = {"clustering_method": "kmeans", "num_clusters_min": 3, "num_clusters_max": 8, "clustering_runs": 20,
            "min_songs_per_genre_for_stratification": 10, "top_n_playlists": 3, "ai_model_provider": "NONE"}
    res = requests.post(url + "/api/clustering/start", json=body, timeout=30)
    assert res.status_code == 202 and res.json()["task_type"] == "main_clustering"
    task_id = res.json()["task_id"]
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline:
        state = get(url, f"/api/status/{task_id}").json()["state"]
        if state in ("SUCCESS", "FAILURE", "REVOKED"):
            break
        time.sleep(0.5)
    assert state == "SUCCESS"
    names = [n for n in get(url, "/api/playlists").json() if n.endswith("_automatic")]
    assert 1 <= len(names) <= 3
    bad = requests.post(url + "/api/clustering/start", json={"clustering_method": "magic"}, timeout=30)
    assert bad.status_code == 400


def test_requests_reach_the_replicas_through_haproxy(served):
    """The session's Ray runs Serve's HAProxy ingress: its stats page lists the API's backend, and the API
    answers on the Serve port it fronts."""
    import os

    base, _settings, _store = served
    stats = requests.get(f"http://127.0.0.1:{os.environ['RAY_SERVE_HAPROXY_STATS_PORT']}/stats;csv", timeout=10)
    assert stats.status_code == 200
    backends = {line.split(",")[0] for line in stats.text.splitlines()[1:] if line}
    assert any("audiomuse" in b for b in backends), backends
    assert requests.get(f"{base}/", timeout=10).json()["status"] == "ok"
