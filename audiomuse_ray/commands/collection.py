"""``sync``, ``export`` and ``import``: collection sync with a hub, and the offline exchange file."""

from __future__ import annotations

import argparse
import sys

from audiomuse_ray.commands.registry import command
from audiomuse_ray.settings import Settings


def _progress_bar(enabled: bool):
    from tqdm import tqdm

    bar = tqdm(total=0, unit="track", dynamic_ncols=True, file=sys.stderr) if enabled else None

    def show(progress) -> None:
        if bar is None:
            return
        bar.total, bar.n = progress.total, progress.done
        c = progress.counts
        bar.set_postfix(pulled=c.get("pulled", 0), imported=c.get("imported", 0), analysed=c.get("analysed", 0),
                        pushed=c.get("pushed", 0), refresh=False)
        bar.refresh()

    return bar, show


def _sync_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hub", required=True, metavar="URL", help="the hub's address, e.g. https://hub.example:8000")
    p.add_argument("--token", required=True, metavar="TOKEN", help="your hub token (from whoever runs the hub)")
    p.add_argument("--recent", type=int, default=0, metavar="N", help="only the N most recent albums (0 = all)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="actors (default: one per CPU)")
    p.add_argument("--address", default=None, metavar="RAY_ADDRESS", help="join this Ray cluster instead of a local one")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


@command("sync", "share analyses with a collection hub: push what is analysed here, pull what the hub has "
         "(confirmed by fingerprint), analyse the rest. Shared: tags, duration, fingerprint and analysis "
         "numbers; never audio, file paths or media-server ids", _sync_setup)
def sync_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.collection.sync import SyncOptions, run_sync
    from audiomuse_ray.runtime.progress import new_task_id

    if args.recent < 0:
        print("error: --recent must be 0 (all albums) or more", file=sys.stderr)
        return 2
    if args.address:
        settings = settings.replace(ray_address=args.address)
    task_id = new_task_id()
    print(f"sync task {task_id} (cancel with: audiomuse-ray cancel {task_id})", file=sys.stderr)
    bar, show = _progress_bar(not args.no_progress)
    try:
        s = run_sync(settings, SyncOptions(args.hub, args.token, args.recent, args.workers), task_id=task_id,
                     on_progress=show)
    finally:
        if bar is not None:
            bar.close()
    print(f"{s.status}: {s.pulled} pulled, {s.copied} copied, {s.analysed} analysed here, {s.pushed} pushed "
          f"({s.shared_new} new to the hub), {s.failed} failed, {s.skipped} already here, in {s.albums} albums "
          f"({s.seconds:.1f} s)")
    return 0 if s.status == "SUCCESS" else 1


def _export_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.parquet")
    p.add_argument("--shared", action="store_true", help="export this hub's shared analyses instead of the library's")


@command("export", "write the analyses (with fingerprints, tags and the model version; no paths or ids) to a "
         "Parquet file: a backup, a move to a new instance, or a hub that cannot be reached", _export_setup)
def export_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.analysis.models import expected_version
    from audiomuse_ray.collection.parquet import export_hub, export_library
    from audiomuse_ray.store import open_store

    version = expected_version(settings.models_dir)
    store = open_store(settings.database_url)
    try:
        summary = (export_hub if args.shared else export_library)(store, args.file, version)
    finally:
        store.dispose()
    print(f"wrote {summary.records} analyses of model version {version} to {args.file}")
    if summary.without_fingerprint:
        print(f"{summary.without_fingerprint} analysed track(s) have no fingerprint yet and were left out "
              "(analysed before fingerprints existed): `audiomuse-ray sync` or a new analysis makes them")
    return 0


def _import_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.parquet")
    p.add_argument("--shared", action="store_true",
                   help="into this hub's shared analyses (no audio needed) instead of the library")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="actors (default: one per CPU)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


@command("import", "store a Parquet file's analyses for the library's tracks whose own fingerprint confirms "
         "them (each track's first two minutes are decoded); the rest is left for the next analysis", _import_setup)
def import_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.collection.parquet import import_into_hub, run_import
    from audiomuse_ray.store import open_store

    if args.shared:
        from audiomuse_ray.collection.hub import KNOWN, REFUSED, STORED, hub_model_version

        store = open_store(settings.database_url)
        try:
            answer = import_into_hub(store, args.file, hub_model_version(settings))
        finally:
            store.dispose()
        print(f"{answer.count(STORED)} stored, {answer.count(KNOWN)} already shared, {answer.count(REFUSED)} refused")
        return 0
    bar, show = _progress_bar(not args.no_progress)
    try:
        s = run_import(settings, args.file, workers=args.workers, on_progress=show)
    finally:
        if bar is not None:
            bar.close()
    c = s.counts
    print(f"{s.status}: {c.get('imported', 0)} imported, {c.get('copied', 0)} copied, {c.get('unmatched', 0)} not "
          f"confirmed by any record (left for the next analysis), {s.failed} unreadable, {s.skipped} already analysed")
    return 0 if s.status == "SUCCESS" else 1
