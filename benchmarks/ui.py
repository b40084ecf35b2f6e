"""The UI's speed at 10k and 100k tracks in a real headless Chromium, next to the API call alone.

    .venv/bin/python benchmarks/ui.py [--sizes 10000 100000] [--repeat 3] [--umap-max 20000]

For each size a synthetic library is written through the store layer (``save_album``: music-like,
clustered 200-d embeddings and plausible score rows: title, artist, album, top tags, moods, tempo, key),
the index (and its artist index) is built by ``similarity.rebuild.rebuild_index``, and the map is
projected the way a replica would (``ensure_projection``: UMAP) up to ``--umap-max`` tracks, by PCA above
that (UMAP over 100k tracks takes many minutes on a small machine; the map route serves either). Then the
service is started as ``audiomuse-ray serve`` starts it (``commands.serve.start_serve``: a local Ray, the
HAProxy ingress, the three applications of ``serve/layout.py``) and measured:

- API alone: ``GET /api/map?percent=100`` (gzipped, as a browser asks for it), transfer + JSON decode;
- page: a fresh browser context opens ``/``: first paint and first contentful paint (the browser's own
  Paint Timing entries) and the time until the tabs are there to click (Gradio's app has mounted);
- map: on the Music map tab, from the click on "Draw the map" (100 % of the songs) until the WebGL scatter
  has its points and a frame has been drawn.

Each is repeated ``--repeat`` times (a fresh context for each page load); the median and the range are
printed. The first map of a run is also shown alone (the UI replica's first Plotly figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.runtime.ingress import free_port  # noqa: E402
from audiomuse_ray.settings import Settings  # noqa: E402
from audiomuse_ray.store import open_store  # noqa: E402
from audiomuse_ray.store.tracks import TrackRow, save_album  # noqa: E402

CHROMIUM = os.environ.get("AUDIOMUSE_TEST_CHROMIUM", "/usr/bin/chromium")
TAGS = ("rock", "pop", "electronic", "alternative", "indie", "jazz", "female vocalists", "dance", "metal",
        "chillout", "ambient", "folk", "hip-hop", "classical", "soul", "punk", "instrumental", "blues")
MOODS = ("danceable", "aggressive", "happy", "party", "relaxed", "sad")
KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
ALBUM_TRACKS = 12


def clustered_vectors(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Music-like embeddings: clusters in a 24-d space mapped to 200-d plus noise; and each track's cluster."""
    n_clusters = max(8, n // 50)
    centres = rng.standard_normal((n_clusters, 24)) * 2
    # an album's tracks share a cluster, as an album's songs sound alike
    cluster = np.repeat(rng.integers(0, n_clusters, n // ALBUM_TRACKS + 1), ALBUM_TRACKS)[:n]
    z = centres[cluster] + rng.standard_normal((n, 24))
    vecs = z @ rng.standard_normal((24, 200)) + 0.3 * rng.standard_normal((n, 200))
    return vecs.astype(np.float32), cluster


def fill_store(store, n: int, rng: np.random.Generator) -> None:
    """``n`` tracks in albums of 12, written through ``save_album`` one album per transaction batch."""
    vecs, cluster = clustered_vectors(n, rng)
    cluster_tag = rng.integers(0, len(TAGS), cluster.max() + 1)  # a cluster's songs mostly share a top tag
    n_artists = max(1, n // 30)
    batch: list[TrackRow] = []
    for i in range(n):
        album = i // ALBUM_TRACKS
        artist = album % n_artists
        first = TAGS[cluster_tag[cluster[i]]] if rng.uniform() < 0.8 else TAGS[rng.integers(len(TAGS))]
        others = [t for t in rng.choice(TAGS, 5, replace=False) if t != first][:4]
        weights = np.sort(rng.uniform(0.05, 0.6, 5))[::-1]
        batch.append(TrackRow(
            item_id=f"t{i:07d}", title=f"Song {i} of album {album}", author=f"Artist {artist}",
            album=f"Album {album}", album_artist=f"Artist {artist}", tempo=float(rng.uniform(70, 180)),
            key=KEYS[rng.integers(12)], scale="major" if rng.uniform() < 0.6 else "minor",
            mood_vector={t: round(float(w), 4) for t, w in zip([first, *others], weights)},
            energy=float(rng.uniform(0.01, 0.3)), other_features={m: round(float(rng.uniform()), 4) for m in MOODS},
            duration=float(rng.uniform(120, 420)), path_or_url=f"/music/Artist {artist}/Album {album}/{i % ALBUM_TRACKS + 1:02d}.flac",
            model_version="bench", embedding=vecs[i], artist_id=f"a{artist}"))
        if len(batch) >= 2000:
            save_album(store, batch)
            batch = []
    if batch:
        save_album(store, batch)


def build_library(store, n: int, umap_max: int) -> dict:
    """Index (+ artist index) and the map's projection, stored under the new index version; timed."""
    from audiomuse_ray.similarity.index import INDEX_NAME
    from audiomuse_ray.similarity.library import load_library
    from audiomuse_ray.similarity.projection import encode_coords, project_pca
    from audiomuse_ray.similarity.rebuild import ensure_projection, rebuild_index
    from audiomuse_ray.store import indexes

    t0 = time.perf_counter()
    version = rebuild_index(store)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    library = load_library(store, version=version)
    if n <= umap_max:
        _coords, method = ensure_projection(store, library)  # what a replica does: UMAP
    else:
        method = "pca"
        indexes.save_projection(store, INDEX_NAME, version, method, encode_coords(project_pca(library.vectors)))
    return {"index_s": index_s, "projection_s": time.perf_counter() - t0, "projection": method}


@dataclass
class Timings:
    api_ms: list[float] = field(default_factory=list)
    api_bytes: int = 0
    fp_ms: list[float] = field(default_factory=list)
    fcp_ms: list[float] = field(default_factory=list)
    ready_ms: list[float] = field(default_factory=list)
    map_ms: list[float] = field(default_factory=list)
    drawn_points: int = 0


def time_api(url: str, repeat: int, t: Timings) -> None:
    session = requests.Session()
    for _ in range(repeat + 1):  # the first one warms the connection
        t0 = time.perf_counter()
        res = session.get(url + "/api/map", params={"percent": 100}, headers={"Accept-Encoding": "gzip"}, timeout=120)
        res.raise_for_status()
        body = res.json()
        t.api_ms.append((time.perf_counter() - t0) * 1000)
        t.api_bytes = int(res.headers.get("content-length") or 0)  # gzipped, as sent
        assert body["count"] > 0
    t.api_ms.pop(0)


MAP_DRAWN = """() => {
    const plot = document.querySelector('#map-plot .js-plotly-plot');
    if (!plot || !plot._fullData || !plot.querySelector('canvas')) return 0;
    return plot._fullData.reduce((n, trace) => n + ((trace.x && trace.x.length) || 0), 0);
}"""
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


def time_page(browser, url: str, repeat: int, t: Timings) -> None:
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(300_000)
        page.goto(url + "/", wait_until="commit")
        page.get_by_role("tab", name="Music map").wait_for()
        ready = page.evaluate("() => performance.now()")  # ms since this navigation started
        paints = {e["name"]: e["startTime"] for e in page.evaluate(
            "() => performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))")}
        t.ready_ms.append(ready)
        t.fp_ms.append(paints.get("first-paint", float("nan")))
        t.fcp_ms.append(paints.get("first-contentful-paint", float("nan")))

        page.get_by_role("tab", name="Music map", exact=True).click()
        page.locator("#map-draw").wait_for()
        start = page.evaluate("() => performance.now()")
        page.locator("#map-draw").click()
        handle = page.wait_for_function(MAP_DRAWN, polling="raf")
        t.drawn_points = int(handle.json_value())
        page.evaluate(NEXT_FRAME)
        t.map_ms.append(page.evaluate("() => performance.now()") - start)
        page.locator("#map-status").get_by_text("songs (").wait_for()
        context.close()


def summary(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):,.0f} ms ({min(values):,.0f}–{max(values):,.0f})"


def run_size(n: int, repeat: int, umap_max: int, browser) -> dict:
    from audiomuse_ray.commands.serve import start_serve, stop_serve

    rng = np.random.default_rng(n)
    with tempfile.TemporaryDirectory(prefix="amr-ui-bench-") as tmp:
        port = free_port()
        settings = Settings.load({}, data_dir=tmp, music_dir=tmp, host="127.0.0.1", port=port)
        store = open_store(settings.database_url)
        t0 = time.perf_counter()
        fill_store(store, n, rng)
        fill_s = time.perf_counter() - t0
        built = build_library(store, n, umap_max)
        store.dispose()
        print(f"[{n:,}] store {fill_s:.1f} s, index + artists {built['index_s']:.1f} s, "
              f"{built['projection']} projection {built['projection_s']:.1f} s", flush=True)
        t0 = time.perf_counter()
        started = start_serve(settings, replicas=1, reload_interval_s=3600)
        try:
            url = started.url
            requests.get(url + "/api/health", timeout=60).raise_for_status()
            serve_s = time.perf_counter() - t0
            timings = Timings()
            time_api(url, repeat, timings)
            time_page(browser, url, repeat, timings)
        finally:
            stop_serve(started)
    return {"n": n, "fill_s": fill_s, **built, "serve_s": serve_s, "t": timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--umap-max", type=int, default=20_000,
                        help="project with UMAP up to this many tracks (as a replica would), PCA above")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for n in args.sizes:
                results.append(run_size(n, args.repeat, args.umap_max, browser))
        finally:
            browser.close()
    print(f"\n{os.cpu_count()} CPUs; median (min–max) of {args.repeat}; map = 100 % of the songs")
    for r in results:
        t: Timings = r["t"]
        print(f"{r['n']:>8,} tracks ({r['projection']}; serve start {r['serve_s']:.0f} s): "
              f"API GET /api/map {summary(t.api_ms)} for {t.api_bytes / 1e6:.2f} MB gzipped")
        print(f"{'':>8} page: first paint {summary(t.fp_ms)}, first contentful paint {summary(t.fcp_ms)}, "
              f"tabs ready {summary(t.ready_ms)}")
        print(f"{'':>8} map drawn from the click: {summary(t.map_ms)} (first {t.map_ms[0]:,.0f} ms); "
              f"{t.drawn_points:,} points drawn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
