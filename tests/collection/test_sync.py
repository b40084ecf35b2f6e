"""Three instances on loopback over the real HTTP routes, on the session's Ray and Serve: a hub (the API app
with hub tokens, served by uvicorn in this process: ``hub_server.py``), A (the analysed corpus) and B (the
same music transcoded to other formats and bitrates, in other folders under other names, plus decoys that
carry corpus tracks' tags over other audio) as Serve applications under their own route prefixes. Every
sync is started with ``POST /api/collection/start`` on A or B and followed with ``GET
/api/collection/last_task``; the job runs in a detached Ray actor and talks to the hub over HTTP.

A pushes, B pulls what its fingerprints confirm (at least 90 %, A's exact embeddings, no MusiCNN) and
analyses the rest; no decoy takes a pulled analysis; a wrong or missing token and a hub of another model
version are refused with sentences; a hub that dies mid-sync leaves B consistent and the next sync
finishes. A third instance (B2, B's music in an empty store) takes the refusals and the dying hub.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import hub as hub_store
from audiomuse_ray.store import open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from tests.collection.hub_server import HubServer
from tests.conftest import REPO, wait_until_routed

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOKENS = "instance-a:token-of-a-123,instance-b:token-of-b-456"
A_API = "api-token-of-instance-a"  # A's own API token: its start route needs it, the hub never sees it
PREFIX = "collection-"
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")


def copy_sqlite(url: str, dest: Path) -> str:
    """A consistent copy of a live SQLite database (WAL included), as its own instance's store."""
    src = sqlite3.connect(url.split("///", 1)[1])
    out = sqlite3.connect(str(dest))
    src.backup(out)
    src.close()
    out.close()
    return f"sqlite:///{dest}"


class Instance:
    """An audiomuse-ray deployed on the session's Serve at ``/<name>``: its URL, settings and (read) store."""

    def __init__(self, name: str, base: str, settings: Settings, token: str = ""):
        self.name, self.url, self.settings = name, f"{base}/{name}", settings
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.store = open_store(settings.database_url)

    def start(self, hub_url: str, token: str | None, num_albums: int = 0) -> requests.Response:
        body = {"url": hub_url, "num_albums": num_albums, **({"token": token} if token is not None else {})}
        return requests.post(self.url + "/api/collection/start", json=body, headers=self.headers, timeout=60)

    def last_task(self) -> dict:
        res = requests.get(self.url + "/api/collection/last_task", headers=self.headers, timeout=60)
        assert res.status_code == 200, res.text
        return res.json()

    def wait(self, task_id: str, timeout_s: float = 600) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            last = self.last_task()
            if last.get("task_id") == task_id and last["status"] in FINISHED:
                return last
            time.sleep(0.5)
        raise AssertionError(f"the sync {task_id} on {self.name} did not finish: {last}")

    def sync(self, hub_url: str, token: str, num_albums: int = 0) -> dict:
        started = self.start(hub_url, token, num_albums)
        assert started.status_code == 202, started.text
        reply = started.json()
        assert reply["task_type"] == "main_collection_sync" and reply["status"] == "PENDING"
        return self.wait(reply["task_id"])

    def rows(self, library: Path) -> dict[str, track_store.TrackRow]:
        """Stored tracks by path relative to ``library``."""
        return {str(Path(r.path_or_url).relative_to(library)): r
                for r in track_store.get_tracks(self.store, with_embeddings=True)}

    def origins(self, rows: dict[str, track_store.TrackRow]) -> dict[str, str]:
        prints = fingerprint_store.get_fingerprints(self.store, [r.item_id for r in rows.values()])
        return {p: prints[r.item_id].origin for p, r in rows.items() if r.item_id in prints}


@pytest.fixture(scope="module")
def version():
    return expected_version(REPO / "models")


@pytest.fixture(scope="module")
def hub_settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("hub")
    return Settings.load({"AUDIOMUSE_HUB_TOKENS": TOKENS, "AUDIOMUSE_API_TOKEN": "the-hub-operators-token"},
                         data_dir=str(root), models_dir=str(REPO / "models"))


@pytest.fixture(scope="module")
def hub_db(hub_settings):
    store = open_store(hub_settings.database_url)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def instances(serve_base, analysed_corpus, transcoded_library, tmp_path_factory):
    """A, B and B2 deployed on Serve (one replica each, no CPU reserved), deleted after the module."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    analysed, _store, _summary = analysed_corpus
    root = tmp_path_factory.mktemp("instances")
    (root / "a").mkdir()
    a = analysed.replace(database_url=copy_sqlite(analysed.database_url, root / "a" / "a.db"), api_token=A_API)
    b, b2 = (Settings.load({}, data_dir=str(root / n), music_dir=str(transcoded_library.root),
                           models_dir=str(REPO / "models")) for n in ("b", "b2"))
    b2 = b2.replace(http_retries=0)  # a hub that dies is gone at once, not after retries
    made = {}
    for name, settings, token in (("a", a, A_API), ("b", b, ""), ("b2", b2, "")):
        serve.run(build(settings, reload_interval_s=60.0, num_cpus=0), name=PREFIX + name,
                  route_prefix=f"/{PREFIX}{name}")
        made[name] = Instance(PREFIX + name, serve_base, settings, token)
        wait_until_routed(made[name].url + "/api/health")
    yield made
    for name, inst in made.items():
        serve.delete(inst.name, _blocking=False)
        inst.store.dispose()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(i.name in serve.status().applications for i in made.values()):
        time.sleep(0.5)


@pytest.fixture(scope="module")
def synced(instances, hub_settings, hub_db):
    """A pushes, then B pulls, then A syncs again: their last_task replies."""
    a, b = instances["a"], instances["b"]
    with HubServer(hub_settings, hub_db) as hub:
        first = a.sync(hub.url, "token-of-a-123")
        pulled = b.sync(hub.url, "token-of-b-456")
        again = a.sync(hub.url, "token-of-a-123")
    return first, pulled, again


def test_a_pushes_every_analysed_track(synced, instances, hub_db, version):
    first, *_ = synced
    a = instances["a"]
    analysed = track_store.analysed_ids(a.store, version)
    d = first["details"]
    assert first["status"] == "SUCCESS", first
    assert d["pushed"] == len(analysed) >= 70 and d.get("push_stored") == len(analysed)
    assert not d.get("analysed") and not d.get("pulled")  # nothing to analyse: it only shared
    assert all(p.recording_id for p in fingerprint_store.get_fingerprints(a.store, analysed).values())
    assert hub_store.count(hub_db, version) >= len(analysed)
    assert hub_store.contributors(hub_db)["instance-a"] == len(analysed)  # under the hub token's name


def test_b_pulls_at_least_90_percent_without_musicnn_and_gets_a_s_embeddings(synced, instances, transcoded_library,
                                                                             corpus):
    _first, pulled_task, _again = synced
    a_rows = instances["a"].rows(corpus / "library")
    b = instances["b"]
    b_rows = b.rows(transcoded_library.root)
    origin = b.origins(b_rows)
    copies = transcoded_library.copies
    pulled = [p for p in copies if origin.get(p) == "pulled"]
    assert pulled_task["status"] == "SUCCESS", pulled_task
    assert len(pulled) >= 0.9 * len(copies), (len(pulled), len(copies))
    d = pulled_task["details"]
    assert d["pulled"] == len(pulled)
    assert d["analysed"] == sum(o == "analysed" for o in origin.values())  # MusiCNN ran only on these
    assert d["analysed"] <= len(copies) - len(pulled) + len(transcoded_library.decoys)
    for p in pulled:
        a_row = a_rows[copies[p]]
        assert np.array_equal(b_rows[p].embedding, a_row.embedding), p
        assert b_rows[p].model_version == a_row.model_version and b_rows[p].tempo == a_row.tempo
        assert b_rows[p].mood_vector == a_row.mood_vector
        assert b_rows[p].path_or_url.startswith(str(transcoded_library.root))  # B's own file, not A's path
    assert len(b_rows) == len(copies) + len(transcoded_library.decoys)  # everything stored, none failed


def test_no_decoy_takes_a_pulled_analysis(synced, instances, transcoded_library, corpus):
    b = instances["b"]
    b_rows = b.rows(transcoded_library.root)
    a_rows = instances["a"].rows(corpus / "library")
    origin = b.origins(b_rows)
    for decoy, (tags_of, audio_of) in transcoded_library.decoys.items():
        row = b_rows[decoy]
        assert origin[decoy] == "analysed", decoy  # MusiCNN ran on it here
        assert not np.array_equal(row.embedding, a_rows[tags_of].embedding)
        # it is the other track's music, and the analysis says so
        cos = float(row.embedding @ a_rows[audio_of].embedding /
                    np.linalg.norm(row.embedding) / np.linalg.norm(a_rows[audio_of].embedding))
        assert cos > 0.95, (decoy, cos)


def test_b_shares_what_it_analysed_and_a_second_sync_of_a_pushes_nothing(synced, transcoded_library, hub_db):
    _first, pulled, again = synced
    assert pulled["details"]["pushed"] == pulled["details"]["analysed"]
    assert pulled["details"].get("push_stored", 0) >= len(transcoded_library.decoys)
    assert hub_store.contributors(hub_db).get("instance-b", 0) >= len(transcoded_library.decoys)
    assert again["status"] == "SUCCESS"
    assert not again["details"].get("pushed") and not again["details"].get("pulled")
    assert not again["details"].get("analysed")


def test_the_sync_is_a_task_with_the_analysis_rules(synced, instances):
    _first, pulled, _again = synced
    b = instances["b"]
    rec = task_store.get_task(b.store, pulled["task_id"])
    assert rec.task_type == "collection_sync" and rec.status == "SUCCESS" and pulled["progress"] == 100
    assert task_store.children(b.store, rec.task_id)  # one child per album a worker took
    text = json.dumps(pulled)
    assert "token-of-b-456" not in text and "token-of" not in json.dumps(rec.details)
    status = requests.get(f"{b.url}/api/status/{rec.task_id}", timeout=30).json()
    assert status["task_type"] == "main_collection_sync" and status["state"] == "SUCCESS"


def test_the_start_route_needs_the_instance_s_api_token_not_a_hub_token(instances):
    a = instances["a"]
    for headers in ({}, {"Authorization": "Bearer token-of-a-123"}):
        res = requests.post(a.url + "/api/collection/start", json={"url": "http://hub", "token": "token-of-a-123"},
                            headers=headers, timeout=30)
        assert res.status_code == 401 and "API token" in res.json()["error"]


# ------------------------------------------------------------------------------------------ refusals, on B2
def test_a_wrong_or_missing_token_is_refused(synced, instances, hub_settings, hub_db):
    b2 = instances["b2"]
    missing = b2.start("http://127.0.0.1:9", None)
    assert missing.status_code == 400 and "token" in missing.json()["error"]
    with HubServer(hub_settings, hub_db) as hub:
        for token in ("wrong-token-789", "token-of-a-12"):
            last = b2.sync(hub.url, token)
            assert last["status"] == "FAILURE" and "refused the token" in last["details"]["error"], last
            assert token not in json.dumps(last)
        assert hub.lookups == 0 and hub.pushes == 0
    assert track_store.count_tracks(b2.store) == 0


def test_a_hub_of_another_model_version_is_refused_with_a_sentence(synced, instances, hub_settings, hub_db,
                                                                   version, tmp_path):
    other = tmp_path / "other-models"
    other.mkdir()
    manifest = json.loads((REPO / "models" / "manifest.json").read_text())
    for m in manifest["models"].values():
        (other / m["file"]).symlink_to(REPO / "models" / m["file"])
        m["checkpoint_sha256"] = "0" * 64  # other weights: another model version
    (other / "manifest.json").write_text(json.dumps(manifest))
    b2 = instances["b2"]
    with HubServer(hub_settings.replace(models_dir=str(other)), hub_db) as hub:
        hub_version = expected_version(other)
        last = b2.sync(hub.url, "token-of-b-456")
        assert hub.lookups == 0 and hub.pushes == 0
    error = last["details"]["error"]
    assert last["status"] == "FAILURE" and hub_version in error and version in error and "cannot be mixed" in error
    assert track_store.count_tracks(b2.store) == 0


def test_a_hub_that_dies_mid_sync_leaves_b_consistent_and_the_next_sync_finishes(
        synced, instances, hub_settings, hub_db, transcoded_library, corpus):
    b2 = instances["b2"]
    with HubServer(hub_settings, hub_db, die_after_lookups=2) as hub:
        first = b2.sync(hub.url, "token-of-b-456")
    assert first["status"] == "FAILURE" and "run the sync again" in first["details"]["error"], first
    kept = b2.rows(transcoded_library.root)
    assert 0 < len(kept) < len(transcoded_library.copies)  # the albums before the hub died are kept
    origin = b2.origins(kept)
    assert set(origin) == set(kept)  # every stored track has its fingerprint
    a_rows = instances["a"].rows(corpus / "library")
    for p, row in kept.items():
        if origin[p] == "pulled":
            assert np.array_equal(row.embedding, a_rows[transcoded_library.copies[p]].embedding)
    with HubServer(hub_settings, hub_db) as hub:  # back, at another address
        answers: list[requests.Response] = []
        starts = [threading.Thread(target=lambda: answers.append(b2.start(hub.url, "token-of-b-456")))
                  for _ in range(2)]
        for t in starts:
            t.start()
        for t in starts:
            t.join()
        assert sorted(r.status_code for r in answers) == [202, 409]  # one sync at a time per instance
        running = next(r.json() for r in answers if r.status_code == 202)
        refused = next(r.json() for r in answers if r.status_code == 409)
        assert refused["task_id"] == running["task_id"] and "already running" in refused["error"]
        second = b2.wait(running["task_id"])
    assert second["status"] == "SUCCESS", second
    done = b2.rows(transcoded_library.root)
    assert len(done) == len(transcoded_library.copies) + len(transcoded_library.decoys)
    assert second["details"]["skipped"] >= len(kept)  # what was stored before is not pulled or analysed again
