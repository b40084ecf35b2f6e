"""The Docker image, built here and run here (docker/Dockerfile, docker/compose.yaml).

No image registry is reachable from these machines, so scripts/docker-test-image.sh builds on a Debian base
made locally with debootstrap. test.sh starts Docker (installing Debian's docker.io when it can) and sets
AUDIOMUSE_TEST_DOCKER=1; without a Docker engine these tests are skipped and test.sh says so loudly.
Containers use the host's network, so the checks are what a user sees from the host: the doctor's report,
the analysis of a read-only music folder into a data volume, and the UI and the API over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest
import requests
import yaml

from tests.conftest import REPO, free_port
from tests.docker import image_build
from tests.docker.image_build import ARTIFACTS, TAG

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _docker(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} -> {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def image() -> str:
    if os.environ.get("AUDIOMUSE_TEST_DOCKER") != "1":
        pytest.skip("no Docker engine (test.sh sets AUDIOMUSE_TEST_DOCKER=1 when one runs)")
    rc = image_build.finish(timeout_s=3600)  # started with the session (tests/conftest.py), else now
    text = image_build.LOG.read_text(errors="replace")
    assert rc == 0, f"image build failed (see {image_build.LOG}):\n{text[-4000:]}"
    print(next(line for line in reversed(text.splitlines()) if "docker-test-image: built" in line))  # … in N s, M MB
    return TAG


def _run(image: str, *cmd: str, mounts: tuple[str, ...] = (), env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess:
    args = ["run", "--rm", "--network", "host", "--shm-size", "1g"]
    for m in mounts:
        args += ["-v", m]
    for k, v in (env or {}).items():
        args += ["-e", f"{k}={v}"]
    return _docker(*args, image, *cmd, timeout=timeout, check=False)


def test_the_image_runs_as_a_user_without_tensorflow_or_the_build_ca(image):
    proc = _run(image, "sh", "-c", "id -u; python -c 'import tensorflow' 2>&1 | tail -1; "
                "ls /run/secrets 2>&1 | head -1; find / -xdev \\( -name '*.pem' -o -name '*.crt' \\) "
                "-type f -exec sha256sum {} + 2>/dev/null")
    lines = proc.stdout.splitlines()
    assert lines[0] == "1000", proc.stdout
    assert "No module named 'tensorflow'" in lines[1]
    assert "No such file" in lines[2]  # the pip CA secret was mounted for the build steps only
    cert = subprocess.run(["pip", "config", "get", "global.cert"], capture_output=True, text=True).stdout.strip()
    if cert and Path(cert).is_file():
        host_ca = hashlib.sha256(Path(cert).read_bytes()).hexdigest()
        assert host_ca not in proc.stdout, "the build machine's CA bundle ended up in the image"


def test_doctor_finds_the_models_baked_into_the_image(image, corpus):
    proc = _run(image, "audiomuse-ray", "doctor", mounts=(f"{corpus / 'library'}:/music:ro",))
    out = proc.stdout + proc.stderr
    assert "[ok] models:" in out and "/opt/audiomuse-ray/models" in out, out
    assert "[ok] database:" in out and "[ok] provider (local): 72 audio file(s) in /music" in out, out
    assert proc.returncode == 0, out


@pytest.fixture(scope="module")
def analysed_volume(image, corpus, tmp_path_factory) -> Path:
    """The corpus, mounted read-only, analysed by the image into a data folder on the host."""
    data = tmp_path_factory.mktemp("docker-data")
    data.chmod(0o777)  # the container's user (uid 1000) writes here
    start = time.monotonic()
    proc = _run(image, "audiomuse-ray", "analyze", "--no-progress",
                mounts=(f"{corpus / 'library'}:/music:ro", f"{data}:/data"), timeout=900)
    (ARTIFACTS / "analyze.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    print(f"analysis in the container: {time.monotonic() - start:.1f} s")
    return data


def test_the_analysis_reads_a_read_only_folder_and_fills_the_data_volume(analysed_volume):
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store import tracks as track_store

    db = analysed_volume / "audiomuse.db"
    assert db.is_file()
    store = open_store(f"sqlite:///{db}")
    try:
        assert track_store.count_tracks(store) == 72
    finally:
        store.dispose()


def _wait_until_serving(base: str, seconds: float, gone: Callable[[], str | None] = lambda: None) -> None:
    """Until both the API and the UI answer 200 (the API is deployed first, the UI a moment later); fails
    at once when ``gone`` says why the service cannot come up any more."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if all(requests.get(base + path, timeout=5).status_code == 200 for path in ("/api/health", "/")):
                return
        except requests.RequestException:
            pass
        why = gone()
        assert why is None, why
        assert time.monotonic() < deadline, f"the service at {base} did not come up in {seconds:.0f} s"
        time.sleep(1)


def test_serve_answers_the_ui_and_similar_tracks_from_the_host(image, corpus, analysed_volume):
    port = free_port()
    name = f"audiomuse-test-{uuid.uuid4().hex[:8]}"
    _docker("run", "-d", "--name", name, "--network", "host", "--shm-size", "1g",
            "-e", "AUDIOMUSE_HOST=127.0.0.1", "-e", f"AUDIOMUSE_PORT={port}",
            # on the host's network: the test session's own Serve may hold Serve's fixed internal port
            "-e", f"RAY_SERVE_FALLBACK_PROXY_HTTP_PORT={free_port()}",
            "-e", f"RAY_SERVE_FALLBACK_PROXY_GRPC_PORT={free_port()}",
            "-v", f"{corpus / 'library'}:/music:ro", "-v", f"{analysed_volume}:/data", image)
    base = f"http://127.0.0.1:{port}"
    try:
        def gone() -> str | None:
            if _docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true":
                return None
            return _docker("logs", name, check=False).stderr[-4000:]

        _wait_until_serving(base, 180, gone)
        page = requests.get(base + "/", timeout=30)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        with sqlite3.connect(analysed_volume / "audiomuse.db") as db:
            seed = db.execute("SELECT item_id FROM score ORDER BY item_id LIMIT 1").fetchone()[0]
        similar = requests.get(f"{base}/api/similar_tracks", params={"item_id": seed, "n": 5}, timeout=30)
        assert similar.status_code == 200, similar.text
        rows = similar.json()
        assert len(rows) == 5 and seed not in {r["item_id"] for r in rows}
        assert all(r["distance"] >= 0 for r in rows)
        start = time.monotonic()
        _docker("stop", "-t", "30", name, timeout=60)
        stopped_in = time.monotonic() - start
        code = _docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
        print(f"docker stop took {stopped_in:.1f} s, exit code {code}")
        assert stopped_in < 25, "serve did not stop on SIGTERM; docker had to kill it"
        assert code in ("0", "130"), f"serve ended with exit code {code} on SIGTERM"  # 130: stopped while starting
    finally:
        (ARTIFACTS / "serve.log").write_text(_docker("logs", name, check=False).stderr)
        _docker("rm", "-f", name, check=False)


def _compose_cli() -> list[str] | None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_the_compose_file_is_valid_and_wires_head_worker_and_postgres(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed (test.sh installs it as root)")
    env = dict(os.environ, MUSIC_DIR=str(tmp_path), AUDIOMUSE_API_TOKEN="secret")
    proc = subprocess.run([*cli, "-f", str(REPO / "docker" / "compose.yaml"), "config"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(proc.stdout)
    services = config["services"]
    assert set(services) == {"postgres", "ray-head", "ray-worker"}
    head, worker = services["ray-head"], services["ray-worker"]
    assert head["build"]["dockerfile"] == "docker/Dockerfile" and Path(head["build"]["context"]) == REPO
    assert any(str(p.get("published") if isinstance(p, dict) else p).startswith("8000") for p in head["ports"])
    assert "ray start --head" in " ".join(head["command"]) and "audiomuse-ray serve" in " ".join(head["command"])
    assert "--address=ray-head:6379" in worker["command"]
    for svc in (head, worker):
        assert svc["image"] == "audiomuse-ray:latest"
        assert svc["environment"]["AUDIOMUSE_DATABASE_URL"].startswith("postgresql://")
        assert svc["environment"]["AUDIOMUSE_API_TOKEN"] == "secret"
        assert any(re.fullmatch(rf"{re.escape(str(tmp_path))}:/music:ro", str(v)) for v in svc["volumes"]), svc
    assert head["depends_on"]["postgres"]["condition"] == "service_healthy"


WORKER_NODE_ID = """
import time, ray
ray.init(address="auto", logging_level="ERROR")
deadline = time.monotonic() + 90
while True:
    workers = [n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" not in n["Resources"]]
    if workers or time.monotonic() > deadline:
        break
    time.sleep(1)
assert workers, "no worker node joined the head in 90 s"
print(workers[0])
"""


def test_the_compose_stack_analyses_on_the_worker_node_and_serves_the_result(image, corpus, tmp_path):
    """docker/compose.yaml brought up for real: its PostgreSQL image swapped for one built here from
    Debian's packages (tests/docker/postgres.Dockerfile), its audiomuse-ray image for the one under test.
    The analysis started on the head hands albums to the worker node too (which reads the music from its
    own mount), and the UI and the similar-tracks answer come from the head's published port."""
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    # built with the image at the session's start: here a cache hit, unless this test runs alone
    proc = subprocess.run(image_build.postgres_build(tmp_path), capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"services": {
        "postgres": {"image": image_build.POSTGRES_TAG,
                     "healthcheck": {"test": ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U audiomuse -d audiomuse"]}},
        "ray-head": {"image": image}, "ray-worker": {"image": image}}}))
    port = free_port()
    project = f"amrtest{uuid.uuid4().hex[:6]}"
    music = tmp_path / "music"  # four of the corpus's albums (copies: a bind mount does not follow links out)
    albums = sorted(p for p in (corpus / "library").glob("*/*") if p.is_dir())[:4]
    for album in albums:
        shutil.copytree(album, music / album.relative_to(corpus / "library"))
    tracks = sum(1 for f in music.rglob("*") if f.is_file())
    music.chmod(0o755)
    env = dict(os.environ, MUSIC_DIR=str(music), AUDIOMUSE_PORT=str(port), AUDIOMUSE_API_TOKEN="")
    compose = [*cli, "-p", project, "-f", str(REPO / "docker" / "compose.yaml"), "-f", str(override)]

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*compose, *args], capture_output=True, text=True, env=env, timeout=timeout)

    base_url = f"http://127.0.0.1:{port}"
    try:
        up = run("up", "-d", "--no-build")
        assert up.returncode == 0, up.stderr[-3000:]
        try:
            _wait_until_serving(base_url, 240)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{run('logs', '--tail', '40').stdout[-4000:]}") from None
        # the worker's node, once it has joined (the head's own CPU may be taken by an API replica, so
        # where the albums go between head and worker is the scheduler's choice; the worker must take some)
        joined = run("exec", "-T", "ray-head", "python", "-c", WORKER_NODE_ID, timeout=120)
        assert joined.returncode == 0, joined.stdout + joined.stderr
        worker_node = joined.stdout.strip().splitlines()[-1][:8]
        analysis = run("exec", "-T", "ray-head", "audiomuse-ray", "analyze", "--no-progress", timeout=900)
        assert analysis.returncode == 0 and f"SUCCESS: {tracks} analysed" in analysis.stdout, analysis.stdout + analysis.stderr
        task_id = analysis.stderr.split("analysis task ", 1)[1].split()[0]  # the CLI says it on stderr
        shown = run("exec", "-T", "ray-head", "audiomuse-ray", "tasks", "--json", task_id)
        children = json.loads(shown.stdout)["children"]
        nodes = {c["details"]["worker"].split("/")[0] for c in children}
        assert len(children) == len(albums) and worker_node in nodes, (worker_node, [c["details"].get("worker") for c in children])
        deadline = time.monotonic() + 60  # the replicas pick the new index up at their next check (10 s)
        while True:
            found = requests.get(f"{base_url}/api/search_tracks", params={"search_query": "nexuiz"}, timeout=30)
            if found.status_code == 200 and found.json():
                similar = requests.get(f"{base_url}/api/similar_tracks",
                                       params={"item_id": found.json()[0]["item_id"], "n": 5}, timeout=30)
                if similar.status_code == 200:
                    break
            assert time.monotonic() < deadline, f"no index served 60 s after the analysis: {found.text[:300]}"
            time.sleep(2)
        assert similar.status_code == 200 and len(similar.json()) == 5, similar.text
    finally:
        (ARTIFACTS / "compose.log").write_text(run("logs", "--no-color", timeout=120).stdout)
        run("down", "-v", timeout=180)
