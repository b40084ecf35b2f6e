"""Ray job entry point: evolutionary clustering into playlists on the cluster this job runs in.

    ray job submit --address http://HEAD:8265 --working-dir . -- python jobs/cluster.py --runs 5000

Settings (database, provider, AI naming) come from AUDIOMUSE_* environment variables.
"""

from __future__ import annotations

import argparse
import os
import sys

from audiomuse_ray.clustering.evolution import ALGORITHMS, SearchConfig
from audiomuse_ray.clustering.playlists import PlaylistOptions
from audiomuse_ray.clustering.run import ClusteringOptions, run_clustering
from audiomuse_ray.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="kmeans")
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--explorers", type=int, default=0)
    parser.add_argument("--top-n", type=int, default=8)
    args = parser.parse_args(argv)
    settings = Settings.load()
    if not settings.ray_address:
        settings = settings.replace(ray_address=os.environ.get("RAY_ADDRESS", "auto"))
    options = ClusteringOptions(search=SearchConfig(algorithm=args.algorithm, runs=args.runs),
                                playlists=PlaylistOptions(top_n=args.top_n), embeddings=args.embeddings,
                                explorers=args.explorers)
    summary = run_clustering(settings, options)
    print(f"{summary.status}: {len(summary.playlists)} playlists from {summary.runs_done} runs (task {summary.task_id})")
    return 0 if summary.status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
