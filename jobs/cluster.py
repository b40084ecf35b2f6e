"""Ray job entry point: evolutionary clustering into playlists on the cluster this job runs in.

    ray job submit --address http://HEAD:8265 --working-dir . -- python jobs/cluster.py --runs 5000

Takes the same flags as ``audiomuse-ray cluster`` (built into options by the same function). Settings
(database, provider, AI naming) come from AUDIOMUSE_* environment variables and the same settings
``--flags`` as ``audiomuse-ray`` takes, parsed by ``Settings.load`` like every other source.
"""

from __future__ import annotations

import argparse
import os
import sys

from audiomuse_ray.cli import add_settings_arguments, settings_from_args
from audiomuse_ray.clustering.options import ClusteringOptions
from audiomuse_ray.commands.clustering import add_clustering_arguments, options_from_args
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings


def parse(argv: list[str] | None = None) -> tuple[ClusteringOptions, Settings]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_clustering_arguments(parser)
    add_settings_arguments(parser, title="settings")  # --explorers etc. keep the clustering meaning
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    if not settings.ray_address:
        settings = settings.replace(ray_address=os.environ.get("RAY_ADDRESS", "auto"))
    return options_from_args(args), settings


def parse_options(argv: list[str] | None = None) -> ClusteringOptions:
    return parse(argv)[0]


def main(argv: list[str] | None = None) -> int:
    from audiomuse_ray.clustering.run import run_clustering

    try:
        options, settings = parse(argv)
        summary = run_clustering(settings, options)
    except AudioMuseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the task is REVOKED and its explorers are stopped
        print("interrupted", file=sys.stderr)
        return 130
    print(f"{summary.status}: {len(summary.playlists)} playlists from {summary.runs_done} runs (task {summary.task_id})")
    return 0 if summary.status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
