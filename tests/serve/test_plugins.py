"""Every request AudioMuse-AI's three client plugins make, replayed against the Serve app over real HTTP, with
the corpus analysed, each checked for the fields (and types) that plugin reads.

- Jellyfin plugin (NeptuneHub/audiomuse-ai-plugin: ``Services/AudioMuseService.cs``, the controllers, the
  scheduled tasks): item ids are Jellyfin GUIDs (``Guid.Parse``), the fingerprint task sends a user *name*.
- Navidrome plugin (NeptuneHub/AudioMuse-AI-NV-plugin: ``main.go``, ``audiomuse_api.go``): sends Navidrome's
  artist id as ``artist``.
- Lyrion mixer (CDrummond/lms-audiomuse-mixer: ``AudioMuseMixer/API.pm``, ``Plugin.pm``): keeps only numeric
  item ids, treats any ``{"error": ...}`` or HTTP error as "fall back to similar tracks".

Each plugin gets its own database holding the analysed corpus under the ids its server would use (the
embeddings are the real ones, copied), and an app behind an API token whose media provider is a loopback
fake of that server with the same ids.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import requests

from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.similarity.projection import decode_coords, encode_coords
from audiomuse_ray.similarity.rebuild import rebuild_index
from audiomuse_ray.store import indexes, open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from tests.conftest import wait_until_routed
from tests.fakes.music_servers import FakeJellyfin, FakeLibrary, FakeLyrion

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOKEN = "plugin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NUMERIC = re.compile(r"\A\d+\Z")


def jellyfin_id(kind: str, old: str) -> str:
    """A Jellyfin-style id: a GUID written as 32 hex digits, as ``Guid.ToString("N")`` gives it."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{old}").hex


def derived_store(source, url: str, item_id_of, artist_id_of):
    """The analysed corpus copied under other ids (score rows, embeddings, map coordinates), indexed."""
    rows = track_store.get_tracks(source, with_embeddings=True)
    store = open_store(url)
    track_store.save_album(store, [replace(r, item_id=item_id_of(r.item_id), artist_id=artist_id_of(r.artist_id))
                                   for r in rows])
    version = rebuild_index(store)
    src = indexes.load_index(source, INDEX_NAME)
    method, data = indexes.load_projection(source, INDEX_NAME, src.version)
    coords = dict(zip(src.item_ids, decode_coords(data)))
    order = indexes.load_index(store, INDEX_NAME, version).item_ids
    back = {item_id_of(i): i for i in src.item_ids}
    import numpy as np

    indexes.save_projection(store, INDEX_NAME, version, method,
                            encode_coords(np.array([coords[back[i]] for i in order], np.float32)))
    return store


def remapped(library: FakeLibrary, item_id_of, artist_id_of) -> FakeLibrary:
    return FakeLibrary(library.albums, {a: [replace(t, item_id=item_id_of(t.item_id), artist_id=artist_id_of(t.artist_id))
                                            for t in ts] for a, ts in library.tracks.items()})


@pytest.fixture(scope="module")
def apps(analysed_corpus, corpus, serve_base, tmp_path_factory):
    """Three apps on the session's Serve: /jf (Jellyfin ids and a fake Jellyfin), /nv (the folder's ids,
    as a Navidrome would give them opaque strings), /lms (numeric ids and a fake Lyrion)."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _summary = analysed_corpus
    root = tmp_path_factory.mktemp("plugins")
    library = FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", root / "pl"))
    numbers = {t.item_id: str(1000 + i) for i, t in enumerate(sorted(track_store.get_tracks(store), key=lambda t: t.item_id))}
    artist_numbers: dict[str, str] = {}

    def lyrion_artist(a):
        return artist_numbers.setdefault(a, str(50 + len(artist_numbers))) if a else a

    jf_store = derived_store(store, f"sqlite:///{root / 'jf.db'}", lambda i: jellyfin_id("item", i),
                             lambda a: jellyfin_id("artist", a) if a else a)
    lms_store = derived_store(store, f"sqlite:///{root / 'lms.db'}", numbers.__getitem__, lyrion_artist)
    jf_library = remapped(library, lambda i: jellyfin_id("item", i), lambda a: jellyfin_id("artist", a) if a else a)
    lms_library = remapped(library, numbers.__getitem__, lyrion_artist)
    alice = uuid.uuid4().hex
    with FakeJellyfin(jf_library, user_id="u-admin", users={"admin": "u-admin", "Alice": alice}) as jellyfin, \
            FakeLyrion(lms_library) as lyrion:
        jf = settings.replace(provider="jellyfin", jellyfin_url=jellyfin.url, jellyfin_user_id="u-admin",
                              jellyfin_token="key", api_token=TOKEN, database_url=jf_store.url)
        nv = settings.replace(api_token=TOKEN)
        lms = settings.replace(provider="lyrion", lyrion_url=lyrion.url, api_token=TOKEN, database_url=lms_store.url)
        for name, s in (("plugins-jf", jf), ("plugins-nv", nv), ("plugins-lms", lms)):
            serve.run(build(s, reload_interval_s=5.0, num_cpus=0), name=name, route_prefix="/" + name)
        for name in ("plugins-jf", "plugins-nv", "plugins-lms"):
            wait_until_routed(f"{serve_base}/{name}/")
        yield {"jf": (serve_base + "/plugins-jf", jf_store, jellyfin, alice),
               "nv": (serve_base + "/plugins-nv", store),
               "lms": (serve_base + "/plugins-lms", lms_store, lyrion)}
        for name in ("plugins-jf", "plugins-nv", "plugins-lms"):  # the replicas drain side by side
            serve.delete(name, _blocking=name == "plugins-lms")
    jf_store.dispose()
    lms_store.dispose()


def by_title(store) -> dict[str, track_store.TrackRow]:
    return {t.title: t for t in track_store.get_tracks(store)}


def get(base: str, path: str, **params) -> requests.Response:
    return requests.get(base + path, params=params, headers={**AUTH, "Accept": "application/json"}, timeout=60)


def post(base: str, path: str, body=None) -> requests.Response:
    return requests.post(base + path, json=body, headers={**AUTH, "Accept": "application/json"}, timeout=60)


def is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, TypeError):
        return False
    return True


def wait_state(base: str, task_id: str, states: set[str], timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = get(base, f"/api/status/{task_id}").json()
        if body["state"] in states:
            return body
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} never reached {states}: {body}")


# ------------------------------------------------------------------------------------------------ Jellyfin
def test_jellyfin_plugin_similarity_calls(apps):
    base, store, _jellyfin, _alice = apps["jf"]
    tracks = by_title(store)
    seed = tracks["neuronal diving"]
    assert requests.get(base + "/", headers=AUTH, timeout=30).status_code == 200  # HealthCheckAsync
    assert get(base, "/api/active_tasks").status_code == 200  # test_connection

    found = get(base, "/api/search_tracks", title="neuronal diving", artist="Nexuiz").json()
    assert [r["item_id"] for r in found] == [seed.item_id] and is_guid(found[0]["item_id"])

    # InstantMix: song.Id.ToString("N"), n, no other parameter; every item_id must Guid.TryParse
    similar = get(base, "/api/similar_tracks", n=20, item_id=seed.item_id).json()
    assert 10 < len(similar) <= 20 and all(is_guid(r["item_id"]) for r in similar)  # 3 songs per artist at most
    assert seed.item_id not in {r["item_id"] for r in similar}
    by_name = get(base, "/api/similar_tracks", n=5, title="neuronal diving", artist="Nexuiz",
                  eliminate_duplicates="false").json()
    assert len(by_name) == 5

    far = get(base, "/api/max_distance", item_id=seed.item_id).json()
    assert is_guid(far["farthest_item_id"]) and far["max_distance"] >= max(r["distance"] for r in similar) - 1e-5

    end = tracks["Aberrations"]
    path = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, max_steps=10).json()
    assert path["path"][0]["item_id"] == seed.item_id and path["path"][-1]["item_id"] == end.item_id

    items = [{"id": seed.item_id, "op": "ADD", "type": "song"},
             {"id": seed.artist_id, "op": "ADD", "type": "artist"},
             {"id": end.item_id, "op": "SUBTRACT", "type": "song"}]
    mixed = post(base, "/api/alchemy", {"items": items, "n": 15, "temperature": 0}).json()
    assert 0 < len(mixed["results"]) <= 15 and all(is_guid(r["item_id"]) for r in mixed["results"])
    assert [p["type"] for p in mixed["add_points"]] == ["song", "artist"]


def test_jellyfin_plugin_similar_artists(apps):
    base, store, _jellyfin, _alice = apps["jf"]
    seed = by_title(store)["neuronal diving"]
    rows = get(base, "/api/similar_artists", n=3, artist_id=seed.artist_id, ef_search=100,
               include_component_matches="true").json()
    assert 1 <= len(rows) <= 3 and all(is_guid(r["artist_id"]) for r in rows)
    assert seed.author not in {r["artist"] for r in rows}
    assert [r["divergence"] for r in rows] == sorted(r["divergence"] for r in rows)
    songs = rows[0]["component_matches"][0]
    assert {s["item_id"] for s in songs["artist1_representative_songs"]} <= {
        t.item_id for t in track_store.get_tracks(store) if t.author == seed.author}
    by_name = get(base, "/api/similar_artists", n=3, artist=seed.author).json()
    assert [r["artist"] for r in by_name] == [r["artist"] for r in rows] and "component_matches" not in by_name[0]
    missing = get(base, "/api/similar_artists", n=3, artist="Nobody At All")
    assert missing.status_code == 404 and "error" in missing.json()
    tracks = get(base, "/api/artist_tracks", artist_id=seed.artist_id).json()
    assert seed.item_id in {t["item_id"] for t in tracks} and {t["author"] for t in tracks} == {seed.author}


def test_jellyfin_plugin_fingerprint_playlists_and_unsupported_routes(apps):
    base, store, jellyfin, alice = apps["jf"]
    tracks = by_title(store)
    now = datetime.now(timezone.utc)
    jellyfin.library.plays.update({tracks["neuronal diving"].item_id: (9, now),
                                   tracks["Aberrations"].item_id: (2, now - timedelta(days=30))})
    # the scheduled task: user.Username, no token, no n
    named = get(base, "/api/sonic_fingerprint/generate", jellyfin_user_identifier="alice")
    assert named.status_code == 200, named.text
    rows = named.json()
    assert rows and all(is_guid(r["item_id"]) and isinstance(r["distance"], float) for r in rows)
    assert rows[0]["item_id"] == tracks["neuronal diving"].item_id and {"title", "author"} <= set(rows[0])
    assert any(r.path == f"/Users/{alice}/Items" for r in jellyfin.requests)  # the name became Alice's id
    # the controller: the user's id and token, and n
    by_id = get(base, "/api/sonic_fingerprint/generate", jellyfin_user_identifier=alice, jellyfin_token="key", n=5)
    assert len(by_id.json()) == 5
    unknown = get(base, "/api/sonic_fingerprint/generate", jellyfin_user_identifier="mallory")
    assert unknown.status_code == 404 and "mallory" in unknown.json()["error"]

    ids = [tracks["neuronal diving"].item_id, tracks["Aberrations"].item_id]
    created = post(base, "/api/create_playlist", {"playlist_name": "From Jellyfin", "track_ids": ids})
    assert created.status_code == 201 and list(jellyfin.playlists.values())[-1] == ("From Jellyfin", ids)
    assert [r["item_id"] for r in get(base, "/api/playlists").json()["From Jellyfin"]] == ids
    assert get(base, "/api/config").status_code == 200

    clap = post(base, "/api/clap/search", {"query": "calm piano", "limit": 10})
    assert clap.status_code == 501 and set(clap.json()) == {"error"}
    for path in ("/chat/api/chatPlaylist", "/chat/api/create_playlist"):  # served by the chat routes where present
        reply = post(base, path, {"userInput": "calm piano"})
        assert reply.headers["content-type"].startswith("application/json") and "detail" not in reply.json()
    nowhere = get(base, "/api/no_such_route")
    assert nowhere.status_code == 404 and set(nowhere.json()) == {"error"}
    wrong_method = requests.delete(base + "/api/similar_tracks", headers=AUTH, timeout=30)
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error"}
    assert requests.get(base + "/api/similar_tracks", timeout=30).status_code == 401  # token checked first


def test_jellyfin_plugin_task_calls(apps):
    base, store, _jellyfin, _alice = apps["jf"]
    started = post(base, "/api/analysis/start", {})  # AnalysisScheduledTask: an empty object
    assert started.status_code == 202, started.text
    done = wait_state(base, started.json()["task_id"], {"SUCCESS", "FAILURE", "REVOKED"})
    assert done["state"] == "SUCCESS", done  # the fake Jellyfin's tracks are all analysed: nothing to do
    assert done["task_type"] == "main_analysis" and done["details"]["status_message"]
    last = get(base, "/api/last_task").json()
    assert last["task_id"] == started.json()["task_id"] and last["task_type"] == "main_analysis"

    clustering = post(base, "/api/clustering/start", {})  # ClusteringScheduledTask: defaults, 5000 runs
    assert clustering.status_code == 202
    task_id = clustering.json()["task_id"]
    active = get(base, "/api/active_tasks").json()
    assert active["task_id"] == task_id and active["task_type"] == "main_clustering"
    cancelled = post(base, "/api/cancel_all/main_clustering")
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_main_tasks"] == [task_id]
    assert wait_state(base, task_id, {"REVOKED", "FAILURE", "SUCCESS"})["state"] == "REVOKED"
    none_left = post(base, "/api/cancel_all/main_clustering")
    assert none_left.status_code == 404 and "main_clustering" in none_left.json()["error"]
    assert post(base, f"/api/cancel/{task_id}").status_code == 400  # already finished
    assert get(base, "/api/status/unknown-task").status_code == 404


def test_cancel_all_revokes_a_job_whose_driver_is_gone(apps):
    base, store, _jellyfin, _alice = apps["jf"]
    task_store.create_task(store, "orphan-analysis", "analysis", runner="actor:audiomuse-jobs/no-such-actor")
    reply = post(base, "/api/cancel_all/main_analysis")
    assert reply.status_code == 200 and reply.json()["cancelled_main_tasks"] == ["orphan-analysis"]
    assert task_store.get_task(store, "orphan-analysis").status == "REVOKED"


# ------------------------------------------------------------------------------------------------ Navidrome
def test_navidrome_plugin_calls(apps):
    base, store = apps["nv"]
    tracks = by_title(store)
    seed, end = tracks["neuronal diving"], tracks["Aberrations"]
    similar = get(base, "/api/similar_tracks", item_id=seed.item_id, n=10, eliminate_duplicates="true",
                  radius_similarity="true").json()
    assert len(similar) == 10
    for r in similar:  # audioMuseTrackResponse
        assert isinstance(r["item_id"], str) and isinstance(r["title"], str) and isinstance(r["author"], str)
        assert isinstance(r["album"], str) and 0.0 <= r["distance"] <= 2.0
    path = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, count=25, max_steps=25,
               path_fix_size="false", mood_pct=100).json()["path"]
    assert path[0]["item_id"] == seed.item_id and path[-1]["item_id"] == end.item_id
    assert all({"item_id", "title", "author", "album"} <= set(p) for p in path)
    assert 2 <= len(path) <= 25
    fixed = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, count=12, max_steps=12,
                path_fix_size="true", mood_pct=100).json()["path"]  # FindSonicPath with a fixed size
    assert len(fixed) == 12 and len({p["item_id"] for p in fixed}) == 12
    counted = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, count=6,
                  path_fix_size="true").json()["path"]  # count alone stands for max_steps
    assert len(counted) == 6

    # GetSimilarArtists / GetSimilarSongsByArtist: Navidrome's artist id as "artist"
    for with_matches in ("false", "true"):
        artists = get(base, "/api/similar_artists", artist=seed.artist_id, n=10,
                      include_component_matches=with_matches).json()
        assert artists and all(isinstance(a["artist"], str) and isinstance(a["artist_id"], str) for a in artists)
        assert seed.author not in {a["artist"] for a in artists}
    names = {t.author: t.artist_id for t in track_store.get_tracks(store)}
    assert all(names[a["artist"]] == a["artist_id"] for a in artists)  # ids Navidrome can look up
    songs = [s for a in artists for m in a["component_matches"]
             for s in m["artist1_representative_songs"] + m["artist2_representative_songs"]]
    assert songs and all(s["item_id"] in {t.item_id for t in tracks.values()} and s["title"] for s in songs)


# ------------------------------------------------------------------------------------------------ Lyrion
def test_lyrion_mixer_calls(apps):
    base, store, _lyrion = apps["lms"]
    tracks = by_title(store)
    seed, other, end = tracks["neuronal diving"], tracks["Aberrations"], tracks["music007"]
    # the default API (hyperbolic) and SemGrove are AudioMuse-AI-only: an error, so the mixer falls back
    for path, body in (("/api/hyperbolic/similar", {"item_id": seed.item_id, "mode": "similar", "limit": 40}),
                       ("/api/sem_grove/search", {"item_id": seed.item_id, "limit": 40})):
        reply = post(base, path, body)
        assert reply.status_code == 501 and reply.json()["error"]
    similar = get(base, "/api/similar_tracks", item_id=seed.item_id, n=40, eliminate_duplicates="true",
                  radius_similarity="true", mood_similarity="true")
    rows = similar.json()
    assert similar.status_code == 200 and isinstance(rows, list) and rows
    assert all(NUMERIC.match(r["item_id"]) for r in rows)  # _getTrackObjects keeps only \d+ ids
    path = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, max_steps=10).json()
    assert all(NUMERIC.match(p["item_id"]) for p in path["path"]) and path["path"][-1]["item_id"] == end.item_id
    mix = post(base, "/api/alchemy", {"items": [{"id": seed.item_id, "op": "ADD", "type": "song"},
                                                {"id": other.item_id, "op": "ADD", "type": "song"}], "n": 300})
    results = mix.json()["results"]
    assert mix.status_code == 200 and 0 < len(results) <= 200 and all(NUMERIC.match(r["item_id"]) for r in results)
    assert {seed.item_id, other.item_id}.isdisjoint(r["item_id"] for r in results)


# ------------------------------------------------------------------------------ Lyrion plugin (JameZUK 0.5.2)
def test_lyrion_plugin_calls(apps):
    """Every call of JameZUK's lyrion-audiomuseai-plugin 0.5.2 (``AudioMuseAI/API.pm``), in its spelling, with the
    fields its ``Plugin.pm`` reads: library summary, server status and task lines, radios, the fingerprint."""
    base, store, lyrion = apps["lms"]
    tracks = by_title(store)
    seed, end = tracks["neuronal diving"], tracks["Aberrations"]
    assert get(base, "/api/health").json()["status"] == "ok"  # ping

    summary = get(base, "/api/dashboard/summary").json()  # _librarySummary
    c = summary["content"]
    assert c["distinct_albums"] > 0 and c["distinct_artists"] > 0 and isinstance(summary["recent_tasks"], list)
    assert isinstance(summary["workers"], list) and summary["workers"]  # the Ray nodes
    top = sorted(c["moods_coverage"], key=lambda m: -(m["score"] or 0))[:3]  # 'mood=int(score)' for the top three
    assert all(isinstance(m["label"], str) and int(m["score"]) >= 1 for m in top)

    started = post(base, "/api/analysis/start", {})
    assert started.status_code == 202, started.text
    done = wait_state(base, started.json()["task_id"], {"SUCCESS", "FAILURE", "REVOKED"})
    for reply in (done, get(base, "/api/last_task").json()):  # _serverStatus / the task lines
        d = reply["details"]
        assert reply["task_type"] == "main_analysis" and d["status_message"] and "running_time_seconds" in reply
        assert d["albums_skipped"] == len(lyrion.library.albums) and d["albums_to_process"] == 0
        assert isinstance(d["log"], list) and d["log"]
    clustering = post(base, "/api/clustering/start", {})
    active = get(base, "/api/active_tasks").json()
    assert active["task_type"] == "main_clustering" and active["status"] in ("PENDING", "STARTED", "PROGRESS")
    assert "status_message" in active["details"]
    assert post(base, f"/api/cancel/{clustering.json()['task_id']}", {}).status_code == 200
    wait_state(base, clustering.json()["task_id"], {"REVOKED", "FAILURE", "SUCCESS"})
    assert post(base, "/api/cancel_all/main_clustering", {}).status_code == 404  # none left: the error is shown

    similar = get(base, "/api/similar_tracks", item_id=seed.item_id, n=20, eliminate_duplicates="true").json()
    assert similar and all(NUMERIC.match(r["item_id"]) for r in similar)
    by_artist = get(base, "/api/search_tracks", artist=seed.author).json()
    assert seed.item_id in {r["item_id"] for r in by_artist}
    path = get(base, "/api/find_path", start_song_id=seed.item_id, end_song_id=end.item_id, max_steps=8).json()["path"]
    assert path[0]["item_id"] == seed.item_id and path[-1]["item_id"] == end.item_id
    mix = post(base, "/api/alchemy", {"items": [{"id": seed.item_id, "op": "ADD", "type": "song"},
                                                {"id": end.item_id, "op": "SUBTRACT", "type": "song"}], "n": 25})
    assert mix.status_code == 200 and 0 < len(mix.json()["results"]) <= 25

    # the fingerprint with only n: Lyrion's play counts (the whole server's), no user
    lyrion.library.plays.update({seed.item_id: (7, datetime.now(timezone.utc)), end.item_id: (2, None)})
    try:
        fingerprint = get(base, "/api/sonic_fingerprint/generate", n=15)
        assert fingerprint.status_code == 200, fingerprint.text
        rows = fingerprint.json()
        assert len(rows) == 15 and rows[0]["item_id"] == seed.item_id and all(NUMERIC.match(r["item_id"]) for r in rows)
    finally:
        lyrion.library.plays.clear()

    # radios: listed (name, enabled, n_results) and run (message, radios_enabled, playlists_created)
    anchor = post(base, "/api/anchors", {"name": "Arena radio", "items": [{"id": seed.item_id}]}).json()["anchor"]
    post(base, "/api/radios", {"anchor_id": anchor["id"], "n_results": 10, "temperature": 0.5, "enabled": True})
    radios = get(base, "/api/radios").json()["radios"]
    assert [(r["name"], r["enabled"], r["n_results"]) for r in radios] == [("Arena radio", True, 10)]
    first = post(base, "/api/radios/run", {}).json()
    assert (first["radios_enabled"], first["playlists_created"], first["failed"]) == (1, 1, [])
    assert first["message"]
    playlist_id = first["radios"][0]["playlist_id"]
    assert lyrion.playlists[playlist_id][0] == "Arena radio" and len(lyrion.playlists[playlist_id][1]) == 10
    again = post(base, "/api/radios/run", {}).json()
    assert again["radios"][0]["playlist_id"] == playlist_id  # replaced in place: the player's playlist stays
    assert [name for name, _ids in lyrion.playlists.values()].count("Arena radio") == 1

    chat = post(base, "/chat/api/chatPlaylist", {"userInput": "calm piano"})
    assert chat.headers["content-type"].startswith("application/json") and "detail" not in chat.json()
    for method, path_, body in (("get", "/api/clap/top_queries", None), ("post", "/api/clap/search", {"query": "x", "limit": 5}),
                                ("post", "/api/clap/warmup", {}),
                                ("post", "/api/lyrics/search/text", {"query": "x", "limit": 5}),
                                ("post", "/api/sem_grove/search", {"item_id": seed.item_id, "limit": 5})):
        reply = get(base, path_) if method == "get" else post(base, path_, body)
        assert reply.status_code == 501 and set(reply.json()) == {"error"}, path_  # an error the plugin shows
