"""The README's cluster commands, run as a user types them, with Ray's token authentication on: the block
after ``<!-- cluster-commands`` in README.md is run by bash from the repository root. It makes the token,
starts a head and a worker node with it, and submits the three jobs with ``ray job submit``.

Only what must differ on a test machine is changed, each by a plain substitution: ``HEAD`` is 127.0.0.1,
``head-token`` the head's token file, the jobs' settings a local SQLite store and two corpus albums, the
clustering's 5000 runs 30; and a ``ray`` wrapper first on PATH adds free ports and a private temp folder to
``ray start`` (the machine runs other Rays and Redis holds 6379), binding the dashboard to loopback. HOME is
a temporary folder, so the token never touches the machine's own ``~/.ray``. Exactly the processes of this
cluster are stopped at the end, and none may be left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from audiomuse_ray.runtime.ingress import free_port
from audiomuse_ray.settings import Settings
from audiomuse_ray.similarity.index import INDEX_NAME
from audiomuse_ray.store import indexes, open_store, playlists, tracks
from tests.conftest import REPO
from tests.jobs.ray_processes import stop_ray

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ALBUMS = [("Nexuiz", "Arena Tracks"), ("Planet Blupi", "Blupi Tunes")]  # 19 tracks: analysed in seconds
HEAD_PORTS = ("--port", "--dashboard-port", "--node-manager-port", "--object-manager-port", "--ray-client-server-port",
              "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--metrics-export-port",
              "--runtime-env-agent-port")
WORKER_PORTS = ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
                "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port")


def readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- cluster-commands[^>]*-->\s*```bash\n(.*?)```", text, re.S)
    assert match, "README.md lost its cluster-commands block"
    return match.group(1)


def _wrapper(folder: Path, temp_dir: str) -> None:
    """``ray`` first on PATH: ``ray start`` gets free ports and the private temp folder; the rest passes."""
    head = " ".join(f"{flag} {free_port()}" for flag in HEAD_PORTS[1:])
    worker = " ".join(f"{flag} {free_port()}" for flag in WORKER_PORTS)
    real = Path(sys.executable).parent / "ray"
    script = f"""#!/usr/bin/env bash
if [ "$1" = start ]; then
  shift
  args=()
  head=0
  for a in "$@"; do
    [ "$a" = --head ] && head=1
    [ "$a" = 0.0.0.0 ] && a=127.0.0.1
    args+=("$a")
  done
  common="--num-cpus 1 --num-gpus 0 --disable-usage-stats"
  if [ $head = 1 ]; then
    exec {real} start "${{args[@]}}" --port $HEAD_PORT {head} --temp-dir {temp_dir} --include-dashboard true $common
  fi
  # its own temp folder (named after the head's, so one search finds both): two nodes sharing one would
  # clean up each other's unpacked job files
  exec {real} start "${{args[@]}}" {worker} --temp-dir {temp_dir}w $common
fi
exec {real} "$@"
"""
    path = folder / "ray"
    path.write_text(script)
    path.chmod(0o755)


@pytest.fixture(scope="module")
def readme_run(corpus, tmp_path_factory):
    """The README's block, run once: (bash's exit code, its output, the environment it ran in, the jobs'
    settings)."""
    root = tmp_path_factory.mktemp("readme-cluster")
    home, shim = root / "home", root / "bin"
    home.mkdir()
    shim.mkdir()
    temp_dir = tempfile.mkdtemp(prefix="amr", dir="/tmp")  # short: Ray's Unix sockets live under it
    head_port = free_port()
    _wrapper(shim, temp_dir)
    music = root / "music"
    for artist, album in ALBUMS:
        shutil.copytree(corpus / "library" / artist / album, music / artist / album)
    settings = {"AUDIOMUSE_DATA_DIR": str(root / "data"), "AUDIOMUSE_MUSIC_DIR": str(music),
                "AUDIOMUSE_MODELS_DIR": str(REPO / "models")}

    block = readme_block()
    dashboard = re.search(r"--dashboard-port (\d+)", (shim / "ray").read_text()).group(1)
    block = block.replace("HEAD:6379", f"127.0.0.1:{head_port}").replace("HEAD:8265", f"127.0.0.1:{dashboard}")
    block = block.replace("head-token", '"$HOME/.ray/auth_token"').replace("--runs 5000", "--runs 30")
    block = re.sub(r"^ENV='.*?'$", "ENV=" + "'" + json.dumps({"env_vars": settings}) + "'", block, flags=re.S | re.M)
    assert "HEAD" not in block.replace("RAY_API_SERVER_ADDRESS", "")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUDIOMUSE_", "RAY_")) and k not in ("HOME", "PYTHONPATH")}
    env.update(HOME=str(home), HEAD_PORT=str(head_port),
               PATH=f"{shim}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    address_file = Path("/tmp/ray/ray_current_cluster")
    address_before = address_file.read_bytes() if address_file.exists() else None
    try:
        proc = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=900)
        yield proc.returncode, proc.stdout + proc.stderr, {**env, "RAY_AUTH_MODE": "token",
                                                         "RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{dashboard}"}, settings
    finally:
        left = stop_ray(temp_dir, grace_s=5.0)  # what outlives SIGTERM for 5 s is killed (it waited 20)
        shutil.rmtree(temp_dir, ignore_errors=True)
        shutil.rmtree(temp_dir + "w", ignore_errors=True)
        if address_before is None:  # `ray start` points `ray.init("auto")` on this machine at its head
            address_file.unlink(missing_ok=True)
        else:
            address_file.write_bytes(address_before)
        assert not left, f"processes of the README's cluster left behind: {sorted(left)}"


def test_the_readme_commands_run_the_three_jobs_on_a_token_cluster(readme_run):
    code, output, env, settings = readme_run
    assert code == 0, output[-4000:]
    assert len(re.findall(r"Job '[^']+' succeeded", output)) == 3, output[-4000:]
    assert "SUCCESS: 19 analysed, 0 failed, 0 skipped" in output
    store = open_store(Settings.load({}, data_dir=settings["AUDIOMUSE_DATA_DIR"]).database_url)
    try:
        assert tracks.count_tracks(store) == 19
        made = playlists.list_playlists(store)
        assert made and all(p.item_ids for p in made)
        assert indexes.latest_index_version(store, INDEX_NAME) == 2  # the analysis' index, then build_index's
    finally:
        store.dispose()
    # the worker joined with the head's token: two nodes, both alive
    status = subprocess.run(["ray", "status", "--address", f"127.0.0.1:{env['HEAD_PORT']}"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert len(re.findall(r"^\s*1 node_", status.stdout, re.M)) == 2 or "2 node" in status.stdout, status.stdout


def test_a_client_without_the_token_is_turned_away(readme_run):
    code, _output, env, settings = readme_run
    assert code == 0
    no_token = {**env, "HOME": tempfile.mkdtemp()}  # RAY_AUTH_MODE=token, but no token anywhere
    res = subprocess.run(["ray", "job", "list"], env=no_token, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "token" in (res.stdout + res.stderr).lower()
    wrong = {**env, "RAY_AUTH_TOKEN": "not-the-token"}
    res = subprocess.run(["ray", "job", "list"], env=wrong, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0


FAILING = [
    ("python jobs/analyze.py", {"AUDIOMUSE_HTTP_RETRIES": "many"},
     "error: http_retries='many' (AUDIOMUSE_HTTP_RETRIES) is not a valid integer."),
    ("python jobs/analyze.py", {"AUDIOMUSE_MUSIC_DIR": "/nonexistent/music"},
     "error: The music folder /nonexistent/music does not exist or is not a folder."),
    ("python jobs/cluster.py --runs 5 --max-songs x", {}, "argument --max-songs: invalid int value: 'x'"),
    ("python jobs/build_index.py --data-dir {empty}", {},
     "error: Nothing is analysed yet, so there is no index to build: run jobs/analyze.py first."),
]


@pytest.fixture(scope="module")
def failing_jobs(readme_run, tmp_path_factory) -> list[str]:
    """Each of FAILING submitted as a user would, all at once (each waits seconds for its job's driver to
    start and fail; one after the other took 40 s); the output of each ``ray job submit``."""
    code, _output, env, settings = readme_run
    assert code == 0
    empty = tmp_path_factory.mktemp("empty")
    procs = []
    for entrypoint, extra, _message in FAILING:
        runtime_env = json.dumps({"env_vars": {**settings, **extra}})
        procs.append(subprocess.Popen(
            ["ray", "job", "submit", "--working-dir", ".", "--runtime-env-json", runtime_env, "--",
             *entrypoint.format(empty=empty / "data").split()],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = []
    for proc in procs:
        try:
            outputs.append(proc.communicate(timeout=300)[0])
        finally:
            proc.kill()
    return outputs


@pytest.mark.parametrize("case", range(len(FAILING)), ids=[f"{e.split()[1]}:{m[:40]}" for e, _x, m in FAILING])
def test_a_failing_job_ends_failed_with_its_message(failing_jobs, case):
    output = failing_jobs[case]
    message = FAILING[case][2]
    assert re.search(r"Job '[^']+' failed", output), output[-3000:]
    assert message in output and "Traceback" not in output
