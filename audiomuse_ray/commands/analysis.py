"""``analyze``, ``analyze-file``, ``tasks`` and ``cancel``: the analysis job from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from audiomuse_ray.commands.registry import command, print_json
from audiomuse_ray.settings import Settings


def _analyze_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recent", type=int, default=None, metavar="N", help="only the N newest albums (0 = all)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="analysis actors (default: one per CPU)")
    p.add_argument("--address", default=None, metavar="RAY_ADDRESS", help="join this Ray cluster instead of a local one")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


@command("analyze", "analyse the library on Ray and store the results (skips what is already done)", _analyze_setup)
def analyze(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from audiomuse_ray.analysis.run import run_analysis
    from audiomuse_ray.runtime.progress import new_task_id

    if args.address:
        settings = settings.replace(ray_address=args.address)
    task_id = new_task_id()
    print(f"analysis task {task_id} (cancel with: audiomuse-ray cancel {task_id})", file=sys.stderr)
    bar = None if args.no_progress else tqdm(total=0, unit="track", dynamic_ncols=True, file=sys.stderr)

    def show(progress) -> None:
        if bar is None:
            return
        bar.total = progress.total
        bar.n = progress.done
        bar.set_postfix(analysed=progress.counts.get("analysed", 0), failed=progress.counts.get("failed", 0), refresh=False)
        bar.refresh()

    try:
        summary = run_analysis(settings, num_recent_albums=args.recent, workers=args.workers, task_id=task_id,
                               on_progress=show)
    finally:
        if bar is not None:
            bar.close()
    print(f"{summary.status}: {summary.analysed} analysed, {summary.failed} failed, {summary.skipped} skipped "
          f"in {summary.albums} albums ({summary.seconds:.1f} s)"
          + (f"; similarity index version {summary.index_version}" if summary.index_version else ""))
    if summary.failed:
        print("failed tracks are listed by: audiomuse-ray errors")
    return 0 if summary.status == "SUCCESS" else 1


def _file_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line (the default output)")


@command("analyze-file", "analyse audio files directly (no database, no Ray); prints JSON lines", _file_setup)
def analyze_file_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.analysis.models import load_models
    from audiomuse_ray.analysis.track import analyze_file
    from audiomuse_ray.errors import AudioError

    models = load_models(settings.models_dir)
    failed = 0
    for path in args.files:
        try:
            out = {"path": path, **analyze_file(path, models).to_json()}
        except AudioError as exc:
            failed += 1
            out = {"path": path, "error": {"type": type(exc).__name__, "message": str(exc)}}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 1 if failed == len(args.files) else 0


def _tasks_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("task_id", nargs="?", help="show one task with its children and log")
    p.add_argument("--json", action="store_true")


@command("tasks", "list recent jobs, or show one with its progress and log", _tasks_setup)
def tasks_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store import task_rows as task_store

    store = open_store(settings.database_url)
    task_store.reap_stale(store, settings.task_stale_s)  # a job whose driver died shows as FAILURE
    if args.task_id:
        rec = task_store.get_task(store, args.task_id)
        if rec is None:
            print(f"no task {args.task_id}", file=sys.stderr)
            return 1
        kids = task_store.children(store, args.task_id)
        if args.json:
            print_json({"task": rec.__dict__, "children": [k.__dict__ for k in kids]})
            return 0
        print(f"{rec.task_id} {rec.task_type} {rec.status} {rec.progress}%")
        for k, v in rec.details.items():
            if k != "log":
                print(f"   {k}: {v}")
        for line in rec.details.get("log", []):
            print(f"   | {line}")
        for k in kids:
            print(f"   - {k.details.get('artist', '')} — {k.details.get('album', k.task_id)}: {k.status}"
                  f" {k.details.get('analysed', '')}/{k.details.get('tracks', '')}")
        return 0
    recent = task_store.recent_tasks(store)
    if args.json:
        print_json([r.__dict__ for r in recent])
        return 0
    for r in recent:
        print(f"{r.task_id}  {r.task_type:<10} {r.status:<9} {r.progress:>3}%  {r.created_at:%Y-%m-%d %H:%M}")
    return 0


def _cancel_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("task_id")


@command("cancel", "ask a running job to stop (it stops within a few seconds)", _cancel_setup)
def cancel_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store import task_rows as task_store
    from audiomuse_ray.runtime.progress import cancel_task

    store = open_store(settings.database_url)
    before = task_store.get_task(store, args.task_id)
    outcome = cancel_task(store, args.task_id, settings.task_stale_s)
    if outcome == "CANCELLING":
        print(f"cancel requested for {args.task_id}; it stops within a few seconds")
        return 0
    if outcome == "REVOKED" and before is not None and not before.finished:
        print(f"{args.task_id} is REVOKED (its driver was no longer running)")
        return 0
    if outcome == "UNKNOWN":
        print(f"no task {args.task_id}", file=sys.stderr)
    else:
        print(f"{args.task_id} is not running: it is {outcome}", file=sys.stderr)
    return 1


@command("errors", "list the tracks the analysis could not use, and why")
def errors_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store.tracks import list_errors

    rows = list_errors(open_store(settings.database_url))
    for e in rows:
        print(f"{e.path}\n   {e.error_class}: {e.message}")
    print(f"{len(rows)} track(s) with errors")
    return 0
