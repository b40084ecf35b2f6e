"""The jobs/ entry points submitted to a Ray cluster the way a user submits them: a head started with
``ray start --head`` (its own ports and temp folder, separate from the session's test cluster, which this
module never touches), the job SDK over the dashboard's HTTP address, the repository as the job's working
dir and the AUDIOMUSE_* settings in its runtime env. Each job must end SUCCEEDED and leave its work in the
store; a job given a bad setting or a missing music folder must end FAILED with its one-line message in the
job's logs. The head's processes are stopped at the end and none may be left behind (``ray stop`` would
stop every Ray on the machine, so the module kills exactly the processes of its own head).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from audiomuse_ray.serve.ingress import free_port
from audiomuse_ray.settings import Settings
from audiomuse_ray.similarity.artists import ARTIST_INDEX_NAME
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.store import indexes, open_store, playlists, tracks
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALBUMS = [("Nexuiz", "Arena Tracks"), ("Planet Blupi", "Blupi Tunes")]  # 19 tracks: analysed in seconds
EXCLUDES = [".git", ".venv", ".venv-models", ".cache", "test-artifacts", "benchmarks/out", "data", "build",
            "**/__pycache__", "*.egg-info", "models/*.onnx"]


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process visible in /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        out[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return out


def _head_processes(root_pid: int, temp_dir: str) -> set[int]:
    """The head's processes: descendants of ``ray start`` and anything naming its private temp folder
    (a worker whose raylet died is re-parented, but its command line still names the session folder)."""
    procs = _processes()
    found = {pid for pid, (_ppid, cmd) in procs.items() if temp_dir in cmd}
    frontier = [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _cmd) in procs.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    if root_pid in procs:
        found.add(root_pid)
    return found


def _kill(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def head():
    """A Ray head of its own (``ray start --head --block``), 2 CPUs, every port chosen free, the dashboard
    on 127.0.0.1: yields the dashboard's address."""
    ports = {flag: free_port() for flag in ("--port", "--dashboard-port", "--node-manager-port",
                                            "--object-manager-port", "--ray-client-server-port",
                                            "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
                                            "--metrics-export-port", "--runtime-env-agent-port")}
    # short: Ray's Unix sockets live under it (108 characters at most)
    temp_dir = tempfile.mkdtemp(prefix="amj", dir="/tmp")
    address_file = Path("/tmp/ray/ray_current_cluster")
    address_before = address_file.read_bytes() if address_file.exists() else None
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIOMUSE_") and k != "RAY_ADDRESS"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `python` is this venv's
    # Ray turns token auth on when ~/.ray/auth_token exists; whether this process then sends the token depends
    # on what the session's own cluster did to its environment. The head listens on loopback only: no auth.
    env["RAY_AUTH_MODE"] = "disabled"
    cmd = [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", "--num-cpus", "2",
           "--num-gpus", "0", "--dashboard-host", "127.0.0.1", "--include-dashboard", "true",
           "--temp-dir", temp_dir, "--disable-usage-stats"]
    for flag, port in ports.items():
        cmd += [flag, str(port)]
    log = open(Path(temp_dir) / "ray-start.log", "wb")
    proc = subprocess.Popen(cmd, cwd=temp_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    address = f"http://127.0.0.1:{ports['--dashboard-port']}"
    try:
        _wait_for_dashboard(address, proc, Path(temp_dir) / "ray-start.log")
        yield address
    finally:
        pids = _head_processes(proc.pid, temp_dir)
        _kill(pids, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _head_processes(proc.pid, temp_dir) & pids:
            time.sleep(0.5)
        _kill(_head_processes(proc.pid, temp_dir), signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()
        time.sleep(0.5)
        left = _head_processes(proc.pid, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        if address_before is None:  # `ray start` points `ray.init("auto")` on this machine at its head
            address_file.unlink(missing_ok=True)
        else:
            address_file.write_bytes(address_before)
        assert not left, f"processes of the job test's Ray head left behind: {sorted(left)}"


def _wait_for_dashboard(address: str, proc: subprocess.Popen, log: Path, timeout_s: float = 120.0) -> None:
    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ray start exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(address + "/api/version", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"the job test's Ray head did not answer at {address} within {timeout_s:g} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def client(head):
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(head)


@pytest.fixture(scope="module")
def job_settings(corpus, tmp_path_factory) -> dict[str, str]:
    """A music folder with two of the corpus's albums, an empty data folder, the checkout's models."""
    root = tmp_path_factory.mktemp("jobs")
    music = root / "music"
    for artist, album in ALBUMS:
        shutil.copytree(corpus / "library" / artist / album, music / artist / album)
    return {"AUDIOMUSE_DATA_DIR": str(root / "data"), "AUDIOMUSE_MUSIC_DIR": str(music),
            "AUDIOMUSE_MODELS_DIR": str(REPO / "models")}


def submit(client, entrypoint: str, env: dict[str, str], timeout_s: float = 300.0) -> tuple[str, str]:
    """Submit ``entrypoint`` with the repository as working dir; wait for the end: (status, logs)."""
    from ray.job_submission import JobStatus

    job_id = client.submit_job(entrypoint=entrypoint, runtime_env={
        "working_dir": str(REPO), "excludes": EXCLUDES, "env_vars": env})
    deadline = time.monotonic() + timeout_s
    status = client.get_job_status(job_id)
    while not status.is_terminal() and time.monotonic() < deadline:
        time.sleep(1)
        status = client.get_job_status(job_id)
    logs = client.get_job_logs(job_id)
    if not status.is_terminal():
        client.stop_job(job_id)
        pytest.fail(f"{entrypoint} still {status} after {timeout_s:g} s:\n{logs[-3000:]}")
    return str(JobStatus(status).value), logs


def _store(env: dict[str, str]):
    return open_store(Settings.load({}, data_dir=env["AUDIOMUSE_DATA_DIR"]).database_url)


def test_analysis_clustering_and_index_jobs_succeed_and_fill_the_store(client, job_settings):
    status, logs = submit(client, "python jobs/analyze.py --workers 2", job_settings)
    assert status == "SUCCEEDED", logs[-3000:]
    assert "SUCCESS: 19 analysed, 0 failed, 0 skipped" in logs
    store = _store(job_settings)
    try:
        assert tracks.count_tracks(store) == 19
        first_version = indexes.latest_index_version(store, INDEX_NAME)
        assert first_version is not None

        status, logs = submit(client, "python jobs/cluster.py --runs 20 --explorers 2 --clusters 2 4 --seed 1",
                              job_settings)
        assert status == "SUCCEEDED", logs[-3000:]
        made = playlists.list_playlists(store)
        assert made and all(p.item_ids for p in made)
        assert f"SUCCESS: {len(made)} playlists" in logs
        assert all(i in tracks.analysed_ids(store) for p in made for i in p.item_ids)

        status, logs = submit(client, "python jobs/build_index.py", job_settings)
        assert status == "SUCCEEDED", logs[-3000:]
        version = indexes.latest_index_version(store, INDEX_NAME)
        assert version == first_version + 1
        assert re.search(rf"^index version {version}: 19 tracks, [1-9][0-9]* artists, map by (umap|pca)$", logs, re.M), logs
        assert indexes.load_index(store, ARTIST_INDEX_NAME, version) is not None
        assert indexes.load_projection(store, INDEX_NAME, version) is not None
    finally:
        store.dispose()


@pytest.mark.parametrize("entrypoint,extra,message", [
    ("python jobs/analyze.py", {"AUDIOMUSE_HTTP_RETRIES": "many"},
     "error: http_retries='many' (AUDIOMUSE_HTTP_RETRIES) is not a valid integer."),
    ("python jobs/analyze.py", {"AUDIOMUSE_MUSIC_DIR": "/nonexistent/music"},
     "error: The music folder /nonexistent/music does not exist or is not a folder."),
    ("python jobs/cluster.py --runs 5 --max-songs x", {}, "argument --max-songs: invalid int value: 'x'"),
    ("python jobs/build_index.py --data-dir {empty}", {},
     "error: Nothing is analysed yet, so there is no index to build: run jobs/analyze.py first."),
])
def test_a_failing_job_ends_failed_with_its_message_in_the_logs(client, job_settings, tmp_path, entrypoint, extra,
                                                                 message):
    status, logs = submit(client, entrypoint.format(empty=tmp_path / "empty"), {**job_settings, **extra})
    assert status == "FAILED"
    assert message in logs
    assert "Traceback" not in logs
