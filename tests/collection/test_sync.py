"""The sync job on a real Ray cluster against a hub on loopback HTTP (the hub functions behind tiny routes;
phase 2 puts the real routes there): A (the analysed corpus) pushes, B (the same music transcoded, other
folders and names, plus decoys) pulls what its fingerprints confirm and analyses the rest; refusals and a
hub that dies mid-sync."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.collection.sync import TASK_TYPE, SyncOptions, run_sync
from audiomuse_ray.errors import HubAuthError, HubModelMismatch, HubUnavailable
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import hub as hub_store
from audiomuse_ray.store import tasks as task_store
from audiomuse_ray.store import tracks as track_store
from tests.collection.loopback_hub import LoopbackHub
from tests.conftest import REPO

pytestmark = pytest.mark.integration
TOKENS = "instance-a:token-of-a-123,instance-b:token-of-b-456"


def copy_sqlite(url: str, dest: Path) -> str:
    """A consistent copy of a live SQLite database (WAL included), as its own instance's store."""
    src = sqlite3.connect(url.split("///", 1)[1])
    out = sqlite3.connect(str(dest))
    src.backup(out)
    src.close()
    out.close()
    return f"sqlite:///{dest}"


@pytest.fixture(scope="module")
def version():
    return expected_version(REPO / "models")


@pytest.fixture(scope="module")
def hub_db(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('hub') / 'hub.db'}")
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def instance_a(analysed_corpus, tmp_path_factory):
    settings, store, _summary = analysed_corpus
    root = tmp_path_factory.mktemp("instance-a")
    url = copy_sqlite(settings.database_url, root / "a.db")
    a = settings.replace(database_url=url)
    a_store = open_store(url)
    yield a, a_store
    a_store.dispose()


def instance(music: Path, root: Path) -> tuple[Settings, object]:
    settings = Settings.load({}, data_dir=str(root), music_dir=str(music), models_dir=str(REPO / "models"))
    return settings, open_store(settings.database_url)


@pytest.fixture(scope="module")
def synced(ray_cluster, instance_a, transcoded_library, hub_db, version, tmp_path_factory):
    """A pushes, then B pulls: (A's summary, B's summary, B's settings and store, the hub)."""
    a_settings, a_store = instance_a
    b_settings, b_store = instance(transcoded_library.root, tmp_path_factory.mktemp("instance-b"))
    with LoopbackHub(hub_db, TOKENS, version) as hub:
        a_sum = run_sync(a_settings, SyncOptions(hub.url, "token-of-a-123"), store=a_store)
        b_sum = run_sync(b_settings, SyncOptions(hub.url, "token-of-b-456"), store=b_store)
        again = run_sync(a_settings, SyncOptions(hub.url, "token-of-a-123"), store=a_store)
    yield a_sum, b_sum, again, b_settings, b_store
    b_store.dispose()


def _by_corpus_path(store, library: Path) -> dict[str, track_store.TrackRow]:
    return {str(Path(r.path_or_url).relative_to(library)): r for r in track_store.get_tracks(store, with_embeddings=True)}


def test_a_pushes_every_analysed_track(synced, instance_a, hub_db, version):
    a_sum, *_ = synced
    a_settings, a_store = instance_a
    analysed = track_store.analysed_ids(a_store, version)
    assert a_sum.status == "SUCCESS" and a_sum.pushed == len(analysed) >= 70
    assert a_sum.analysed == 0 and a_sum.pulled == 0  # nothing to analyse: it only shared
    assert a_sum.shared_new == len(analysed)
    prints = fingerprint_store.get_fingerprints(a_store, analysed)
    assert all(p.recording_id for p in prints.values())
    assert hub_store.count(hub_db, version) >= len(analysed)


def test_b_pulls_at_least_90_percent_without_musicnn_and_gets_a_s_embeddings(synced, instance_a,
                                                                             transcoded_library, corpus):
    _a, b_sum, *_rest, b_settings, b_store = synced
    a_rows = _by_corpus_path(instance_a[1], corpus / "library")
    b_rows = _by_corpus_path(b_store, transcoded_library.root)
    copies = transcoded_library.copies
    prints = fingerprint_store.get_fingerprints(b_store, [r.item_id for r in b_rows.values()])
    origin = {p: prints[r.item_id].origin for p, r in b_rows.items() if r.item_id in prints}
    pulled = [p for p in copies if origin.get(p) == "pulled"]
    assert b_sum.status == "SUCCESS"
    assert len(pulled) >= 0.9 * len(copies), (len(pulled), len(copies))
    assert b_sum.pulled == len(pulled) and b_sum.analysed <= len(copies) - len(pulled) + len(transcoded_library.decoys)
    for p in pulled:
        a_row = a_rows[copies[p]]
        assert np.array_equal(b_rows[p].embedding, a_row.embedding), p
        assert b_rows[p].model_version == a_row.model_version and b_rows[p].tempo == a_row.tempo
        assert b_rows[p].path_or_url.startswith(str(transcoded_library.root))  # B's own file, not A's path
    assert prints[b_rows[pulled[0]].item_id].recording_id  # the hub's key is remembered


def test_no_decoy_takes_a_pulled_analysis(synced, transcoded_library, instance_a, corpus):
    _a, b_sum, *_rest, b_settings, b_store = synced
    b_rows = _by_corpus_path(b_store, transcoded_library.root)
    a_rows = _by_corpus_path(instance_a[1], corpus / "library")
    prints = fingerprint_store.get_fingerprints(b_store, [r.item_id for r in b_rows.values()])
    for decoy, (tags_of, audio_of) in transcoded_library.decoys.items():
        row = b_rows[decoy]
        assert prints[row.item_id].origin == "analysed", decoy  # MusiCNN ran on it here
        assert not np.array_equal(row.embedding, a_rows[tags_of].embedding)
        # it is the other track's music, and the analysis says so
        cos = float(row.embedding @ a_rows[audio_of].embedding /
                    np.linalg.norm(row.embedding) / np.linalg.norm(a_rows[audio_of].embedding))
        assert cos > 0.95, (decoy, cos)


def test_b_shares_what_it_analysed_and_a_second_sync_of_a_pushes_nothing(synced, hub_db, version, transcoded_library):
    a_sum, b_sum, again, *_ = synced
    assert b_sum.pushed == b_sum.analysed and b_sum.shared_new >= len(transcoded_library.decoys)
    assert again.status == "SUCCESS" and again.pushed == 0 and again.pulled == 0 and again.analysed == 0


def test_the_sync_is_a_task_with_the_analysis_rules(synced):
    _a, b_sum, *_rest, b_settings, b_store = synced
    rec = task_store.get_task(b_store, b_sum.task_id)
    assert rec.task_type == TASK_TYPE and rec.status == "SUCCESS" and rec.progress == 100
    assert "token" not in str(rec.details).lower() and rec.details["pulled"] == b_sum.pulled
    assert task_store.children(b_store, b_sum.task_id)  # one child per album a worker took


def test_a_wrong_token_is_refused_before_any_work(hub_db, version, tmp_path, transcoded_library):
    settings, store = instance(transcoded_library.root, tmp_path)
    with LoopbackHub(hub_db, TOKENS, version) as hub:
        for token in ("wrong-token-789", "token-of-a-12"):
            with pytest.raises(HubAuthError, match="refused the token") as err:
                run_sync(settings, SyncOptions(hub.url, token), store=store)
            assert token not in str(err.value)
    rec = task_store.recent_tasks(store, 1, task_type=TASK_TYPE)[0]
    assert rec.status == "FAILURE" and "refused the token" in rec.details["error"]
    assert track_store.count_tracks(store) == 0 and hub.lookups == 0
    store.dispose()


def test_a_hub_of_another_model_version_is_refused_with_a_sentence(hub_db, version, tmp_path, transcoded_library):
    settings, store = instance(transcoded_library.root, tmp_path)
    with LoopbackHub(hub_db, TOKENS, "musicnn-onnx-0000000000+other") as hub:
        with pytest.raises(HubModelMismatch, match="musicnn-onnx-0000000000\\+other") as err:
            run_sync(settings, SyncOptions(hub.url, "token-of-b-456"), store=store)
    assert version in str(err.value) and "cannot be mixed" in str(err.value)
    assert track_store.count_tracks(store) == 0 and hub.lookups == 0
    store.dispose()


def test_a_hub_that_dies_mid_sync_leaves_b_consistent_and_the_next_sync_finishes(
        synced, hub_db, version, tmp_path, transcoded_library, instance_a, corpus):
    settings, store = instance(transcoded_library.root, tmp_path)
    settings = settings.replace(http_retries=0)
    with LoopbackHub(hub_db, TOKENS, version, die_after_lookups=2) as hub:
        with pytest.raises(HubUnavailable, match="did not answer|run the sync again"):
            run_sync(settings, SyncOptions(hub.url, "token-of-b-456"), store=store)
    first = task_store.recent_tasks(store, 1, task_type=TASK_TYPE)[0]
    assert first.status == "FAILURE" and "run the sync again" in first.details["error"]
    kept = _by_corpus_path(store, transcoded_library.root)
    assert 0 < len(kept) < len(transcoded_library.copies)  # the albums before the hub died are kept
    prints = fingerprint_store.get_fingerprints(store, [r.item_id for r in kept.values()])
    assert set(prints) == {r.item_id for r in kept.values()}  # every stored track has its fingerprint
    a_rows = _by_corpus_path(instance_a[1], corpus / "library")
    for p, row in kept.items():
        if prints[row.item_id].origin == "pulled":
            assert np.array_equal(row.embedding, a_rows[transcoded_library.copies[p]].embedding)
    with LoopbackHub(hub_db, TOKENS, version) as hub:
        second = run_sync(settings, SyncOptions(hub.url, "token-of-b-456"), store=store)
    assert second.status == "SUCCESS"
    done = _by_corpus_path(store, transcoded_library.root)
    assert len(done) == len(transcoded_library.copies) + len(transcoded_library.decoys)
    assert second.skipped >= len(kept)  # what was stored before is not pulled or analysed again
    store.dispose()


def test_the_start_use_case_runs_the_sync_in_a_detached_actor(synced, hub_db, version, tmp_path, transcoded_library):
    import time

    from audiomuse_ray.collection.sync import last_sync, start_sync
    from audiomuse_ray.errors import BadRequest

    settings, store = instance(transcoded_library.root, tmp_path)
    with pytest.raises(BadRequest, match="http"):
        start_sync(settings, store, {"url": "ftp://hub", "token": "token-of-b-456"})
    with pytest.raises(BadRequest, match="token"):
        start_sync(settings, store, {"url": "http://hub"})
    assert last_sync(store, settings.task_stale_s) is None
    with LoopbackHub(hub_db, TOKENS, version) as hub:
        task_id = start_sync(settings, store, {"url": hub.url, "token": "token-of-b-456", "num_albums": 2})
        deadline = time.monotonic() + 300
        rec = None
        while time.monotonic() < deadline and not (rec and rec.finished):
            time.sleep(0.5)
            rec = last_sync(store, settings.task_stale_s)
    assert rec.task_id == task_id and rec.status == "SUCCESS", rec
    assert rec.runner.startswith("actor:") and rec.details["pulled"] >= 1
    assert track_store.count_tracks(store) == rec.details["done"]  # only the two most recent albums
    store.dispose()
