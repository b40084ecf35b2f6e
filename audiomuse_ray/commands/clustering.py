"""``cluster`` and ``playlists``: evolutionary clustering into playlists, and what was created."""

from __future__ import annotations

import argparse
import sys

from audiomuse_ray.commands.registry import command, print_json
from audiomuse_ray.settings import Settings


def add_clustering_arguments(p: argparse.ArgumentParser) -> None:
    """The clustering flags, shared by ``audiomuse-ray cluster`` and ``jobs/cluster.py``: the algorithms and
    their range flags (``--clusters``, ``--dbscan-eps``...) as registered when the parser is built."""
    from audiomuse_ray.clustering import algorithms
    from audiomuse_ray.clustering.options import DEFAULT_MIN_SONGS_PER_GENRE, DEFAULT_RUNS, DEFAULT_TOP_N

    p.add_argument("--algorithm", choices=algorithms.names(), default=algorithms.DEFAULT_ALGORITHM,
                   help="how songs are grouped each run")
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="clusterings to try (CLUSTERING_RUNS)")
    p.add_argument("--embeddings", action="store_true", help="cluster the 200-d embeddings instead of score vectors")
    p.add_argument("--explorers", type=int, default=0, help="explorer actors (default: one per CPU)")
    for param in algorithms.parameters():
        lo, hi = param.default
        p.add_argument(param.flag, dest=param.option, type=int if param.kind == algorithms.INT else float, nargs=2,
                       default=None, metavar=("MIN", "MAX"),
                       help=f"{param.description} (default {lo} {hi})")
    p.add_argument("--no-fit", action="store_true",
                   help="use the cluster ranges as given even when the library is too small for them")
    p.add_argument("--top-n", type=int, default=DEFAULT_TOP_N, help="playlists kept, most diverse first (0 = all)")
    p.add_argument("--max-songs", type=int, default=0, help="split playlists longer than this (0 = never)")
    p.add_argument("--min-songs-per-genre", type=int, default=DEFAULT_MIN_SONGS_PER_GENRE,
                   help="stratified sampling floor per genre")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-size", type=int, default=0,
                   help="most songs one run clusters (0 = fitted: the library, up to 20,000)")


def options_from_args(args: argparse.Namespace):
    """``ClusteringOptions`` from the flags ``add_clustering_arguments`` defines, through the one builder."""
    from audiomuse_ray.clustering import algorithms
    from audiomuse_ray.clustering.options import build_options

    ranges = {param.option: tuple(getattr(args, param.option)) for param in algorithms.parameters()
              if getattr(args, param.option, None) is not None}
    return build_options(algorithm=args.algorithm, runs=args.runs, embeddings=args.embeddings, ranges=ranges,
                         min_songs_per_genre=args.min_songs_per_genre, top_n=args.top_n, max_songs=args.max_songs,
                         explorers=args.explorers, seed=args.seed, fit_to_library=not args.no_fit,
                         sample_size=getattr(args, "sample_size", 0))


def _cluster_setup(p: argparse.ArgumentParser) -> None:
    add_clustering_arguments(p)
    p.add_argument("--no-progress", action="store_true")


@command("cluster", "find playlists by evolutionary clustering on Ray and create them on the media server", _cluster_setup)
def cluster_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from audiomuse_ray.clustering.run import run_clustering
    from audiomuse_ray.runtime.progress import new_task_id

    options = options_from_args(args)
    task_id = new_task_id()
    print(f"clustering task {task_id} (cancel with: audiomuse-ray cancel {task_id})", file=sys.stderr)
    bar = None if args.no_progress else tqdm(total=args.runs, unit="run", dynamic_ncols=True, file=sys.stderr)

    def show(status) -> None:
        if bar is not None:
            bar.n = status.runs_done
            bar.set_postfix(best=f"{status.best_score:.3f}" if status.best_score is not None else "-", refresh=False)
            bar.refresh()

    try:
        summary = run_clustering(settings, options, task_id=task_id, on_progress=show)
    except KeyboardInterrupt:  # the task is REVOKED and the explorers stopped: no traceback for a Ctrl-C
        summary = None
    finally:
        if bar is not None:
            bar.close()
    if summary is None:
        print(f"interrupted: clustering task {task_id} is REVOKED", file=sys.stderr)
        return 130
    print(f"{summary.status}: {summary.runs_done} runs, best score "
          f"{summary.best_score if summary.best_score is None else round(summary.best_score, 3)}, "
          f"{len(summary.playlists)} playlists ({summary.seconds:.1f} s)")
    for p in summary.playlists:
        print(f"   {p.name}: {len(p.item_ids)} songs")
    return 0 if summary.status == "SUCCESS" else 1


def _playlists_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


@command("playlists", "list the playlists audiomuse-ray created, with their songs", _playlists_setup)
def playlists_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.api.playlists_api import list_playlists
    from audiomuse_ray.store import open_store

    listing = list_playlists(open_store(settings.database_url))
    if args.json:
        print_json(listing)
        return 0
    for name, songs in listing.items():
        print(f"{name} ({len(songs)} songs)")
        for s in songs:
            print(f"   {s['title']} — {s['author']}")
    print(f"{len(listing)} playlists")
    return 0
