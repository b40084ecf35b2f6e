"""Similarity speed at 10k and 100k tracks, measured against the in-process floor in the same run.

    .venv/bin/python benchmarks/similarity.py [--sizes 10000 100000] [--requests 2000] [--clients 16]

For each size: random 200-d embeddings are written to a fresh SQLite store, the Voyager index is built
(timed), and then:
- floor: in-process Voyager queries (k as /api/similar_tracks asks for n=10) and the whole
  similar_tracks function (filters + radius walk) on the same seeds;
- recall@k of the Voyager query against exact (brute-force) neighbours on the same seeds; 200-d white
  noise is the hardest case for a graph index, so recall is also measured on clustered, low-rank vectors
  of the same size (what music embeddings look like);
- HTTP: /api/similar_tracks?item_id=...&n=10 through Ray Serve (``--ingress haproxy``, the default, or
  Serve's Python ``proxy``), p50/p99 over sequential requests, and requests per second with concurrent
  clients (threads, one keep-alive http.client connection each); ``GET /`` (health, no work) gives the
  HTTP floor, and the same route through python-requests shows what a heavier client adds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.runtime.ingress import free_port  # noqa: E402
from audiomuse_ray.settings import Settings  # noqa: E402
from audiomuse_ray.similarity.index import INDEX_NAME, IndexParams, build_index, load_index_bytes  # noqa: E402
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


class Client:
    """One keep-alive HTTP/1.1 connection (http.client): about 0.1 ms of client time per request here,
    where python-requests spends 0.7-1.2 ms, which would hide the server's own latency."""

    def __init__(self, url: str):
        parsed = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def get(self, path: str, **params) -> int:
        self.conn.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))
        response = self.conn.getresponse()
        response.read()
        return response.status


def timed(fn, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        status = fn(i)
        out.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
    return out


def http_bench(url: str, ids: list[str], n_requests: int, clients: int) -> dict:
    client = Client(url)
    similar = lambda i: client.get("/api/similar_tracks", item_id=ids[i % len(ids)], n=10)  # noqa: E731
    timed(similar, 50)  # warm-up
    health = timed(lambda i: client.get("/"), min(n_requests, 500))
    lat = timed(similar, n_requests)
    session = requests.Session()  # the same route through python-requests, for reference
    with_requests = timed(lambda i: session.get(f"{url}/api/similar_tracks",
                                                params={"item_id": ids[i % len(ids)], "n": 10}).status_code, 300)
    per_client = max(1, n_requests // clients)
    errors = []

    def run_client(k: int) -> None:
        c = Client(url)
        for i in range(per_client):
            status = c.get("/api/similar_tracks", item_id=ids[(k * per_client + i) % len(ids)], n=10)
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=run_client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "rps": clients * per_client / wall,
            "errors": len(errors), "health_p50_ms": percentile(health, 50),
            "requests_p50_ms": percentile(with_requests, 50)}


def http_bench_in_subprocess(url: str, ids: list[str], n_requests: int, clients: int) -> dict:
    """Run the clients in a fresh interpreter, as a plugin would be: not in this process, which is a Ray
    driver whose background threads would share the clients' GIL."""
    proc = subprocess.run([sys.executable, __file__, "--http-client", json.dumps([url, ids, n_requests, clients])],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def recall_at_k(query, vecs: np.ndarray, seeds: np.ndarray, k: int) -> float:
    """Share of the exact k nearest (cosine) that ``query(vector, k)`` returns, over up to 200 seeds."""
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    hits = 0
    for s in seeds[:200]:
        exact = set(np.argpartition(-(unit @ unit[s]), k)[:k].tolist())
        hits += len(exact & set(np.asarray(query(vecs[s], k)).tolist()))
    return hits / (k * min(len(seeds), 200))


def clustered_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Music-like embeddings: 2,000 clusters in a 24-d space, mapped linearly to 200-d, plus noise."""
    centres = rng.standard_normal((2000, 24)) * 2
    z = centres[rng.integers(0, 2000, n)] + rng.standard_normal((n, 24))
    return (z @ rng.standard_normal((24, 200)) + 0.3 * rng.standard_normal((n, 200))).astype(np.float32)


def clustered_recall(n: int, k: int, rng: np.random.Generator) -> float:
    vecs = clustered_vectors(n, rng)
    loaded = load_index_bytes(build_index(vecs, IndexParams()), [str(i) for i in range(n)], 1)
    loaded.index.ef = max(loaded.index.ef, k)
    return recall_at_k(lambda v, kk: loaded.index.query(v, k=kk)[0], vecs, rng.integers(0, n, 200), k)


def run_size(n: int, n_requests: int, clients: int, replicas: int, ingress: str) -> dict:
    import ray

    from audiomuse_ray.runtime.ingress import ingress_env

    env = ingress_env(ingress)
    os.environ.update(env)  # before ray.init: Serve's processes read it when they start
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
        recall = recall_at_k(lambda v, kk: lib.neighbours(v, kk)[0], vecs, seeds, k)
        recall_clustered = clustered_recall(n, k, rng)
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
            http = http_bench_in_subprocess(f"http://127.0.0.1:{port}", [ids[int(s)] for s in seeds], n_requests, clients)
        finally:
            serve.shutdown()
            ray.shutdown()
            store.dispose()
            for key in env:
                os.environ.pop(key, None)
    return {"n": n, "build_s": build_s, "voyager_query_ms": query_ms, "recall": recall, "recall_clustered": recall_clustered, "similar_p50_ms": percentile(lat, 50),
            "similar_p99_ms": percentile(lat, 99), **{f"http_{k}": v for k, v in http.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--ingress", choices=["haproxy", "proxy"], default="haproxy")
    parser.add_argument("--http-client", help=argparse.SUPPRESS)  # internal: the HTTP clients' process
    args = parser.parse_args()
    if args.http_client:
        print(json.dumps(http_bench(*json.loads(args.http_client))))
        return 0
    results = [run_size(n, args.requests, args.clients, args.replicas, args.ingress) for n in args.sizes]
    print(f"\ningress: {args.ingress}, {args.replicas} replicas, {os.cpu_count()} CPUs")
    print(f"{'tracks':>8} {'build s':>8} {'voyager ms':>11} {'recall@41':>10} {'similar p50/p99 ms':>19} "
          f"{'HTTP p50/p99 ms':>16} {'HTTP req/s':>11}")
    for r in results:
        print(f"{r['n']:>8} {r['build_s']:>8.1f} {r['voyager_query_ms']:>11.3f} {r['recall']:>10.3f} "
              f"{r['similar_p50_ms']:>9.2f}/{r['similar_p99_ms']:<9.2f} {r['http_p50_ms']:>7.2f}/{r['http_p99_ms']:<8.2f}"
              f" {r['http_rps']:>11.0f}")
        print(f"{'':>8} HTTP p50 over the in-process floor: {r['http_p50_ms'] / r['similar_p50_ms']:.1f}x; "
              f"GET / (no work) p50 {r['http_health_p50_ms']:.2f} ms; "
              f"p50 through python-requests {r['http_requests_p50_ms']:.2f} ms; errors under load: {r['http_errors']}")
        print(f"{'':>8} recall@41 on clustered music-like vectors of the same size: {r['recall_clustered']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
