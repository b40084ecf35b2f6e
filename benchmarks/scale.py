"""Issue #20's table: what a library costs at 10k, 100k and 1M tracks, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/scale.py [--sizes 10000 100000 1000000] [--db sqlite postgresql]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--skip ui clustering storage] [--table]

For each database and size, a synthetic library (music-like clustered 200-d embeddings, 50 tag scores, moods,
albums of 12 by artists of about 30 tracks) is written through the store (``save_album``), then:

- build: ``similarity.rebuild.rebuild`` (store -> stored index, its artist index and its map), by step;
- recall@10 against exact search over 1,000 seeds, of what the tools get and of the index alone; the
  other storage beside it (E4M3 or float32: build, size, recall raw and re-ranked from 41 candidates), up
  to 100k unless asked;
- one API replica on Ray Serve (the HAProxy ingress, as ``audiomuse-ray serve`` runs it, plus the UI):
  start to first answer, its resident memory after load (RSS, and PSS), ``/api/similar_tracks`` p50/p99
  sequential and req/s with 4 client processes' threads, ``/api/search_tracks``, ``/api/map`` (a 20k
  sample), the dashboard (its route, and the SQL counts alone), a new version swapped in under 4 clients
  (failed requests, peak memory), and the UI's map drawn in Chromium;
- clustering: 1,000 evolutionary runs on 2 explorers (their peak memory), then the whole library assigned.

Results go to ``benchmarks/out/scale-<db>-<size>.json``; ``--table`` prints the table from every result
there (so a 1M run can be added to earlier 10k and 100k runs). Uptime's load average is recorded with each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out"

from benchmarks.scale_probe import (Load, clients_run, cpu_seconds_by_process, cpu_used_between,  # noqa: E402
                                    fill_store, machine_speed_ms, pct, read_memory, replica_pids, republish,
                                    timed_get)

SEEDS = 1000


def measure_index(store, result: dict, other: bool) -> None:
    """The rebuild, then recall@10 against exact search on the stored float32 embeddings: of what the tools
    get (``Library.neighbours``: re-ranked over a compact index) and of the index alone; with ``other``,
    the other storage (E4M3 beside float32, float32 beside E4M3) built and measured the same way."""
    from audiomuse_ray.similarity.index import E4M3, FLOAT32, IndexParams, new_index
    from audiomuse_ray.similarity.rebuild import rebuild
    from audiomuse_ray.store.columns import load_library_columns

    t0 = time.perf_counter()
    rebuilt = rebuild(store)
    result["build_s"] = time.perf_counter() - t0
    result["build_steps"] = rebuilt.seconds
    lib = rebuilt.library
    result["storage"] = "e4m3 + float16" if lib.compact else "float32"
    read = load_library_columns(store)
    matrix = read.vectors[[lib.row(i) for i in read.item_ids]] if read.item_ids != lib.meta.ids.to_pylist() \
        else read.vectors  # rows in the index's order (both are by item id)
    del read
    rng = np.random.default_rng(1)
    seeds = rng.choice(lib.size, min(SEEDS, lib.size), replace=False)
    queries = matrix[seeds]
    exact = exact_top10(matrix, queries)
    result["recall10"] = recall(np.stack([lib.neighbours(q, 10)[0] for q in queries]), exact)
    result["recall10_index"] = recall(lib.index.index.query(queries, k=10)[0], exact)
    result["similar_in_process_ms"] = similar_in_process_ms(lib, seeds[:300])
    result["query_ef_sweep"] = query_ef_sweep(lib, queries, exact, seeds[:300])
    if other:
        storage = FLOAT32 if lib.compact else E4M3
        t0 = time.perf_counter()
        index = new_index(matrix, IndexParams(storage=storage))
        result["other"] = {"storage": storage, "build_s": time.perf_counter() - t0, "bytes": len(index.as_bytes()),
                           "recall10": recall(index.query(queries, k=10)[0], exact)}
        cand, _d = index.query(queries, k=41)
        unit = matrix[cand] / np.linalg.norm(matrix[cand], axis=2, keepdims=True)
        order = np.argsort(-(unit @ (queries / np.linalg.norm(queries, axis=1, keepdims=True))[:, :, None])[..., 0], 1)
        result["other"]["recall10_reranked"] = recall(np.take_along_axis(cand, order[:, :10], 1), exact)
        del index
    result["index_bytes"] = indexes_part_size(store, "index")
    result["vectors_bytes"] = indexes_part_size(store, "vectors")
    del rebuilt, lib, matrix
    gc.collect()


def query_ef_sweep(lib, queries, exact, seeds, efs=(32, 48, 64, 96)) -> dict:
    """For each query-time beam width (the floor ``IndexParams.query_ef`` sets): recall@10 as served and the
    median ms of similar_tracks' index query, measured in turns on the same seeds."""
    from audiomuse_ray.similarity.similar import SimilarOptions, candidate_count

    k, index, before = candidate_count(SimilarOptions()), lib.index.index, lib.index.index.ef
    out: dict = {}
    try:
        for ef in efs:
            index.ef = ef
            times = []
            for s in seeds:
                v = lib.vectors[int(s)]
                t0 = time.perf_counter()
                lib.neighbours(v, k)
                times.append((time.perf_counter() - t0) * 1000)
            out[str(ef)] = {"recall10": recall(np.stack([lib.neighbours(q, 10)[0] for q in queries]), exact),
                            "query_ms": float(np.median(times))}
    finally:
        index.ef = before
    return out


def similar_in_process_ms(lib, seeds) -> dict:
    """Median ms of what ``/api/similar_tracks?n=10`` computes, in this process without HTTP: the index query
    (re-ranked when compact) and the whole use case (duplicates, radius walk)."""
    from audiomuse_ray.similarity.similar import SimilarOptions, candidate_count, similar_tracks

    k = candidate_count(SimilarOptions())
    out = {}
    for name, call in (("query", lambda s: lib.neighbours(lib.vectors[s], k)),
                       ("similar", lambda s: similar_tracks(lib, int(s)))):
        times = []
        for s in seeds:
            t0 = time.perf_counter()
            call(int(s))
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = float(np.median(times))
    return out


def exact_top10(matrix: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Rows of the 10 highest cosines of each query, block by block over ``matrix``."""
    unit_q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best = np.full((len(queries), 10), -np.inf, np.float32)
    best_rows = np.zeros((len(queries), 10), np.int64)
    for lo in range(0, len(matrix), 65_536):
        block = matrix[lo:lo + 65_536]
        sims = unit_q @ (block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)).T
        both = np.concatenate([best, sims], axis=1)
        rows = np.concatenate([best_rows, np.broadcast_to(np.arange(lo, lo + len(block)), sims.shape)], axis=1)
        top = np.argpartition(-both, 9, axis=1)[:, :10]
        best, best_rows = np.take_along_axis(both, top, 1), np.take_along_axis(rows, top, 1)
    return best_rows


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact)]))


def indexes_part_size(store, part: str) -> int:
    from audiomuse_ray.similarity.index import INDEX_NAME
    from audiomuse_ray.store import indexes

    return int(indexes.header(store, INDEX_NAME).parts.get(part, 0))


def measure_serve(settings, store, n: int, result: dict, ui: bool) -> None:
    import ray
    from ray import serve

    from audiomuse_ray.commands.serve import STATE_ENV, Started, stop_serve
    from audiomuse_ray.api.dashboard_api import library_snapshot
    from audiomuse_ray.runtime.ray_cluster import connect_ray
    from audiomuse_ray.serve.app import APP_NAME, build
    from audiomuse_ray.serve.layout import API_PREFIX, UI_PREFIX
    from audiomuse_ray.serve.ui_app import UI_APP_NAME, build_ui

    state_before = os.environ.get(STATE_ENV)
    connect_ray(settings, num_cpus=2)
    state_dir = os.environ.get(STATE_ENV, "")
    started = Started(f"http://{settings.host}:{settings.port}", True, True,
                      state_dir if state_dir != state_before else "")
    url = started.url
    ids = [f"t{i:07d}" for i in np.random.default_rng(2).integers(0, n, 2000)]
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        t0 = time.perf_counter()
        serve.run(build(settings, reload_interval_s=2.0, num_replicas=1, num_cpus=0), name=APP_NAME,
                  route_prefix=API_PREFIX)
        while timed_get(url, "/api/similar_tracks", item_id=ids[0], n=10)[0] != 200:
            time.sleep(0.2)
        result["start_to_answer_s"] = time.perf_counter() - t0
        # the replica computes the dashboard's snapshot in the background as it starts; a dashboard request
        # now waits for it (what a user opening the page at start sees), and the latencies below are then
        # measured in the steady state, not beside that one-off computation
        result["dashboard_at_start_ms"] = timed_get(url, "/api/dashboard/summary")[1]
        pid = replica_pids("AudioMuseApi")[0]
        time.sleep(2.0)
        gc.collect()
        result["replica_memory"] = read_memory(pid)
        load = clients_run(url, ids, clients=1, requests=2000)
        result["similar_p50_ms"], result["similar_p99_ms"] = pct(load["ms"], 50), pct(load["ms"], 99)
        before = cpu_seconds_by_process()
        load = clients_run(url, ids, clients=4, requests=4000)
        result["similar_cpu_s_4"] = cpu_used_between(before, cpu_seconds_by_process())
        result["similar_rps_4"] = load["rps"]
        result["similar_errors"] = load["errors"]
        result["health_rps_4"] = clients_run(url, ids, clients=4, requests=4000, path="/api/health")["rps"]
        words = ["song 1", "artist 12", "album 3 song", "of album 77", "song 99 of", "artist 250 song"]
        result["search_ms"] = pct([timed_get(url, "/api/search_tracks", search_query=w)[1] for w in words * 5], 50)
        result["map_first_ms"] = timed_get(url, "/api/map", percent=100, max_points=20000)[1]
        result["map_ms"] = pct([timed_get(url, "/api/map", percent=100, max_points=20000)[1] for _ in range(5)], 50)
        t0 = time.perf_counter()
        library_snapshot(store)
        result["dashboard_sql_s"] = time.perf_counter() - t0
        result["dashboard_first_ms"] = timed_get(url, "/api/dashboard/summary")[1]
        result["dashboard_ms"] = pct([timed_get(url, "/api/dashboard/summary")[1] for _ in range(10)], 50)
        result["reload"] = reload_under_load(url, store, ids, pid, result["replica_memory"]["rss_mb"])
        if ui:
            result["ui"] = draw_map(settings, url, serve, build_ui, UI_APP_NAME, UI_PREFIX)
    finally:
        stop_serve(started)
        ray.shutdown()


def reload_under_load(url: str, store, ids: list[str], pid: int, steady_mb: float) -> dict:
    """A new version (the current one's parts stored again under the next number) while 4 clients ask."""
    with Load(url, ids, clients=4) as load:
        time.sleep(2.0)
        t0 = time.perf_counter()
        version = republish(store)
        stored = time.perf_counter() - t0
        peak = steady_mb
        while True:
            peak = max(peak, read_memory(pid)["rss_mb"])
            if json.loads(timed_get(url, "/api/health", raw=True)[2]).get("index_version") == version:
                break
            time.sleep(0.1)
        swapped = time.perf_counter() - t0
        for _ in range(20):
            peak = max(peak, read_memory(pid)["rss_mb"])
            time.sleep(0.1)
    return {"store_copy_s": stored, "swapped_s": swapped, "peak_rss_mb": peak, "steady_rss_mb": steady_mb,
            "after_rss_mb": read_memory(pid)["rss_mb"], **load.summary()}


def draw_map(settings, url: str, serve, build_ui, name: str, prefix: str) -> dict:
    from playwright.sync_api import sync_playwright

    from benchmarks.ui import CHROMIUM, Timings, time_page

    serve.run(build_ui(settings, ""), name=name, route_prefix=prefix)
    timings = Timings()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            time_page(browser, url, 2, timings)
        finally:
            browser.close()
    return {"map_drawn_ms": timings.map_ms, "points": timings.drawn_points, "tabs_ready_ms": timings.ready_ms}


def measure_clustering(settings, store, result: dict, runs: int) -> None:
    import ray

    from audiomuse_ray.analysis.models import load_manifest
    from audiomuse_ray.clustering.data import load_data
    from audiomuse_ray.clustering.options import build_options, fit_to_library
    from audiomuse_ray.clustering.playlists import build_playlists
    from audiomuse_ray.clustering.population import search
    from audiomuse_ray.runtime.ray_cluster import connect_ray
    from benchmarks.scale_probe import ExplorerWatch

    labels = load_manifest(REPO / "models").labels["msd-musicnn"]
    t0 = time.perf_counter()
    data = load_data(store, labels)
    result["clustering_load_s"] = time.perf_counter() - t0
    options, note = fit_to_library(build_options(runs=runs), data.size)
    result["clustering_note"] = note
    result["clustering_sample_size"] = options.search.sample_size
    connect_ray(settings, num_cpus=2)
    try:
        with ExplorerWatch() as watch:
            t0 = time.perf_counter()
            best, status, _ = search(data, options.search, explorers=2, seed=1)
            result["clustering_search_s"] = time.perf_counter() - t0
        result["clustering_runs"] = status.runs_done
        result["explorer_peak_rss_mb"] = watch.peak_mb
        t0 = time.perf_counter()
        playlists = build_playlists(data, best, options.playlists)
        result["clustering_assign_s"] = time.perf_counter() - t0
        result["clustering_playlists"] = len(playlists)
        result["clustering_songs"] = sum(len(p.item_ids) for p in playlists)
    finally:
        ray.shutdown()


def run(db: str, n: int, args) -> dict:
    from audiomuse_ray.runtime.ingress import free_port
    from audiomuse_ray.settings import Settings
    from audiomuse_ray.store import open_store

    result: dict = {"db": db, "n": n, "load_before": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="amr-scale-") as tmp:
        url, drop = database(db, tmp, args.postgres)
        try:
            port = free_port()
            settings = Settings.load({}, data_dir=tmp, music_dir=tmp, host="127.0.0.1", port=port,
                                     database_url=url, models_dir=str(REPO / "models"))
            store = open_store(url)
            t0 = time.perf_counter()
            fill_store(store, n, np.random.default_rng(n))
            result["fill_s"] = time.perf_counter() - t0
            print(f"[{db} {n:,}] filled in {result['fill_s']:.0f} s", flush=True)
            measure_index(store, result, "storage" not in args.skip and (n <= 100_000 or args.other_storage))
            print(f"[{db} {n:,}] built in {result['build_s']:.0f} s, recall@10 {result['recall10']:.3f}", flush=True)
            result["writeback_before_serve"] = settle_writeback()
            result["machine_speed_ms"] = machine_speed_ms()
            measure_serve(settings, store, n, result, "ui" not in args.skip)
            print(f"[{db} {n:,}] served: {json.dumps({k: v for k, v in result.items() if 'similar' in k})}", flush=True)
            if "clustering" not in args.skip:
                measure_clustering(settings, store, result, args.runs)
            store.dispose()
        finally:
            drop()
    result["load_after"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"scale-{db}-{n}.json").write_text(json.dumps(result, indent=1))
    return result


def settle_writeback(limit_mb: float = 64.0, timeout_s: float = 300.0) -> dict:
    """Flush the pages the fill and the build left dirty before timing the replica, so that the kernel's
    write-back cannot take CPU from it; what was dirty is recorded (at 1M on SQLite: nothing, so this was
    not why SQLite runs measured slower than PostgreSQL ones)."""
    def dirty_mb() -> float:
        fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        return sum(int(fields[k].split()[0]) for k in ("Dirty", "Writeback")) / 1024

    before, t0 = dirty_mb(), time.perf_counter()
    os.sync()
    while dirty_mb() > limit_mb and time.perf_counter() - t0 < timeout_s:
        time.sleep(0.5)
    return {"dirty_mb": round(before, 1), "seconds": round(time.perf_counter() - t0, 1)}


def database(db: str, tmp: str, server: str):
    """(URL of an empty database, a function that removes it)."""
    if db == "sqlite":
        return f"sqlite:///{tmp}/audiomuse.db", lambda: None
    import psycopg2

    name = "amr_scale_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{server.rsplit('/', 1)[0]}/{name}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default=os.environ.get("AUDIOMUSE_TEST_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip", nargs="*", default=[], choices=["ui", "clustering", "storage"])
    parser.add_argument("--other-storage", action="store_true",
                        help="build and measure the other index storage above 100k tracks too")
    parser.add_argument("--runs", type=int, default=1000, help="clustering runs")
    parser.add_argument("--table", action="store_true", help="only print the table of the stored results")
    args = parser.parse_args()
    if not args.table:
        for db in args.db:
            for n in args.sizes:
                run(db, n, args)
    from benchmarks.scale_table import print_table

    print_table(sorted(OUT.glob("scale-*.json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
