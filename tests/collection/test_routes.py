"""The collection routes over real loopback HTTP (the service's API app served by uvicorn, its access guard
included): hub tokens and the API token open exactly their own routes, a server without hub tokens says it
is no hub, push and lookup keep embeddings exact and name the client, many clients at once store each
recording once, bad bodies and another model version are refused with sentences; and the client's start,
last task and consent routes."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
import requests

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.api import access
from audiomuse_ray.collection import hub
from audiomuse_ray.collection.client import HubClient
from audiomuse_ray.recording.identity import TagQuery
from audiomuse_ray.recording.records import SHARED, SharedAnalysis
from audiomuse_ray.errors import HubAuthError, HubModelMismatch, HubUnavailable
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import consent as consent_store
from audiomuse_ray.store import hub as hub_store
from audiomuse_ray.store import open_store
from tests.collection.hub_server import HubServer
from tests.collection.test_hub import record
from tests.conftest import REPO

TOKENS = "alice:alice-token-123,bob:bob-token-4567"
API_TOKEN = "operator-api-token-890"
ALICE, BOB, API = ({"Authorization": f"Bearer {t}"} for t in ("alice-token-123", "bob-token-4567", API_TOKEN))


def hub_settings(root, **env) -> Settings:
    return Settings.load({"AUDIOMUSE_HUB_TOKENS": TOKENS, "AUDIOMUSE_API_TOKEN": API_TOKEN, **env},
                         data_dir=str(root), models_dir=str(REPO / "models"), host="0.0.0.0")


@pytest.fixture
def served(tmp_path):
    """(hub server, its store): a hub with an API token of its own, bound to a public address."""
    settings = hub_settings(tmp_path)
    store = open_store(settings.database_url)
    with HubServer(settings, store) as server:
        yield server, store
    store.dispose()


@pytest.fixture
def records(corpus, corpus_prints) -> list[SharedAnalysis]:
    version = expected_version(REPO / "models")
    return [record(corpus / "library" / rel, fp, d, i, version)
            for i, (rel, (fp, d)) in enumerate(sorted(corpus_prints.items())[:12])]


# ------------------------------------------------------------------------------------------ who may call
def test_the_hub_routes_open_to_a_hub_token_and_only_to_one(served):
    server, _store = served
    info = requests.get(server.url + "/api/collection/hub/info", headers=ALICE, timeout=30)
    assert info.status_code == 200 and info.json()["model_version"] == expected_version(REPO / "models")
    for headers, words in (({}, "token is required"), ({"Authorization": "Bearer wrong-token-000"}, "refused"),
                           (API, "refused"), ({"Authorization": "Basic alice-token-123"}, "token is required")):
        for method, path in (("get", "info"), ("post", "lookup"), ("post", "push")):
            res = getattr(requests, method)(f"{server.url}/api/collection/hub/{path}", headers=headers, timeout=30,
                                            **({"json": {"model_version": "x", "queries": [], "records": []}}
                                               if method == "post" else {}))
            assert res.status_code == 401 and words in res.json()["error"], (headers, path, res.text)
            assert "alice-token-123" not in res.text and API_TOKEN not in res.text


def test_every_hub_route_the_app_serves_is_guarded_by_hub_tokens():
    from audiomuse_ray.serve.http_app import create_api
    from tests.serve.test_contract import _api_routes

    hub_paths = {r.path for r in _api_routes(create_api().routes) if r.path.startswith("/api/collection/hub")}
    assert hub_paths == set(access.HUB_PATHS)  # the guard's exact list: nothing else skips the API token
    from audiomuse_ray.serve.routes.collection import hub_caller, hub_router

    assert all(any(d.dependency is hub_caller for d in r.dependencies) for r in hub_router.routes)


def test_a_hub_token_opens_nothing_but_the_hub(served):
    server, _store = served
    for method, path in (("get", "/api/config"), ("get", "/api/collection/last_task"),
                         ("post", "/api/collection/start"), ("get", "/api/collection/consent"), ("get", "/api/tasks")):
        res = getattr(requests, method)(server.url + path, headers=ALICE, timeout=30)
        assert res.status_code == 401 and "API token" in res.json()["error"], (path, res.text)
    assert requests.get(server.url + "/api/collection/last_task", headers=API, timeout=30).status_code == 200


def test_a_public_server_without_an_api_token_serves_its_hub_but_refuses_other_writes(tmp_path, records):
    settings = hub_settings(tmp_path, AUDIOMUSE_API_TOKEN="")
    store = open_store(settings.database_url)
    with HubServer(settings, store) as server:
        refused = requests.post(server.url + "/api/collection/start", headers=ALICE, timeout=30,
                                json={"url": "http://hub", "token": "x"})
        assert refused.status_code == 403 and "AUDIOMUSE_API_TOKEN" in refused.json()["error"]
        pushed = HubClient(server.url, "bob-token-4567").push(expected_version(REPO / "models"), records[:2])
        assert [r.status for r in pushed] == [hub.STORED] * 2
    store.dispose()


def test_a_server_without_hub_tokens_says_it_is_no_hub(tmp_path):
    settings = Settings.load({}, data_dir=str(tmp_path), models_dir=str(REPO / "models"))
    store = open_store(settings.database_url)
    with HubServer(settings, store) as server:
        res = requests.get(server.url + "/api/collection/hub/info", headers=ALICE, timeout=30)
        assert res.status_code == 404 and "not a collection hub" in res.json()["error"]
        with pytest.raises(HubUnavailable, match="no collection hub.*AUDIOMUSE_HUB_TOKENS"):
            HubClient(server.url, "alice-token-123", retries=0).info()
    store.dispose()


def test_the_api_token_cannot_be_a_hub_token():
    from audiomuse_ray.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="token of its own") as err:
        Settings.load({"AUDIOMUSE_HUB_TOKENS": TOKENS, "AUDIOMUSE_API_TOKEN": "bob-token-4567"})
    assert "bob-token-4567" not in str(err.value)


# ------------------------------------------------------------------------------------------ push and lookup
def test_push_and_lookup_over_http_keep_the_numbers_exact_and_name_the_client(served, records):
    server, store = served
    version = expected_version(REPO / "models")
    alice = HubClient(server.url, "alice-token-123", retries=0)
    assert [r.status for r in alice.push(version, records[:6])] == [hub.STORED] * 6
    bob = HubClient(server.url, "bob-token-4567", retries=0)
    assert [r.status for r in bob.push(version, records[:8])] == [hub.KNOWN] * 6 + [hub.STORED] * 2
    assert hub_store.contributors(store) == {"alice": 6, "bob": 2}
    found = bob.lookup(version, [TagQuery(r.artist, r.title, r.album, r.duration) for r in records[:9]])
    for rec, candidates in zip(records[:8], found):
        assert len(candidates) == 1 and np.array_equal(candidates[0].embedding, rec.embedding)
        assert np.array_equal(candidates[0].tags, rec.tags) and candidates[0].fingerprint == rec.fingerprint
        assert candidates[0].tempo == rec.tempo and candidates[0].mood_vector == rec.mood_vector
    assert found[8] == []
    assert alice.info().recordings == 8


def test_many_clients_at_once_store_each_recording_once(served, records):
    server, store = served
    version = expected_version(REPO / "models")
    answers, errors = [], []
    start = threading.Barrier(8)

    def client(i: int) -> None:
        mine = [replace(r, embedding=r.embedding + i) for r in records[:10]]  # each client's own numbers
        c = HubClient(server.url, ("alice-token-123", "bob-token-4567")[i % 2], retries=0)
        try:
            start.wait()
            answers.append(c.push(version, mine[i % 3:] + mine[:i % 3]))
            c.lookup(version, [TagQuery(r.artist, r.title, r.album, r.duration) for r in mine])
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert errors == [] and len(answers) == 8
    assert hub_store.count(store, version) == 10
    assert sum(r.status == hub.STORED for a in answers for r in a) == 10
    ids = Counter(r.recording_id for a in answers for r in a)
    assert len(ids) == 10 and set(ids.values()) == {8}  # every client was told the one id of each recording


@pytest.mark.parametrize("path, body, status, words", [
    ("push", {"model_version": "musicnn-onnx-other", "records": []}, 409, "musicnn-onnx-other"),
    ("lookup", {"model_version": "musicnn-onnx-other", "queries": []}, 409, "cannot be mixed"),
    ("push", {"model_version": "v", "records": [{"fingerprint": "x", "model_version": "v", "embedding": "x",
                                                  "tempo": "fast"}]}, 400, "'tempo' must be a number"),
    ("push", {"model_version": "v"}, 400, "Missing 'records'"),
    ("lookup", {"model_version": "v", "queries": [{}] * (hub.MAX_BATCH + 1)}, 400, "At most"),
    ("push", b"{not json", 400, "Invalid JSON"),
])
def test_bad_requests_are_refused_with_a_sentence(served, path, body, status, words):
    server, store = served
    version = expected_version(REPO / "models")
    if isinstance(body, dict) and body.get("model_version") == "v":
        body = {**body, "model_version": version}
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    res = requests.post(f"{server.url}/api/collection/hub/{path}", headers=ALICE, timeout=30, **kwargs)
    assert res.status_code == status and words in res.json()["error"], res.text
    if status == 409:
        assert version in res.json()["error"]
    assert hub_store.count(store) == 0


def test_the_client_names_another_model_version_of_a_real_hub(served):
    server, _store = served
    with pytest.raises(HubModelMismatch, match="cannot be mixed"):
        HubClient(server.url, "alice-token-123").check("musicnn-onnx-0000000000+other")
    with pytest.raises(HubAuthError, match="refused the token"):
        HubClient(server.url, API_TOKEN).info()


# ------------------------------------------------------------------------------------------ the client's routes
def test_start_checks_its_body_and_last_task_says_when_there_was_none(served):
    server, _store = served
    for body, words in (({"url": "ftp://hub", "token": "t"}, "http"), ({"url": "http://hub"}, "token"),
                        ({"url": "http://hub", "token": "t", "num_albums": -1}, "num_albums"),
                        ({"url": "http://hub", "token": "t", "num_albums": "some"}, "'num_albums' must be")):
        res = requests.post(server.url + "/api/collection/start", json=body, headers=API, timeout=30)
        assert res.status_code == 400 and words in res.json()["error"], res.text
    last = requests.get(server.url + "/api/collection/last_task", headers=API, timeout=30).json()
    assert last == {"status": "NO_PREVIOUS_TASK"}


def test_consent_is_kept_for_the_statement_it_was_given_to(served):
    server, store = served
    url = server.url + "/api/collection/consent"
    first = requests.get(url, headers=API, timeout=30).json()
    assert first["consented"] is False and first["given_at"] is None
    assert {"the audio", "file paths and file names"} <= set(first["never"])
    given = requests.put(url, json={"consent": True}, headers=API, timeout=30).json()
    assert given["consented"] is True and given["given_at"] and given["statement"] == first["statement"]
    assert requests.get(url, headers=API, timeout=30).json()["consented"] is True
    assert requests.put(url, json={"consent": "yes"}, headers=API, timeout=30).status_code == 400
    consent_store.give_consent(store, "an-older-statement")  # what a record shares changed since
    assert requests.get(url, headers=API, timeout=30).json()["consented"] is False
    requests.put(url, json={"consent": True}, headers=API, timeout=30)
    withdrawn = requests.put(url, json={"consent": False}, headers=API, timeout=30).json()
    assert withdrawn["consented"] is False and consent_store.get_consent(store) is None


def test_the_statement_names_every_field_a_record_shares():
    named = {name.strip() for fields in SHARED for name in fields.split(",")}
    assert named == {f.name for f in dataclasses.fields(SharedAnalysis)}


def test_replies_match_their_documented_schemas(served, records):
    """Each collection reply validates against the model /api/openapi.json names for it."""
    import jsonschema

    server, _store = served
    version = expected_version(REPO / "models")
    spec = requests.get(server.url + "/api/openapi.json", timeout=30).json()
    assert spec["paths"]["/api/collection/hub/push"]["post"]["security"] == [{"HubToken": []}]
    body = {"model_version": version, "records": [r.to_json() for r in records[:2]]}
    query = {"model_version": version, "queries": [{"artist": records[0].artist, "title": records[0].title,
                                                     "duration": records[0].duration}]}
    calls = [("post", "/api/collection/hub/push", ALICE, body), ("post", "/api/collection/hub/lookup", ALICE, query),
             ("get", "/api/collection/hub/info", ALICE, None), ("get", "/api/collection/last_task", API, None),
             ("get", "/api/collection/consent", API, None), ("put", "/api/collection/consent", API, {"consent": True})]
    for method, path, headers, payload in calls:
        res = getattr(requests, method)(server.url + path, headers=headers, timeout=30,
                                        **({"json": payload} if payload else {}))
        assert res.status_code == 200, (path, res.text)
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.validate(res.json(), {**schema, "components": spec["components"]},
                            resolver=jsonschema.RefResolver.from_schema(spec))
    assert len(requests.post(server.url + "/api/collection/hub/lookup", headers=ALICE, json=query,
                             timeout=30).json()["results"][0]["candidates"]) == 1
