"""Jobs whose driver dies do not block the service, on the real two-node test cluster and real music:
a SIGKILLed `audiomuse-ray analyze`, a Serve replica killed under a job it started, the detached actor
hosting an API job killed. Each time the task ends (FAILURE or REVOKED) within the stale timeout, a new
analysis starts and finishes, and nothing written before the kill is analysed again."""

from __future__ import annotations

import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from audiomuse_ray.api import jobs_api
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from tests.conftest import REPO, wait_until_routed

pytestmark = [pytest.mark.integration, pytest.mark.slow]
STALE_S = 3.0  # the service's default is 60 s; short here so the test waits seconds, not minutes
LEFT_OUT = "Warzone 2100 Project"  # its two albums (29 tracks, one of them lossless) took most of each run


@pytest.fixture(scope="module")
def music(corpus, tmp_path_factory) -> Path:
    """Five of the corpus's albums (43 tracks): enough that a kill lands mid-run, and each
    test's runs take half the time the whole corpus did."""
    folder = tmp_path_factory.mktemp("music")
    for artist in (corpus / "library").iterdir():
        if artist.name != LEFT_OUT:
            shutil.copytree(artist, folder / artist.name)
    return folder


@pytest.fixture(scope="module")
def three_albums(corpus, tmp_path_factory) -> Path:
    """Three albums (25 tracks) for a kill after the first: the run after it analyses the other two."""
    folder = tmp_path_factory.mktemp("three-albums")
    for album in ("Nexuiz/Arena Tracks", "Nexuiz/Arena Tracks II", "Singularity Ensemble/Endgame Singularity I"):
        shutil.copytree(corpus / "library" / album, folder / album)
    return folder


def tracks_in(settings: Settings) -> int:
    return sum(1 for f in Path(settings.music_dir).rglob("*") if f.is_file())


def fresh_settings(music: Path, tmp_path: Path) -> Settings:
    return Settings.load({}, data_dir=str(tmp_path / "data"), music_dir=str(music),
                         models_dir=str(REPO / "models"), task_stale_s=STALE_S)


def wait_for(predicate, timeout_s: float, what: str, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def albums_done(store, task_id: str) -> list[str]:
    return [c.details.get("album") for c in task_store.children(store, task_id) if c.status == task_store.SUCCESS]


def done_before(store) -> set[str]:
    """Tracks the next run must skip: analysed, or failed for good."""
    return track_store.analysed_ids(store) | {e.item_id for e in track_store.list_errors(store)}


def finish_fresh_run(settings: Settings, store, albums_finished_before: list[str], skip: set[str]):
    from audiomuse_ray.analysis.run import run_analysis

    summary = run_analysis(settings, store=store)
    assert summary.status == task_store.SUCCESS
    assert summary.skipped == len(skip) > 0
    assert summary.analysed + summary.failed + summary.skipped == tracks_in(settings)
    again = {c.details.get("album") for c in task_store.children(store, summary.task_id)}
    assert not again & set(albums_finished_before), "an album finished before the kill was analysed again"
    return summary


def test_a_sigkilled_cli_driver_is_failed_and_a_new_run_skips_its_albums(ray_cluster, three_albums, tmp_path):
    settings = fresh_settings(three_albums, tmp_path)
    store = open_store(settings.database_url)
    env = {**os.environ, "AUDIOMUSE_TASK_STALE_S": str(STALE_S), "RAY_ADDRESS": ""}
    cli = [str(Path(sys.executable).parent / "audiomuse-ray"), "--data-dir", settings.data_dir, "--music-dir",
           settings.music_dir, "--models-dir", settings.models_dir, "--ray-address", ray_cluster.address,
           "analyze", "--no-progress"]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        task = wait_for(lambda: task_store.recent_tasks(store, 1, task_type="analysis"), 60, "the CLI's task row")[0]
        wait_for(lambda: albums_done(store, task.task_id), 120, "a first finished album")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = albums_done(store, task.task_id)
    skip = done_before(store)
    assert 0 < len(skip) < tracks_in(settings), "the kill should land mid-run"
    # whoever reads the tasks (here: the CLI's `tasks`, the status route's function) fails it once stale
    killed_at = time.monotonic()
    def reaped():
        task_store.reap_stale(store, settings.task_stale_s)
        r = task_store.get_task(store, task.task_id)
        return r if r.finished else None

    rec = wait_for(reaped, STALE_S + 10, "the lost task to be failed")
    assert rec.status == task_store.FAILURE and "driver lost" in rec.details["error"]
    assert time.monotonic() - killed_at <= STALE_S + 10
    body = jobs_api.status(store, task.task_id, settings.task_stale_s)
    assert body["state"] == "FAILURE" and jobs_api.active_task(store, settings.task_stale_s) == {}
    finish_fresh_run(settings, store, finished, skip)
    store.dispose()


# Seconds of patience after SIGTERM. Here it exits in 2-3 s, SIGTERM during the index rebuild included. In one of
# five two-worker suite runs (both cores fully busy) it had not exited after 30 s, with no output after its
# first line and the cause not found; the failure now shows the task's log.
EXIT_AFTER_SIGTERM_S = 60


def test_sigterm_to_the_cli_cancels_its_job_like_ctrl_c(ray_cluster, music, tmp_path):
    """`docker stop` and Kubernetes send SIGTERM. Ray's driver installs a SIGTERM handler of its own that
    kills the process with a stack trace (the task row would wait for the stale timeout); the CLI keeps
    its own across ray.init, so SIGTERM is a Ctrl-C: the task is REVOKED at once, the finished albums stay,
    and the command ends as a cancelled analysis does (exit code 1, the summary printed)."""
    settings = fresh_settings(music, tmp_path)
    store = open_store(settings.database_url)
    env = {**os.environ, "RAY_ADDRESS": ""}
    cli = [str(Path(sys.executable).parent / "audiomuse-ray"), "--data-dir", settings.data_dir, "--music-dir",
           settings.music_dir, "--models-dir", settings.models_dir, "--ray-address", ray_cluster.address,
           "analyze", "--no-progress"]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        task = wait_for(lambda: task_store.recent_tasks(store, 1, task_type="analysis"), 60, "the CLI's task row")[0]
        wait_for(lambda: albums_done(store, task.task_id), 120, "a first finished album")
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=EXIT_AFTER_SIGTERM_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
            log = task_store.get_task(store, task.task_id).details.get("log", [])
            pytest.fail(f"the CLI still ran {EXIT_AFTER_SIGTERM_S} s after SIGTERM; its output:\n{out[-3000:]}\n"
                        f"its task's log: {log[-10:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1 and "REVOKED:" in out, out[-3000:]
    assert "SIGTERM received" not in out and "Traceback" not in out, out[-3000:]
    assert task_store.get_task(store, task.task_id).status == task_store.REVOKED
    assert albums_done(store, task.task_id) and track_store.count_tracks(store) > 0
    store.dispose()


def serve_replica_names(app: str) -> list[str]:
    import ray

    return [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
            if a["namespace"] == "serve" and a["name"].startswith(f"SERVE_REPLICA::{app}#")]


@pytest.fixture
def jobs_app(serve_base, music, tmp_path):
    """An API app over a fresh database of ``music``, under /jobs, with a short stale timeout."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings = fresh_settings(music, tmp_path)
    serve.run(build(settings, reload_interval_s=60.0, num_cpus=0), name="jobs", route_prefix="/jobs")
    wait_until_routed(serve_base + "/jobs/api/active_tasks")
    store = open_store(settings.database_url)
    yield serve_base + "/jobs", settings, store
    store.dispose()
    serve.delete("jobs")


def test_api_jobs_outlive_their_replica_and_a_lost_runner_does_not_block(jobs_app):
    import ray

    from audiomuse_ray.runtime.jobs import JOB_NAMESPACE

    url, settings, store = jobs_app

    def start(body: dict | None = None) -> str:
        res = requests.post(url + "/api/analysis/start", json=body or {}, timeout=30)
        assert res.status_code == 202, res.text
        return res.json()["task_id"]

    def runner_actor(task_id: str):
        return ray.get_actor(task_store.get_task(store, task_id).runner.rsplit("/", 1)[1], namespace=JOB_NAMESPACE)

    # 1. the actor hosting the job is killed: a cancel then revokes the task at once
    first = start()
    busy = requests.post(url + "/api/analysis/start", json={}, timeout=30)
    assert busy.status_code == 409 and busy.json()["task_id"] == first
    wait_for(lambda: albums_done(store, first), 120, "a first finished album")
    ray.kill(runner_actor(first))
    res = requests.post(url + f"/api/cancel/{first}", timeout=30)
    assert res.status_code == 200 and res.json()["status"] == "REVOKED", res.text
    assert requests.get(url + f"/api/status/{first}", timeout=30).json()["state"] == "REVOKED"

    # 2. killed again, nobody cancels: it goes stale, reads show FAILURE, a new start is accepted
    second = start()
    wait_for(lambda: len(albums_done(store, second)) >= 1, 120, "an album of the second run")
    ray.kill(runner_actor(second))
    state = wait_for(lambda: (s := requests.get(url + f"/api/status/{second}", timeout=30).json())["state"]
                     in ("FAILURE", "SUCCESS") and s, STALE_S + 15, "the lost job to be failed")
    if state["state"] == "FAILURE":  # (it may have finished the corpus before the kill landed)
        assert "driver lost" in state["details"]["error"]
    assert requests.get(url + "/api/active_tasks", timeout=30).json() == {}
    finished = albums_done(store, first) + albums_done(store, second)
    skip = done_before(store)

    # 3. a job whose replica is killed under it carries on to the end in its own actor
    if len(skip) < tracks_in(settings):
        third = start({"workers": 1})  # the API's worker count reaches the job
        replicas = serve_replica_names("jobs")
        assert replicas
        for name in replicas:
            ray.kill(ray.get_actor(name, namespace="serve"), no_restart=False)
        rec = wait_for(lambda: (r := task_store.get_task(store, third)).finished and r, 300, "the third run to end",
                       every_s=1.0)
        assert rec.status == task_store.SUCCESS, rec.details
        again = {c.details.get("album") for c in task_store.children(store, third)}
        assert not again & set(finished)
        assert len({c.details.get("worker") for c in task_store.children(store, third)}) == 1
        assert len(done_before(store)) == tracks_in(settings)
        # and Serve brought the API back
        wait_for(lambda: requests.get(url + "/", timeout=5).status_code == 200, 60, "the replica to come back")
