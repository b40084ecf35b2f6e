"""One slow media server must not stall the replica: while a sonic-fingerprint request waits on a
deliberately slow loopback Subsonic server (seven calls of 1.5 s each here), similar-tracks requests to
the same single replica keep answering in their usual time."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from audiomuse_ray.providers.local import LocalFolderProvider
from audiomuse_ray.store import tracks as track_store
from tests.conftest import wait_until_routed
from tests.fakes.music_servers import FakeLibrary, FakeSubsonic

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DELAY_S = 1.5


@pytest.fixture(scope="module")
def slow_app(analysed_corpus, serve_base, corpus, tmp_path_factory):
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _summary = analysed_corpus
    library = FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("pl")))
    with FakeSubsonic(library, delay_s=DELAY_S) as subsonic:
        slow = settings.replace(provider="subsonic", subsonic_url=subsonic.url, subsonic_user="admin",
                                subsonic_password="secret")
        serve.run(build(slow, reload_interval_s=60.0, num_replicas=1, num_cpus=0), name="slow", route_prefix="/slow")
        wait_until_routed(serve_base + "/slow/api/active_tasks")
        yield serve_base + "/slow", store
        serve.delete("slow")


def timed_similar(url: str, item_id: str) -> float:
    started = time.perf_counter()
    res = requests.get(url + "/api/similar_tracks", params={"item_id": item_id, "n": 10}, timeout=60)
    assert res.status_code == 200 and res.json()
    return time.perf_counter() - started


def test_similar_tracks_answers_while_a_fingerprint_waits_on_a_slow_server(slow_app):
    url, store = slow_app
    seed = track_store.get_tracks(store)[0].item_id
    usual = sorted(timed_similar(url, seed) for _ in range(10))[5]
    outcome: dict = {}

    def fingerprint() -> None:
        started = time.perf_counter()
        res = requests.get(url + "/api/sonic_fingerprint/generate", params={"n": 10}, timeout=120)
        outcome.update(status=res.status_code, seconds=time.perf_counter() - started)

    slow = threading.Thread(target=fingerprint)
    slow.start()
    time.sleep(0.3)  # the fingerprint is now waiting on the slow server
    during = []
    while slow.is_alive() and len(during) < 40:
        during.append(timed_similar(url, seed))
        time.sleep(0.05)
    slow.join()
    assert outcome["seconds"] >= 2 * DELAY_S, outcome  # it really waited on the server meanwhile
    assert outcome["status"] == 200, outcome
    assert len(during) >= 5
    # usual: a few ms; blocked, each would wait out whole media-server calls (>= 1.5 s)
    assert max(during) < max(0.75, 20 * usual), (usual, during)
