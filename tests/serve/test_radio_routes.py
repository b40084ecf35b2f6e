"""Anchors, radios, schedules and the dashboard over HTTP (the routers in process, a real SQLite store with a
synthetic library, a loopback Subsonic server as the media provider): AudioMuse-AI's shapes and messages,
radios refreshing one playlist in place, replies matching their documented schemas, and the dashboard
answered from its snapshot until that is refreshed."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest

from audiomuse_ray.providers.base import Album, Track
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from tests.conftest import synthetic_library
from tests.fakes.music_servers import FakeLibrary, FakeSubsonic


@pytest.fixture(scope="module")
def radio_client(tmp_path_factory):
    """(client, store, fake Subsonic server holding the synthetic library's ids)."""
    from fastapi.testclient import TestClient

    from audiomuse_ray.api import access
    from audiomuse_ray.api.holder import LibraryHolder
    from audiomuse_ray.providers.subsonic import SubsonicProvider
    from audiomuse_ray.serve.http_app import create_api
    from audiomuse_ray.serve.services import Services, install

    root = tmp_path_factory.mktemp("radios")
    settings = Settings.load({}, data_dir=str(root / "data"), music_dir=str(root), timezone="UTC")
    store = open_store(settings.database_url)
    ids = synthetic_library(store)
    album = Album("al", "All", "Various")
    songs = FakeLibrary([album], {album.id: [Track(i, i, "x", "All", "x", f"/m/{i}.flac") for i in ids]})
    holder = LibraryHolder(store)
    holder.refresh()
    saved = dict(access._state)
    access.configure("", "127.0.0.1")
    with FakeSubsonic(songs) as server:
        install(Services(settings, store, holder, lambda _s: SubsonicProvider(server.url, "admin", "secret", retries=0)))
        yield TestClient(create_api()), store, server
    access._state.update(saved)
    store.dispose()


def matches_schema(client, method: str, path: str, reply) -> None:
    spec = client.get("/api/openapi.json").json()
    schema = spec["paths"][path][method]["responses"]
    schema = (schema.get("200") or schema["201"])["content"]["application/json"]["schema"]
    jsonschema.validate(reply, {**schema, "components": spec["components"]},
                        resolver=jsonschema.RefResolver.from_schema(spec))


def test_anchors_in_audiomuse_ai_shapes(radio_client):
    client = radio_client[0]
    made = client.post("/api/anchors", json={"name": "Focus", "items": [{"id": "t000"}, {"id": "t001"},
                                                                         {"id": "t002", "op": "SUBTRACT"}]})
    assert made.status_code == 200 and made.json()["anchor"]["name"] == "Focus"
    matches_schema(client, "post", "/api/anchors", made.json())
    legacy = client.post("/api/anchors", json={"name": "Old mix", "centroid": [0.1] * 200,
                                               "exclusions": [{"vector": [0.2] * 200, "distance": 0.1}]})
    assert legacy.status_code == 200
    listed = client.get("/api/anchors").json()
    matches_schema(client, "get", "/api/anchors", listed)
    assert [a["name"] for a in listed["anchors"]] == ["Old mix", "Focus"] and listed["anchors"][0]["has_centroid"]
    anchor_id = legacy.json()["anchor"]["id"]
    assert client.put(f"/api/anchors/{anchor_id}", json={"name": "Older"}).json()["anchor"]["name"] == "Older"
    for body, status, message in (({"name": " "}, 400, "Anchor name is required"),
                                  ({"name": "A", "centroid": "x"}, 400, "'centroid' must be a list"),
                                  ({"name": "A"}, 400, "needs 'items'"),
                                  ({"name": "Focus", "centroid": [1.0]}, 409, "Focus")):
        res = client.post("/api/anchors", json=body)
        assert res.status_code == status and message in res.json()["error"], res.text
    assert client.delete(f"/api/anchors/{anchor_id}").json() == {"deleted": True}
    gone = client.delete(f"/api/anchors/{anchor_id}")
    assert gone.status_code == 404 and set(gone.json()) == {"error"}
    assert client.put("/api/anchors/abc", json={"name": "x"}).status_code == 400


def test_a_radio_previews_runs_and_refreshes_one_playlist_in_place(radio_client):
    client, _store, server = radio_client
    anchor_id = client.post("/api/anchors", json={"name": "Artist 1 radio",
                                                  "items": [{"id": "a1", "type": "artist"}]}).json()["anchor"]["id"]
    bad = client.post("/api/radios", json={"anchor_id": anchor_id, "n_results": 5})
    assert bad.status_code == 400 and bad.json()["error"] == "Radio temperature is required"
    made = client.post("/api/radios", json={"anchor_id": str(anchor_id), "n_results": "6", "temperature": 0,
                                            "enabled": "true", "max_repeat_share": 0})
    assert made.status_code == 200, made.text
    radio = made.json()["radio"]
    assert (radio["name"], radio["n_results"], radio["enabled"]) == ("Artist 1 radio", 6, True)
    matches_schema(client, "post", "/api/radios", made.json())

    preview = client.get(f"/api/radios/{radio['id']}/preview").json()
    matches_schema(client, "get", "/api/radios/{radio_id}/preview", preview)
    assert len(preview["results"]) == 6 and not any(r["repeated"] for r in preview["results"])
    assert all(int(r["item_id"][1:]) % 3 == 1 for r in preview["results"])  # the artist's own cluster

    first = client.post("/api/radios/run").json()
    matches_schema(client, "post", "/api/radios/run", first)
    assert {k: first[k] for k in ("message", "radios_enabled", "playlists_created", "failed")} == {
        "message": "Created 1 radio playlist(s).", "radios_enabled": 1, "playlists_created": 1, "failed": []}
    playlist_id = first["radios"][0]["playlist_id"]
    songs_first = list(server.playlists[playlist_id][1])
    assert songs_first == [r["item_id"] for r in preview["results"]]  # temperature 0: the preview is the run

    second = client.post("/api/radios/run", json={"radio_ids": [radio["id"]]}).json()
    assert second["radios"][0]["playlist_id"] == playlist_id and list(server.playlists) == [playlist_id]
    assert len(server.playlists[playlist_id][1]) == 6 and not set(server.playlists[playlist_id][1]) & set(songs_first)
    listed = client.get("/api/radios").json()
    matches_schema(client, "get", "/api/radios", listed)
    assert listed["radios"][0]["provider_playlist_id"] == playlist_id

    off = client.put(f"/api/radios/{radio['id']}", json={"enabled": False}).json()["radio"]
    assert off["enabled"] is False and off["n_results"] == 6
    assert client.post("/api/radios/run").json()["radios_enabled"] == 0
    assert client.delete(f"/api/radios/{radio['id']}").json() == {"deleted": True}
    assert client.get(f"/api/radios/{radio['id']}/preview").status_code == 404


def test_schedule_rows_and_runs(radio_client):
    client = radio_client[0]
    saved = client.post("/api/cron", json={"name": "Nightly", "task_type": "analysis", "cron_expr": "0 3 * * *",
                                           "enabled": True, "options": {"num_recent_albums": 5}})
    assert saved.status_code == 200 and saved.json()["message"] == "saved"
    rows = client.get("/api/cron").json()
    matches_schema(client, "get", "/api/cron", rows)
    assert [(r["name"], r["cron_expr"], r["enabled"], r["last_run"]) for r in rows] == [
        ("Nightly", "0 3 * * *", True, None)] and rows[0]["next_run"] > 0
    for body, needle in (({"task_type": "backup"}, "task_type"),
                         ({"task_type": "analysis", "cron_expr": "61 * * * *", "enabled": True}, "cron"),
                         ({"task_type": "analysis", "options": [1]}, "JSON object")):
        res = client.post("/api/cron", json=body)
        assert res.status_code == 400 and needle in res.json()["error"], res.text
    assert client.get("/api/cron/runs").json() == []
    assert client.delete(f"/api/cron/{saved.json()['id']}").json() == {"deleted": True}
    assert client.delete(f"/api/cron/{saved.json()['id']}").status_code == 404


def test_the_dashboard_is_served_from_its_snapshot(radio_client):
    from audiomuse_ray.serve.routes.dashboard import dashboard_cache
    from audiomuse_ray.serve.services import current_services
    from audiomuse_ray.store import tracks

    client, store, _server = radio_client
    first = client.get("/api/dashboard/summary").json()
    matches_schema(client, "get", "/api/dashboard/summary", first)
    c = first["content"]
    assert (c["total_songs"], c["distinct_artists"], c["distinct_albums"]) == (60, 3, 3)
    assert {m["label"]: m["score"] for m in c["moods_coverage"]}["danceable"] == 20.0  # 0.2 on every track
    assert first["analysis"]["analysed"] == 60 and first["index"]["version"] >= 1
    assert isinstance(first["workers"], list)  # the Ray nodes when this process is joined to Ray, else none
    assert sum(h["count"] for h in first["histograms"]["tempo"]) == 60

    cache = dashboard_cache(current_services())
    computed = cache.refreshes
    rng = np.random.default_rng(5)
    tracks.save_album(store, [tracks.TrackRow(item_id="new", title="New", author="Someone", album="Fresh",
                                              tempo=70.0, embedding=rng.normal(size=200).astype(np.float32))])
    again = client.get("/api/dashboard/summary").json()
    assert again["content"]["total_songs"] == 60 and cache.refreshes == computed  # the snapshot, not a new scan
    assert again["stats_updated_at"] == first["stats_updated_at"] and again["generated_at"] >= first["generated_at"]

    cache.max_age_s = 0.0  # stale now: the next request starts one refresh and is still answered at once
    stale = client.get("/api/dashboard/summary").json()
    assert stale["content"]["total_songs"] == 60
    cache.wait(30)
    fresh = client.get("/api/dashboard/summary").json()
    assert fresh["content"]["total_songs"] == 61 and fresh["stats_updated_at"] > first["stats_updated_at"]
    cache.max_age_s = 300.0


def test_find_path_takes_the_navidrome_plugins_parameters_and_anchor_ends(radio_client):
    """``count`` when no ``max_steps``, ``path_fix_size`` (exactly that many songs), ``mood_pct`` with an anchor
    end: as the Navidrome plugin (v8) and AudioMuse-AI's path page send them."""
    client = radio_client[0]
    near = {"start_song_id": "t000", "end_song_id": "t003"}  # one cluster: a short path unless the size is fixed
    adaptive = client.get("/api/find_path", params={**near, "count": 12, "path_fix_size": "false", "mood_pct": 100})
    assert adaptive.status_code == 200, adaptive.text
    fixed = client.get("/api/find_path", params={**near, "count": 12, "max_steps": 12, "path_fix_size": "true",
                                                 "mood_pct": 100}).json()["path"]
    assert len(fixed) == 12 and len(adaptive.json()["path"]) < 12
    assert [fixed[0]["item_id"], fixed[-1]["item_id"]] == ["t000", "t003"] and len({p["item_id"] for p in fixed}) == 12
    assert len(client.get("/api/find_path", params={**near, "count": 7, "path_fix_size": 1}).json()["path"]) == 7

    anchor = client.post("/api/anchors", json={"name": "Cluster 2", "items": [{"id": "t002"}, {"id": "t005"}]}).json()
    to_anchor = client.get("/api/find_path", params={"start_song_id": "t000", "end_anchor": anchor["anchor"]["id"],
                                                     "max_steps": 5}).json()["path"]
    assert to_anchor[0]["item_id"] == "t000" and int(to_anchor[-1]["item_id"][1:]) % 3 == 2  # in the anchor's cluster
    halfway = client.get("/api/find_path", params={"start_song_id": "t000", "end_anchor": anchor["anchor"]["id"],
                                                   "mood_pct": 0, "max_steps": 5})
    assert halfway.status_code == 200 and int(halfway.json()["path"][-1]["item_id"][1:]) % 3 == 0  # 0 %: near t000
    missing = client.get("/api/find_path", params={"start_song_id": "t000", "end_anchor": 999})
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    client.delete(f"/api/anchors/{anchor['anchor']['id']}")
