"""Similarity speed at 10k and 100k tracks, measured against the in-process floor in the same run.

    .venv/bin/python benchmarks/similarity.py [--sizes 10000 100000] [--requests 2000] [--clients 16]

For each size: random 200-d embeddings are written to a fresh SQLite store, the Voyager index is built
(timed), and then:
- floor: in-process Voyager queries (k as /api/similar_tracks asks for n=10) and the whole
  similar_tracks function (filters + radius walk) on the same seeds;
- HTTP: /api/similar_tracks?item_id=...&n=10 through Ray Serve, p50/p99 over sequential requests, and
  requests per second with concurrent clients (threads with keep-alive sessions).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.settings import Settings  # noqa: E402
from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, build_index  # noqa: E402
from audiomuse_ray.similarity.library import load_library  # noqa: E402
from audiomuse_ray.similarity.projection import encode_coords, project_pca  # noqa: E402
from audiomuse_ray.similarity.similar import SimilarOptions, candidate_count, similar_tracks  # noqa: E402
from audiomuse_ray.store import indexes, open_store  # noqa: E402
from audiomuse_ray.store.tracks import TrackRow, save_album  # noqa: E402


def fill_store(store, n: int, rng: np.random.Generator) -> np.ndarray:
    vecs = rng.standard_normal((n, 200)).astype(np.float32)
    batch = 5000
    for lo in range(0, n, batch):
        rows = [TrackRow(item_id=f"t{i:07d}", title=f"Track {i}", author=f"Artist {i % (n // 10)}", album=f"Album {i // 12}",
                         album_artist=f"Artist {i % (n // 10)}", mood_vector={"rock": 0.5},
                         other_features={"danceable": float(rng.uniform()), "sad": float(rng.uniform())},
                         tempo=120.0, energy=0.05, key="C", scale="major", model_version="bench", embedding=vecs[i])
                for i in range(lo, min(n, lo + batch))]
        save_album(store, rows)
    return vecs


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_bench(url: str, ids: list[str], n_requests: int, clients: int) -> dict:
    session = requests.Session()
    for item_id in ids[:50]:  # warm-up
        session.get(f"{url}/api/similar_tracks", params={"item_id": item_id, "n": 10}).raise_for_status()
    lat = []
    for i in range(n_requests):
        t0 = time.perf_counter()
        r = session.get(f"{url}/api/similar_tracks", params={"item_id": ids[i % len(ids)], "n": 10})
        lat.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    per_client = max(1, n_requests // clients)
    errors = []

    def client(k: int) -> None:
        s = requests.Session()
        for i in range(per_client):
            r = s.get(f"{url}/api/similar_tracks", params={"item_id": ids[(k * per_client + i) % len(ids)], "n": 10})
            if r.status_code != 200:
                errors.append(r.status_code)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "rps": clients * per_client / wall,
            "errors": len(errors)}


def run_size(n: int, n_requests: int, clients: int, replicas: int) -> dict:
    import ray
    from ray import serve

    from audiomuse_ray.serve.app import build

    rng = np.random.default_rng(n)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load({}, data_dir=tmp, music_dir=tmp)
        store = open_store(settings.database_url)
        vecs = fill_store(store, n, rng)
        ids = [f"t{i:07d}" for i in range(n)]
        t0 = time.perf_counter()
        data = build_index(vecs, IndexParams())
        build_s = time.perf_counter() - t0
        version = indexes.save_index(store, INDEX_NAME, data, ids, 200)
        indexes.save_projection(store, INDEX_NAME, version, "pca", encode_coords(project_pca(vecs)))
        lib = load_library(store)
        seeds = rng.integers(0, n, 500)
        k = candidate_count(SimilarOptions(n=10))
        t0 = time.perf_counter()
        for s in seeds:
            lib.neighbours(lib.vectors[s], k)
        query_ms = (time.perf_counter() - t0) / len(seeds) * 1000
        lat = []
        for s in seeds:
            t1 = time.perf_counter()
            similar_tracks(lib, int(s), SimilarOptions(n=10))
            lat.append((time.perf_counter() - t1) * 1000)
        port = free_port()
        ray.init(address="local", include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            serve.run(build(settings, reload_interval_s=3600, num_replicas=replicas, num_cpus=0), name="bench", route_prefix="/")
            http = http_bench(f"http://127.0.0.1:{port}", [ids[int(s)] for s in seeds], n_requests, clients)
        finally:
            serve.shutdown()
            ray.shutdown()
            store.dispose()
    return {"n": n, "build_s": build_s, "voyager_query_ms": query_ms, "similar_p50_ms": percentile(lat, 50),
            "similar_p99_ms": percentile(lat, 99), **{f"http_{k}": v for k, v in http.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    results = [run_size(n, args.requests, args.clients, args.replicas) for n in args.sizes]
    print(f"\n{'tracks':>8} {'build s':>8} {'voyager ms':>11} {'similar p50/p99 ms':>19} {'HTTP p50/p99 ms':>16} {'HTTP req/s':>11}")
    for r in results:
        print(f"{r['n']:>8} {r['build_s']:>8.1f} {r['voyager_query_ms']:>11.3f} "
              f"{r['similar_p50_ms']:>9.2f}/{r['similar_p99_ms']:<9.2f} {r['http_p50_ms']:>7.2f}/{r['http_p99_ms']:<8.2f}"
              f" {r['http_rps']:>11.0f}")
        print(f"{'':>8} HTTP p50 over the in-process floor: {r['http_p50_ms'] / r['similar_p50_ms']:.1f}x; "
              f"errors under load: {r['http_errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
