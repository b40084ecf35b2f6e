"""Losing a machine under load (issue #13): the clustering search loses an explorer's whole node and still
spends its budget; an API replica killed during a load test is replaced, and the clients that retry once
or twice see no failed request.

The analysis job's node loss is in ``tests/analysis/test_run.py`` and a killed explorer actor (not its
node) in ``tests/clustering/test_population.py``. Run with ``-s`` to see the load test's figures."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
from ray.exceptions import RayActorError

from audiomuse_ray.clustering.options import build_options
from audiomuse_ray.clustering.run import run_clustering
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks as track_store
from tests.conftest import wait_until_routed

pytestmark = [pytest.mark.integration, pytest.mark.slow]
APP, PREFIX, DEPLOYMENT = "lostnode", "/lostnode", "AudioMuseApi"
REPLICAS = 2


def live_actors() -> list[dict]:
    """The GCS actor table's live rows (the public state API needs the dashboard, which the test cluster
    does not run; this table is what it reads)."""
    from ray._private import state

    return [a for a in state.actors().values() if a["State"] == "ALIVE"]


def actor_nodes(name_prefix: str) -> dict[str, str]:
    """Live actors whose name starts with ``name_prefix``: name -> node id."""
    return {a["Name"]: a["Address"]["NodeID"] for a in live_actors() if a["Name"].startswith(name_prefix)}


# ------------------------------------------------------------------------------------- clustering
def test_losing_an_explorers_node_mid_search_still_spends_the_whole_budget(ray_cluster, analysed_corpus):
    """Three explorers of one CPU each on three one-CPU nodes: one must run on the node added here. That node
    is removed once the search reports progress; its unreported batch goes back into the budget, a
    replacement explorer is started (it waits for a CPU on the two nodes left) and the task ends with every
    run done and playlists made. (Before the coordinator was pinned to the driver's node, the scheduler put
    it on the new, empty node in one run of four, and the search died with that node.)"""
    settings, store, _ = analysed_corpus
    extra = ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    done, lost = threading.Event(), {}

    def remove_when_an_explorer_runs_there() -> None:
        while not done.is_set():
            active = task_store.recent_tasks(store, 1, task_type="clustering", active_only=True)
            if active and (active[0].details or {}).get("runs_done", 0) > 0:
                on_extra = [n for n, node in actor_nodes(f"{active[0].task_id}/explorer-").items()
                            if node == extra.node_id]
                if on_extra:
                    coordinators = [a["Address"]["NodeID"] for a in live_actors()
                                    if a["ActorClassName"] == "Coordinator"]
                    lost.update(explorers=on_extra, runs_done=active[0].details["runs_done"],
                                coordinator_on_lost_node=extra.node_id in coordinators)
                    ray_cluster.remove_node(extra)
                    return
            time.sleep(0.1)

    killer = threading.Thread(target=remove_when_an_explorer_runs_there, daemon=True)
    killer.start()
    try:
        summary = run_clustering(settings, build_options(runs=400, explorers=3, seed=0), store=store)
    except RayActorError as exc:  # the coordinator's node was removed: the search lost its state
        pytest.fail(f"the search died with the node ({lost}): {type(exc).__name__}")
    finally:
        done.set()
        killer.join()
        if extra in ray_cluster.worker_nodes:
            ray_cluster.remove_node(extra)
    print(f"\nlost node: {lost}; summary: runs {summary.runs_done}, replaced {summary.explorers_replaced}, "
          f"{len(summary.playlists)} playlists, {summary.seconds:.1f} s")
    assert lost, "no explorer ran on the extra node while the search reported progress"
    assert not lost["coordinator_on_lost_node"]
    assert summary.status == task_store.SUCCESS
    assert summary.runs_done == 400 and summary.explorers_replaced >= 1
    assert summary.playlists
    rec = task_store.get_task(store, summary.task_id)
    assert rec.status == task_store.SUCCESS and rec.details["runs_done"] == 400


# ------------------------------------------------------------------------------------- Serve
@pytest.fixture(scope="module")
def two_replicas(analysed_corpus, serve_base):
    """The API application with two replicas under its own prefix on the session's Serve."""
    from ray import serve

    from audiomuse_ray.serve.app import build

    settings, store, _ = analysed_corpus
    serve.run(build(settings, reload_interval_s=60.0, num_replicas=REPLICAS, num_cpus=0), name=APP,
              route_prefix=PREFIX)
    wait_until_routed(serve_base + PREFIX + "/api/health")
    yield serve_base + PREFIX, track_store.get_tracks(store)[0].item_id
    serve.delete(APP)


def replica_states() -> dict[str, int]:
    from ray import serve

    app = serve.status().applications.get(APP)
    if app is None or DEPLOYMENT not in app.deployments:
        return {}
    states = app.deployments[DEPLOYMENT].replica_states
    return {str(getattr(k, "value", k)): v for k, v in states.items()}


def replaced() -> bool:
    """Serve runs the deployment's full replica count again, none starting or stopping."""
    from ray import serve

    app = serve.status().applications.get(APP)
    return (app is not None and str(app.status).endswith("RUNNING")
            and replica_states() == {"RUNNING": REPLICAS}
            and len(actor_nodes(f"SERVE_REPLICA::{APP}#")) == REPLICAS)


@dataclass
class Client:
    """One load thread: a similar-tracks request every ``pause_s`` after the last answer; ``retries`` more
    tries on a connection error or a 5xx answer. Records (start, end, error or None) per request as the
    caller sees it.

    A steady load, not a saturating one: four threads back to back kept the one replica left so busy, on a
    machine whose other test worker took the rest of the CPU, that it missed HAProxy's health checks. HAProxy
    then marked it down too and Serve's fallback proxy answered 404 for 5.6 s (one run of four with two
    workers) until the checks passed again. That is an overloaded replica, not the lost one this test is about."""
    url: str
    item_id: str
    retries: int
    records: list = field(default_factory=list)
    retried: int = 0
    pause_s: float = 0.02

    def run(self, stop: threading.Event) -> None:
        session = requests.Session()
        while not stop.is_set():
            started, error = time.monotonic(), None
            for attempt in range(self.retries + 1):
                if attempt:
                    self.retried += 1
                    time.sleep(0.1 * attempt)
                try:
                    res = session.get(self.url + "/api/similar_tracks", params={"item_id": self.item_id, "n": 10},
                                      timeout=10)
                    ok = res.status_code == 200 and res.json()
                    error = None if ok else f"HTTP {res.status_code} {res.text[:80]!r}"
                    if res.status_code < 500:
                        break
                except requests.RequestException as exc:
                    error = type(exc).__name__
                    session.close()
                    session = requests.Session()
            self.records.append((started, time.monotonic(), error))
            stop.wait(self.pause_s)
        session.close()


def test_a_killed_replica_is_replaced_and_retrying_clients_see_no_failure(two_replicas):
    """Four clients (two without retry, two retrying up to twice) load the API's two replicas; one replica
    actor is killed after 3 s. Serve starts a replacement; the kill window runs from the kill until the
    deployment is back to two running replicas plus one second."""
    import ray

    url, item_id = two_replicas
    assert replaced()
    clients = [Client(url, item_id, retries=0), Client(url, item_id, retries=0),
               Client(url, item_id, retries=2), Client(url, item_id, retries=2)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    time.sleep(3.0)
    victim = sorted(actor_nodes(f"SERVE_REPLICA::{APP}#"))[0]
    killed_at, noticed_at = time.monotonic(), None
    ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
    while not (replaced() and victim not in actor_nodes(f"SERVE_REPLICA::{APP}#")):
        assert time.monotonic() - killed_at < 60, f"no replacement replica within 60 s: {replica_states()}"
        if noticed_at is None and replica_states() != {"RUNNING": REPLICAS}:
            noticed_at = time.monotonic()  # Serve's controller has seen the replica die
        time.sleep(0.1)
    back_at = time.monotonic()
    time.sleep(3.0)  # the replacement takes load too
    stop.set()
    for t in threads:
        t.join(30)

    plain, retrying = clients[:2], clients[2:]

    def in_window(cs: list[Client]) -> list[tuple]:
        return [r for c in cs for r in c.records if r[1] >= killed_at and r[0] <= back_at + 1.0]

    figures = {
        "requests": sum(len(c.records) for c in clients),
        "requests_in_kill_window": {"no_retry": len(in_window(plain)), "with_retry": len(in_window(retrying))},
        "failed_no_retry": [(round(r[0] - killed_at, 2), r[2]) for c in plain for r in c.records if r[2]],
        "failed_with_retry": [(round(r[0] - killed_at, 2), r[2]) for c in retrying for r in c.records if r[2]],
        "retries_used": sum(c.retried for c in retrying),
        "serve_noticed_after_s": None if noticed_at is None else round(noticed_at - killed_at, 2),
        "replaced_after_s": round(back_at - killed_at, 2),
    }
    print(f"\nreplica killed under load (failures as (seconds after the kill, error)): {figures}")
    assert all(c.records for c in clients)
    assert figures["requests_in_kill_window"]["with_retry"] >= 50, figures  # the kill happened under load
    assert figures["failed_with_retry"] == [], figures
    failed_outside = [r for c in plain for r in c.records if r[2] and r not in in_window(plain)]
    assert failed_outside == [], figures  # before the kill and once the replacement runs, nothing fails
    assert replaced()
