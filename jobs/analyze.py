"""Ray job entry point: analyse the configured library on the cluster this job runs in.

    ray job submit --address http://HEAD:8265 --working-dir . -- python jobs/analyze.py --recent 100

Settings come from AUDIOMUSE_* environment variables (set them in the job's runtime_env or the cluster's
pod spec); the job joins the cluster it was submitted to.
"""

from __future__ import annotations

import argparse
import os
import sys

from audiomuse_ray.analysis.run import run_analysis
from audiomuse_ray.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recent", type=int, default=None, help="only the N newest albums (0 = all)")
    parser.add_argument("--workers", type=int, default=None, help="analysis actors (default: one per CPU)")
    args = parser.parse_args(argv)
    settings = Settings.load()
    if not settings.ray_address:
        settings = settings.replace(ray_address=os.environ.get("RAY_ADDRESS", "auto"))
    summary = run_analysis(settings, num_recent_albums=args.recent, workers=args.workers)
    print(f"{summary.status}: {summary.analysed} analysed, {summary.failed} failed, {summary.skipped} skipped "
          f"(task {summary.task_id}, index version {summary.index_version})")
    return 0 if summary.status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
