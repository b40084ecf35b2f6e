"""The analysis job on a real multi-node Ray cluster, the real corpus and a real database file."""

from __future__ import annotations

import shutil
import threading
import time
from collections import defaultdict

import numpy as np
import pytest

from audiomuse_ray.analysis.run import run_analysis
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import indexes, open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.similarity.index import INDEX_NAME
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def make_settings(tmp_path, music_dir) -> Settings:
    return Settings.load({}, data_dir=str(tmp_path / "data"), music_dir=str(music_dir), models_dir=str(REPO / "models"))


@pytest.fixture
def analysed(analysed_corpus):
    return analysed_corpus


def test_every_track_is_analysed_and_indexed(analysed, corpus_manifest):
    settings, store, summary = analysed
    assert (summary.status, summary.analysed, summary.failed, summary.skipped) == ("SUCCESS", 72, 0, 0)
    assert track_store.count_tracks(store) == 72
    ids, matrix = track_store.load_embeddings(store)
    assert matrix.shape == (72, 200) and np.isfinite(matrix).all()
    stored = indexes.load_index(store, INDEX_NAME)
    assert stored.version == summary.index_version and sorted(stored.item_ids) == sorted(ids)
    assert 0 < summary.index_seconds < summary.seconds  # the rebuild is timed apart from the analysis
    parent = task_store.get_task(store, summary.task_id)
    assert parent.status == "SUCCESS" and parent.progress == 100 and parent.details["analysed"] == 72
    kids = task_store.children(store, summary.task_id)
    assert len(kids) == 7 and all(k.status == "SUCCESS" for k in kids)
    assert sum(k.details["analysed"] for k in kids) == 72


def test_stored_rows_are_sane(analysed):
    _settings, store, _summary = analysed
    for t in track_store.get_tracks(store, with_embeddings=True):
        assert t.tempo is None or 40 <= t.tempo <= 200
        assert t.key in {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"} and t.scale in {"major", "minor"}
        assert len(t.mood_vector) == 5 and list(t.mood_vector.values()) == sorted(t.mood_vector.values(), reverse=True)
        assert set(t.other_features) == {"danceable", "aggressive", "happy", "party", "relaxed", "sad"}
        assert all(0 <= v <= 1 for v in t.other_features.values())
        assert 0 < t.energy < 1 and t.duration == pytest.approx(30, abs=1.5)
        assert t.tags.shape == (50,) and t.model_version.startswith("musicnn-onnx-")


def test_a_second_run_analyses_nothing(analysed):
    settings, store, first = analysed
    again = run_analysis(settings, store=store)
    assert (again.analysed, again.skipped, again.failed) == (0, 72, 0)
    assert again.index_version == first.index_version  # nothing changed: the index is not rebuilt


def test_tags_tell_the_metal_album_from_the_ambient_one(analysed):
    """Nexuiz's arena tracks (electronic metal) against Singularity's ambient soundtrack."""
    _settings, store, _summary = analysed
    from audiomuse_ray.analysis.models import load_manifest

    labels = load_manifest(REPO / "models").labels["msd-musicnn"]
    col = {label: i for i, label in enumerate(labels)}
    by_artist = defaultdict(list)
    for t in track_store.get_tracks(store, with_embeddings=True):
        by_artist[t.album_artist].append(t.tags)
    metal, ambient = np.mean(by_artist["Nexuiz"], axis=0), np.mean(by_artist["Singularity Ensemble"], axis=0)
    loud = ["rock", "metal", "electronic", "dance"]
    calm = ["ambient", "instrumental", "chillout"]
    assert sum(metal[col[t]] for t in loud) > sum(ambient[col[t]] for t in loud)
    assert sum(ambient[col[t]] for t in calm) > sum(metal[col[t]] for t in calm)


def test_broken_files_are_recorded_and_the_job_goes_on(ray_cluster, corpus, tmp_path):
    library = tmp_path / "library"
    shutil.copytree(corpus / "library" / "Singularity Ensemble" / "Endgame Singularity II", library / "Ensemble" / "II")
    shutil.copytree(corpus / "broken", library / "broken")
    settings = make_settings(tmp_path, library)
    store = open_store(settings.database_url)
    summary = run_analysis(settings, store=store)
    assert summary.status == "SUCCESS" and summary.analysed + summary.failed == 8 + 12
    errors = {e.path.rsplit("/", 1)[-1]: e for e in track_store.list_errors(store)}
    assert set(errors) == {"empty.mp3", "text-named.flac", "random-bytes.ogg", "silence.flac", "too-short.wav"}
    assert errors["silence.flac"].error_class == "SilentAudio"
    assert errors["too-short.wav"].error_class == "AudioTooShort"
    assert errors["empty.mp3"].error_class == "UnreadableAudio" and "empty" in errors["empty.mp3"].message
    stored = {t.path_or_url.rsplit("/", 1)[-1]: t for t in track_store.get_tracks(store)}
    assert len(stored) == 8 + 7
    long = stored["ninety-minutes.ogg"]
    assert long.duration == pytest.approx(5400, abs=1)
    parent = task_store.get_task(store, summary.task_id)
    assert any("failed" in line and "silence.flac" in line for line in parent.details["log"])
    rerun = run_analysis(settings, store=store)  # permanent failures are not retried
    assert (rerun.analysed, rerun.failed, rerun.skipped) == (0, 0, 20)
    store.dispose()


def test_cancel_stops_the_job_within_five_seconds_and_keeps_finished_albums(ray_cluster, corpus, tmp_path):
    settings = make_settings(tmp_path, corpus / "library")
    store = open_store(settings.database_url)
    result = {}
    job = threading.Thread(target=lambda: result.update(summary=run_analysis(settings, store=store, task_id="job1")))
    job.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        kids = task_store.children(store, "job1")
        if any(k.status == "SUCCESS" for k in kids):
            break
        time.sleep(0.2)
    assert task_store.request_cancel(store, "job1")
    asked = time.monotonic()
    job.join(timeout=30)
    assert not job.is_alive() and time.monotonic() - asked < 5.0
    summary = result["summary"]
    assert summary.status == "REVOKED" and task_store.get_task(store, "job1").status == "REVOKED"
    kids = task_store.children(store, "job1")
    done = sum(k.details.get("analysed", 0) for k in kids if k.status == "SUCCESS")
    assert 0 < track_store.count_tracks(store) == done < 72  # finished albums kept, nothing half-written
    assert all(k.status in ("SUCCESS", "REVOKED") for k in kids)
    resumed = run_analysis(settings, store=store)
    assert resumed.analysed == 72 - done and resumed.skipped == done
    store.dispose()


def test_a_cancel_after_the_last_album_stops_before_the_rebuild_and_the_next_run_catches_up(
        ray_cluster, corpus, tmp_path):
    """Cancelled while its last album is being stored, the job ends REVOKED (not SUCCESS after the user
    asked it to stop); the albums stay, and the next run, with nothing to analyse, still rebuilds the index
    that is now behind the stored tracks."""
    album = next(p for p in sorted((corpus / "library").rglob("*")) if p.is_dir() and any(
        f.suffix in (".ogg", ".opus", ".mp3", ".flac") for f in p.iterdir()))
    music = tmp_path / "music"
    shutil.copytree(album, music / album.name)
    settings = make_settings(tmp_path, music)
    store = open_store(settings.database_url)

    def cancel_when_all_counted(progress) -> None:
        if progress.total and progress.done >= progress.total:
            task_store.request_cancel(store, progress.task_id)

    summary = run_analysis(settings, store=store, task_id="late", on_progress=cancel_when_all_counted)
    stored = track_store.count_tracks(store)
    assert summary.status == "REVOKED" and task_store.get_task(store, "late").status == "REVOKED"
    assert stored > 0 and indexes.header(store, INDEX_NAME) is None
    caught_up = run_analysis(settings, store=store)
    assert (caught_up.status, caught_up.analysed, caught_up.skipped) == ("SUCCESS", 0, stored)
    head = indexes.header(store, INDEX_NAME)
    assert head is not None and head.items == track_store.count_embeddings(store) == stored
    again = run_analysis(settings, store=store)  # up to date: no new version
    assert again.index_version == head.version
    store.dispose()


def test_a_node_killed_mid_job_loses_nothing(ray_cluster, corpus, tmp_path):
    import ray

    extra = ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    node_prefix = extra.node_id[:8]
    settings = make_settings(tmp_path, corpus / "library")
    store = open_store(settings.database_url)
    killed = threading.Event()

    def killer():
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not killed.is_set():
            for k in task_store.children(store, "job2"):
                if k.status == "STARTED" and k.details.get("worker", "").startswith(node_prefix):
                    ray_cluster.remove_node(extra)
                    killed.set()
                    return
            time.sleep(0.1)

    watcher = threading.Thread(target=killer)
    watcher.start()
    summary = run_analysis(settings, store=store, task_id="job2", workers=3)
    watcher.join()
    assert killed.is_set(), "the extra node never got an album"
    assert summary.status == "SUCCESS" and summary.retried_albums >= 1
    assert (summary.analysed, summary.failed) == (72, 0) and track_store.count_tracks(store) == 72
    kids = task_store.children(store, "job2")
    assert len(kids) == 7 and all(k.status == "SUCCESS" for k in kids)
    assert sum(k.details["analysed"] for k in kids) == 72  # each album counted (written) once
    assert len(ray.nodes()) >= 2
    store.dispose()


def test_a_worker_that_cannot_start_fails_the_job_at_once_with_its_error(ray_cluster, corpus, tmp_path):
    """A node whose model file is broken (the manifest the driver reads is fine): the workers die in
    their constructor, and the job says why at once instead of waiting for CPUs that will never come."""
    from audiomuse_ray.errors import AudioMuseError

    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (models / "msd-musicnn.onnx").write_bytes(b"this is not an ONNX model")
    library = tmp_path / "library"
    shutil.copytree(corpus / "library" / "Planet Blupi", library / "Planet Blupi")
    settings = make_settings(tmp_path, library).replace(models_dir=str(models))
    store = open_store(settings.database_url)
    started = time.monotonic()
    with pytest.raises(AudioMuseError, match="analysis worker failed to start") as err:
        run_analysis(settings, store=store)
    assert time.monotonic() - started < 60  # it used to wait 120 s, then blame the cluster's CPUs
    assert "CPU" not in str(err.value) and ("onnx" in str(err.value).lower() or "protobuf" in str(err.value).lower())
    task = task_store.recent_tasks(store, 1)[0]
    assert task.status == task_store.FAILURE and "failed to start" in task.details["error"]
    store.dispose()
