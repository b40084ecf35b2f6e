"""The instruments of ``benchmarks/scale.py``: the synthetic library, HTTP clients in their own processes,
a process's memory, and a new index version that costs a replica what a rebuild's would.

    python benchmarks/scale_probe.py --clients URL IDS_FILE CLIENTS REQUESTS [STOP_FILE [PATH]]   (internal)
"""

from __future__ import annotations

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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ALBUM_TRACKS = 12
MOODS = ("danceable", "aggressive", "happy", "party", "relaxed", "sad")
KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


# ------------------------------------------------------------------------------------------ the library
def fill_store(store, n: int, rng: np.random.Generator, batch: int = 5000) -> None:
    """``n`` tracks through ``save_album``: albums of 12 share a cluster of a 24-d space mapped to 200-d
    (plus noise), and a tag profile whose strongest genre varies by cluster; artists of about 30 tracks."""
    from audiomuse_ray.analysis.models import load_manifest
    from audiomuse_ray.store.tracks import TrackRow, save_album

    labels = load_manifest(REPO / "models").labels["msd-musicnn"]
    n_clusters = max(8, n // 50)
    centres = rng.standard_normal((n_clusters, 24)) * 2
    lift = rng.standard_normal((24, 200))
    tag_centres = rng.uniform(0.0, 0.3, (n_clusters, len(labels)))
    tag_centres[np.arange(n_clusters), rng.integers(0, 20, n_clusters)] += 0.5
    album_cluster = rng.integers(0, n_clusters, n // ALBUM_TRACKS + 1)
    n_artists = max(1, n // 30)
    for lo in range(0, n, batch):
        idx = np.arange(lo, min(n, lo + batch))
        album = idx // ALBUM_TRACKS
        cluster = album_cluster[album]
        vecs = ((centres[cluster] + rng.standard_normal((len(idx), 24))) @ lift
                + 0.3 * rng.standard_normal((len(idx), 200))).astype(np.float32)
        tags = np.clip(tag_centres[cluster] + rng.normal(0, 0.05, (len(idx), len(labels))), 0, 1).astype(np.float32)
        top = np.argsort(-tags, axis=1)[:, :5]
        moods = np.round(rng.uniform(0, 1, (len(idx), 6)), 4)
        tempo, energy = rng.uniform(70, 180, len(idx)), rng.uniform(0.01, 0.3, len(idx))
        rows = []
        for k, i in enumerate(idx.tolist()):
            a = int(album[k]) % n_artists
            rows.append(TrackRow(
                item_id=f"t{i:07d}", title=f"Song {i} of album {album[k]}", author=f"Artist {a}",
                album=f"Album {album[k]}", album_artist=f"Artist {a}", tempo=float(tempo[k]), key=KEYS[i % 12],
                scale="major" if i % 3 else "minor", energy=float(energy[k]),
                mood_vector={labels[j]: round(float(tags[k, j]), 4) for j in top[k]},
                other_features=dict(zip(MOODS, moods[k].tolist())), duration=200.0,
                path_or_url=f"/music/{a}/{album[k]}/{i % ALBUM_TRACKS + 1:02d}.flac", model_version="bench",
                embedding=vecs[k], tags=tags[k], artist_id=f"a{a}"))
        save_album(store, rows)


def republish(store) -> int:
    """The newest version's parts (track index, artist index, map) stored again as the next version:
    what a replica loads after a rebuild, without the rebuild's minutes. The track header goes last."""
    from audiomuse_ray.similarity.artists import ARTIST_INDEX_NAME
    from audiomuse_ray.similarity.index import INDEX_NAME
    from audiomuse_ray.store import indexes

    head = indexes.header(store, INDEX_NAME)
    new = head.version + 1
    _copy(store, ARTIST_INDEX_NAME, indexes.header(store, ARTIST_INDEX_NAME, head.version), new)
    method, data = indexes.load_projection(store, INDEX_NAME, head.version)
    indexes.save_projection(store, INDEX_NAME, new, method, data)
    _copy(store, INDEX_NAME, head, new)
    return new


def _copy(store, name: str, head, new: int) -> None:
    from audiomuse_ray.store import indexes

    with tempfile.TemporaryDirectory(prefix="amr-republish-") as tmp:
        files = {}
        for part in head.parts:
            files[part] = os.path.join(tmp, part)
            with open(files[part], "wb") as out:
                for chunk in indexes.iter_part(store, name, head.version, part):
                    out.write(chunk)
        indexes.save_parts(store, name, files, head.dim, head.items or 0, version=new)


# ------------------------------------------------------------------------------------------ processes
def read_memory(pid: int) -> dict:
    """Resident memory (RSS), its peak (VmHWM) and the proportional share (PSS) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out["rss_mb" if line.startswith("VmRSS") else "peak_mb"] = int(line.split()[1]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def machine_speed_ms(rounds: int = 5) -> float:
    """Best of ``rounds`` timings of a fixed, single-threaded mix of Python and small numpy work (ms), the
    kind a request does: this machine's speed moves by a quarter or more between sessions (shared cores),
    so runs on different days are compared through it."""
    rng = np.random.default_rng(0)
    small = rng.standard_normal((50, 200)).astype(np.float32)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i % 7
        for _ in range(2000):
            gram = small @ small.T
            total += int(np.argmin(gram[0]))
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def _processes():
    """(pid, command line, /proc stat line) of every process still there when read."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            yield int(entry.name), title, stat


def replica_pids(fragment: str) -> list[int]:
    """Process ids of the Ray workers whose process title (``ray::ServeReplica:...``, ``ray::Explorer.explore``)
    contains ``fragment``: read from /proc, since Ray's state API needs its dashboard."""
    return sorted(pid for pid, title, _stat in _processes() if title.startswith("ray::") and fragment in title)


def cpu_seconds_by_process() -> dict[str, float]:
    """CPU seconds (user + system) used so far by every process, keyed by a short name from its command line;
    two snapshots' difference says where a load's CPU went (replica, proxy, clients, the rest)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for _pid, title, stat in _processes():
        fields = stat[stat.rindex(")") + 2:].split()
        name = _short_name(title, stat)
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _short_name(title: str, stat: str) -> str:
    if title.startswith("ray::"):
        return title.split()[0].split(".")[0]  # ray::ServeReplica:audiomuse:AudioMuseApi, ray::ProxyActor
    if "--clients" in title:
        return "load clients"
    if not title:
        return "kernel " + stat[stat.index("(") + 1:stat.rindex(")")].split("/")[0]
    words = [w.rsplit("/", 1)[-1] for w in title.split()[:2]]
    return " ".join(words) if words[0].startswith("python") else words[0]


def cpu_used_between(before: dict[str, float], after: dict[str, float], top: int = 8) -> dict[str, float]:
    """The processes that used the most CPU seconds between two ``cpu_seconds_by_process`` snapshots."""
    used = {k: after[k] - before.get(k, 0.0) for k in after}
    return {k: round(v, 2) for k, v in sorted(used.items(), key=lambda kv: -kv[1])[:top] if v > 0.005}


class ExplorerWatch:
    """The highest RSS any clustering explorer reached, sampled every half second."""

    def __init__(self):
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self):
        def loop() -> None:
            while not self._stop.wait(0.5):
                try:
                    for pid in replica_pids("Explorer"):
                        self.peak_mb = max(self.peak_mb, read_memory(pid).get("rss_mb", 0.0))
                except Exception:  # noqa: BLE001  (an explorer that just ended; the state API busy)
                    continue

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


# ------------------------------------------------------------------------------------------ HTTP
def pct(values, p: float) -> float:
    return float(np.percentile(np.asarray(values, float), p)) if len(values) else float("nan")


def timed_get(url: str, path: str, raw: bool = False, **params) -> tuple[int, float, bytes]:
    """(status, milliseconds, body) of one GET on a fresh connection (gzip accepted, as browsers do)."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    t0 = time.perf_counter()
    conn.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""),
                 headers={} if raw else {"Accept-Encoding": "gzip"})
    res = conn.getresponse()
    body = res.read()
    ms = (time.perf_counter() - t0) * 1000
    conn.close()
    return res.status, ms, body


def _spawn(url: str, ids: list[str], clients: int, requests: int, stop_file: str = "",
           path: str = "") -> subprocess.Popen:
    fd, ids_file = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(ids, f)
    return subprocess.Popen([sys.executable, __file__, "--clients", url, ids_file, str(clients), str(requests),
                             stop_file, path], stdout=subprocess.PIPE, text=True)


def clients_run(url: str, ids: list[str], clients: int, requests: int, path: str = "") -> dict:
    """``requests`` similar_tracks calls (or GETs of ``path``) from ``clients`` threads of another process:
    their times, req/s."""
    proc = _spawn(url, ids, clients, requests, path=path)
    out, _ = proc.communicate()
    return json.loads(out.strip().splitlines()[-1])


class Load:
    """Clients asking similar_tracks until the block ends; ``summary()`` then says what they saw."""

    def __init__(self, url: str, ids: list[str], clients: int):
        self.url, self.ids, self.clients = url, ids, clients
        self.stop_file = tempfile.mktemp(prefix="amr-load-stop-")
        self.result: dict = {}

    def __enter__(self):
        self.proc = _spawn(self.url, self.ids, self.clients, 0, self.stop_file)
        return self

    def __exit__(self, *exc) -> None:
        Path(self.stop_file).touch()
        out, _ = self.proc.communicate(timeout=120)
        os.unlink(self.stop_file)
        self.result = json.loads(out.strip().splitlines()[-1])

    def summary(self) -> dict:
        r = self.result
        return {"requests": r.get("requests", 0), "failed": r.get("errors", 0),
                "p50_ms": pct(r.get("ms", []), 50), "p99_ms": pct(r.get("ms", []), 99),
                "max_ms": max(r.get("ms", [0.0]))}


def _client_main(url: str, ids_file: str, clients: int, requests: int, stop_file: str, fixed: str) -> None:
    ids = json.loads(Path(ids_file).read_text())
    os.unlink(ids_file)
    parsed = urllib.parse.urlsplit(url)
    per = max(1, requests // clients) if requests else 0
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        mine, i = [], 0
        while (i < per) if per else not os.path.exists(stop_file):
            path = fixed or "/api/similar_tracks?" + urllib.parse.urlencode({"item_id": ids[(k * 7919 + i) % len(ids)],
                                                                             "n": 10})
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                res = conn.getresponse()
                res.read()
                ok = res.status == 200
            except OSError:
                ok = False
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
            mine.append((time.perf_counter() - t0) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
            i += 1
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(json.dumps({"requests": len(times), "errors": errors[0], "rps": len(times) / wall, "ms": times}))


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--clients":
    _client_main(*sys.argv[2:4], int(sys.argv[4]), int(sys.argv[5]), *(sys.argv[6:8] + ["", ""])[:2])
