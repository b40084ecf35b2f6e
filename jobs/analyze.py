"""Ray job entry point: analyse the configured library on the cluster this job runs in.

    ray job submit --address http://HEAD:8265 --working-dir . -- python jobs/analyze.py --recent 100

Settings come from AUDIOMUSE_* environment variables (set them in the job's runtime_env or the cluster's
pod spec) and from the same ``--flags`` as ``audiomuse-ray`` takes (``--workers 4``, ``--music-dir …``),
parsed by ``Settings.load`` like every other source; the job joins the cluster it was submitted to.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from audiomuse_ray.analysis.run import run_analysis
from audiomuse_ray.cli import settings_from_args
from audiomuse_ray.commands.registry import SETTING_PREFIX, add_settings_arguments
from audiomuse_ray.errors import AudioMuseError, ConfigurationError
from audiomuse_ray.settings import Settings


def parse_settings(argv: list[str] | None = None) -> Settings:
    """The job's settings: AUDIOMUSE_* overridden by its flags; ``--recent N`` is ``--num-recent-albums N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_settings_arguments(parser, title="settings")
    parser.add_argument("--recent", dest=SETTING_PREFIX + "num_recent_albums", default=argparse.SUPPRESS,
                        metavar="N", help="only the N newest albums (0 = all); the same as --num-recent-albums")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING)
    settings = settings_from_args(args)
    if not settings.ray_address:
        settings = settings.replace(ray_address=os.environ.get("RAY_ADDRESS", "auto"))
    return settings


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_settings(argv)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run_analysis(settings)
    except AudioMuseError as exc:  # no models, no music folder, a media server down: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the task is REVOKED and its workers are stopped
        print("interrupted", file=sys.stderr)
        return 130
    print(f"{summary.status}: {summary.analysed} analysed, {summary.failed} failed, {summary.skipped} skipped "
          f"(task {summary.task_id}, index version {summary.index_version})")
    return 0 if summary.status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
