"""Collection sync speed: tracks per second pushed and pulled, and the CPU a pulled track costs (a
two-minute decode and its fingerprint) against a full analysis of the same track, in one run.

    .venv/bin/python benchmarks/sync.py [--corpus clip|full|DIR] [--workers 2] [--tracks 0]

(a) CPU per track, in this process, one thread, the same tracks: a full analysis as the analysis job does
    it (decode, log-mel, MusiCNN, tempo and key, and the fingerprint from the same samples) against what a
    pulled track costs a worker (decode of the first two minutes, Chromaprint, comparison with a candidate).
(b) On a local Ray with --workers actors and a hub on loopback HTTP (the service's own API app with its
    hub routes, served by uvicorn in this process): A analyses the library (the baseline: analysed tracks per second),
    A's sync pushes it (pushed per second), then B (the same library, an empty store) syncs and pulls it
    (pulled per second, and the workers' CPU per pulled track against A's per analysed track). Rates leave
    out the similarity index and map rebuild that follows each job (printed apart).

The clip corpus (72 tracks of 30 s) is what the tests use; --corpus full (whole tracks, ~8 hours, built
once into ~/.cache/audiomuse-ray/corpus-full) shows the ratio on real lengths, where a fingerprint stops
at two minutes and an analysis hears the whole track.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.settings import Settings  # noqa: E402

AUDIO = {".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav"}
TOKEN = "benchmark-token-123"


def corpus_library(which: str) -> Path:
    if which in ("clip", "full"):
        from benchmarks.analysis import clip_corpus, full_corpus

        return clip_corpus() if which == "clip" else full_corpus()
    return Path(which)


# ------------------------------------------------------------------------------------------ (a) CPU
def cpu_per_track(files: list[Path], models_dir: str) -> dict:
    from audiomuse_ray.analysis import audio
    from audiomuse_ray.analysis.models import load_models
    from audiomuse_ray.analysis.track import analyze_samples
    from audiomuse_ray.analysis import acoustic

    models = load_models(models_dir, threads=1)
    full, pulled, seconds = [], [], []
    for path in files:
        t = time.process_time()
        decoded = audio.decode(path)
        analyze_samples(decoded.samples, models, duration=decoded.duration_s, name=path.name)
        fp = acoustic.fingerprint_samples(decoded.samples)
        full.append(time.process_time() - t)
        candidate = fp.items()
        t = time.process_time()
        mine, _duration = acoustic.fingerprint_file(path)
        acoustic.same_recording(mine.items(), candidate)
        pulled.append(time.process_time() - t)
        seconds.append(decoded.duration_s)
    return {"tracks": len(files), "audio_s": sum(seconds), "analysis_cpu_s": sum(full), "pulled_cpu_s": sum(pulled)}


# ------------------------------------------------------------------------------------------ (b) hub
class HubServer:
    """A hub: the service's API app (its hub routes, access guard and error handlers) served by uvicorn in a
    thread of this process, as one Serve replica serves it, over ``store``."""

    def __init__(self, store, models_dir: str):
        import uvicorn

        from audiomuse_ray.api import access
        from audiomuse_ray.api.holder import LibraryHolder
        from audiomuse_ray.providers import make_provider
        from audiomuse_ray.serve.http_app import create_api
        from audiomuse_ray.runtime.ingress import free_port
        from audiomuse_ray.serve.services import Services, install

        settings = Settings.load({"AUDIOMUSE_HUB_TOKENS": f"bench:{TOKEN}"}, models_dir=models_dir)
        access.configure(settings.api_token, settings.host, settings.hub_tokens)
        install(Services(settings, store, LibraryHolder(store), make_provider))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_api(), host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="off"))
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.02)

    def shutdown(self) -> None:
        self.server.should_exit = True


def sync_rates(library: Path, models_dir: str, workers: int) -> dict:
    from audiomuse_ray.analysis.models import expected_version
    from audiomuse_ray.analysis.run import run_analysis
    from audiomuse_ray.collection.sync import SyncOptions, run_sync
    from audiomuse_ray.store import open_store

    version = expected_version(models_dir)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        hub_store = open_store(f"sqlite:///{tmp}/hub.db")
        server = HubServer(hub_store, models_dir)
        url = server.url
        a = Settings.load({}, data_dir=f"{tmp}/a", music_dir=str(library), models_dir=models_dir, workers=workers)
        b = Settings.load({}, data_dir=f"{tmp}/b", music_dir=str(library), models_dir=models_dir, workers=workers)
        analysed = run_analysis(a)
        pushed = run_sync(a, SyncOptions(url, TOKEN, workers=workers))
        pulled = run_sync(b, SyncOptions(url, TOKEN, workers=workers))
        server.shutdown()
        hub_store.dispose()
    return {"analysed": analysed.analysed, "analysis_s": analysed.seconds - analysed.index_seconds,
            "analysis_worker_cpu_s": analysed.worker_cpu_seconds,
            "pushed": pushed.pushed, "push_s": pushed.seconds - pushed.index_seconds,
            "pulled": pulled.pulled, "pull_analysed": pulled.analysed, "pull_s": pulled.seconds - pulled.index_seconds,
            "pull_worker_cpu_s": pulled.worker_cpu_seconds, "pull_index_s": pulled.index_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="clip", help="clip, full, or a music folder")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors for the jobs")
    parser.add_argument("--tracks", type=int, default=0, help="tracks for the CPU comparison (0 = all)")
    parser.add_argument("--models-dir", default=str(REPO / "models"))
    parser.add_argument("--cpu-only", action="store_true", help="only (a): no Ray, no hub")
    args = parser.parse_args()
    library = corpus_library(args.corpus)
    files = sorted(p for p in library.rglob("*") if p.suffix in AUDIO)
    files = files[:args.tracks] if args.tracks else files

    cpu = cpu_per_track(files, args.models_dir)
    n = cpu["tracks"]
    print(f"(a) CPU per track, one thread, {n} tracks ({cpu['audio_s'] / n:.0f} s of audio each on average):")
    print(f"    full analysis            {cpu['analysis_cpu_s'] / n * 1000:8.1f} ms")
    print(f"    pulled (2-min decode + fingerprint + compare) {cpu['pulled_cpu_s'] / n * 1000:8.1f} ms"
          f"   = 1/{cpu['analysis_cpu_s'] / cpu['pulled_cpu_s']:.1f} of an analysis")

    if args.cpu_only:
        return
    r = sync_rates(library, args.models_dir, args.workers)
    print(f"(b) on a local Ray with {args.workers} workers, hub on loopback HTTP (index rebuilds left out):")
    print(f"    analysed here   {r['analysed']:4d} tracks in {r['analysis_s']:6.1f} s = {r['analysed'] / r['analysis_s']:7.1f} tracks/s")
    print(f"    pushed (A)      {r['pushed']:4d} tracks in {r['push_s']:6.1f} s = {r['pushed'] / r['push_s']:7.1f} tracks/s")
    print(f"    pulled (B)      {r['pulled']:4d} tracks in {r['pull_s']:6.1f} s = {r['pulled'] / r['pull_s']:7.1f} tracks/s"
          f"   ({r['pull_analysed']} analysed locally; index rebuild {r['pull_index_s']:.1f} s)")
    if r["pulled"] and r["analysed"]:
        per_pull = r["pull_worker_cpu_s"] / r["pulled"]
        per_analysis = r["analysis_worker_cpu_s"] / r["analysed"]
        print(f"    workers' CPU: {per_analysis * 1000:.0f} ms per analysed track, {per_pull * 1000:.0f} ms per pulled "
              f"track = 1/{per_analysis / per_pull:.1f}; pull is {r['pulled'] / r['pull_s'] / (r['analysed'] / r['analysis_s']):.1f}x "
              "the analysis' tracks per second")


if __name__ == "__main__":
    main()
