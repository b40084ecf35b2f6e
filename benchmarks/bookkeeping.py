"""The analysis job's bookkeeping at 10k and 100k albums: planning (``analysis.run.plan_jobs``: the album
listing, each album's tracks, the "already done" check) with a synthetic provider, no audio analysed.

    .venv/bin/python benchmarks/bookkeeping.py [--albums 10000 100000] [--tracks 10] [--call-ms 0]

For each size: a fresh SQLite store, planned empty (everything to do) and again with every track stored as
analysed (nothing to do, the common case of a nightly run). Printed: seconds, the driver's peak memory
above its start (RSS high-water mark, this process) and the provider calls made. ``--call-ms`` makes each
provider call sleep that long, as a media server's answer would take.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.providers.base import Album, Track  # noqa: E402


class SyntheticProvider:
    """``albums`` albums of ``tracks`` tracks each, made up on request (nothing is kept)."""

    name = "synthetic"

    def __init__(self, albums: int, tracks: int, call_ms: float = 0.0):
        self.albums, self.tracks, self.call_s = albums, tracks, call_ms / 1000
        self.calls = 0

    def _call(self) -> None:
        self.calls += 1
        if self.call_s:
            time.sleep(self.call_s)

    def list_albums(self, limit: int = 0) -> list[Album]:
        n = min(self.albums, limit) if limit else self.albums
        for _page in range(0, n, 500):  # a server pages its answer
            self._call()
        return [Album(id=f"al{a}", name=f"Album {a}", artist=f"Artist {a % 3000}", track_count=self.tracks)
                for a in range(n)]

    def list_tracks(self, album: Album) -> list[Track]:
        self._call()
        a = int(album.id[2:])
        return [Track(item_id=f"t{a}-{k}", title=f"Song {k}", artist=album.artist, album=album.name,
                      album_artist=album.artist, path_or_url=f"/m/{a}/{k}.flac", album_id=album.id, duration=200.0)
                for k in range(self.tracks)]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def plan(settings, store, provider) -> dict:
    import audiomuse_ray.analysis.run as run

    real = run.make_provider
    run.make_provider = lambda _settings: provider
    provider.calls = 0
    reset_peak()
    start_mb = peak_rss_mb()
    try:
        t0 = time.perf_counter()
        jobs, albums, skipped = run.plan_jobs(settings, store, "bench", 0, "bench-task", lambda: False)
        seconds = time.perf_counter() - t0
    finally:
        run.make_provider = real
    return {"seconds": seconds, "albums": albums, "jobs": len(jobs), "skipped": skipped,
            "peak_mb": peak_rss_mb() - start_mb, "calls": provider.calls}


def analysed(store, provider: SyntheticProvider) -> None:
    """Every track of the provider stored as analysed (score rows; no embeddings needed to be 'done')."""
    from audiomuse_ray.store.tracks import TrackRow, save_album

    batch: list[TrackRow] = []
    for album in provider.list_albums():
        batch.extend(TrackRow(item_id=t.item_id, title=t.title, author=t.artist, album=t.album,
                              model_version="bench") for t in provider.list_tracks(album))
        if len(batch) >= 5000:
            save_album(store, batch)
            batch = []
    save_album(store, batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--albums", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tracks", type=int, default=10)
    parser.add_argument("--call-ms", type=float, default=0.0)
    args = parser.parse_args()
    from audiomuse_ray.settings import Settings
    from audiomuse_ray.store import open_store

    rows = []
    for n in args.albums:
        with tempfile.TemporaryDirectory(prefix="amr-bookkeeping-") as tmp:
            settings = Settings.load({}, data_dir=tmp, music_dir=tmp)
            store = open_store(settings.database_url)
            provider = SyntheticProvider(n, args.tracks, args.call_ms)
            rows.append((n, "none analysed", plan(settings, store, provider)))
            analysed(store, SyntheticProvider(n, args.tracks))
            rows.append((n, "all analysed", plan(settings, store, provider)))
            store.dispose()
    print(f"\n{args.tracks} tracks an album, provider calls {args.call_ms:g} ms each")
    print("| albums | store | plan s | provider calls | jobs | skipped | driver peak MB above start |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, state, r in rows:
        print(f"| {n:,} | {state} | {r['seconds']:.1f} | {r['calls']:,} | {r['jobs']:,} | {r['skipped']:,} | "
              f"{r['peak_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
