"""Shared fixtures: the real-music corpus, databases (SQLite and a real PostgreSQL), settings."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from audiomuse_ray.runtime.ingress import free_port  # noqa: F401  (tests import it from here)
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("AUDIOMUSE_TEST_CACHE", Path.home() / ".cache" / "audiomuse-ray"))


def pytest_configure(config) -> None:
    if config.getoption("record_durations") and not os.environ.get("PYTEST_XDIST_WORKER"):
        from tests.durations import Recorder

        config.pluginmanager.register(Recorder(), "record-durations")
    _make_ray_token()


def _make_ray_token() -> None:
    """Before xdist's workers start: every local Ray since 2.5x turns token authentication on and writes
    ``~/.ray/auth_token`` when it is missing. Two workers starting their first Ray at the same moment
    could each write their own, and one cluster's processes would then read the other's; make the one
    token here, once, before either starts."""
    if os.environ.get("PYTEST_XDIST_WORKER") or (Path.home() / ".ray" / "auth_token").exists():
        return
    try:
        from ray._private.authentication.authentication_token_setup import generate_and_save_token
    except ImportError:  # another Ray: it makes its token its own way
        return
    generate_and_save_token()


def pytest_addoption(parser) -> None:
    parser.addoption("--record-durations", action="store_true",
                     help="write each module's seconds to tests/durations.tsv (for the order of a run)")


def pytest_collection_modifyitems(session, config, items) -> None:
    """The order modules run in; each keeps its own order, and ``./test.sh`` hands whole modules to two xdist
    workers in this order. First those that need neither the corpus nor the image, while the two builds
    started at collection run; then those that need the corpus, with the image tests halfway through them
    (the image is ready by then). Within each group the longest first (``tests/durations.tsv``), so the
    short ones fill the end and both workers finish together."""
    from tests import durations
    from tests.background import uses

    seconds = durations.load()
    needs: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        needs[module] = max(needs.get(module, 0), 2 if uses(item, "image") else 1 if uses(item, "corpus") else 0)
    longest_first = sorted(needs, key=lambda m: -seconds.get(m, 0.0))
    order = [m for m in longest_first if needs[m] == 0]
    corpus = [m for m in longest_first if needs[m] == 1]
    half, done, split = sum(seconds.get(m, 0.0) for m in corpus) / 2, 0.0, 0
    if half == 0:  # no durations recorded: the image tests after all the others
        split = len(corpus)
    while split < len(corpus) and done < half:
        done += seconds.get(corpus[split], 0.0)
        split += 1
    order += corpus[:split] + [m for m in longest_first if needs[m] == 2] + corpus[split:]
    position = {m: i for i, m in enumerate(order)}
    items.sort(key=lambda item: position[item.nodeid.split("::", 1)[0]])  # stable: each module's order stays


def pytest_collection_finish(session) -> None:
    """The corpus's first build and the Docker image's build start now, beside the first tests."""
    from tests import corpus_build
    from tests.docker import image_build

    if corpus_build.wanted(session.items):
        corpus_build.start()
    if image_build.wanted(session.items):
        image_build.start()


def pytest_sessionfinish(session, exitstatus) -> None:
    """A build still running is stopped, unless another xdist worker of this run may be waiting for it."""
    from tests import corpus_build
    from tests.background import in_worker
    from tests.docker import image_build

    let_finish = in_worker() and exitstatus != pytest.ExitCode.INTERRUPTED
    corpus_build.stop(let_finish)
    image_build.stop(let_finish)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """72 real tracks (30 s clips) in 7 tagged album folders under ``library/``, odd files in ``broken/``."""
    from tests import corpus_build

    return corpus_build.finish()


@pytest.fixture(scope="session")
def corpus_manifest(corpus: Path) -> list[dict[str, str]]:
    lines = (corpus / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("AUDIOMUSE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("AUDIOMUSE_TEST_POSTGRES_URL is not set (./test.sh sets it when PostgreSQL runs)")
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg2

    name = "audiomuse_test_" + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audiomuse.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.dispose()


class FakeClock:
    """A UTC clock that moves only when told: ``clock.advance(61)``; pass it as ``open_store(url, clock=...)``."""

    def __init__(self, start: datetime | None = None):
        self.moment = start or datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_store(db_url, clock):
    """A store (SQLite or PostgreSQL) whose rows are stamped by ``clock``."""
    s = open_store(db_url, clock=clock)
    yield s
    s.dispose()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.load({}, data_dir=str(tmp_path / "data"), models_dir=str(REPO / "models"))


@pytest.fixture(scope="session")
def ray_cluster():
    """A real two-node Ray cluster on this machine (head + one worker node, one CPU each), shared by
    every test of the session; tests may add and remove nodes of their own."""
    import ray
    from ray.cluster_utils import Cluster

    from audiomuse_ray.runtime.ingress import HAPROXY, apply_ingress_env

    ingress = apply_ingress_env(HAPROXY, cpus=2)  # Serve as the service runs it: HAProxy straight to the replicas
    # Behind HAProxy a deleted app's replicas stay reachable for a minimum drain period (30 s) so that
    # HAProxy can move clients away; nothing is in flight when a test module deletes its apps, so drain
    # briefly (each module's teardown took 31 s, 1 s with this).
    os.environ.setdefault("RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", "1")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()
    if ingress.get("RAY_SERVE_HAPROXY_SERVER_STATE_BASE"):  # HAProxy's folder for this cluster, as serve removes its own
        shutil.rmtree(ingress["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"], ignore_errors=True)


def wait_until_routed(url: str, timeout_s: float = 30.0) -> None:
    """Serve reports an application ready a moment before its ingress routes the new prefix."""
    import time

    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout_s:g} s")


@pytest.fixture(scope="session")
def serve_base(ray_cluster):
    """One Serve instance on the test cluster for the whole session (starting one costs seconds): HTTP on
    a free port, an ingress on the head node only (the two nodes share this machine and its ports).
    Modules deploy their applications under their own route prefixes and delete them when done."""
    from ray import serve

    port = free_port()
    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


@pytest.fixture(scope="session")
def analysed_corpus(ray_cluster, corpus, tmp_path_factory):
    """The clip corpus analysed once per session on the Ray cluster: (settings, store, summary)."""
    from audiomuse_ray.analysis.run import run_analysis

    root = tmp_path_factory.mktemp("analysed")
    settings = Settings.load({}, data_dir=str(root / "data"), music_dir=str(corpus / "library"),
                             models_dir=str(REPO / "models"))
    store = open_store(settings.database_url)
    summary = run_analysis(settings, store=store)
    yield settings, store, summary
    store.dispose()


# ------------------------------------------------------------------------------------- the API in process
MOODS = ["danceable", "aggressive", "happy", "party", "relaxed", "sad"]


def synthetic_library(store, n: int = 60, seed: int = 0) -> list[str]:
    """``n`` tracks in 3 sound clusters (20 per artist), written through the store; returns their ids."""
    import numpy as np

    from audiomuse_ray.similarity.rebuild import rebuild_index
    from audiomuse_ray.store.tracks import TrackRow, save_album

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 200)).astype(np.float32)
    rows = []
    for i in range(n):
        c = i % 3
        vec = centres[c] + 0.3 * rng.normal(size=200).astype(np.float32)
        rows.append(TrackRow(item_id=f"t{i:03d}", title=f"Song {i}", author=f"Artist {c}", album=f"Album {c}",
                             album_artist=f"Artist {c}", tempo=90.0 + i, key="C", scale="major",
                             mood_vector={"rock": 0.3, "pop": 0.1}, energy=0.05,
                             other_features={m: 0.2 for m in MOODS}, duration=200.0, path_or_url=f"/m/{i}.flac",
                             model_version="test", embedding=vec / np.linalg.norm(vec), artist_id=f"a{c}"))
    save_album(store, rows)
    rebuild_index(store)
    return [r.item_id for r in rows]


@pytest.fixture(scope="module")
def library_client(tmp_path_factory):
    """(client, settings, ids): the API over a synthetic 60-track library on SQLite."""
    from fastapi.testclient import TestClient

    from audiomuse_ray.api import access
    from audiomuse_ray.api.holder import LibraryHolder
    from audiomuse_ray.providers import make_provider
    from audiomuse_ray.serve.http_app import create_api
    from audiomuse_ray.serve.services import Services, install

    root = tmp_path_factory.mktemp("api")
    settings = Settings.load({}, data_dir=str(root / "data"), music_dir=str(root / "music"))
    (root / "music").mkdir()
    store = open_store(settings.database_url)
    ids = synthetic_library(store)
    holder = LibraryHolder(store)
    holder.refresh()
    saved = dict(access._state)
    access.configure("", "127.0.0.1")
    install(Services(settings, store, holder, make_provider))
    yield TestClient(create_api()), settings, ids
    access._state.update(saved)
    store.dispose()
